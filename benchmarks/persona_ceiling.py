"""How far could *any* segmentation of ``subscriber_profiles`` recover the generator's planted personas?

A supervised ceiling for the ARI figure of :mod:`benchmarks.segmentation_quality`: a gradient-boosted
classifier is *trained on the personas* (which no segmentation ever sees) from the numeric profile
columns, and its cross-fitted predictions (2 folds: every subscriber is predicted by a model that did
not see them) are scored with the same adjusted Rand index. Personas that overlap in behaviour cannot
be told apart by an unsupervised method either, so a clustering is not expected to beat this figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, adjusted_rand_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

__all__ = ["supervised_persona_ceiling"]


def supervised_persona_ceiling(profiles: pd.DataFrame, personas: pd.Series, max_rows: int = 100_000,
                               random_state: int = 0) -> dict:
    """ARI and accuracy vs ``personas`` (indexed by ``subscriber_key``) of cross-fitted persona predictions.

    Uses every numeric and boolean column of ``profiles`` (missing values as they are: the classifier
    handles them); lists larger than ``max_rows`` are subsampled (a ceiling needs no more).
    """
    truth = personas.reindex(profiles["subscriber_key"].to_numpy())
    keep = np.flatnonzero(truth.notna().to_numpy())
    if len(keep) > max_rows:
        keep = np.sort(np.random.default_rng(random_state).choice(keep, max_rows, replace=False))
    y = truth.to_numpy()[keep]
    if pd.Series(y).nunique() < 2:
        raise ValueError("need at least two personas among the profiles to fit a classifier")
    X = profiles.iloc[keep].select_dtypes(include=["number", "bool"]).astype(float)
    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=random_state)
    pred = cross_val_predict(HistGradientBoostingClassifier(max_iter=200, random_state=random_state), X, y,
                             cv=folds)
    return {"ari_supervised_ceiling": float(adjusted_rand_score(y, pred)),
            "accuracy_supervised_ceiling": float(accuracy_score(y, pred)), "ceiling_rows": int(len(keep)),
            "ceiling_features": int(X.shape[1])}
