"""``SegmentationModel``: profiles in, named macro and micro segments with stable ids out -- one picklable object.

    model = SegmentationModel(random_state=0).fit(profiles)              # first run
    model = SegmentationModel(random_state=0).fit(profiles, previous=champion)   # later runs: stable ids
    assigned = model.assign(profiles)        # one row per subscriber
    model.segment_profiles_                  # one row per segment (macro and micro)
    model.metrics_                           # chosen k, criterion and stability per k, sizes, ...

Steps of ``fit``: :class:`~ml.segmentation.features.ProfileFeaturizer` -> automatic-k
:class:`~ml.segmentation.macro.MacroSegmenter` -> :class:`~ml.segmentation.micro.MicroSegmenter` inside
each macro segment -> ids (``M01`` ..., ``M01-01`` ...; matched to ``previous`` by
:mod:`~ml.segmentation.identity` on trait centroids, so ids and names survive refits) ->
:class:`~ml.segmentation.profiles.SegmentProfiler` per level (traits, names, descriptions,
recommendations, reasons).

Every profile row is segmented, mailable or not (behaviour does not depend on consent; filter on
``is_mailable`` when building audiences). ``segment_confidence`` is the macro posterior times the
micro posterior (both calibrated against bootstrap refits), i.e. how likely this person's pair of ids
would be reproduced; ``macro_confidence`` and ``micro_confidence`` are returned too.
``metrics_`` holds ``k``, ``silhouette_per_k`` (the internal criterion), ``stability_per_k``, the chosen
k's ``silhouette`` and ``stability``, ``macro_sizes``, ``micro_sizes``, ``n_micro``, ``min_size``,
``mean_confidence`` and, after a refit with ``previous``: ``moved`` / ``moved_share`` (subscribers whose
macro id changed), ``moved_micro``, ``moved_flows``, ``matched_macro_ids``, ``retired_macro_ids``.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ml.monitoring.drift import DriftReference

from .features import ProfileFeaturizer
from .identity import match_segments, micro_id, moved_between
from .macro import MacroSegmenter
from .micro import MicroSegmenter, default_min_size
from .profiles import PROFILE_COLUMNS, SegmentProfiler
from .schema import DRIFT_COLUMNS, check_profiles
from .traits import TRAIT_KEYS, trait_table

#: progress of a fit (INFO), one line per stage; silent unless a handler listens (the Dagster asset
#: forwards it to the run log)
_log = logging.getLogger(__name__)

__all__ = ["SegmentationModel", "ASSIGNMENT_COLUMNS"]

ASSIGNMENT_COLUMNS = ("subscriber_key", "macro_segment_id", "macro_segment_name", "micro_segment_id",
                      "micro_segment_name", "segment_confidence", "segment_reason")


def _centroids(T: np.ndarray, codes: np.ndarray, n: int, fill: np.ndarray) -> np.ndarray:
    """(n, traits) per-code nan-means of the trait table, NaN filled with ``fill``."""
    ok = np.isfinite(T)
    s = np.zeros((n, T.shape[1]))
    c = np.zeros((n, T.shape[1]))
    np.add.at(s, codes, np.where(ok, T, 0.0))
    np.add.at(c, codes, ok.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        m = s / c
    return np.where(np.isfinite(m), m, fill)


class SegmentationModel(BaseEstimator):
    """Behavioural macro and micro segments of an e-mail list, named and explained.

    Parameters
    ----------
    k_range : macro segment counts to consider (see :class:`MacroSegmenter`).
    min_size : smallest micro segment (None: ``max(50, 0.1 % of the list)``).
    micro_per_sqrt : micro segments in total ~ ``micro_per_sqrt * sqrt(n)``.
    selection_sample, eval_sample, n_bootstrap, min_stability, silhouette_tolerance, fit_sample, n_init :
        passed to :class:`MacroSegmenter`.
    identity_max_distance : largest centroid distance (RMS standard deviations over traits) at which a
        new segment inherits an old id.
    featurizer_params : keyword arguments of :class:`ProfileFeaturizer`.
    random_state : seed; same data + same seed = same segments.

    Fitted attributes: ``featurizer_``, ``macro_``, ``micro_``, ``macro_ids_`` (per macro index),
    ``micro_ids_`` ({macro index: ids per micro index}), ``macro_centroids_`` / ``micro_centroids_``
    (trait means per segment id, DataFrames), ``trait_scale_``, ``macro_profiler_``,
    ``micro_profiler_``, ``segment_profiles_``, ``metrics_``.
    """

    def __init__(self, k_range: tuple[int, int] = (4, 14), min_size: int | None = None,
                 micro_per_sqrt: float = 0.25, selection_sample: int = 20_000, eval_sample: int = 3_000,
                 n_bootstrap: int = 5, min_stability: float = 0.75, silhouette_tolerance: float = 0.05,
                 fit_sample: int = 1_000_000, n_init: int = 256, identity_max_distance: float = 0.5,
                 featurizer_params: dict | None = None, random_state: int | None = 0):
        self.k_range = k_range
        self.min_size = min_size
        self.micro_per_sqrt = micro_per_sqrt
        self.selection_sample = selection_sample
        self.eval_sample = eval_sample
        self.n_bootstrap = n_bootstrap
        self.min_stability = min_stability
        self.silhouette_tolerance = silhouette_tolerance
        self.fit_sample = fit_sample
        self.n_init = n_init
        self.identity_max_distance = identity_max_distance
        self.featurizer_params = featurizer_params
        self.random_state = random_state

    # -- fitting ------------------------------------------------------------------------------------
    def fit(self, profiles: pd.DataFrame, previous: "SegmentationModel | None" = None) -> "SegmentationModel":
        """Fit on ``profiles`` (one row per subscriber); with ``previous`` keep its ids where segments match."""
        check_profiles(profiles)
        if len(profiles) < 20:
            raise ValueError(f"need at least 20 profiles to segment, got {len(profiles)}")
        self.featurizer_ = ProfileFeaturizer(**(self.featurizer_params or {})).fit(profiles)
        # What the training profiles looked like, for the drift checks of later assignments.
        self.drift_reference_ = DriftReference().fit(profiles[list(DRIFT_COLUMNS)])
        X = self.featurizer_.transform(profiles)
        _log.info("Features: %s profiles x %d columns; choosing the number of macro segments",
                  f"{X.shape[0]:,}", X.shape[1])
        self.macro_ = MacroSegmenter(
            k_range=self.k_range, selection_sample=self.selection_sample, eval_sample=self.eval_sample,
            n_bootstrap=self.n_bootstrap, min_stability=self.min_stability,
            silhouette_tolerance=self.silhouette_tolerance, fit_sample=self.fit_sample, n_init=self.n_init,
            min_size=self.min_size if self.min_size is not None else default_min_size(len(X)),
            random_state=self.random_state).fit(X)
        macro_idx, macro_conf = self.macro_.predict_with_confidence(X)
        self.micro_ = MicroSegmenter(min_size=self.min_size, per_sqrt=self.micro_per_sqrt,
                                     random_state=self.random_state).fit(X, macro_idx)
        micro_idx, micro_conf = self.micro_.predict_with_confidence(X, macro_idx)
        _log.info("Micro segments: %d in %d macro segments (minimum size %s); naming and profiling",
                  self.micro_.n_micro_, self.macro_.n_clusters_, f"{self.micro_.min_size_:,}")

        rhythm = self.featurizer_.rhythm  # the traits read the rhythm the features read
        T = trait_table(profiles, rhythm=rhythm).to_numpy(np.float64)
        fill = np.nanmean(T, axis=0)
        self.trait_scale_ = np.nanstd(T, axis=0) + 1e-9
        k = self.macro_.n_clusters_
        self._assign_ids(T, fill, macro_idx, micro_idx, previous)

        macro_labels = np.asarray(self.macro_ids_, dtype=object)[macro_idx]
        micro_labels = self._micro_labels(macro_idx, micro_idx)
        inherited = previous is not None
        self.macro_profiler_ = SegmentProfiler(level="macro", rhythm=rhythm).fit(
            profiles, macro_labels, traits=self._traits_frame(T),
            fixed_names={i: n for i, n in zip(self.macro_ids_, self._macro_names_old) if n} if inherited else None)
        self.micro_profiler_ = SegmentProfiler(level="micro", rhythm=rhythm).fit(
            profiles, micro_labels, parents=macro_labels, traits=self._traits_frame(T),
            fixed_names=self._micro_names_old if inherited else None)
        self.segment_profiles_ = (pd.concat([self.macro_profiler_.profiles_, self.micro_profiler_.profiles_],
                                            ignore_index=True)
                                  .sort_values(["segment_id"], kind="stable", ignore_index=True))[list(PROFILE_COLUMNS)]
        sizes = self.segment_profiles_.set_index("segment_id")["size"]
        scores = self.macro_.scores_
        self.metrics_ = {
            "n_subscribers": int(len(profiles)), "k": int(k), "n_micro": int(self.micro_.n_micro_),
            "silhouette": self.macro_.silhouette_, "stability": self.macro_.stability_,
            "criterion": "silhouette", "silhouette_per_k": dict(zip(scores["k"].tolist(), scores["silhouette"].tolist())),
            "stability_per_k": dict(zip(scores["k"].tolist(), scores["stability"].tolist())),
            "macro_sizes": {i: int(sizes[i]) for i in self.macro_ids_},
            "micro_sizes": {i: int(sizes[i]) for ids in self.micro_ids_.values() for i in ids if i in sizes},
            "min_size": int(self.micro_.min_size_),
            "mean_confidence": float(np.mean(macro_conf * micro_conf)),
            "mean_macro_confidence": float(np.mean(macro_conf)),
        }
        if previous is not None:
            old = previous.assign(profiles)
            new = pd.Series(macro_labels, index=profiles["subscriber_key"].to_numpy())
            moved = moved_between(old.set_index("subscriber_key")["macro_segment_id"], new)
            new_micro = pd.Series(micro_labels, index=profiles["subscriber_key"].to_numpy())
            moved_micro = moved_between(old.set_index("subscriber_key")["micro_segment_id"], new_micro)
            self.metrics_.update({"moved": moved["moved"], "moved_share": moved["moved_share"],
                                  "moved_micro": moved_micro["moved"], "moved_flows": moved["flows"],
                                  "matched_macro_ids": [i for i, m in zip(self.macro_ids_, self._macro_matched) if m],
                                  "retired_macro_ids": sorted(set(previous.macro_ids_) - set(self.macro_ids_))})
        del self._macro_names_old, self._micro_names_old, self._macro_matched
        return self

    def _traits_frame(self, T: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(T, columns=list(TRAIT_KEYS))

    def _assign_ids(self, T, fill, macro_idx, micro_idx, previous) -> None:
        """Ids (and inherited names) for every macro and micro segment; trait centroids per id."""
        k = self.macro_.n_clusters_
        macro_c = _centroids(T, macro_idx, k, fill)
        if previous is None:
            match = match_segments(macro_c, np.zeros((0, T.shape[1])), [], first_fresh=1)
        else:
            old = previous.macro_centroids_
            names = [previous.macro_profiler_.names_.get(i) for i in old.index]
            match = match_segments(macro_c, old.to_numpy(), list(old.index), names,
                                   self.identity_max_distance, scale=self.trait_scale_)
        self.macro_ids_ = match.ids
        self._macro_names_old = match.names
        self._macro_matched = [m is not None for m in match.matched_old]
        self.macro_centroids_ = pd.DataFrame(macro_c, index=match.ids, columns=list(TRAIT_KEYS))
        self.micro_ids_, self._micro_names_old, rows = {}, {}, []
        for m in range(k):
            parent = self.macro_ids_[m]
            in_m = macro_idx == m
            n_micro = len(self.micro_.centers_[m])
            micro_c = _centroids(T[in_m], micro_idx[in_m], n_micro, fill)
            old_ids, old_c, old_names = [], np.zeros((0, T.shape[1])), []
            if previous is not None and match.matched_old[m] is not None:
                old = previous.micro_centroids_
                sel = [i for i in old.index if i.startswith(parent + "-")]
                old_ids, old_c = sel, old.loc[sel].to_numpy()
                old_names = [previous.micro_profiler_.names_.get(i) for i in sel]
            mm = match_segments(micro_c, old_c, old_ids, old_names, self.identity_max_distance,
                                scale=self.trait_scale_, fresh_id=lambda n, p=parent: micro_id(p, n),
                                first_fresh=None if old_ids else 1)
            self.micro_ids_[m] = mm.ids
            self._micro_names_old.update({i: n for i, n in zip(mm.ids, mm.names) if n})
            rows.append(pd.DataFrame(micro_c, index=mm.ids, columns=list(TRAIT_KEYS)))
        self.micro_centroids_ = pd.concat(rows)

    def _micro_labels(self, macro_idx: np.ndarray, micro_idx: np.ndarray) -> np.ndarray:
        width = max(len(v) for v in self.micro_ids_.values())
        table = np.full((len(self.micro_ids_), width), "", dtype=object)
        for m, ids in self.micro_ids_.items():
            table[m, :len(ids)] = ids
        return table[macro_idx, micro_idx]

    def describe(self, segment_id: str, size: int, share: float) -> str:
        """The description of a macro or micro segment with ``size`` members (``share`` of the list):
        its trait figures as fitted, the size and share as given (e.g. a later assignment's)."""
        check_is_fitted(self, "segment_profiles_")
        profiler = self.macro_profiler_ if segment_id in self.macro_profiler_.names_ else self.micro_profiler_
        return profiler.sentence(segment_id, int(size), float(share))

    # -- assignment ---------------------------------------------------------------------------------
    def assign(self, profiles: pd.DataFrame) -> pd.DataFrame:
        """One row per profile: ids, names, confidence (macro x micro posterior) and a reason in words.

        Extra columns ``macro_confidence`` and ``micro_confidence`` give the two factors of
        ``segment_confidence``.
        """
        check_is_fitted(self, "segment_profiles_")
        check_profiles(profiles)
        X = self.featurizer_.transform(profiles)
        macro_idx, macro_conf = self.macro_.predict_with_confidence(X)
        micro_idx, micro_conf = self.micro_.predict_with_confidence(X, macro_idx)
        macro_labels = np.asarray(self.macro_ids_, dtype=object)[macro_idx]
        micro_labels = self._micro_labels(macro_idx, micro_idx)
        traits = trait_table(profiles, rhythm=self.featurizer_.rhythm)
        macro_names = pd.Series(self.macro_profiler_.names_)
        micro_names = pd.Series(self.micro_profiler_.names_)
        return pd.DataFrame({
            "subscriber_key": profiles["subscriber_key"].to_numpy(),
            "macro_segment_id": macro_labels,
            "macro_segment_name": macro_names.reindex(macro_labels).to_numpy(),
            "micro_segment_id": micro_labels,
            "micro_segment_name": micro_names.reindex(micro_labels).to_numpy(),
            "segment_confidence": (macro_conf * micro_conf).astype(np.float64),
            "segment_reason": self.macro_profiler_.reasons(profiles, macro_labels, traits=traits),
            "macro_confidence": macro_conf.astype(np.float64),
            "micro_confidence": micro_conf.astype(np.float64),
        })

    def use_campaign_response(self, response) -> "SegmentationModel":
        """Replace the profile-based topic in ``recommended_content`` by the best shrunk click rate measured
        in campaign history per segment (a fitted :class:`~ml.segmentation.similarity.SegmentResponse`
        whose segment ids are this model's ids, macro or micro). Segments without history keep theirs."""
        check_is_fitted(self, "segment_profiles_")
        best = response.best_items()
        kind = "offer" if "offer" in str(getattr(response, "item_col", "")) else "topic"
        sp = self.segment_profiles_
        for i, row in sp.iterrows():  # one row per segment, not per subscriber
            if row["segment_id"] in best.index:
                parts = dict(p.split(": ", 1) for p in row["recommended_content"].split("; "))
                parts[kind] = str(best[row["segment_id"]])
                sp.at[i, "recommended_content"] = "; ".join(f"{k}: {v}" for k, v in parts.items())
        return self

    def gate_metrics(self) -> dict:
        """The metrics :func:`ml.segmentation.gates.check_gates` reads."""
        check_is_fitted(self, "metrics_")
        return {k: v for k, v in self.metrics_.items() if not isinstance(v, pd.DataFrame)}

