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
* The log-likelihood is evaluated in log space: ``gammaln`` for the gamma/beta functions and
  ``logaddexp`` for the sum of the "still alive at T" and "dropped out after the last purchase"
  terms; rows with ``x = 0`` only have the first term.
* Fitting maximises the (weighted) log-likelihood over log-parameters with L-BFGS-B (finite-difference
  gradient) followed by a Nelder-Mead polish.  This module also holds the small input/optimiser
  helpers shared with :mod:`ml.clv.paretonbd` and :mod:`ml.clv.gammagamma`.
* The Gaussian hypergeometric function in the expectations is evaluated after Euler's transformation
  ``2F1(A, B; C; z) = (1 - z)^(C - A - B) 2F1(C - A, C - B; C; z)``, which turns the product of a
  vanishing power and an exploding ``2F1`` into a bounded one (no overflow for large ``x`` or ``t``).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import optimize, special

__all__ = ["BetaGeoModel"]

LOG_BOUND = 18.0  # log-parameters are kept in [-18, 18], i.e. roughly [1.5e-8, 6.6e7]


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


def maximise_log_likelihood(loglik_rows, theta0, weights, max_iter=2000, tol=1e-10):
    """Maximise ``sum(weights * loglik_rows(exp(theta)))`` over log-parameters ``theta``.

    Returns ``(theta, total_log_likelihood, converged, n_evaluations)``.  The objective is the mean
    negative log-likelihood per unit weight (O(1) values, so tolerances mean the same for any n).
    """
    wsum = float(np.sum(weights))
    if wsum <= 0:
        raise ValueError("no data to fit (all weights are zero)")
    nfev = 0

    def objective(theta):
        nonlocal nfev
        nfev += 1
        with np.errstate(all="ignore"):
            ll = loglik_rows(np.exp(theta))
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
    converged = bool(polish.success) and np.isfinite(best.fun) and best.fun < 1e99
    if np.any(np.abs(best.x) > LOG_BOUND - 1e-3):
        warnings.warn("a parameter reached its bound (log-parameter +-%g): the data do not identify it"
                      % LOG_BOUND, RuntimeWarning, stacklevel=3)
    return best.x, -best.fun * wsum, converged, nfev


class BetaGeoModel:
    """BG/NBD model with scikit-learn style ``fit``; fitted ``r_, alpha_, a_, b_``.

    Parameters
    ----------
    max_iter : iteration budget of each optimiser stage.
    tol : tolerance on the mean negative log-likelihood per customer.
    """

    def __init__(self, max_iter: int = 2000, tol: float = 1e-10):
        self.max_iter = max_iter
        self.tol = tol

    # ------------------------------------------------------------------ likelihood
    @staticmethod
    def _loglik(params, x, t_x, T):
        r, alpha, a, b = params
        a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
        a2 = (special.gammaln(a + b) + special.gammaln(b + x)
              - special.gammaln(b) - special.gammaln(a + b + x))
        a3 = -(r + x) * np.log(alpha + T)
        with np.errstate(divide="ignore"):
            a4 = np.where(x > 0,
                          np.log(a) - np.log(b + np.maximum(x - 1.0, 0.0))
                          - (r + x) * np.log(alpha + t_x),
                          -np.inf)
        return a1 + a2 + np.logaddexp(a3, a4)

    def fit(self, x, t_x, T, weights=None):
        """Fit by maximum likelihood; ``weights`` are counts of identical customers. Returns self."""
        x, t_x, T, w = as_summary_arrays(x, t_x, T, weights)
        rate = max(np.dot(w, x), 1.0) / max(np.dot(w, T), 1e-9)  # repeat purchases per time unit
        theta0 = np.log([1.0, 1.0 / rate, 1.0, 3.0])
        theta, ll, ok, nfev = maximise_log_likelihood(
            lambda p: self._loglik(p, x, t_x, T), theta0, w, self.max_iter, self.tol)
        self.r_, self.alpha_, self.a_, self.b_ = (float(v) for v in np.exp(theta))
        self.log_likelihood_ = float(ll)
        self.converged_ = ok
        self.n_evaluations_ = nfev
        self.n_customers_ = float(w.sum())
        return self

    def _params(self):
        if not hasattr(self, "r_"):
            raise RuntimeError("model is not fitted: call fit() first")
        return self.r_, self.alpha_, self.a_, self.b_

    @property
    def params_(self) -> dict:
        r, alpha, a, b = self._params()
        return {"r": r, "alpha": alpha, "a": a, "b": b}

    def log_likelihood(self, x, t_x, T):
        """Per-customer log-likelihood under the fitted parameters."""
        x, t_x, T, _ = as_summary_arrays(x, t_x, T)
        return self._loglik(self._params(), x, t_x, T)

    # ------------------------------------------------------------------ predictions
    def p_alive(self, x, t_x, T):
        """P(customer still alive at T | x, t_x, T); exactly 1 when x = 0."""
        r, alpha, a, b = self._params()
        x, t_x, T, _ = as_summary_arrays(x, t_x, T)
        log_odds_dead = (np.log(a) - np.log(b + np.maximum(x - 1.0, 0.0))
                         + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
        return np.where(x > 0, special.expit(-log_odds_dead), 1.0)

    def _expected_if_alive(self, t, x, T):
        """E[purchases in (T, T + t] | alive at T, x]: FHL (2005) eq. 10 without the P(alive) factor.

        ``(a+b+x-1)/(a-1) * [1 - (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]``, z = t/(alpha+T+t),
        rewritten with Euler's transformation as ``1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``.
        """
        r, alpha, a, b = self._params()
        if abs(a - 1.0) < 1e-7:  # removable singularity at a = 1; nudge (bias ~1e-7 relative)
            a = 1.0 + 1e-7
        t = np.asarray(t, dtype=float)
        if (t < 0).any():
            raise ValueError("t must be >= 0")
        log1mz = -np.log1p(t / (alpha + T))
        z = -np.expm1(log1mz)
        hyp = special.hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
        bracket = -np.expm1((a - 1.0) * log1mz) - np.exp((a - 1.0) * log1mz) * (hyp - 1.0)
        return (a + b + x - 1.0) / (a - 1.0) * bracket

    def expected_purchases_new_customer(self, t):
        """E[X(t)]: expected repeat purchases by time t of a customer just acquired at time 0."""
        t = np.asarray(t, dtype=float)
        return self._expected_if_alive(t, np.zeros_like(t), np.zeros_like(t))

    def conditional_expected_purchases(self, t, x, t_x, T):
        """E[Y(t) | x, t_x, T]: expected purchases in the next t time units (FHL 2005 eq. 10)."""
        x, t_x, T, _ = as_summary_arrays(x, t_x, T)
        t = np.broadcast_to(np.asarray(t, dtype=float), x.shape)
        return self.p_alive(x, t_x, T) * self._expected_if_alive(t, x, T)

    def probability_of_purchases_in(self, t, x, t_x, T):
        """P(at least one purchase in (T, T + t] | x, t_x, T).

        Given alive at T, the posterior of lambda is Gamma(r + x, alpha + T) and the next purchase
        comes at rate lambda whatever p is (drop-out happens only right after a purchase), so
        P(none in t | alive) = ((alpha + T) / (alpha + T + t))^(r + x).
        """
        r, alpha, _, _ = self._params()
        x, t_x, T, _ = as_summary_arrays(x, t_x, T)
        t = np.asarray(t, dtype=float)
        p_none_if_alive = np.exp(-(r + x) * np.log1p(t / (alpha + T)))
        return self.p_alive(x, t_x, T) * (1.0 - p_none_if_alive)

    def median_time_to_next_purchase(self, x, t_x, T):
        """Median waiting time (from T) to the next purchase, given the customer is alive.

        Waiting time given alive is Exponential(lambda) with lambda ~ Gamma(r + x, alpha + T), i.e.
        Lomax: P(W > w) = ((alpha + T)/(alpha + T + w))^(r + x), median
        (alpha + T) (2^(1/(r + x)) - 1).
        """
        r, alpha, _, _ = self._params()
        x, t_x, T, _ = as_summary_arrays(x, t_x, T)
        return (alpha + T) * np.expm1(np.log(2.0) / (r + x))

    def __repr__(self):
        if hasattr(self, "r_"):
            return "BetaGeoModel(r=%.4g, alpha=%.4g, a=%.4g, b=%.4g)" % self._params()
        return "BetaGeoModel(max_iter=%r, tol=%r)" % (self.max_iter, self.tol)
