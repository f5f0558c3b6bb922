"""How far could the segmentation's own segments, or its feature space, go towards the planted personas?

Two figures that read the truth, beside the ARI of :mod:`benchmarks.segmentation_quality` and the
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
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

__all__ = ["majority_persona", "majority_persona_ari", "neighbour_purity"]


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
    X = np.asarray(X, dtype=np.float64)
    personas = np.asarray(personas)
    if X.ndim != 2 or len(X) != len(personas):
        raise ValueError(f"need a 2-D matrix with one row per persona, got {X.shape} and {personas.shape}")
    if not 0 < n_neighbors < len(X):
        raise ValueError(f"n_neighbors must be between 1 and {len(X) - 1}, got {n_neighbors}")
    # kneighbors() without a query leaves each row itself out by its index, so an exact duplicate of a row
    # (people with identical profiles) still counts as a neighbour and the row itself never does
    _, ind = NearestNeighbors(n_neighbors=n_neighbors).fit(X).kneighbors()
    return float((personas[ind] == personas[:, None]).mean())
