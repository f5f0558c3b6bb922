"""Discounted customer lifetime value from a fitted BG/NBD and Gamma-Gamma model, with an interval.

Point estimate
--------------
Over ``months`` monthly steps of length ``L`` (365.25/12 days, in the model's time unit)::

    CLV = E[spend] * sum_m  (1 + annual_discount_rate)^(-m/12) * (E[Y(m L)] - E[Y((m-1) L)])

with ``E[Y(t)]`` the BG/NBD conditional expectation given (x, t_x, T) and ``E[spend]`` the
Gamma-Gamma conditional expected spend (cash flows discounted at the end of each month).

Interval (80 % by default): parametric posterior sampling
---------------------------------------------------------
For every customer ``n_samples`` draws, vectorised over customers and drawn from one seeded
``numpy.random.Generator``, of the latent quantities that the point estimate averages over
(standardised draws are shared by customers with the same repeat count x -- common random numbers:
each customer's draws have their exact distribution, at a fraction of the sampling cost):

* alive at T ~ Bernoulli(P(alive | x, t_x, T)) -- not drawn: a dead customer's value is 0, so the
  quantiles of the mixture follow exactly from P(alive) and the draws given alive (see the code);
* given alive, lambda ~ Gamma(r + x, rate alpha + T) and p ~ Beta(a, b + x) (the BG/NBD posterior
  factorises given the alive state; a dead customer buys nothing more);
* mean spend zeta = p_gg / nu with nu ~ Gamma(p_gg x + q, rate gamma + x zbar) (Gamma-Gamma
  posterior; population prior for x = 0), independent of the purchase process.

Given (alive, lambda, p, zeta) the expected purchases in month m are
``exp(-lambda p (m-1) L) (1 - exp(-lambda p L)) / p`` (an alive BG/NBD customer dies at rate
lambda p), so each draw's discounted value is a geometric sum in closed form (no loop over months).
The interval is the equal-tailed quantiles of this posterior (linear interpolation between the
sorted draws given alive): it is the posterior uncertainty of the
customer's *expected* value (what we do not know about this customer's rates, survival and basket),
not a predictive interval for realised spend, which would add Poisson noise. The mean of the draws
converges to the point estimate (checked in the tests). Consequences of the alive state:
the lower bound is 0 whenever P(alive) <= 90 %, and when P(alive) <= 10 % the interval is exactly
[0, 0] and does *not* contain the (small, positive) point estimate. Customers with
less history (fewer purchases) get relatively wider intervals because the gamma/beta posteriors are
wider.

Expected next order: the median time from T to the next purchase given the customer is alive,
``(alpha + T) (2^(1/(r+x)) - 1)`` (see ``BetaGeoModel.median_time_to_next_purchase``); as dates when
``cutoff`` is given.  With r + x small (new or one-off buyers) this median is long (years).

What happens with 50 buyers (measured: 50 random draws of 50 customers from the 2,357 CDNOW
customers, ``DataFrame.sample(50, random_state=0..49)``, weeks 1-39 fitted, weeks 40-78 held out)
-----------------------------------------------------------------------------------------------
* Every fit converges (stationary point; a BG/NBD fit takes ~0.05 s), but 23/50 BG/NBD fits run
  ``a + b`` (or ``a`` and ``b`` towards 0) to the parameter bound: with ~20 repeat buyers the data
  cannot tell heterogeneous churn from a single churn probability.  The fit warns (RuntimeWarning),
  ``a / (a + b)`` is still estimated (median 0.26, full data 0.25) and every prediction stays
  finite.  Gamma-Gamma hits a bound in 25/50 draws (p or q -> inf, i.e. no spread of that kind);
  its population mean spend ranges 19.5-49.9 (median 32.6; full data 35.2) and q > 1 in all 50.
* Sum of the expected holdout purchases of the 50 (39 weeks): median absolute error 26 % (90th
  pct. 55 %) against the actual count, vs 16 % (38 %) when the same 50 are scored with the
  full-data model; the ratio of 50-fit to full-fit predictions is 0.50-1.62 (median 0.90).
  Correlation with the holdout counts hardly suffers (median Pearson 0.62 vs 0.63).
* 12-month CLV summed over the 50: 0.40-1.88 times the full-data value (quartiles 0.74-1.12).
* The 80 % intervals are about as wide as with the full-data fit (median width ratio 0.95): they
  are conditional on the fitted population parameters (empirical Bayes) and leave out the error of
  those, which dominates at n = 50.  Intervals from small fits are therefore too narrow; use them
  for ranking only, or fit on a larger base.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .bgnbd import BetaGeoModel, as_summary_arrays
from .gammagamma import GammaGammaModel
from .rfm import days_per_unit

__all__ = ["CLVResult", "customer_lifetime_value"]

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class CLVResult:
    """Per-customer arrays (same order as the inputs)."""

    clv: np.ndarray  # point estimate: expected discounted value over the horizon
    lower: np.ndarray  # lower end of the interval
    upper: np.ndarray  # upper end of the interval
    sample_mean: np.ndarray  # mean of the posterior draws (Monte Carlo check of clv)
    expected_purchases: np.ndarray  # undiscounted expected purchases over the horizon
    expected_spend: np.ndarray  # Gamma-Gamma conditional expected spend per purchase
    p_alive: np.ndarray
    median_time_to_next_purchase: np.ndarray  # given alive, in the model's time unit
    next_order_date: np.ndarray | None  # cutoff + that median (datetime64[D]) if cutoff given
    interval: float


def _discounted_month_sum(u, months):
    """sum_{j=0}^{months-1} exp(-u j), stable near u = 0 (where it is ``months``)."""
    small = np.abs(u) < 1e-12
    u_safe = np.where(small, 1.0, u)
    return np.where(small, float(months), np.expm1(-months * u_safe) / np.expm1(-u_safe))


def customer_lifetime_value(purchase_model: BetaGeoModel, spend_model: GammaGammaModel,
                            x, t_x, T, zbar, *, months: int = 12,
                            annual_discount_rate: float = 0.10, time_unit="W",
                            interval: float = 0.80, n_samples: int = 2000, random_state=0,
                            cutoff=None) -> CLVResult:
    """Discounted CLV over ``months`` months with a posterior interval; see the module docstring.

    ``x, t_x, T`` are in ``time_unit`` (the unit the purchase model was fitted in: 'D', 'W' or days
    per unit); ``zbar`` is the mean repeat spend (ignored where x = 0).  ``random_state`` seeds a
    ``numpy.random.default_rng`` (or pass a Generator).
    """
    if months < 1 or not 0 < interval < 1 or n_samples < 2 or annual_discount_rate <= -1:
        raise ValueError("need months >= 1, 0 < interval < 1, n_samples >= 2, rate > -1")
    x, t_x, T, _ = as_summary_arrays(x, t_x, T)
    zbar = np.broadcast_to(np.asarray(zbar, dtype=float), x.shape)
    r, alpha, a, b = purchase_model._params()
    step = DAYS_PER_MONTH / days_per_unit(time_unit)
    log_delta = -np.log1p(annual_discount_rate) / 12.0  # log monthly discount factor

    # point estimate
    if spend_model.q_ <= 1.0:
        warnings.warn("Gamma-Gamma q <= 1: the population mean spend is infinite, so customers "
                      "without repeat purchases get an infinite CLV", RuntimeWarning, stacklevel=2)
    spend = spend_model.conditional_expected_spend(x, zbar)
    cum = np.stack([purchase_model.conditional_expected_purchases(m * step, x, t_x, T)
                    for m in range(months + 1)])
    weights = np.exp(log_delta * np.arange(1, months + 1))[:, None]
    clv = spend * (weights * np.diff(cum, axis=0)).sum(axis=0)
    p_alive = purchase_model.p_alive(x, t_x, T)

    # posterior draws given alive, in chunks of customers to bound memory. The alive state is not drawn:
    # value = alive * V with alive ~ Bernoulli(P(alive)) independent of V, so the q-quantile of value is
    # 0 when q <= 1 - P(alive) and else the ((q - 1 + P(alive)) / P(alive))-quantile of V (exact, and
    # no Monte Carlo noise from the alive coin).
    rng = np.random.default_rng(random_state)
    lo_q, hi_q = (1.0 - interval) / 2.0, (1.0 + interval) / 2.0
    # Customers with the same (x, t_x, T, zbar) history get the same draws (below) and so the same interval:
    # the draws are sorted once per distinct history (most one-time buyers differ only in T, in days).
    history = np.column_stack([x, t_x, T, np.where(x > 0, zbar, 0.0)])
    _, first, back = np.unique(history, axis=0, return_index=True, return_inverse=True)
    back = back.reshape(-1)
    xu, Tu, zu, pu = x[first], T[first], zbar[first], p_alive[first]
    lower, upper, mean = (np.empty(first.size) for _ in range(3))
    # Common random numbers: the standardised draws depend on the repeat count x alone, so customers
    # with the same x share one set (drawn once per distinct x; the rate of each customer scales it).
    # Every customer's own draws keep their exact distribution; only the Monte Carlo error is shared.
    ux, which = np.unique(xu, return_inverse=True)
    which = which.reshape(xu.shape)
    lam_std = rng.standard_gamma(np.broadcast_to((r + ux)[:, None], (ux.size, n_samples)))
    p_draws = rng.beta(a, np.broadcast_to((b + ux)[:, None], (ux.size, n_samples)))
    nu_std = spend_model.standard_nu_draws(ux, n_samples, rng)
    chunk = max(1, 2_000_000 // n_samples)
    for start in range(0, xu.size, chunk):
        sl = slice(start, start + chunk)
        w = which[sl]
        lam = lam_std[w] / (alpha + Tu[sl])[:, None]
        p = p_draws[w]
        zeta = spend_model.mean_spend_from_draws(xu[sl], zu[sl], nu_std[w])
        death = lam * p * step  # hazard of dropping out per month, times one month
        first_month = -np.expm1(-death) / np.maximum(p, 1e-300)
        first_month = np.where(p > 0, first_month, lam * step)
        value = zeta * first_month * np.exp(log_delta) * _discounted_month_sum(death - log_delta, months)
        value.sort(axis=1)
        pa = pu[sl]
        for q, out in ((lo_q, lower), (hi_q, upper)):
            level = np.clip((q - 1.0 + pa) / np.maximum(pa, 1e-300), 0.0, 1.0) * (n_samples - 1)
            below = np.floor(level).astype(np.int64)
            above = np.minimum(below + 1, n_samples - 1)
            frac = level - below
            at = ((1.0 - frac) * np.take_along_axis(value, below[:, None], axis=1)[:, 0]
                  + frac * np.take_along_axis(value, above[:, None], axis=1)[:, 0])
            out[sl] = np.where(q <= 1.0 - pa, 0.0, at)
        mean[sl] = pa * value.mean(axis=1)
    lower, upper, mean = lower[back], upper[back], mean[back]

    median_wait = purchase_model.median_time_to_next_purchase(x, t_x, T)
    next_date = None
    if cutoff is not None:
        days = np.rint(median_wait * days_per_unit(time_unit))
        days = np.where(np.isfinite(days) & (days < 1e6), days, 1e6)  # cap at ~2700 years
        next_date = np.datetime64(cutoff, "D") + days.astype("int64").astype("timedelta64[D]")
    return CLVResult(clv=clv, lower=lower, upper=upper, sample_mean=mean,
                     expected_purchases=cum[-1], expected_spend=spend, p_alive=p_alive,
                     median_time_to_next_purchase=median_wait, next_order_date=next_date,
                     interval=interval)
