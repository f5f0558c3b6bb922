"""Monitoring a champion model's inputs and outputs against what it was trained on."""

from ml.monitoring.drift import DriftReference, population_stability_index, share_shift

__all__ = ["DriftReference", "population_stability_index", "share_shift"]
