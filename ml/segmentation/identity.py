"""Stable segment identities across refits: match new segments to the champion's, count who moved.

A refit renumbers clusters arbitrarily; marketers, however, build audiences and reports on segment ids
and names. :func:`match_segments` pairs each new segment with at most one old segment by the Hungarian
assignment on centroid distance and accepts a pair only when the distance is at most ``max_distance``
(a new segment that is not close to any old one is new behaviour, not a renamed old segment). Matched
segments inherit the old id and name; unmatched ones get fresh ids after the largest id ever used.

Centroids must be in a space that means the same in both runs: the pipeline uses segment means of the
interpretable traits (:mod:`ml.segmentation.traits`), divided by the *current* population's standard
deviation, so distances are in standard deviations (root mean square over traits).

:func:`moved_between` compares the champion's and the new assignment of the same subscribers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

__all__ = ["IdentityMatch", "match_segments", "moved_between", "macro_id", "micro_id"]


def macro_id(number: int) -> str:
    """``M01``, ``M02``, ... (1-based)."""
    return f"M{number:02d}"


def micro_id(parent: str, number: int) -> str:
    """``M01-01``, ``M01-02``, ... (1-based within the parent)."""
    return f"{parent}-{number:02d}"


@dataclass
class IdentityMatch:
    """Result of :func:`match_segments`: per new segment, its id, name (None = to be named) and status."""

    ids: list[str]
    names: list[str | None]
    matched_old: list[str | None]  # the old id inherited, or None for a fresh id
    distances: np.ndarray  # distance to the matched old centroid (NaN when unmatched)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"segment_id": self.ids, "name": self.names, "matched_old_id": self.matched_old,
                             "distance": self.distances})


def match_segments(new_centroids, old_centroids, old_ids, old_names=None, max_distance: float = 0.5,
                   scale=None, fresh_id=macro_id, first_fresh: int | None = None) -> IdentityMatch:
    """Give every new segment an id: an old one (Hungarian on centroid distance, within ``max_distance``)
    or a fresh one.

    ``new_centroids`` (k_new, d) and ``old_centroids`` (k_old, d) are divided by ``scale`` (d,) when
    given; distance = root mean square difference over the d columns, NaN columns ignored. Fresh ids are
    ``fresh_id(n)`` for n = ``first_fresh``, ``first_fresh + 1``, ... skipping ids in ``old_ids``;
    ``first_fresh`` defaults to one past the highest number among the old ids (or past ``k_old``).
    """
    new = np.atleast_2d(np.asarray(new_centroids, dtype=np.float64))
    old = np.atleast_2d(np.asarray(old_centroids, dtype=np.float64)) if len(old_ids) else np.zeros((0, new.shape[1]))
    old_ids = [str(i) for i in old_ids]
    old_names = list(old_names) if old_names is not None else [None] * len(old_ids)
    if scale is not None:
        s = np.asarray(scale, dtype=np.float64)
        new, old = new / s, old / s
    diff = new[:, None, :] - old[None, :, :]
    dist = np.sqrt(np.nanmean(diff**2, axis=2)) if old.size else np.zeros((len(new), 0))
    dist = np.where(np.isfinite(dist), dist, np.inf)
    ids: list[str | None] = [None] * len(new)
    names: list[str | None] = [None] * len(new)
    matched: list[str | None] = [None] * len(new)
    dists = np.full(len(new), np.nan)
    if dist.size:
        rows, cols = linear_sum_assignment(np.where(np.isfinite(dist), dist, 1e9))
        for r, c in zip(rows, cols):
            if dist[r, c] <= max_distance:
                ids[r], names[r], matched[r], dists[r] = old_ids[c], old_names[c], old_ids[c], dist[r, c]
    if first_fresh is None:
        numbers = [int(d) for i in old_ids for d in [i.rsplit("-", 1)[-1].lstrip("M")] if d.isdigit()]
        first_fresh = max(numbers + [len(old_ids)]) + 1
    taken = set(old_ids)
    n = int(first_fresh)
    for r in range(len(new)):
        if ids[r] is None:
            while fresh_id(n) in taken:
                n += 1
            ids[r] = fresh_id(n)
            taken.add(ids[r])
            n += 1
    return IdentityMatch([str(i) for i in ids], names, matched, dists)


def moved_between(old_assignment: pd.Series, new_assignment: pd.Series) -> dict:
    """How many subscribers (index = subscriber key) present in both assignments changed segment id.

    Returns ``{"compared": n, "moved": m, "moved_share": m / n, "flows": DataFrame(from, to, subscribers)}``
    where ``flows`` lists the non-diagonal moves, largest first.
    """
    both = pd.concat({"old": old_assignment.astype(str), "new": new_assignment.astype(str)}, axis=1,
                     join="inner")
    moved = both["old"] != both["new"]
    flows = (both[moved].groupby(["old", "new"]).size().rename("subscribers").reset_index()
             .rename(columns={"old": "from", "new": "to"})
             .sort_values(["subscribers", "from", "to"], ascending=[False, True, True], ignore_index=True))
    n = len(both)
    return {"compared": int(n), "moved": int(moved.sum()), "moved_share": float(moved.mean()) if n else 0.0,
            "flows": flows}
