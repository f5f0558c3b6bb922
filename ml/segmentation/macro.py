"""Macro segments: k-means with the number of segments chosen automatically, and a confidence per row.

:class:`MacroSegmenter` works on the matrix of :class:`~ml.segmentation.features.ProfileFeaturizer`.

**Why k-means, not a Gaussian mixture.** Profile features have point masses (the many people with no
order, no click, no visit) and skewed shapes; on them a mixture spends components on those masses
and BIC keeps falling as k grows, so it neither recovers behavioural groups better nor picks a
sensible k. K-means on robust-scaled, group-balanced features recovered planted personas better in our
trials and is cheap enough to refit many times for the stability estimate.

**Choosing k** (for every k in ``k_range``, on a subsample of ``selection_sample`` rows):

* *stability*: ``n_bootstrap`` k-means fits on bootstrap resamples of the selection subsample (the
  same resamples for every k, so k are compared on equal terms) each predict a common evaluation
  sample (``eval_sample`` rows); stability is the mean adjusted Rand index between all pairs of those
  predictions (1 = the same segments whatever the sample);
* *internal criterion*: the silhouette of those predictions on the evaluation sample (averaged over
  the fits) -- how much closer people are to their own segment than to the next one; scale-free, so
  values for different k are comparable, unlike inertia (always falls) or BIC (assumes Gaussian
  segments, which profile features with their point masses at zero are not).

**Actionable size**: with ``min_size`` set, a k is only eligible when the smallest segment its
bootstrap fits produce (as a share of the evaluation sample, scaled to the whole list) would still hold
``min_size`` subscribers -- a segment too small to mail is not worth its stability. If no k qualifies,
the smallest k of the range is taken.

If the final fit of the chosen k still has a segment under the minimum, the next smaller k that the
rule below accepts is fitted instead (the next smaller k when none is left), until no segment is under
the minimum (or the smallest k of the range is reached). *Why the rule's k, not simply k - 1*: on a
2,000-subscriber list the final fit stepped down in 14 of 30 row orders, and twice k - 1 had a
bootstrap stability under 0.75, so the model failed its stability gate and there was no champion
(by hand; a k the rule accepts has at least ``min_stability``, by default the gate's threshold).

**Rule**: among the eligible k whose stability is at least ``min_stability`` and whose silhouette is within
``silhouette_tolerance`` (absolute) of the best silhouette, take the **largest** -- the finest
segmentation that is still reproducible and about as well separated as the best one; marketers
gain from every reliable distinction, and the micro level refines further. When no k is stable
enough, the most stable k is taken (ties: the better silhouette).

*Why not simply the best silhouette*: on the generated lists the silhouette is nearly flat from k = 9
to 13 (0.22-0.24), and which k scores best changes with the selection sample: on one 1M list seeds 0-3
gave 12, 10, 9 and 9 (by hand), so segments would change with the seed. The largest k within the
tolerance (on these lists the top of the range, 14) is reproducible. It costs some agreement with the
planted personas: on a 50k list the adjusted Rand index vs the personas is 0.469 for k = 9 and 0.409
for k = 14, the rule's choice (by hand).

**Scale**: selection runs on a subsample. The final fit of the chosen k *refines initial points*
(Bradley & Fayyad, 1998; the same idea as Leisch's bagged clustering): ``n_init`` single k-means restarts
run on pilot samples of ``pilot_sample`` rows (``n_refine`` independent samples, an equal share of the
restarts each); all their centres are pooled, each weighted by the size of its pilot segment, and the
pool is clustered into k (``POOL_RESTARTS`` restarts, lowest weighted inertia); from those centres one
k-means runs on the fit sample (up to ``fit_sample`` rows), then once more on every row when the list
is larger. Assignment is a chunked nearest-centre search (1M rows in seconds). ``inertia_`` is the
final solution's inertia on the input, summed in float64.

*Why a consensus of the pilots, not the best of them* (since 0.4.21): the generated 1M list has several
solutions of k = 14 within 0.02 % of the lowest inertia, and two of them, 0.001 % apart (6,501,77x and
6,501,84x), have an ARI of 0.87 between them. Each was reached by few restarts, so which one a seed kept
depended on the seed (one seed ended in either in the bench and in a rebuild of its list): stability
between seeds was 0.870 / 0.870 / 0.869 at 1M in three bench runs (goal 0.9), through each of the
searches below. Clustering the pooled pilot centres lands on the solution most pilots circle around: by
hand on that world (before its refresh day) six seeds with 16 pilot samples of 16 restarts reached the
same one (6,501,840-6,501,852, pairwise ARI 0.997-0.999; with 8 of 8, four of five seeds), on the 100k
list six seeds of 8 of 8 agreed at 0.990-1.000. It is not the lowest inertia found (0.001 % more at 1M,
0.03 % at 100k), and on a made-up list it can be far from it (see the tests); reproducible segments are
worth more to marketers than that. With 50,000-row pilot samples the 256 pilot restarts cost the same
on any list of 50,000 or more, so they weighed most on mid-sized lists: in the bench of 0.4.21 a fit took
63.6 s per seed at 100k (26.7 s with the search before) and 98.0 s at 1M (107.6 s). Since 0.4.23 a
pilot sample is a quarter of the fit sample, at least 25,000 and at most 50,000 rows (``pilot_sample =
"auto"``): on the generated 100k list (rebuilt from a bench's files) 25,000-row pilots reached the same
solution as 50,000-row ones (inertia 656,219.5 / 219.5 / 225.5 for seeds 0-2 against 656,219.7, the
same ARI vs the personas, 0.559; seeds pairwise 0.995-0.999) in 59.8 s per fit against 103.8 s, run
back to back (by hand); in the bench of 0.4.23 a 100k fit took 38.1 s per seed, with the same ARI vs the
personas and stability between seeds 0.994. Lists of 200,000 or more keep 50,000-row pilots, so their
fits do not change (1M: 100.1 s per seed in that bench).

*History of the search.* *The pilot stage*: on the generated 1M list the best solution of k = 14 came
out of 2 of 48 full restarts (three seeds, 16 restarts each, on each seed's own 200,000-row sample; by
hand), so some seeds missed it (stability between seeds at 1M with 16 restarts: 0.839 in a bench run,
0.920 and 0.986 by hand). Pilot restarts are cheaper: by hand at 1M, 64 of them took 24-40 s per seed
where 16 full ones took 26-31 s; with the refinements the segmentation fit went from 105 to 143 s (mean
of three seeds). By hand on the same list all three seeds reached the same solution (pairwise stability
0.998-1.000); in the next bench run 0.998 at 100k, 0.999 at 1M.

*Several pilot samples* (0.4.17; before, every restart ran on one pilot sample and the ``n_refine`` best
were refined; until 0.4.21 the best restart of each pilot sample was refined on the fit sample and the
candidate of lowest inertia kept): a pilot sample has its own landscape, and on some samples the fit
sample's best solution is not within reach of the restarts that score best on it. On a generated 100k
list (k = 14), one seed's 64 pilots led, once refined, to the best solution (inertia 656,028) from 1
pilot only (the 21st best on the fit sample), the 11 best-ranked all to another one (656,224-656,230;
ARI 0.878 against the best); over seeds 0-9 one seed in ten ended there. With four pilot samples of 16
restarts each, at the same cost, none of the ten did (656,029-656,067, every seed; by hand). It is not a
cure: on a generated 1M list each search still settled in a near-tied worse solution (0.005-0.013 % more
inertia, ARI 0.87-0.88 against the others) in 1 of 9 draws (three row orders x three seeds; by hand),
and stability between seeds was 0.988 at 100k but 0.870 at 1M in the next bench run. Since 0.4.18 the 64
restarts are spread over eight pilot samples (8 each): on that 1M list nine draws, the failing one
included, all reached the best solution (inertia 6,547,982-6,548,020, ARI 0.989-0.998 against it), at
54-62 s per macro fit instead of 46-53 s (by hand). Not a cure either: in the next bench run stability
was 0.999 at 100k but again 0.870 at 1M. That world (before its refresh day) has several solutions of k
= 14 within 0.02 % of the lowest inertia; two of them, 0.001 % apart, have an ARI of 0.87 between them,
and one seed in three took the other (reproduced by hand).

*Candidates compared in float64* (0.4.20 until 0.4.21; before, by scikit-learn's ``inertia_``):
``inertia_`` is a float32 sum, and over a million rows its error exceeds such gaps. For the two
solutions above it gave 6,500,834 and 6,500,883 with one thread, 6,501,990 and 6,501,705 with two,
where the float64 sums are 6,501,840 and 6,501,773 (by hand). Ranked in float64, the seed that had
kept the worse one reached the better one (inertia 6,501,779, ARI 0.998 against it; by hand), but
in the next bench run stability at 1M was again 0.869 (seed 0 kept the other one: ARI vs the
personas 0.562 against 0.552).

*Why the fit sample holds up to a million rows* (it was 200,000): with the cross-channel rhythm
features the 1M list has several solutions of k = 14 within 0.013 % of the same inertia, and seeds that
refined their candidates on their own 200,000-row samples settled in different ones (stability 0.868 in
a bench run; by hand on the warehouse it left, a day of events later, inertia 6.5488M / 6.5480M /
6.5483M, pairwise ARI 0.866-0.922). Refined on all 1M rows, every seed reached 6.5480M, pairwise ARI
0.992-0.996, at 65-70 s per fit instead of 57 s (by hand).

**Confidence**: ``predict_proba`` is a softmax of negative squared distances to the centres,
``exp(-d2 / T)``, with the temperature ``T`` *calibrated*: chosen so that a person's confidence matches
how often bootstrap refits (aligned to the final segments) put that person in the same segment.
People between two centres get lower confidence than people at a centre.
"""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.utils.validation import check_is_fitted

from ._kmeans import calibrate_temperature, inertia, nearest, softmax_neg, squared_distances, subsample

__all__ = ["MacroSegmenter", "choose_k", "accepted_ks", "pilot_rows", "POOL_RESTARTS", "PILOT_ROWS"]

#: progress of a fit (INFO): the k chosen and each stage of the final fit; silent unless a handler listens
_log = logging.getLogger(__name__)

#: restarts of the k-means that clusters the pooled pilot centres (a few thousand points: cheap)
POOL_RESTARTS = 100

#: bounds of an "auto" pilot sample (a quarter of the fit sample); see the module docstring
PILOT_ROWS = (25_000, 50_000)


def pilot_rows(pilot_sample: int | str, n_fit: int) -> int:
    """Rows of each pilot sample for a fit sample of ``n_fit`` rows (never more than ``n_fit``)."""
    if pilot_sample == "auto":
        size = min(max(n_fit // 4, PILOT_ROWS[0]), PILOT_ROWS[1])
    elif isinstance(pilot_sample, (int, np.integer)) and not isinstance(pilot_sample, bool) and pilot_sample > 0:
        size = int(pilot_sample)
    else:
        raise ValueError(f'pilot_sample must be "auto" or a positive number of rows, got {pilot_sample!r}')
    return min(size, n_fit)


def accepted_ks(scores: pd.DataFrame, min_stability: float, silhouette_tolerance: float,
                min_size: float | None = None) -> list[int]:
    """Every k the selection rule accepts, largest first: eligible by size (``smallest``, the expected
    size of the smallest segment, at least ``min_size`` when given), stability at least
    ``min_stability`` and silhouette within ``silhouette_tolerance`` of the best eligible one."""
    if min_size is not None and "smallest" in scores:
        scores = scores[scores["smallest"] >= min_size]
    if scores.empty:
        return []
    floor = scores["silhouette"].max() - silhouette_tolerance
    ok = scores[(scores["stability"] >= min_stability) & (scores["silhouette"] >= floor)]
    return sorted((int(k) for k in ok["k"]), reverse=True)


def choose_k(scores: pd.DataFrame, min_stability: float, silhouette_tolerance: float,
             min_size: float | None = None) -> int:
    """The selection rule of the module docstring applied to a table with k, silhouette, stability
    (and ``smallest``, the expected size of the smallest segment, when ``min_size`` is given)."""
    if min_size is not None and "smallest" in scores:
        eligible = scores[scores["smallest"] >= min_size]
        if eligible.empty:
            return int(scores["k"].min())
        scores = eligible
    ok = accepted_ks(scores, min_stability, silhouette_tolerance)
    if ok:
        return ok[0]
    top = scores.sort_values(["stability", "silhouette", "k"], ascending=[False, False, True])
    return int(top["k"].iloc[0])


class MacroSegmenter(ClusterMixin, BaseEstimator):
    """Automatic-k k-means with bootstrap stability and calibrated confidence.

    Parameters
    ----------
    k_range : (smallest, largest) number of segments to consider, inclusive.
    selection_sample : rows used to score each k (subsampled when the input is larger).
    eval_sample : rows of that subsample on which silhouettes and bootstrap predictions are compared.
    n_bootstrap : bootstrap refits per k for the stability estimate (at least 2).
    min_stability, silhouette_tolerance : the selection rule (see the module docstring).
    fit_sample : rows for the final fit (subsampled when larger); every row is assigned by ``predict``.
    n_init : single k-means restarts of the final fit, each on a pilot sample (selection fits use
        two), shared equally by the ``n_refine`` pilot samples (at least one each); their centres,
        pooled, start the final fit (see the module docstring).
    pilot_sample : rows of each pilot sample (drawn from the fit sample); ``"auto"``: a quarter of the
        fit sample, at least ``PILOT_ROWS[0]`` and at most ``PILOT_ROWS[1]`` (all of it when smaller).
    n_refine : independent pilot samples.
    min_size : smallest actionable segment (subscribers); None: no size condition on k.
    random_state : seed; the same data and seed give the same segments.

    Fitted attributes: ``n_clusters_``, ``cluster_centers_``, ``temperature_``, ``scores_`` (one row per
    k: silhouette, stability), ``silhouette_``, ``stability_``, ``labels_`` (of every row of the input),
    ``inertia_`` (of the final solution on the input, float64).
    """

    def __init__(self, k_range: tuple[int, int] = (4, 14), selection_sample: int = 20_000,
                 eval_sample: int = 3_000, n_bootstrap: int = 5, min_stability: float = 0.75,
                 silhouette_tolerance: float = 0.05, fit_sample: int = 1_000_000, n_init: int = 256,
                 pilot_sample: int | str = "auto", n_refine: int = 16, min_size: int | None = None,
                 random_state: int | None = 0):
        self.k_range = k_range
        self.selection_sample = selection_sample
        self.eval_sample = eval_sample
        self.n_bootstrap = n_bootstrap
        self.min_stability = min_stability
        self.silhouette_tolerance = silhouette_tolerance
        self.fit_sample = fit_sample
        self.n_init = n_init
        self.pilot_sample = pilot_sample
        self.n_refine = n_refine
        self.min_size = min_size
        self.random_state = random_state

    def _kmeans(self, k: int, seed: int, n_init: int) -> KMeans:
        return KMeans(n_clusters=k, n_init=n_init, random_state=seed, max_iter=200)

    def _final_fit(self, X: np.ndarray, F: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Centres and labels of every row of X by refined initial points: ``n_init`` single k-means
        restarts spread over ``n_refine`` pilot samples of F; their centres, pooled and weighted by the
        pilot segment sizes, clustered into k (``POOL_RESTARTS`` restarts); from those centres one k-means
        on F, then one on X when F is a sample of it."""
        rng = np.random.default_rng(seed)
        n_groups = max(int(self.n_refine), 1)
        per_group = max(int(self.n_init) // n_groups, 1)
        rows = pilot_rows(self.pilot_sample, len(F))
        _log.info("Final fit, k = %d: %d pilot restarts on %d samples of %s rows; from their consensus, k-means "
                  "on every row (%s)", k, n_groups * per_group, n_groups, f"{rows:,}", f"{len(X):,}")
        pool, weights = [], []
        for _ in range(n_groups):
            P = F[subsample(len(F), rows, rng)]
            for s in rng.integers(0, 2**31, per_group):
                pilot = self._kmeans(k, int(s), 1).fit(P)
                pool.append(np.asarray(pilot.cluster_centers_, dtype=np.float64))
                weights.append(np.bincount(pilot.labels_, minlength=k))
        consensus = KMeans(n_clusters=k, n_init=POOL_RESTARTS, random_state=int(rng.integers(2**31)),
                           max_iter=300).fit(np.concatenate(pool), sample_weight=np.concatenate(weights))
        model = KMeans(n_clusters=k, init=consensus.cluster_centers_, n_init=1, max_iter=200).fit(F)
        if len(F) == len(X):
            return model.cluster_centers_, model.labels_
        model = KMeans(n_clusters=k, init=model.cluster_centers_, n_init=1, max_iter=100).fit(X)
        return model.cluster_centers_, model.labels_

    def _score_k(self, S: np.ndarray, E: np.ndarray, k: int, resamples: list[np.ndarray], seeds: list[int]):
        """Silhouette (mean over the resample fits), stability (mean pairwise ARI) and the fits' labels on E."""
        labels = [self._kmeans(k, seed, 2).fit(S[idx]).predict(E) for idx, seed in zip(resamples, seeds)]
        sil = float(np.mean([silhouette_score(E, lab) if len(np.unique(lab)) > 1 else -1.0 for lab in labels]))
        stab = float(np.mean([adjusted_rand_score(a, b) for a, b in itertools.combinations(labels, 2)]))
        return sil, stab, labels

    def fit(self, X, y=None) -> "MacroSegmenter":
        """Score every k of ``k_range``, pick one by the rule, fit the final centres, calibrate confidence."""
        X = np.asarray(X, dtype=np.float32)
        lo, hi = int(self.k_range[0]), int(self.k_range[1])
        if lo < 2 or hi < lo:
            raise ValueError(f"k_range must be (lo, hi) with 2 <= lo <= hi, got {self.k_range!r}")
        hi = min(hi, max(lo, len(X) // 10))
        if self.min_size:
            hi = min(hi, max(lo, len(X) // int(self.min_size)))
        rng = np.random.default_rng(self.random_state)
        S = X[subsample(len(X), self.selection_sample, rng)]
        E = S[subsample(len(S), self.eval_sample, rng)]
        n_boot = max(int(self.n_bootstrap), 2)
        resamples = [rng.integers(0, len(S), len(S)) for _ in range(n_boot)]  # common to every k
        seeds = [int(s) for s in rng.integers(0, 2**31, n_boot)]
        rows, boots = [], {}
        for k in range(lo, hi + 1):
            sil, stab, b = self._score_k(S, E, k, resamples, seeds)
            smallest = float(np.mean([np.bincount(lab, minlength=k).min() for lab in b])) / len(E) * len(X)
            rows.append({"k": k, "silhouette": sil, "stability": stab, "smallest": smallest})
            boots[k] = b
        self.scores_ = pd.DataFrame(rows)
        k = choose_k(self.scores_, self.min_stability, self.silhouette_tolerance, self.min_size)
        chosen = self.scores_.set_index("k").loc[k]
        _log.info("Scored k = %d-%d on %s of %s rows (%d bootstrap fits each): k = %d, silhouette %.3f, "
                  "stability %.3f", lo, hi, f"{len(S):,}", f"{len(X):,}", n_boot, k,
                  chosen["silhouette"], chosen["stability"])
        F = X[subsample(len(X), self.fit_sample, rng)]
        fit_seed = int(rng.integers(2**31))
        centres, labels = self._final_fit(X, F, k, fit_seed)
        # The size condition on k is an estimate from the selection fits; if the final fit still has a
        # segment below the minimum, step down to the next smaller k the rule accepts (else the next
        # smaller k; the bootstrap fits of every k exist already).
        accepted = accepted_ks(self.scores_, self.min_stability, self.silhouette_tolerance, self.min_size)
        while self.min_size and k > lo:
            smallest = int(np.bincount(labels, minlength=k).min())
            if smallest >= self.min_size:
                break
            smaller = [c for c in accepted if c < k]
            step = smaller[0] if smaller else k - 1
            _log.info("k = %d left a segment of %s under the minimum of %s: refitting with k = %d", k,
                      f"{smallest:,}", f"{int(self.min_size):,}", step)
            k = step
            centres, labels = self._final_fit(X, F, k, fit_seed)
        order = np.argsort(-np.bincount(labels, minlength=k), kind="stable")  # largest segment first
        self.cluster_centers_ = centres[order].astype(np.float32)
        self.n_clusters_ = k
        self.labels_ = np.argsort(order)[labels]
        row = self.scores_.set_index("k").loc[k]
        self.silhouette_, self.stability_ = float(row["silhouette"]), float(row["stability"])
        self.inertia_ = inertia(X, self.cluster_centers_, self.labels_)
        self.temperature_ = calibrate_temperature(squared_distances(E, self.cluster_centers_), boots[k])
        return self

    def predict(self, X) -> np.ndarray:
        """Nearest-centre segment index (0 = the largest segment at fit time) for every row."""
        check_is_fitted(self, "cluster_centers_")
        return nearest(np.asarray(X, dtype=np.float32), self.cluster_centers_)

    def predict_proba(self, X) -> np.ndarray:
        """(n, k) calibrated membership probabilities; the arg-max is ``predict``."""
        check_is_fitted(self, "cluster_centers_")
        return softmax_neg(squared_distances(np.asarray(X, dtype=np.float32), self.cluster_centers_),
                           self.temperature_)

    def predict_with_confidence(self, X, chunk: int = 200_000) -> tuple[np.ndarray, np.ndarray]:
        """Labels and the probability of the assigned segment, chunked to bound memory."""
        check_is_fitted(self, "cluster_centers_")
        X = np.asarray(X, dtype=np.float32)
        labels = np.empty(len(X), dtype=np.int64)
        conf = np.empty(len(X), dtype=np.float32)
        for start in range(0, len(X), chunk):
            d2 = squared_distances(X[start:start + chunk], self.cluster_centers_)
            p = softmax_neg(d2, self.temperature_)
            labels[start:start + chunk] = d2.argmin(axis=1)
            conf[start:start + chunk] = p.max(axis=1)
        return labels, conf
