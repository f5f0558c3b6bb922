"""Quality gates a new segmentation must pass before it may replace the champion.

A model that is unstable, has segments too small to mail, duplicate names or a much worse separation
than the segmentation marketers already use should not silently take over. :func:`check_gates` runs
every check and returns a :class:`GateReport`: overall ``passed`` plus one :class:`GateCheck` per rule
with the measured value, the threshold and a reason in words, so a failed promotion can be explained.

Checks (thresholds are parameters):

* ``min_segment_size`` -- every macro and micro segment has at least ``min_size`` subscribers;
* ``names_unique`` -- names are unique within each level, ids unique overall;
* ``stability`` -- bootstrap stability (mean ARI) of the chosen k at least ``min_stability``;
* ``largest_share`` -- no macro segment holds more than ``max_share`` of the list (a catch-all
  segment is not a segmentation);
* ``mean_confidence`` -- average assignment confidence at least ``min_mean_confidence``;
* ``criterion_vs_champion`` -- (with a champion) silhouette not worse than the champion's by more
  than ``silhouette_tolerance``;
* ``moved_share`` -- (with a champion and ``max_moved_share``) share of subscribers whose id changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["GateCheck", "GateReport", "check_gates"]


@dataclass
class GateCheck:
    name: str
    passed: bool
    value: float | None
    threshold: float | None
    reason: str


@dataclass
class GateReport:
    checks: list[GateCheck] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def reasons(self) -> list[str]:
        """The reasons of the failed checks (empty when everything passed)."""
        return [c.reason for c in self.checks if not c.passed]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.__dict__ for c in self.checks], columns=["name", "passed", "value", "threshold", "reason"])

    def __bool__(self) -> bool:
        return self.passed


def check_gates(segment_profiles: pd.DataFrame, metrics: dict, champion_metrics: dict | None = None, *,
                min_size: int | None = None, min_stability: float = 0.75, max_share: float = 0.5,
                min_mean_confidence: float = 0.5, silhouette_tolerance: float = 0.02,
                max_moved_share: float | None = None) -> GateReport:
    """Run every gate on a candidate's ``segment_profiles`` table and ``metrics`` dict.

    ``metrics`` keys used: ``stability``, ``silhouette``, ``mean_confidence``, ``min_size`` (the
    actionable minimum, used when ``min_size`` is not given) and, with a champion, ``moved_share``.
    ``champion_metrics`` needs ``silhouette``.
    """
    report = GateReport()
    add = report.checks.append
    floor = int(min_size if min_size is not None else metrics.get("min_size", 1))

    sp = segment_profiles
    small = sp[sp["size"] < floor]
    smallest = int(sp["size"].min()) if len(sp) else 0
    add(GateCheck("min_segment_size", small.empty, float(smallest), float(floor),
                  "every segment has at least %d subscribers" % floor if small.empty else
                  "%d segment(s) below %d subscribers: %s" % (
                      len(small), floor, ", ".join(f"{i} ({s})" for i, s in zip(small["segment_id"], small["size"])))))

    dup_names = sp[sp.duplicated(["level", "name"], keep=False)]
    dup_ids = sp[sp["segment_id"].duplicated(keep=False)]
    ok = dup_names.empty and dup_ids.empty
    add(GateCheck("names_unique", ok, float(len(dup_names) + len(dup_ids)), 0.0,
                  "names unique within each level and ids unique" if ok else
                  "duplicate names or ids: " + ", ".join(sorted(set(dup_names["name"]) | set(dup_ids["segment_id"])))))

    stab = float(metrics.get("stability", np.nan))
    ok = bool(np.isfinite(stab) and stab >= min_stability)
    add(GateCheck("stability", ok, stab, min_stability,
                  f"bootstrap stability {stab:.3f} {'>=' if ok else '<'} {min_stability}"))

    macro = sp[sp["level"] == "macro"]
    largest = float(macro["share"].max()) if len(macro) else 1.0
    ok = largest <= max_share
    add(GateCheck("largest_share", ok, largest, max_share,
                  f"largest macro segment holds {largest:.1%} of the list ({'<=' if ok else '>'} {max_share:.0%})"))

    conf = float(metrics.get("mean_confidence", np.nan))
    ok = bool(np.isfinite(conf) and conf >= min_mean_confidence)
    add(GateCheck("mean_confidence", ok, conf, min_mean_confidence,
                  f"mean assignment confidence {conf:.3f} {'>=' if ok else '<'} {min_mean_confidence}"))

    if champion_metrics is not None:
        new, old = float(metrics.get("silhouette", np.nan)), float(champion_metrics.get("silhouette", np.nan))
        ok = bool(np.isfinite(new) and (not np.isfinite(old) or new >= old - silhouette_tolerance))
        add(GateCheck("criterion_vs_champion", ok, new, old - silhouette_tolerance,
                      f"silhouette {new:.3f} vs champion {old:.3f} (tolerance {silhouette_tolerance})"))
        if max_moved_share is not None:
            moved = float(metrics.get("moved_share", np.nan))
            ok = bool(np.isfinite(moved) and moved <= max_moved_share)
            add(GateCheck("moved_share", ok, moved, max_moved_share,
                          f"{moved:.1%} of subscribers changed segment id (limit {max_moved_share:.0%})"))
    return report
