"""Calibrating the click probability of a planned campaign (the number in an audience file).

:func:`~ml.scoring.affinity.combine_affinities` ranks a campaign's audience by
``logit p = logit p_topic + logit p_offer - logit p_overall``. The ranking is what the campaign needs, but
the number is also printed beside every address, and a marketer reads it as "this share will click". On
the synthetic 100k world's held-back sends the combined probability was over-confident at the top: its
top 1 % predicted 0.750 and 0.579 clicked, the top decile 0.349 vs 0.304, while the bottom half was
under-confident (fifth decile 0.0085 vs 0.0148); the topic ranker alone already over-states its top
(0.602 vs 0.506). Topic and offer affinities each carry some of the same evidence, so adding their
log-odds counts it twice.

:class:`CampaignClickCalibration` is **Platt scaling of that log-odds**: ``p' = sigmoid(a * z + b)``
with ``z`` the combined log-odds, fitted by maximum likelihood on sends whose clicks the models did not
see (the training build's later sends of the held-out subscribers,
:func:`ml.scoring.recipes.holdout_campaign_probabilities`). With ``a > 0`` the map is
increasing, so every audience keeps its order; only the probabilities change. There is one map per
**mode** -- ``"topic+offer"`` (both named), ``"topic"`` and ``"offer"`` (one named: ``z`` is that
affinity's log-odds, scored against sends of any offer or topic) -- because the two named together
over-state more than either alone (the double counting). A mode with too few sends or clicks (``min_sends``, ``min_clicks``), whose
predictions do not vary, or whose fitted slope is not positive, keeps the identity map (``a = 1, b = 0``)
and says why in ``reasons_``. Two parameters per mode need few sends; the minimum is ``min_sends``.

No warehouse, no Dagster: numpy and scipy only.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

__all__ = ["CampaignClickCalibration", "MODES", "CLICK_MODELS", "campaign_mode", "campaign_log_odds",
           "model_versions", "parse_versions"]

MODES = ("topic+offer", "topic", "offer")
# the scoring recipes whose champions a campaign's click probability combines (the rankers are optional)
CLICK_MODELS = ("affinity", "topic-ranker", "offer-ranker")
_EPS = 1e-6


def _logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, float), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def _sigmoid(z) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, float)))


def campaign_mode(topic, offer) -> str | None:
    """The calibration mode of a planned campaign: which of topic and offer it names (None: neither)."""
    if topic is not None and offer is not None:
        return "topic+offer"
    if topic is not None:
        return "topic"
    if offer is not None:
        return "offer"
    return None


def campaign_log_odds(mode: str, p_topic, p_offer, p_overall) -> np.ndarray:
    """The uncalibrated log-odds of a click for ``mode``: what :func:`combine_affinities` computes."""
    if mode == "topic+offer":
        return _logit(p_topic) + _logit(p_offer) - _logit(p_overall)
    if mode == "topic":
        return _logit(p_topic)
    if mode == "offer":
        return _logit(p_offer)
    raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def model_versions(versions: dict) -> str:
    """``affinity=3;topic-ranker=2``: the ``CLICK_MODELS`` that have a version in ``versions``, in that order
    (the notation of ``ml.subscriber_scores.model_version``)."""
    return ";".join(f"{n}={versions[n]}" for n in CLICK_MODELS if versions.get(n) is not None)


def parse_versions(text: str | None) -> dict[str, str]:
    """The ``CLICK_MODELS`` entries of a ``name=version;...`` string (other models ignored)."""
    out = {}
    for part in (text or "").split(";"):
        name, _, version = part.partition("=")
        if name.strip() in CLICK_MODELS and version.strip():
            out[name.strip()] = version.strip()
    return out


def _platt(z: np.ndarray, sends: np.ndarray, clicks: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood ``(a, b)`` of ``clicks ~ Binomial(sends, sigmoid(a z + b))``."""
    misses = sends - clicks

    def loss(theta):
        a, b = theta
        t = a * z + b
        # -log sigmoid(t) = logaddexp(0, -t); -log(1 - sigmoid(t)) = logaddexp(0, t)
        value = np.sum(clicks * np.logaddexp(0.0, -t) + misses * np.logaddexp(0.0, t))
        p = _sigmoid(t)
        r = sends * p - clicks  # d loss / d t
        return value, np.array([np.sum(r * z), np.sum(r)])

    res = minimize(loss, x0=np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    return float(res.x[0]), float(res.x[1])


class CampaignClickCalibration(BaseEstimator):
    """Per-mode Platt scaling of a planned campaign's click log-odds (see the module docstring).

    Parameters
    ----------
    min_sends, min_clicks : a mode is fitted only on at least this many sends and clicks; else identity.

    Fitted attributes: ``slope_`` / ``intercept_`` (``{mode: float}``), ``sends_`` / ``clicks_`` (the
    counts each mode was fitted on), ``reasons_`` (``{mode: why it is the identity}``, empty for fitted
    modes), and ``summary_``: per mode the clicked share, the mean predicted probability before and after,
    and the same over the top decile of predictions (send-weighted), on the fitting sends.
    """

    def __init__(self, min_sends: int = 1_000, min_clicks: int = 50):
        self.min_sends = min_sends
        self.min_clicks = min_clicks

    def fit(self, p_topic, p_offer, p_overall, sends, clicks) -> "CampaignClickCalibration":
        """Fit every mode on rows of (subscriber x topic x offer) later sends: the three served
        probabilities of each row and its ``sends`` and ``clicks`` (clicks <= sends)."""
        sends, clicks = np.asarray(sends, float), np.asarray(clicks, float)
        p = [np.asarray(a, float) for a in (p_topic, p_offer, p_overall)]
        if not all(len(a) == len(sends) for a in (*p, clicks)):
            raise ValueError("p_topic, p_offer, p_overall, sends and clicks must have the same length")
        if (sends < 0).any() or (clicks < 0).any() or (clicks > sends).any():
            raise ValueError("need 0 <= clicks <= sends on every row")
        ok = (sends > 0) & np.isfinite(p[0]) & np.isfinite(p[1]) & np.isfinite(p[2])
        sends, clicks, p = sends[ok], clicks[ok], [a[ok] for a in p]
        self.slope_, self.intercept_, self.sends_, self.clicks_ = {}, {}, {}, {}
        self.reasons_, self.summary_ = {}, {}
        for mode in MODES:
            z = campaign_log_odds(mode, *p)
            n, c = float(sends.sum()), float(clicks.sum())
            a, b = 1.0, 0.0
            if n < self.min_sends or c < self.min_clicks:
                self.reasons_[mode] = (f"too little evidence: {int(n):,} sends and {int(c):,} clicks "
                                       f"(need {self.min_sends:,} and {self.min_clicks:,})")
            elif c >= n:
                self.reasons_[mode] = "every send was clicked"
            elif np.ptp(z) < 1e-9:
                self.reasons_[mode] = "the predictions do not vary: there is no slope to fit"
            else:
                a, b = _platt(z, sends, clicks)
                if not a > 0:
                    self.reasons_[mode] = f"the fitted slope {a:.3f} is not positive: it would reverse the ranking"
                    a, b = 1.0, 0.0
            self.slope_[mode], self.intercept_[mode] = a, b
            self.sends_[mode], self.clicks_[mode] = int(n), int(c)
            self.summary_[mode] = self._summary(z, a, b, sends, clicks)
        return self

    @staticmethod
    def _summary(z, a, b, sends, clicks) -> dict:
        before, after = _sigmoid(z), _sigmoid(a * z + b)
        n = sends.sum()
        out = {"clicked": float(clicks.sum() / n) if n else float("nan"),
               "predicted_before": float(np.sum(sends * before) / n) if n else float("nan"),
               "predicted_after": float(np.sum(sends * after) / n) if n else float("nan")}
        if n:
            order = np.argsort(-z, kind="stable")
            top = order[: max(1, int(np.searchsorted(np.cumsum(sends[order]), 0.1 * n)) + 1)]
            m = sends[top].sum()
            out.update(top_decile_clicked=float(clicks[top].sum() / m),
                       top_decile_predicted_before=float(np.sum(sends[top] * before[top]) / m),
                       top_decile_predicted_after=float(np.sum(sends[top] * after[top]) / m))
        return out

    def predict_proba(self, mode: str, p_topic, p_offer, p_overall) -> np.ndarray:
        """The calibrated click probability of a campaign of ``mode`` (None: ``p_overall`` as it is)."""
        check_is_fitted(self, "slope_")
        if mode is None:
            return np.asarray(p_overall, float)
        z = campaign_log_odds(mode, p_topic, p_offer, p_overall)
        return _sigmoid(self.slope_[mode] * z + self.intercept_[mode])

    @classmethod
    def from_parameters(cls, slopes: dict, intercepts: dict) -> "CampaignClickCalibration":
        """A fitted calibration from stored ``{mode: slope}`` and ``{mode: intercept}`` (modes not given:
        identity), e.g. the warehouse's ``ml.campaign_click_calibration`` rows."""
        cal = cls()
        cal.slope_ = {m: float(slopes.get(m, 1.0)) for m in MODES}
        cal.intercept_ = {m: float(intercepts.get(m, 0.0)) for m in MODES}
        cal.sends_, cal.clicks_, cal.summary_ = {}, {}, {}
        cal.reasons_ = {m: "not stored" for m in MODES if m not in slopes}
        return cal

