"""Open propensity: the probability of a real open (or click) on the subscriber's next send.

**Label.** ``opened_next_send`` from :func:`ml.scoring.pit.make_next_send_labels`: the first send after
the cut-off got a real open or click of that campaign within 7 days (machine opens do not count).
Subscribers not mailed after the cut-off have no label and are left out of training.

**Model.** :class:`OpenPropensityModel`: the calibrated gradient-boosting engine of
:mod:`ml.scoring.calibrated` on :data:`OPEN_FEATURES` -- open and click history at three horizons,
smoothed rates and trend, recency, the *current cadence* (e-mails in the last 30 and 90 days, per
week), so that fatigue from heavy mailing shows up in the prediction, and device mix (the
machine-open share says how much of the raw open rate is privacy-proxy noise). It lives in its own
file and is re-exported by :mod:`ml.scoring.fatigue`, next to the frequency model it complements.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .calibrated import CalibratedProfileClassifier

__all__ = ["OpenPropensityModel", "OPEN_FEATURES"]

OPEN_FEATURES = (
    "days_since_last_open", "days_since_last_click", "days_since_last_order",
    "opens_30d", "opens_90d", "opens_180d", "clicks_30d", "clicks_90d", "clicks_180d",
    "real_opens_total", "machine_opens_total", "clicks_total",
    "open_rate_smoothed", "click_rate_smoothed", "engagement_trend",
    "sends_30d", "sends_90d", "sends_180d", "sends_total", "sends_per_week_90d",
    "share_mobile", "share_desktop", "share_tablet",
    "orders_90d", "orders_total", "days_since_last_visit", "tenure_days",
)


class OpenPropensityModel(CalibratedProfileClassifier):
    """Calibrated probability of a real open on the next send.

    Parameters and fitted attributes: see :class:`~ml.scoring.calibrated.CalibratedProfileClassifier`
    (``features`` defaults to :data:`OPEN_FEATURES`). ``predict_frame`` names the output
    ``open_probability_next_send`` as in ``serving.subscriber_scores``.
    """

    DEFAULT_FEATURES = OPEN_FEATURES
    OUTPUT_COLUMN = "open_probability_next_send"

    @staticmethod
    def target(labels: pd.DataFrame) -> np.ndarray:
        """0/1 label from a :func:`~ml.scoring.pit.make_next_send_labels` frame."""
        return labels["opened_next_send"].astype(bool).to_numpy().astype(int)
