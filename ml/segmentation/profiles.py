"""Segment profiles in words: key traits, a name, a description, recommendations, and a reason per subscriber.

:class:`SegmentProfiler` is fitted on the profiles and a segment label per row (one level at a time:
macro, or micro). For every segment it reports

* ``key_traits``: the traits (:mod:`ml.segmentation.traits`) that set it apart from everyone else --
  standardised mean differences (SMD) of interpretable quantities, strongest first, with the segment's
  and the rest's values so a marketer can check them;
* ``name``: built deterministically from those traits (:mod:`ml.segmentation.naming`); with
  ``parents`` (micro level) the name contrasts the segment with its siblings inside the parent segment,
  because "what is special about this micro segment" is the useful question there;
* ``description``: one sentence with size, share and the top three traits;
* ``recommended_send_hour``: the peak of the segment's pooled local e-mail engagement hours (smoothed
  over neighbouring hours, on the circle); a segment whose members never opened nor clicked takes the
  peak of its activity on every channel (site visits, orders) instead, and the list's e-mail peak when
  it has none either;
* ``recommended_content``: the topic and offer type with the most click-rate mass among members
  (each member's top topic weighted by its click rate), or the best shrunk click rate from campaign
  history when ``content_rates`` is given (:mod:`ml.segmentation.similarity`);
* ``recommended_cadence``: sends per week by the segment's recent open rate (more mail to people who
  read it, less to people who do not, to limit fatigue and complaints).

:meth:`SegmentProfiler.reasons` explains each subscriber: among their segment's key traits, the two or
three on which *this person* stands out most in the segment's direction (person z-scores against the
whole list), in words. It loops over segments, never over people.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .naming import SegmentTraits, build_names
from .schema import rhythm_columns
from .traits import (TRAIT_KEYS, TRAITS, describe_value, hour_profile, natural_units, standardised_differences,
                     trait_table)

__all__ = ["SegmentProfiler", "cadence_for", "PROFILE_COLUMNS"]

PROFILE_COLUMNS = ("segment_id", "level", "parent_segment_id", "name", "description", "size", "share",
                   "key_traits", "recommended_send_hour", "recommended_content", "recommended_cadence")
_BY_KEY = {t.key: t for t in TRAITS}


def cadence_for(recent_open_rate: float) -> float:
    """Sends per week for a segment's pooled open rate of the last 90 days."""
    if not np.isfinite(recent_open_rate):
        return 1.0
    for floor, cadence in ((0.35, 3.0), (0.2, 2.0), (0.1, 1.0)):
        if recent_open_rate >= floor:
            return cadence
    return 0.5


def _top_by_mass(cats: pd.Series, weights: np.ndarray, codes: np.ndarray, n: int) -> list[str | None]:
    """Per segment code, the category with the largest summed weight (None if no member has one)."""
    frame = pd.DataFrame({"c": cats.astype("string").to_numpy(), "w": np.nan_to_num(weights), "s": codes})
    frame = frame.dropna(subset=["c"])
    if frame.empty:
        return [None] * n
    mass = frame.groupby(["s", "c"], sort=True)["w"].sum().reset_index()
    mass = mass.sort_values(["s", "w", "c"], ascending=[True, False, True]).drop_duplicates("s")
    out: list[str | None] = [None] * n
    for s, c in zip(mass["s"].tolist(), mass["c"].tolist()):
        out[int(s)] = str(c)
    return out


class SegmentProfiler(BaseEstimator):
    """Traits, names, descriptions, recommendations and per-subscriber reasons for one level of segments.

    Parameters
    ----------
    level : "macro" or "micro" (copied to the profile rows).
    max_traits : key traits kept per segment.
    min_smd : smallest |SMD| that counts as a trait.
    n_reasons : traits named per subscriber (2 or 3 read well).
    n_adjectives : trait words in a name.
    topic_min_share, topic_min_lift : when a topic / category joins the name.
    horizon_days : cap for days-since traits.
    rhythm : where the timing and device traits come from, ``"activity"`` (every channel) or ``"email"``
        (see :mod:`ml.segmentation.traits`); a profiler pickled before the option reads ``"email"``.

    Fitted attributes: ``segments_`` (ids in order), ``smd_`` and ``means_`` (segment x trait; means in
    natural units, e.g. spend not log-spend),
    ``naming_smd_``, ``key_traits_`` ({id: [(trait, smd)]}, strongest first), ``worded_traits_`` (the
    strongest traits that have words in their direction: used for descriptions and reasons),
    ``names_`` ({id: name}),
    ``profiles_`` (DataFrame with :data:`PROFILE_COLUMNS`), ``pop_mean_``/``pop_std_`` (per trait).
    """

    def __init__(self, level: str = "macro", max_traits: int = 5, min_smd: float = 0.2, n_reasons: int = 3,
                 n_adjectives: int = 2, topic_min_share: float = 0.3, topic_min_lift: float = 1.5,
                 horizon_days: float = 365.0, rhythm: str = "activity"):
        self.level = level
        self.max_traits = max_traits
        self.min_smd = min_smd
        self.n_reasons = n_reasons
        self.n_adjectives = n_adjectives
        self.topic_min_share = topic_min_share
        self.topic_min_lift = topic_min_lift
        self.horizon_days = horizon_days
        self.rhythm = rhythm

    def __setstate__(self, state):
        # a profiler pickled before ``rhythm`` existed read the e-mail columns: it keeps doing so
        state = {"rhythm": "email", **state}
        super().__setstate__(state)

    def _traits(self, profiles: pd.DataFrame) -> pd.DataFrame:
        return trait_table(profiles, self.horizon_days, self.rhythm)

    def fit(self, profiles: pd.DataFrame, labels, parents=None, fixed_names: dict | None = None,
            content_rates: pd.DataFrame | None = None, traits: pd.DataFrame | None = None) -> "SegmentProfiler":
        """Describe every segment in ``labels`` (one id per profile row).

        ``parents``: parent segment id per row (micro level); ``fixed_names``: names to keep for some ids
        (stable identities) -- other names avoid them; ``content_rates``: segment x topic click rates
        from campaign history; ``traits``: a precomputed :func:`trait_table` of ``profiles``.
        """
        labels = np.asarray(labels).astype(str)
        T = self._traits(profiles) if traits is None else traits
        values = T.to_numpy(np.float64)
        self.segments_, codes = np.unique(labels, return_inverse=True)
        S = len(self.segments_)
        self.pop_mean_ = np.nanmean(values, axis=0) if len(values) else np.zeros(values.shape[1])
        self.pop_std_ = np.nanstd(values, axis=0) + 1e-9
        smd = standardised_differences(values, codes, S)
        self.smd_ = pd.DataFrame(smd, index=self.segments_, columns=list(TRAIT_KEYS))
        natural = natural_units(values)
        means = pd.DataFrame(natural, columns=list(TRAIT_KEYS)).groupby(codes).mean()
        self.means_ = means.reindex(range(S)).set_axis(self.segments_)
        self.natural_mean_ = np.nanmean(natural, axis=0) if len(natural) else np.zeros(values.shape[1])
        parent_ids = None
        if parents is not None:
            parents = np.asarray(parents).astype(str)
            first = pd.Series(parents).groupby(codes).first()
            parent_ids = first.reindex(range(S)).to_numpy()
            _, parent_codes = np.unique(parent_ids, return_inverse=True)
            within = standardised_differences(values, codes, S, parent_codes)
            only_child = np.bincount(parent_codes)[parent_codes] == 1
            within[only_child] = smd[only_child]  # nothing to contrast with: use the whole list
            self.naming_smd_ = pd.DataFrame(within, index=self.segments_, columns=list(TRAIT_KEYS))
        else:
            self.naming_smd_ = self.smd_
        self.key_traits_, self.worded_traits_ = {}, {}
        for sid in self.segments_:
            row = self.smd_.loc[sid]
            ok = row[np.isfinite(row) & (row.abs() >= self.min_smd)]
            ranked = [(k, float(v)) for k, v in ok.iloc[np.lexsort((np.arange(len(ok)), -ok.abs().to_numpy()))].items()]
            self.key_traits_[sid] = ranked[: self.max_traits]
            self.worded_traits_[sid] = [(k, v) for k, v in ranked
                                        if (_BY_KEY[k].high_reason if v > 0 else _BY_KEY[k].low_reason)][: self.max_traits]

        orders = np.nan_to_num(pd.to_numeric(profiles["orders_total"], errors="coerce").to_numpy(np.float64))
        buyer_share = np.bincount(codes, weights=(orders > 0).astype(float), minlength=S) / np.bincount(codes, minlength=S)
        topics = self._topics(profiles, codes, S, parent_ids)
        fixed = {str(k): v for k, v in (fixed_names or {}).items()}
        todo = [i for i, sid in enumerate(self.segments_) if sid not in fixed]
        segs = [SegmentTraits(self.naming_smd_.iloc[i].to_dict(), float(buyer_share[i]), topics[i]) for i in todo]
        built = build_names(segs, self.n_adjectives, self.min_smd, taken=set(fixed.values()))
        self.names_ = dict(fixed)
        self.names_.update({self.segments_[i]: n for i, n in zip(todo, built)})
        self.names_ = {sid: self.names_[sid] for sid in self.segments_}
        self.profiles_ = self._table(profiles, codes, S, parent_ids, content_rates)
        return self

    def _topics(self, profiles, codes, S, parent_ids) -> list[str | None]:
        """An over-represented topic or category per segment (or None)."""
        best: list[tuple[float, str] | None] = [None] * S
        for col in ("top_category", "top_content_topic"):
            cats = profiles[col].astype("string").str.strip().str.lower()
            dummies = pd.get_dummies(cats, dtype=float)
            if dummies.empty:
                continue
            seg = dummies.groupby(codes).mean().reindex(range(S))
            overall = dummies.mean()
            for i in range(S):
                row = seg.iloc[i]
                lift = row / overall.replace(0, np.nan)
                ok = row[(row >= self.topic_min_share) & (lift >= self.topic_min_lift)]
                if len(ok):
                    level = sorted(ok.index, key=lambda c: (-lift[c], c))[0]
                    if best[i] is None or lift[level] > best[i][0]:
                        best[i] = (float(lift[level]), str(level))
        return [b[1] if b else None for b in best]

    def _table(self, profiles, codes, S, parent_ids, content_rates) -> pd.DataFrame:
        sizes = np.bincount(codes, minlength=S)
        num = lambda c: np.nan_to_num(pd.to_numeric(profiles[c], errors="coerce").to_numpy(np.float64))  # noqa: E731
        H = np.zeros((S, 24))
        np.add.at(H, codes, hour_profile(profiles) * num("engagement_events_total")[:, None])
        pooled = H.sum(axis=0)
        if self.rhythm == "activity":  # no e-mail engagement in the segment: when its members are active
            hour_cols, _, _, count_col = rhythm_columns(self.rhythm)
            A = np.zeros((S, 24))
            np.add.at(A, codes, hour_profile(profiles, hour_cols) * num(count_col)[:, None])
            none = H.sum(axis=1) == 0
            H[none] = A[none]
        H[H.sum(axis=1) == 0] = pooled
        smooth = 0.5 * H + 0.25 * np.roll(H, 1, axis=1) + 0.25 * np.roll(H, -1, axis=1)
        send_hour = smooth.argmax(axis=1)
        opens90 = np.bincount(codes, weights=num("opens_90d"), minlength=S)
        sends90 = np.bincount(codes, weights=num("sends_90d"), minlength=S)
        topic = _top_by_mass(profiles["top_content_topic"], num("top_content_topic_click_rate"), codes, S)
        offer = _top_by_mass(profiles["top_offer_type"], num("top_offer_type_click_rate"), codes, S)
        rows = []
        for i, sid in enumerate(self.segments_):
            t = topic[i]
            if content_rates is not None and sid in content_rates.index:
                r = content_rates.loc[sid].dropna()
                t = str(r.idxmax()) if len(r) else t
            content = f"topic: {t or 'any'}; offer: {offer[i] or 'any'}"
            rows.append({
                "segment_id": sid, "level": self.level,
                "parent_segment_id": None if parent_ids is None else str(parent_ids[i]),
                "name": self.names_[sid], "description": self.sentence(sid, int(sizes[i]), sizes[i] / sizes.sum()),
                "size": int(sizes[i]), "share": float(sizes[i] / sizes.sum()),
                "key_traits": self._traits_text(sid), "recommended_send_hour": int(send_hour[i]),
                "recommended_content": content,
                "recommended_cadence": cadence_for(opens90[i] / sends90[i] if sends90[i] > 0 else np.nan),
            })
        return pd.DataFrame(rows, columns=list(PROFILE_COLUMNS))

    def _overall(self, key: str) -> float:
        return float(self.natural_mean_[TRAIT_KEYS.index(key)])

    def _traits_text(self, sid: str) -> str:
        parts = []
        for key, v in self.key_traits_[sid]:
            t = _BY_KEY[key]
            word = t.high if v > 0 else t.low
            text = (f"{t.label} {describe_value(t, self.means_.loc[sid, key])} vs "
                    f"{describe_value(t, self._overall(key))} overall, {v:+.1f} SD")
            parts.append(f"{word} ({text})" if word else text)
        return "; ".join(parts) if parts else "close to the list average"

    def sentence(self, sid: str, size: int, share: float) -> str:
        """The one-sentence description of segment ``sid`` with ``size`` members (``share`` of the list):
        the trait figures as fitted, the size and share as given (a later assignment's, when served)."""
        clauses = []
        for key, v in self.worded_traits_[sid]:
            t = _BY_KEY[key]
            clause = t.high_clause if v > 0 else t.low_clause
            if clause:
                clauses.append(f"{clause} ({describe_value(t, self.means_.loc[sid, key])} vs "
                               f"{describe_value(t, self._overall(key))})")
            if len(clauses) == 3:
                break
        head = f"{size:,} subscribers ({share:.1%} of the list)"
        if not clauses:
            return head + " who look like the list as a whole."
        body = clauses[0] if len(clauses) == 1 else ", ".join(clauses[:-1]) + " and " + clauses[-1]
        return f"{head} who {body}."

    def reasons(self, profiles: pd.DataFrame, labels, traits: pd.DataFrame | None = None) -> np.ndarray:
        """Per subscriber, the 2-3 key traits of their segment on which they stand out most, in words."""
        check_is_fitted(self, "key_traits_")
        labels = np.asarray(labels).astype(str)
        T = (self._traits(profiles) if traits is None else traits).to_numpy(np.float64)
        out = np.full(len(labels), "close to the segment's overall profile", dtype=object)
        for sid in np.unique(labels):
            rows = np.flatnonzero(labels == sid)
            usable = self.worded_traits_.get(sid, [])
            if not usable:
                continue
            idx = np.array([TRAIT_KEYS.index(k) for k, _ in usable])
            sign = np.sign([v for _, v in usable])
            phrases = [(_BY_KEY[k].high_reason if v > 0 else _BY_KEY[k].low_reason) for k, v in usable]
            z = sign * (T[np.ix_(rows, idx)] - self.pop_mean_[idx]) / self.pop_std_[idx]
            z = np.where(np.isfinite(z), z, -np.inf)
            r = min(self.n_reasons, len(usable))
            order = np.argsort(-z, axis=1, kind="stable")[:, :r]
            top_z = np.take_along_axis(z, order, axis=1)
            keep = top_z > 0
            keep[:, 0] |= np.isfinite(top_z[:, 0])  # always name the person's strongest trait
            base = len(usable) + 1
            code = np.zeros(len(rows), dtype=np.int64)
            for j in range(r):
                code = code * base + np.where(keep[:, j], order[:, j] + 1, 0)
            uniq, inv = np.unique(code, return_inverse=True)
            texts = []
            for c in uniq.tolist():
                picked = []
                for _ in range(r):
                    c, d = divmod(c, base)
                    if d:
                        picked.append(phrases[d - 1])
                picked.reverse()
                texts.append(_join(picked) if picked else "close to the segment's overall profile")
            out[rows] = np.array(texts, dtype=object)[inv]
        return out


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
