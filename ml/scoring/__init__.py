"""Predictive scores beyond CLV: churn, purchase and open propensity, send time, fatigue, content affinity.

Every model is a scikit-learn style estimator on pandas frames (hyper-parameters in ``__init__``,
``fit`` returns self, fitted attributes end in ``_``) with a simple baseline next to it, so a backtest
(:func:`ml.scoring.pit.backtest_frame`) always says how much the model adds. Labels and features are
separated at a cut-off by :mod:`ml.scoring.pit`. Pure NumPy / pandas / scikit-learn: no Dagster, no
DuckDB. The buy-till-you-die and spend models live in :mod:`ml.clv`.
"""

from .affinity import ContentAffinityModel, beta_binomial_strength, content_counts, rank_audience, send_outcomes
from .calibrated import CalibratedProfileClassifier
from .churn import CHURN_FEATURES, ChurnModel, RecencyBaseline
from .fatigue import FatigueModel, cadence_counts, send_level_frame
from .metrics import auc, brier, brier_skill, calibration_error, calibration_table, expand_counts, top_decile_lift
from .open_propensity import OPEN_FEATURES, OpenPropensityModel
from .pit import (PointInTimeError, assert_point_in_time, backtest_frame, events_until, make_labels,
                  make_next_send_labels)
from .purchase import PURCHASE_FEATURES, PurchasePropensityModel, RecencyFrequencyBaseline
from .send_time import (GlobalBestHourBaseline, SendTimeModel, engagement_shares_from_events, hour_hit_rate,
                        modal_engagement_hour)

__all__ = [
    "make_labels", "make_next_send_labels", "events_until", "assert_point_in_time", "PointInTimeError",
    "backtest_frame",
    "auc", "brier", "brier_skill", "calibration_table", "calibration_error", "expand_counts", "top_decile_lift",
    "CalibratedProfileClassifier", "ChurnModel", "RecencyBaseline", "CHURN_FEATURES",
    "PurchasePropensityModel", "RecencyFrequencyBaseline", "PURCHASE_FEATURES",
    "OpenPropensityModel", "OPEN_FEATURES",
    "SendTimeModel", "GlobalBestHourBaseline", "engagement_shares_from_events", "hour_hit_rate",
    "modal_engagement_hour",
    "FatigueModel", "send_level_frame", "cadence_counts",
    "ContentAffinityModel", "rank_audience", "send_outcomes", "content_counts", "beta_binomial_strength",
]
