"""Customer value as one model: BG/NBD purchases + Gamma-Gamma spend -> p_alive, 90-day orders, CLV.

:class:`CustomerValueModel` wraps :mod:`ml.clv` for serving: it fits the BG/NBD and Gamma-Gamma
population parameters on order history up to a cut-off (per-customer summaries in days, same-day
orders merged), and scores any later cut-off with those parameters applied to that day's summaries --
so a model fitted 90 days ago can be backtested on the 90 days since, and the champion scores today.

Buy-till-you-die models only describe people after their first purchase. Subscribers who never
ordered get no ``p_alive`` (NaN: not yet a customer); their expected orders are the list's observed
first-purchase rate (first purchases in the ``horizon_days`` before the cut-off among those who had
not bought before them), their CLV that rate over a year times the Gamma-Gamma population mean spend
(undiscounted), and no interval. Given a ``first_purchase_weight`` per person (serving passes the
purchase-propensity champion's probability), that rate is shared out in proportion to it: each
non-buyer gets ``rate x weight / mean weight of the non-buyers scored``, so the non-buyers' expected
first purchases add up to the same total, but the browser with three abandoned carts is no longer tied
with someone who never opened an e-mail. (On the generated 50k list more than half the subscribers had
never bought and 15 % of those bought in the held-back future; the Spearman correlation of
``predicted_clv_365d`` with future revenue went from 0.386 to 0.428 with the weights, by hand.)

The BG/NBD sees only the order history, so a customer who still opens, clicks and browses every week
and one who has not opened anything for a year look alike when their orders do. Given a
``purchase_probability_30d`` per person (serving passes the same purchase-propensity champion, which
reads the engagement too), each buyer's expected orders, CLV and its interval are multiplied by that
probability over the BG/NBD's own probability of at least one order in the next 30 days. ``p_alive``
stays the BG/NBD's. The ratio is 1 where the two models agree, so the Gamma-Gamma spend and the
BG/NBD's horizon shape stay, and the other model only moves the level. (50k list, by hand: the
Spearman correlation with the held-back 180-day revenue went from 0.443 to 0.471, among past buyers
from 0.425 to 0.485; the buyers' summed CLV moved by -4 %.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ml.clv import BetaGeoModel, GammaGammaModel, customer_lifetime_value, rfm_summary

__all__ = ["CustomerValueModel", "VALUE_COLUMNS"]

VALUE_COLUMNS = ("p_alive", "expected_orders_90d", "predicted_clv_365d", "predicted_clv_365d_low",
                 "predicted_clv_365d_high")


class CustomerValueModel(BaseEstimator):
    """p_alive, expected orders over ``horizon_days`` and discounted ``clv_months`` CLV with an interval.

    ``orders`` frames have ``subscriber_key``, ``ordered_at`` and ``total_amount`` (purchases only).
    Fitted attributes: ``bgnbd_``, ``gamma_gamma_``, ``first_purchase_rate_`` (share of non-buyers
    who made a first purchase within ``horizon_days``), ``n_customers_``.
    """

    def __init__(self, horizon_days: int = 90, clv_months: int = 12, annual_discount_rate: float = 0.10,
                 interval: float = 0.80, n_samples: int = 500, random_state: int = 0):
        self.horizon_days = horizon_days
        self.clv_months = clv_months
        self.annual_discount_rate = annual_discount_rate
        self.interval = interval
        self.n_samples = n_samples
        self.random_state = random_state

    @staticmethod
    def _summary(orders: pd.DataFrame, cutoff) -> pd.DataFrame:
        if orders.empty:
            return pd.DataFrame(columns=["x", "t_x", "T", "zbar", "first_purchase"])
        return rfm_summary(orders, customer_col="subscriber_key", datetime_col="ordered_at",
                           amount_col="total_amount", cutoff=pd.Timestamp(cutoff), time_unit="D")

    def fit(self, orders: pd.DataFrame, cutoff, n_subscribers: int) -> "CustomerValueModel":
        """Fit on purchases up to ``cutoff``; ``n_subscribers`` is the population size (buyers or not)."""
        summary = self._summary(orders, cutoff)
        if len(summary) < 10 or (summary["x"] > 0).sum() < 5:
            raise ValueError(f"too few buyers to fit BG/NBD and Gamma-Gamma: {len(summary)} customers, "
                             f"{int((summary['x'] > 0).sum())} with a repeat purchase")
        self.bgnbd_ = BetaGeoModel().fit(summary["x"], summary["t_x"], summary["T"])
        repeat = summary["x"] > 0
        self.gamma_gamma_ = GammaGammaModel().fit(summary.loc[repeat, "x"], summary.loc[repeat, "zbar"])
        window_start = pd.Timestamp(cutoff).normalize() - pd.Timedelta(days=self.horizon_days)
        new_buyers = int((summary["first_purchase"] > window_start).sum())
        at_risk = max(int(n_subscribers) - (len(summary) - new_buyers), 1)
        self.first_purchase_rate_ = min(new_buyers / at_risk, 1.0)
        self.n_customers_ = len(summary)
        mean_spend = self.gamma_gamma_.population_mean_spend()
        # q <= 1: no finite population mean; the observed mean repeat spend stands in for it
        self.mean_spend_ = mean_spend if np.isfinite(mean_spend) else float(summary.loc[repeat, "zbar"].mean())
        return self

    def predict(self, orders: pd.DataFrame, cutoff, subscriber_keys, first_purchase_weight=None,
                purchase_probability_30d=None) -> pd.DataFrame:
        """One row per key: ``subscriber_key`` and :data:`VALUE_COLUMNS` as of ``cutoff``.

        ``first_purchase_weight``: optional non-negative weights, one per key of ``subscriber_keys`` (same
        order), sharing the first-purchase rate out among the non-buyers; ``purchase_probability_30d``:
        optional probabilities, one per key, of at least one purchase in the next 30 days from a model
        that sees more than the order history, rescaling the buyers' forecasts (both: see the module
        docstring). None leaves the non-buyers at the list's rate and the buyers at the BG/NBD's."""
        check_is_fitted(self, "bgnbd_")
        keys = subscriber_keys if hasattr(subscriber_keys, "__len__") else list(subscriber_keys)
        weight = _per_key(first_purchase_weight, keys, "first_purchase_weight", upper=np.inf)
        prob = _per_key(purchase_probability_30d, keys, "purchase_probability_30d", upper=1.0)
        keys = pd.Index(pd.unique(np.asarray(keys)), name="subscriber_key")  # integer keys stay integers
        summary = self._summary(orders, cutoff)
        summary = summary.loc[keys.get_indexer(summary.index) >= 0]  # hash lookups (isin on strings is slow)
        out = pd.DataFrame(index=keys, columns=list(VALUE_COLUMNS), dtype=float)
        if len(summary):
            x, t_x, T, zbar = (summary[c].to_numpy(float) for c in ("x", "t_x", "T", "zbar"))
            res = customer_lifetime_value(self.bgnbd_, self.gamma_gamma_, x, t_x, T, zbar,
                                          months=self.clv_months, annual_discount_rate=self.annual_discount_rate,
                                          time_unit="D", interval=self.interval, n_samples=self.n_samples,
                                          random_state=self.random_state)
            ratio = 1.0
            if prob is not None:
                # the other model's chance of an order in 30 days over the BG/NBD's own (its p_alive
                # times the chance given alive, reusing the p_alive computed above); where p_alive
                # underflowed to 0 the forecasts are 0 and stay so
                own = res.p_alive * self.bgnbd_.probability_of_purchases_in(30.0, x, t_x, T, given_alive=True)
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = prob.reindex(summary.index).to_numpy(float) / own
                ratio = np.where(np.isfinite(ratio), ratio, 1.0)
            out.loc[summary.index, "p_alive"] = res.p_alive
            out.loc[summary.index, "expected_orders_90d"] = ratio * self.bgnbd_.conditional_expected_purchases(
                float(self.horizon_days), x, t_x, T)
            out.loc[summary.index, "predicted_clv_365d"] = ratio * res.clv
            out.loc[summary.index, "predicted_clv_365d_low"] = ratio * res.lower
            out.loc[summary.index, "predicted_clv_365d_high"] = ratio * res.upper
        never = np.ones(len(keys), dtype=bool)
        never[keys.get_indexer(summary.index)] = False
        rate = np.full(int(never.sum()), self.first_purchase_rate_)
        if weight is not None and never.any():
            w = weight.reindex(keys[never]).to_numpy(float)
            if w.mean() > 0:  # all zero: nothing to share out by, everyone keeps the list's rate
                rate = rate * w / w.mean()
        out.loc[never, "expected_orders_90d"] = rate
        out.loc[never, "predicted_clv_365d"] = rate * 365.0 / self.horizon_days * self.mean_spend_
        return out.reset_index()


def _per_key(values, keys, name: str, upper: float) -> pd.Series | None:
    """``values`` (one per key, same order) as a Series on the keys' first occurrences, checked to be
    finite and within [0, ``upper``]; None stays None."""
    if values is None:
        return None
    values = np.asarray(values, dtype=float).ravel()
    if len(values) != len(keys):
        raise ValueError(f"{name} has {len(values)} values for {len(keys)} subscriber keys")
    if not np.isfinite(values).all() or (values < 0).any() or (values > upper).any():
        bound = f" and at most {upper:g}" if np.isfinite(upper) else ""
        raise ValueError(f"{name} must be finite and non-negative{bound}")
    out = pd.Series(values, index=np.asarray(keys))
    return out[~out.index.duplicated()]
