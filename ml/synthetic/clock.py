"""Time handling: instants are int64 seconds since the Unix epoch (UTC) throughout the generator.

Local time is computed with real IANA rules, daylight saving time included: :class:`ZoneClock`
tabulates every UTC-offset transition of each zone once (with :mod:`zoneinfo`, a loop over zones and
days, not over events) and then converts whole arrays with one ``searchsorted``. Converting a local
wall time back to UTC uses the offset in force at that instant; wall times inside a DST gap or overlap
(one hour a year) may land an hour off, which is irrelevant for engagement patterns.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np

DAY = 86_400
HOUR = 3_600
YEAR = 365.25 * DAY
_KEY_SHIFT = 36  # zone index in the high bits, seconds since _BASE in the low 36 bits (~2,000 years)


def parse_instant(value: str) -> int:
    """ISO 8601 text to epoch seconds; a value without an offset is UTC."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(int(seconds), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ZoneClock:
    """Vectorised UTC offsets (seconds) for a fixed list of IANA zones over [t_min, t_max]."""

    def __init__(self, zones: tuple[str, ...], t_min: int, t_max: int) -> None:
        self.zones = zones
        self.base = int(t_min) - 10 * DAY
        keys: list[int] = []
        offsets: list[int] = []
        days = np.arange(self.base, int(t_max) + 10 * DAY, DAY)
        for z, name in enumerate(zones):
            tz = ZoneInfo(name)

            def off(t: int) -> int:
                return int(datetime.fromtimestamp(t, tz).utcoffset().total_seconds())

            prev = off(int(days[0]))
            keys.append(z << _KEY_SHIFT)
            offsets.append(prev)
            for d in days[1:]:
                cur = off(int(d))
                if cur != prev:  # refine to the quarter hour inside the previous day
                    t = int(d) - DAY
                    while off(t) == prev:
                        t += 900
                    keys.append((z << _KEY_SHIFT) | (t - self.base))
                    offsets.append(cur)
                    prev = cur
        self._keys = np.asarray(keys, dtype=np.int64)
        self._offsets = np.asarray(offsets, dtype=np.int64)
        self.standard_offset = np.array([self._offsets[self._keys >> _KEY_SHIFT == z].min()
                                         for z in range(len(zones))], dtype=np.int64)

    def offset(self, zone: np.ndarray, t: np.ndarray) -> np.ndarray:
        rel = np.clip(np.asarray(t, dtype=np.int64) - self.base, 0, (1 << _KEY_SHIFT) - 1)
        key = (np.asarray(zone, dtype=np.int64) << _KEY_SHIFT) | rel
        return self._offsets[np.searchsorted(self._keys, key, side="right") - 1]

    def to_local(self, zone: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Local wall time expressed as seconds on a UTC-like axis (so // DAY is the local date)."""
        return t + self.offset(zone, t)

    def from_local(self, zone: np.ndarray, local: np.ndarray) -> np.ndarray:
        guess = local - self.offset(zone, local)
        return local - self.offset(zone, guess)


def weekday(local_seconds: np.ndarray) -> np.ndarray:
    """0 = Monday .. 6 = Sunday for local-axis seconds (1970-01-01 was a Thursday)."""
    return ((local_seconds // DAY) + 3) % 7


def engagement_times(rng: np.random.Generator, clock: ZoneClock, zone: np.ndarray, pref_hour: np.ndarray,
                     pref_dow: np.ndarray, after: np.ndarray, *, p_dow: float = 0.3, sd_hours: float = 0.6,
                     noise: float = 0.08, day_p: tuple[float, ...] = (0.55, 0.25, 0.1, 0.06, 0.04),
                     noise_mean_hours: float = 6.0) -> np.ndarray:
    """When people act on something that reached them at ``after``: at their own local hour.

    The act happens on the same or one of the next few local days (or, with probability ``p_dow``, on
    the next occurrence of their preferred weekday), at ``pref_hour:30`` local time with a normal spread
    of ``sd_hours``; a share ``noise`` of acts ignores the habit (an exponential delay instead).
    Always strictly after ``after``.
    """
    n = len(after)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    local = clock.to_local(zone, after)
    day = local // DAY
    d = rng.choice(len(day_p), n, p=np.asarray(day_p) / sum(day_p))
    d = np.where(rng.random(n) < p_dow, (pref_dow - weekday(local)) % 7, d)
    tod = (pref_hour.astype(np.float64) + 0.5) * HOUR + rng.normal(0.0, sd_hours * HOUR, n)
    target = (day + d) * DAY + tod.astype(np.int64)
    target = np.where(target <= local + 60, target + DAY, target)
    out = clock.from_local(zone, target)
    quick = rng.random(n) < noise
    out = np.where(quick, after + 60 + rng.exponential(noise_mean_hours * HOUR, n).astype(np.int64), out)
    return np.maximum(out, after + 30)


def local_hour(clock: ZoneClock, zone: np.ndarray, t: np.ndarray) -> np.ndarray:
    return (clock.to_local(zone, t) % DAY) // HOUR


def day_of_year(t: np.ndarray) -> np.ndarray:
    """0-based day of the (UTC) year."""
    d = np.asarray(t, dtype=np.int64).astype("datetime64[s]")
    return (d.astype("datetime64[D]") - d.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)


def snap_to_habit(rng: np.random.Generator, clock: ZoneClock, zone: np.ndarray, pref_hour: np.ndarray,
                  pref_dow: np.ndarray, t: np.ndarray, *, sd_hours: float = 2.5, p_dow: float = 0.3) -> np.ndarray:
    """Move instants to the person's local habit: same local day (or the next preferred weekday with
    probability ``p_dow``), at ``pref_hour:30`` local time with a normal spread of ``sd_hours``."""
    n = len(t)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    local = clock.to_local(zone, t)
    day = local // DAY
    day = np.where(rng.random(n) < p_dow, day + (pref_dow - weekday(local)) % 7, day)
    tod = (pref_hour.astype(np.float64) + 0.5) * HOUR + rng.normal(0.0, sd_hours * HOUR, n)
    return clock.from_local(zone, day * DAY + tod.astype(np.int64))
