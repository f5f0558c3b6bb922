"""Gamma-Gamma spend model (Fader & Hardie, "The Gamma-Gamma Model of Monetary Value", 2013).

Each transaction value of a customer is ``Gamma(p, nu)`` (shape ``p``, rate ``nu``), so the
customer's mean spend per transaction is ``zeta = p / nu``; across customers ``nu ~ Gamma(q,
gamma)`` (shape ``q``, rate ``gamma``). The model is fitted on the repeat buyers only, from ``x``
(number of repeat transactions) and ``zbar`` (their mean value); spend is assumed independent of
the purchase process (check ``corr(x, zbar)`` is small before combining it with a BG/NBD model).

Interpretation: the population mean spend per transaction is ``p gamma / (q - 1)`` (finite only for
``q > 1``); the conditional expectation for a customer is a credibility-weighted average of that
mean and their own ``zbar``, the weight on ``zbar`` being ``p x / (p x + q - 1)``.

``v_`` holds gamma (the name used by ``lifetimes``); ``gamma_`` is an alias.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .bgnbd import NotFittedError, log_rising, maximise_log_likelihood

__all__ = ["GammaGammaModel"]


def _spend_arrays(x, zbar, weights=None):
    x = np.atleast_1d(np.asarray(x, dtype=float))
    zbar = np.atleast_1d(np.asarray(zbar, dtype=float))
    x, zbar = np.broadcast_arrays(x, zbar)
    w = (np.ones_like(x) if weights is None
         else np.broadcast_to(np.atleast_1d(np.asarray(weights, dtype=float)), x.shape))
    if x.ndim != 1:
        raise ValueError("x and zbar must be 1-d (or scalars)")
    if (x < 0).any() or not np.isfinite(x).all():
        raise ValueError("x must be finite and >= 0")
    if ((x > 0) & ~(np.isfinite(zbar) & (zbar > 0))).any():
        raise ValueError("repeat buyers (x > 0) need a finite zbar > 0")
    return x.copy(), zbar.copy(), np.array(w)


class GammaGammaModel:
    """Gamma-Gamma spend model with scikit-learn style ``fit``; fitted ``p_, q_, v_`` (gamma)."""

    def __init__(self, max_iter: int = 2000, tol: float = 1e-10):
        self.max_iter = max_iter
        self.tol = tol

    @staticmethod
    def _to_params(theta):
        """theta = (log p, log q, log(p gamma / q)) -> (p, q, gamma).

        p -> inf (deterministic transaction values) at fixed p gamma, and q -> inf (same nu for all
        customers) at fixed gamma / q, are then single coordinates running to their bound.
        """
        p, q, scale = np.exp(theta)
        return p, q, scale * q / p

    @staticmethod
    def _loglik(params, x, zbar):
        """Log density of zbar given x (F&H 2013 eq. 5): zbar ~ Gamma(p x, nu x), nu mixed out."""
        p, q, v = params
        px = p * x
        # -log B(px, q), from the side that stays accurate when one argument is huge
        log_inv_beta = np.where(px >= q, log_rising(px, q) - special.gammaln(q),
                                log_rising(q, px) - special.gammaln(px))
        # q log v + (px - 1) log zbar + px log x - (px + q) log(v + x zbar), regrouped
        return (log_inv_beta - q * np.log1p(x * zbar / v) - px * np.log1p(v / (x * zbar))
                - np.log(zbar))

    def fit(self, x, zbar, weights=None):
        """Fit by maximum likelihood on the rows with ``x > 0`` (others ignored). Returns self."""
        x, zbar, w = _spend_arrays(x, zbar, weights)
        keep = (x > 0) & (w > 0)
        if keep.sum() < 2:
            raise ValueError("need at least two repeat buyers (x > 0) to fit")
        x, zbar, w = x[keep], zbar[keep], w[keep]
        mean = np.dot(w, zbar) / w.sum()
        theta0 = np.log([1.0, 2.0, mean / 2.0])  # p = 1, q = 2, gamma = mean(zbar)
        params, ll, ok, nfev = maximise_log_likelihood(
            lambda prm: self._loglik(prm, x, zbar), self._to_params, theta0, w, self.max_iter,
            self.tol)
        self.p_, self.q_, self.v_ = (float(val) for val in params)
        self.log_likelihood_ = float(ll)
        self.converged_ = ok
        self.n_evaluations_ = nfev
        self.n_repeat_buyers_ = float(w.sum())
        return self

    @property
    def gamma_(self) -> float:
        return self.v_

    def _params(self):
        if not hasattr(self, "p_"):
            raise NotFittedError("model is not fitted: call fit() first")
        return self.p_, self.q_, self.v_

    @property
    def params_(self) -> dict:
        p, q, v = self._params()
        return {"p": p, "q": q, "gamma": v}

    def population_mean_spend(self) -> float:
        """E[zeta] = p gamma / (q - 1); ``inf`` when q <= 1 (the mean does not exist)."""
        p, q, v = self._params()
        return p * v / (q - 1.0) if q > 1.0 else float("inf")

    def conditional_expected_spend(self, x, zbar):
        """E[zeta | x, zbar] = p (gamma + x zbar) / (p x + q - 1); population mean for x = 0.

        ``inf`` where p x + q <= 1 (only x = 0 rows when q <= 1: the mean does not exist).
        """
        p, q, v = self._params()
        x, zbar, _ = _spend_arrays(x, zbar)
        zbar = np.where(x > 0, zbar, 0.0)
        denom = p * x + q - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(denom > 0, p * (v + x * zbar) / denom, np.inf)
        return out

    def sample_mean_spend(self, x, zbar, size, rng):
        """Draws of each customer's mean spend zeta = p / nu.

        Posterior nu | x, zbar ~ Gamma(p x + q, rate gamma + x zbar) (the prior when x = 0).

        Returns an array of shape ``(len(x), size)``.
        """
        p, q, v = self._params()
        x, zbar, _ = _spend_arrays(x, zbar)
        return self.mean_spend_from_draws(x, zbar, self.standard_nu_draws(x, size, rng))

    def standard_nu_draws(self, x, size, rng):
        """Draws of Gamma(p x + q, rate 1), shape ``(len(x), size)``: divided by the rate
        gamma + x zbar they are the posterior nu (see :meth:`mean_spend_from_draws`)."""
        p, q, _ = self._params()
        x = np.asarray(x, dtype=float)
        return rng.standard_gamma(np.broadcast_to((p * x + q)[:, None], (x.size, size)))

    def mean_spend_from_draws(self, x, zbar, draws):
        """zeta = p / nu for each row of ``draws`` from :meth:`standard_nu_draws` of the same x."""
        p, _, v = self._params()
        x, zbar = np.asarray(x, dtype=float), np.asarray(zbar, dtype=float)
        rate = v + x * np.where(x > 0, zbar, 0.0)
        return p * rate[:, None] / draws

    def __repr__(self):
        if hasattr(self, "p_"):
            return "GammaGammaModel(p=%.4g, q=%.4g, gamma=%.4g)" % self._params()
        return "GammaGammaModel(max_iter=%r, tol=%r)" % (self.max_iter, self.tol)
