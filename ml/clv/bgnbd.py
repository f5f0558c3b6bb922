"""BG/NBD ("beta-geometric / negative binomial distribution") buy-till-you-die model.

Fader, Hardie & Lee, "Counting Your Customers the Easy Way: An Alternative to the Pareto/NBD
Model", Marketing Science 24(2), 2005.  While alive, a customer buys as a Poisson process with rate
``lambda ~ Gamma(r, alpha)`` (shape ``r``, rate ``alpha``); after every purchase they drop out for
good with probability ``p ~ Beta(a, b)``.  A customer is summarised by ``x`` (repeat purchases),
``t_x`` (time of the last purchase, from the first) and ``T`` (age: time from first purchase to the
end of the observation window), all in one time unit (days or weeks, see :mod:`ml.clv.rfm`).

Interpretation of the fitted parameters: ``r / alpha`` is the mean purchase rate per time unit of an
alive customer; ``a / (a + b)`` is the mean probability of churning after a purchase.

Implementation notes
--------------------
* The log-likelihood is evaluated in log space: ``log_rising`` (a gammaln difference that stays
  accurate for huge arguments) for the gamma/beta function ratios, ``log1p`` for the power terms
  and ``logaddexp`` for the sum of the "still alive at T" and "dropped out after the last
  purchase" terms; rows with ``x = 0`` only have the first term.
* Fitting maximises the (weighted) log-likelihood with L-BFGS-B (finite-difference gradient) and a
  Nelder-Mead polish over the log-parameters ``log r, log(r/alpha), log(a+b), log(a/b)``: log shape
  and log mean of each mixing distribution, so that a degenerate limit (homogeneous churn,
  a + b -> inf at a fixed a/(a+b), as happens on small samples) is one coordinate at its bound.
  This module also holds the small input/optimiser helpers shared with :mod:`ml.clv.paretonbd`
  and :mod:`ml.clv.gammagamma`, and :class:`PurchaseCountModel`, the fit and the fitted
  parameters BG/NBD and Pareto/NBD share.
* The Gaussian hypergeometric function in the expectations is evaluated after Euler's transformation
  ``2F1(A, B; C; z) = (1 - z)^(C - A - B) 2F1(C - A, C - B; C; z)``, which turns the product of a
  vanishing power and an exploding ``2F1`` into a bounded one (no overflow for large ``x`` or
  ``t``); where that form overflows (very large ``a``) the original form, tame there, is used.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import optimize, special

__all__ = ["BetaGeoModel", "NotFittedError", "PurchaseCountModel"]

LOG_BOUND = 18.0  # log-parameters are kept in [-18, 18], i.e. roughly [1.5e-8, 6.6e7]


class NotFittedError(ValueError, AttributeError):
    """Raised when a model is used before ``fit`` (same bases as scikit-learn's)."""


def as_summary_arrays(x, t_x, T, weights=None):
    """Validate and broadcast (x, t_x, T[, weights]) to 1-d float arrays."""
    x, t_x, T = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (x, t_x, T))
    x, t_x, T = np.broadcast_arrays(x, t_x, T)
    if weights is None:
        w = np.ones_like(x)
    else:
        w = np.broadcast_to(np.atleast_1d(np.asarray(weights, dtype=float)), x.shape)
    if x.ndim != 1:
        raise ValueError("x, t_x and T must be 1-d (or scalars)")
    if not (np.isfinite(x).all() and np.isfinite(t_x).all() and np.isfinite(T).all()):
        raise ValueError("x, t_x and T must be finite")
    if (x < 0).any() or (t_x < 0).any() or (t_x > T + 1e-9).any():
        raise ValueError("need x >= 0 and 0 <= t_x <= T")
    if (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be finite and >= 0")
    return x.copy(), t_x.copy(), T.copy(), np.array(w)


def log_rising(a, n):
    """log Gamma(a + n) - log Gamma(a), accurate also for huge a (where gammaln cancels).

    For a >= 30 uses the difference of Stirling series, arranged as (a - 1/2) log1p(n/a) +
    n log(a + n) - n + corrections (error < 1e-13); otherwise the gammaln difference.
    """
    a, n = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(n, dtype=float))
    big = a >= 30.0
    a_big = np.where(big, a, 30.0)
    z = a_big + n

    def series(w):
        w2 = w * w
        return 1.0 / (12.0 * w) - 1.0 / (360.0 * w * w2) + 1.0 / (1260.0 * w * w2 * w2)

    stirling = ((a_big - 0.5) * np.log1p(n / a_big) + n * np.log(z) - n
                + series(z) - series(a_big))
    with np.errstate(invalid="ignore"):
        direct = special.gammaln(a + n) - special.gammaln(a)
    return np.where(big, stirling, direct)


def maximise_log_likelihood(loglik_rows, to_params, theta0, weights, max_iter=2000, tol=1e-10):
    """Maximise ``sum(weights * loglik_rows(to_params(theta)))`` over unconstrained ``theta``.

    ``theta`` are log-parameters chosen so that the degenerate limits of the mixing distributions
    (a gamma or beta mixture collapsing to a point: shape -> inf at a fixed mean) are single
    coordinates running to their bound (``LOG_BOUND``) instead of curved ridges that stall the
    optimiser.  Returns ``(params, total_log_likelihood, converged, n_evaluations)``.  The objective
    is the mean negative log-likelihood per unit weight (O(1) values whatever the n).
    """
    wsum = float(np.sum(weights))
    if wsum <= 0:
        raise ValueError("no data to fit (all weights are zero)")
    nfev = 0

    def objective(theta):
        nonlocal nfev
        nfev += 1
        with np.errstate(all="ignore"):
            ll = loglik_rows(to_params(theta))
            value = -float(np.dot(weights, ll)) / wsum
        return value if np.isfinite(value) else 1e100

    theta0 = np.asarray(theta0, dtype=float)
    bounds = [(-LOG_BOUND, LOG_BOUND)] * theta0.size
    first = optimize.minimize(objective, theta0, method="L-BFGS-B", bounds=bounds,
                              options={"maxiter": max_iter, "ftol": tol * 1e-2, "gtol": 1e-9})
    polish = optimize.minimize(objective, first.x, method="Nelder-Mead", bounds=bounds,
                               options={"maxiter": max_iter, "maxfev": 4 * max_iter,
                                        "xatol": 1e-9, "fatol": tol, "adaptive": True})
    best = polish if polish.fun <= first.fun else first
    # converged = stationary: the finite-difference gradient of the mean log-likelihood is tiny
    # (a flat ridge towards a bound, e.g. homogeneous churn a, b -> inf, counts as converged, with
    # the warning below; a budget-exhausted Nelder-Mead run alone does not mean failure).
    step = 1e-4
    grad = np.array([(objective(best.x + step * e) - objective(best.x - step * e)) / (2 * step)
                     for e in np.eye(best.x.size)])
    inside = np.abs(best.x) < LOG_BOUND - 1e-3
    converged = bool(np.isfinite(best.fun) and best.fun < 1e99
                     and np.all(np.abs(grad[inside]) < 1e-4))
    if not inside.all():
        warnings.warn("a parameter reached its bound (log-parameter +-%g): the data do not "
                      "identify it" % LOG_BOUND, RuntimeWarning, stacklevel=3)
    return to_params(best.x), -best.fun * wsum, converged, nfev


class PurchaseCountModel:
    """What the BG/NBD and Pareto/NBD models share: a maximum-likelihood fit on ``(x, t_x, T)`` and
    fitted parameters named by ``PARAM_NAMES`` (attributes ``r_``, ``alpha_``, ...).

    A subclass gives ``_to_params`` (unconstrained log-parameters -> parameters), ``_loglik``
    (per-customer log-likelihood) and ``_initial_theta`` (a starting point from the data).

    Parameters
    ----------
    max_iter : iteration budget of each optimiser stage.
    tol : tolerance on the mean negative log-likelihood per customer.
    """

    PARAM_NAMES: tuple[str, ...] = ()

    def __init__(self, max_iter: int = 2000, tol: float = 1e-10):
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, x, t_x, T, weights=None):
        """Fit by maximum likelihood; ``weights`` count identical customers. Returns self."""
        x, t_x, T, w = as_summary_arrays(x, t_x, T, weights)
        params, ll, ok, nfev = maximise_log_likelihood(
            lambda p: self._loglik(p, x, t_x, T), self._to_params, self._initial_theta(x, T, w), w,
            self.max_iter, self.tol)
        for name, value in zip(self.PARAM_NAMES, params):
            setattr(self, name + "_", float(value))
        self.log_likelihood_ = float(ll)
        self.converged_ = ok
        self.n_evaluations_ = nfev
        self.n_customers_ = float(w.sum())
        return self

    def _params(self):
        if not hasattr(self, self.PARAM_NAMES[0] + "_"):
            raise NotFittedError("model is not fitted: call fit() first")
        return tuple(getattr(self, name + "_") for name in self.PARAM_NAMES)

    @property
    def params_(self) -> dict:
        return dict(zip(self.PARAM_NAMES, self._params()))

    def log_likelihood(self, x, t_x, T):
        """Per-customer log-likelihood under the fitted parameters."""
        x, t_x, T, _ = as_summary_arrays(x, t_x, T)
        return self._loglik(self._params(), x, t_x, T)

    def __repr__(self):
        name = type(self).__name__
        if hasattr(self, self.PARAM_NAMES[0] + "_"):
            return "%s(%s)" % (name, ", ".join("%s=%.4g" % kv for kv in self.params_.items()))
        return "%s(max_iter=%r, tol=%r)" % (name, self.max_iter, self.tol)


class BetaGeoModel(PurchaseCountModel):
    """BG/NBD model with scikit-learn style ``fit``; fitted ``r_, alpha_, a_, b_``. Parameters
    (``max_iter``, ``tol``) as :class:`PurchaseCountModel`."""

    PARAM_NAMES = ("r", "alpha", "a", "b")

    # ------------------------------------------------------------------ likelihood
    @staticmethod
    def _to_params(theta):
        """theta = (log r, log(r/alpha), log(a+b), log(a/b)) -> (r, alpha, a, b)."""
        r, mean_rate, conc, odds = np.exp(theta)
        return r, r / mean_rate, conc * odds / (1.0 + odds), conc / (1.0 + odds)

    @staticmethod
    def _loglik(params, x, t_x, T):
        r, alpha, a, b = params
        # FHL (2005) eq. 6, with r log(alpha) - (r + x) log(alpha + t)
        #                      = -r log1p(t / alpha) - x log(alpha + t)
        a1 = log_rising(r, x)
        a2 = log_rising(b, x) - log_rising(a + b, x)  # log B(a, b + x) / B(a, b)
        a3 = -r * np.log1p(T / alpha) - x * np.log(alpha + T)
        with np.errstate(divide="ignore"):
            a4 = np.where(x > 0,
                          np.log(a) - np.log(b + np.maximum(x - 1.0, 0.0))
                          - r * np.log1p(t_x / alpha) - x * np.log(alpha + t_x),
                          -np.inf)
        return a1 + a2 + np.logaddexp(a3, a4)

    @staticmethod
    def _initial_theta(x, T, w):
        rate = max(np.dot(w, x), 1.0) / max(np.dot(w, T), 1e-9)  # repeat purchases per time unit
        return np.array([0.0, np.log(rate), np.log(4.0), np.log(1.0 / 3.0)])

    # ------------------------------------------------------------------ predictions
    def p_alive(self, x, t_x, T):
        """P(customer still alive at T | x, t_x, T); exactly 1 when x = 0."""
        r, alpha, a, b = self._params()
        x, t_x, T, _ = as_summary_arrays(x, t_x, T)
        log_odds_dead = (np.log(a) - np.log(b + np.maximum(x - 1.0, 0.0))
                         + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
        return np.where(x > 0, special.expit(-log_odds_dead), 1.0)

    def _expected_if_alive(self, t, x, T):
        """E[purchases in (T, T + t] | alive at T, x]: FHL (2005) eq. 10 without P(alive).

        ``(a+b+x-1)/(a-1) * [1 - (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]``, z = t/(alpha+T+t),
        rewritten with Euler's transformation as ``1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``.
        """
        r, alpha, a, b = self._params()
        if abs(a - 1.0) < 1e-7:  # removable singularity at a = 1; nudge (bias ~1e-7 relative)
            a = 1.0 + 1e-7
        t, x, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, x, T)))
        if (t < 0).any():
            raise ValueError("t must be >= 0")
        log1mz = -np.log1p(t / (alpha + T))
        z = -np.expm1(log1mz)
        with np.errstate(all="ignore"):
            hyp = special.hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
            bracket = -np.expm1((a - 1.0) * log1mz) - np.exp((a - 1.0) * log1mz) * (hyp - 1.0)
            bad = ~np.isfinite(bracket)
            if bad.any():  # Euler form overflows for very large a (near-homogeneous churn):
                xb = x[bad]  # the original form is tame there
                hyp0 = special.hyp2f1(r + xb, b + xb, a + b + xb - 1.0, z[bad])
                bracket[bad] = -np.expm1((r + xb) * log1mz[bad] + np.log(hyp0))
        return (a + b + x - 1.0) / (a - 1.0) * bracket

    def expected_purchases_new_customer(self, t):
        """E[X(t)]: expected repeat purchases by time t of a customer just acquired at time 0."""
        t = np.asarray(t, dtype=float)
        return self._expected_if_alive(t, np.zeros_like(t), np.zeros_like(t))

    def conditional_expected_purchases(self, t, x, t_x, T):
        """E[Y(t) | x, t_x, T]: expected purchases in the next t time units (FHL 2005 eq. 10)."""
        x, t_x, T, _ = as_summary_arrays(x, t_x, T)
        return self.p_alive(x, t_x, T) * self._expected_if_alive(t, x, T)

    def probability_of_purchases_in(self, t, x, t_x, T, given_alive: bool = False):
        """P(at least one purchase in (T, T + t] | x, t_x, T); with ``given_alive``, the same for a
        customer known to be alive at T (without the factor p_alive).

        Given alive at T, the posterior of lambda is Gamma(r + x, alpha + T) and the next purchase
        comes at rate lambda whatever p is (drop-out happens only right after a purchase), so
        P(none in t | alive) = ((alpha + T) / (alpha + T + t))^(r + x).
        """
        r, alpha, _, _ = self._params()
        x, t_x, T, _ = as_summary_arrays(x, t_x, T)
        t = np.asarray(t, dtype=float)
        if_alive = -np.expm1(-(r + x) * np.log1p(t / (alpha + T)))
        return if_alive if given_alive else self.p_alive(x, t_x, T) * if_alive

    def median_time_to_next_purchase(self, x, t_x, T):
        """Median waiting time (from T) to the next purchase, given the customer is alive.

        Waiting time given alive is Exponential(lambda) with lambda ~ Gamma(r + x, alpha + T), i.e.
        Lomax: P(W > w) = ((alpha + T)/(alpha + T + w))^(r + x), median
        (alpha + T) (2^(1/(r + x)) - 1).
        """
        r, alpha, _, _ = self._params()
        x, t_x, T, _ = as_summary_arrays(x, t_x, T)
        return (alpha + T) * np.expm1(np.log(2.0) / (r + x))
