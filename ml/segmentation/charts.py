"""Pictures of a segmentation for people: a 2-D map of subscribers and a size chart (matplotlib figures).

The map projects the featurised profiles onto their first two principal components (a linear map, so
distances and directions mean the same everywhere on it) for a random sample of subscribers, coloured
by macro segment. Both functions return a :class:`matplotlib.figure.Figure`; callers save or show it.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless: no display on servers and in CI

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

__all__ = ["segment_map", "size_chart"]


def segment_map(X: np.ndarray, labels, names: dict | None = None, sample: int = 5_000,
                random_state: int = 0):
    """Scatter of ``sample`` subscribers on the first two principal components of ``X``, one colour per label."""
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels).astype(str)
    rng = np.random.default_rng(random_state)
    idx = rng.choice(len(X), size=min(sample, len(X)), replace=False)
    pca = PCA(n_components=2, random_state=random_state).fit(X[idx])
    xy = pca.transform(X[idx])
    fig, ax = plt.subplots(figsize=(9, 7), dpi=100)
    cmap = plt.get_cmap("tab20")
    for i, lab in enumerate(sorted(set(labels[idx]))):
        m = labels[idx] == lab
        title = f"{lab} {names.get(lab, '')}".strip() if names else lab
        ax.scatter(xy[m, 0], xy[m, 1], s=4, alpha=0.5, color=cmap(i % 20), label=title)
    var = pca.explained_variance_ratio_
    ax.set_xlabel(f"component 1 ({var[0]:.0%} of variance)")
    ax.set_ylabel(f"component 2 ({var[1]:.0%} of variance)")
    ax.set_title(f"Macro segments of {len(idx):,} sampled subscribers")
    ax.legend(loc="best", fontsize=7, markerscale=3, frameon=False)
    fig.tight_layout()
    return fig


def size_chart(segment_profiles: pd.DataFrame, level: str = "macro"):
    """Horizontal bars: size and share of every segment of ``level``, largest on top."""
    sp = segment_profiles[segment_profiles["level"] == level].sort_values("size")
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(sp) + 1.2), dpi=100)
    ax.barh([f"{i} {n}" for i, n in zip(sp["segment_id"], sp["name"])], sp["size"], color="#4C72B0")
    for y, (size, share) in enumerate(zip(sp["size"], sp["share"])):
        ax.text(size, y, f" {int(size):,} ({share:.1%})", va="center", fontsize=8)
    ax.set_xlabel("subscribers")
    ax.set_title(f"{level.capitalize()} segment sizes")
    ax.margins(x=0.2)
    fig.tight_layout()
    return fig
