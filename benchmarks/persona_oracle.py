"""How far could the segmentation's own segments, or its feature space, go towards the planted personas?

Figures that read the truth, beside the ARI of :mod:`benchmarks.segmentation_quality` and the
supervised ceiling of :mod:`benchmarks.persona_ceiling`:

* :func:`majority_persona_ari` -- every segment relabelled with its most common persona: the merge of
  those segments that names the most people after their own persona. For the micro segments it tells
  how far anything that only groups them differently (another number of macro segments, another merge
  rule) could go. It is not a proven maximum of the ARI: a search over merges that maximises the ARI
  itself (coordinate ascent, by hand on the bench's 100k world) gained 0.004 on the macro and 0.009 on
  the micro segments.
* :func:`neighbour_purity` -- the mean share of each person's nearest neighbours, in the segment
  feature space, that share their persona. High purity with a low merging ARI means the personas are
  mixed at the boundaries of any compact cell, not that the features lack the information.
* :func:`nearest_persona_centre` -- every person given the persona whose mean (in the segment feature
  space) is nearest: what segments centred exactly on the personas would score. A segmentation that
  assigns people to their nearest centre cannot draw other boundaries between those centres.
* :func:`kmeans_from_persona_centres` -- k-means (k = number of personas) started at those means and
  run to convergence: where the objective the macro segments minimise takes the personas' own centres.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, pairwise_distances_argmin
from sklearn.neighbors import NearestNeighbors

__all__ = ["majority_persona", "majority_persona_ari", "neighbour_purity", "persona_centres",
           "nearest_persona_centre", "kmeans_from_persona_centres", "persona_centre_figures"]


def _pair(labels, personas) -> tuple[np.ndarray, np.ndarray]:
    labels, personas = np.asarray(labels), np.asarray(personas)
    if labels.ndim != 1 or labels.shape != personas.shape:
        raise ValueError(f"need one segment label per persona, got {labels.shape} and {personas.shape}")
    if len(labels) == 0:
        raise ValueError("no labelled rows")
    return labels, personas


def majority_persona(labels, personas) -> np.ndarray:
    """Each row's segment's most common persona (a tie goes to the persona first in sorted order)."""
    labels, personas = _pair(labels, personas)
    segment, _ = pd.factorize(labels)
    persona, names = pd.factorize(personas, sort=True)  # sorted: argmax keeps the first of a tie
    if (segment < 0).any() or (persona < 0).any():
        raise ValueError("missing segment labels or personas: score only the labelled rows")
    counts = np.bincount(segment * len(names) + persona, minlength=(segment.max() + 1) * len(names))
    best = counts.reshape(-1, len(names)).argmax(axis=1)
    return np.asarray(names, dtype=object)[best][segment]


def majority_persona_ari(labels, personas) -> float:
    """ARI vs ``personas`` of :func:`majority_persona`: how far a merging of the segments could go."""
    return float(adjusted_rand_score(np.asarray(personas), majority_persona(labels, personas)))


def neighbour_purity(X, personas, n_neighbors: int = 15) -> float:
    """Mean share of each row's ``n_neighbors`` nearest other rows (Euclidean in ``X``) with its persona.

    Every row of ``X`` is used: sample the rows first on a large list (the search is quadratic-ish)."""
    X, personas = _matrix(X, personas)
    if not 0 < n_neighbors < len(X):
        raise ValueError(f"n_neighbors must be between 1 and {len(X) - 1}, got {n_neighbors}")
    # kneighbors() without a query leaves each row itself out by its index, so an exact duplicate of a row
    # (people with identical profiles) still counts as a neighbour and the row itself never does
    _, ind = NearestNeighbors(n_neighbors=n_neighbors).fit(X).kneighbors()
    return float((personas[ind] == personas[:, None]).mean())


def _matrix(X, personas) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    personas = np.asarray(personas)
    if X.ndim != 2 or len(X) != len(personas):
        raise ValueError(f"need a 2-D matrix with one row per persona, got {X.shape} and {personas.shape}")
    if len(X) == 0:
        raise ValueError("no labelled rows")
    if pd.isna(personas).any():
        raise ValueError("missing personas: score only the labelled rows")
    return X, personas


def persona_centres(X, personas) -> tuple[np.ndarray, np.ndarray]:
    """``(names, centres)``: the sorted personas and the mean row of ``X`` of each (one row per name)."""
    X, personas = _matrix(X, personas)
    code, names = pd.factorize(personas, sort=True)
    sums = np.zeros((len(names), X.shape[1]))
    np.add.at(sums, code, X)
    return np.asarray(names, dtype=object), sums / np.bincount(code, minlength=len(names))[:, None]


def nearest_persona_centre(X, personas) -> np.ndarray:
    """Each row's nearest persona centre (Euclidean in ``X``), as that persona's name."""
    X, personas = _matrix(X, personas)
    return _nearest(X, *persona_centres(X, personas))


def kmeans_from_persona_centres(X, personas, random_state: int = 0) -> np.ndarray:
    """k-means started at the persona centres and run to convergence; each cluster is named after the
    persona whose centre it started from."""
    X, personas = _matrix(X, personas)
    return _kmeans_from(X, *persona_centres(X, personas), random_state=random_state)


def persona_centre_figures(X, personas, random_state: int = 0) -> dict:
    """ARI vs ``personas`` of :func:`nearest_persona_centre` and :func:`kmeans_from_persona_centres`
    (the centres computed once for both)."""
    X, personas = _matrix(X, personas)
    names, centres = persona_centres(X, personas)
    return {"ari_nearest_persona_centre": float(adjusted_rand_score(personas, _nearest(X, names, centres))),
            "ari_kmeans_from_persona_centres": float(adjusted_rand_score(
                personas, _kmeans_from(X, names, centres, random_state)))}


def _nearest(X: np.ndarray, names: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return names[pairwise_distances_argmin(X, centres)]


def _kmeans_from(X: np.ndarray, names: np.ndarray, centres: np.ndarray, random_state: int) -> np.ndarray:
    km = KMeans(n_clusters=len(names), init=centres, n_init=1, random_state=random_state)
    return names[km.fit(X).labels_]
