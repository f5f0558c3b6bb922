"""Reliability (calibration) curve of a probability model, as a picture for the MLflow run.

A calibrated model's "30 %" means 30 of 100 such people do it. :func:`reliability_figure` bins the
held-out predictions (deciles of the predicted probability, :func:`ml.scoring.metrics.calibration_table`)
and plots the observed rate of each bin against its mean prediction: on the diagonal = calibrated, below
it = over-confident, above it = under-confident. A baseline's curve can be drawn beside it, and a lower
panel shows how many people each bin holds. The title carries the expected calibration error
(:func:`ml.scoring.metrics.calibration_error`). Matplotlib's object API only (no pyplot, no global
backend), so it is safe inside a server process.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure

from .metrics import calibration_error, calibration_table

__all__ = ["reliability_figure", "figure_png"]


def reliability_figure(y_true, prob, title: str = "", baseline=None, baseline_label: str = "baseline",
                       n_bins: int = 10) -> Figure:
    """Observed rate versus mean predicted probability per bin (and the baseline's, if given)."""
    y = np.asarray(y_true, dtype=float)
    fig = Figure(figsize=(6.0, 6.5))
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfectly calibrated")
    curves = [("model", prob)] + ([(baseline_label, baseline)] if baseline is not None else [])
    for (label, p), colour in zip(curves, ("tab:blue", "tab:orange")):
        p = np.asarray(p, dtype=float)
        table = calibration_table(y, p, n_bins=n_bins)
        ece = calibration_error(y, p, n_bins=n_bins)
        top.plot(table["mean_predicted"], table["observed_rate"], marker="o", color=colour,
                 label=f"{label} (ECE {ece:.3f})")
        bottom.hist(p, bins=np.linspace(0, 1, 21), alpha=0.5, color=colour, label=label)
    top.set_ylabel("observed rate")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.legend(loc="upper left")
    top.set_title(title or "reliability curve (held-out deciles)")
    bottom.set_xlabel("predicted probability")
    bottom.set_ylabel("people")
    fig.tight_layout()
    return fig


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()
