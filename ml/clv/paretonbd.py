"""Pareto/NBD buy-till-you-die model (Schmittlein, Morrison & Colombo 1987).

While alive a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``; their
unobserved lifetime is exponential with rate ``mu ~ Gamma(s, beta)`` (shape, rate).  Same summary
data (x, t_x, T) as :class:`ml.clv.bgnbd.BetaGeoModel`.  Interpretation: ``r / alpha`` is the mean
purchase rate of an alive customer, ``s / beta`` the mean drop-out rate per time unit.

Likelihood (Fader & Hardie, "A Note on Deriving the Pareto/NBD Model and Related Expressions", 2005,
eq. 22): with ``R = r + s + x``,

    L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [ h(T) + s/R * A0 ],  h(t) = (alpha+t)^-(r+x) (beta+t)^-s
    A0 = 2F1(R, s+1; R+1; (alpha-beta)/(alpha+t_x)) / (alpha+t_x)^R - (same at T)        (alpha >= beta)
    A0 = 2F1(R, r+x; R+1; (beta-alpha)/(beta+t_x)) / (beta+t_x)^R - (same at T)          (alpha <  beta)

``scipy.special.hyp2f1`` can overflow or lose accuracy here (large ``R`` and ``z`` near 1).  Euler's
transformation ``2F1(A, B; A+1; z) = (1-z)^(1-B) 2F1(1, A+1-B; A+1; z)`` gives, in both cases,

    2F1(...; z(t)) / (max(alpha, beta) + t)^R = h(t) * F(z(t)),
    F(z) = 2F1(1, r+x; R+1; z)  (alpha >= beta),     F(z) = (1 - z) 2F1(1, s+1; R+1; z)  (alpha < beta).

``2F1(1, c; R+1; z)`` is a series of positive, decreasing terms ``prod_{k<n} (c+k)/(R+1+k) z``,
bounded by its (finite) value at z = 1, ``R / (R - c)``, so it never overflows; it is summed in vectorised chunks until the tail bound ``term * z / (1 - z)`` is below
1e-15 of the sum.  The likelihood then is ``h(T) (1 - s/R F(z_T)) + s/R h(t_x) F(z_tx)``, taken in log
space (``logaddexp`` / ``log1p``) so that tiny ``h`` do not underflow.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .bgnbd import as_summary_arrays, maximise_log_likelihood

__all__ = ["ParetoNBDModel", "hyp2f1_one_b"]


def hyp2f1_one_b(b, c, z, rtol=1e-15, chunk=64, max_terms=200_000):
    """``2F1(1, b; c; z)`` for ``c > b > 0`` and ``0 <= z < 1`` (vectorised power series).

    Terms ``t_0 = 1, t_{n+1} = t_n (b + n)/(c + n) z`` are positive and decreasing with ratio below
    z, so the remainder after term ``t_n`` is at most ``t_n z / (1 - z)``.  If ``max_terms`` is
    reached (only for z within ~1e-4 of 1), that bound's half is added as the tail estimate.
    """
    b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (b, c, z)))
    shape = b.shape
    b, c, z = b.ravel(), c.ravel(), z.ravel()
    if ((z < 0) | (z >= 1)).any() or (c <= b).any() or (b <= 0).any():
        raise ValueError("need 0 <= z < 1 and c > b > 0")
    total = np.ones_like(z)
    last = np.ones_like(z)
    active = np.nonzero(z > 0)[0]
    k = np.arange(chunk, dtype=float)
    n0 = 0
    while active.size and n0 < max_terms:
        ba, ca, za = b[active, None], c[active, None], z[active, None]
        terms = last[active, None] * np.cumprod((ba + n0 + k) / (ca + n0 + k) * za, axis=1)
        total[active] += terms.sum(axis=1)
        last[active] = terms[:, -1]
        n0 += chunk
        tail = last[active] * z[active] / (1.0 - z[active])
        active = active[tail > rtol * total[active]]
    if active.size:
        total[active] += 0.5 * last[active] * z[active] / (1.0 - z[active])
    return total.reshape(shape)


class ParetoNBDModel:
    """Pareto/NBD model with scikit-learn style ``fit``; fitted ``r_, alpha_, s_, beta_``."""

    def __init__(self, max_iter: int = 2000, tol: float = 1e-10):
        self.max_iter = max_iter
        self.tol = tol

    # ------------------------------------------------------------------ likelihood
    @staticmethod
    def _log_terms(params, x, t_x, T):
        """Return (log of the bracket [h(T) + s/R A0], log h(T)); see the module docstring."""
        r, alpha, s, beta = params
        big_r = r + s + x
        log_h_T = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        log_h_tx = -(r + x) * np.log(alpha + t_x) - s * np.log(beta + t_x)
        if alpha >= beta:
            def log_f(t):
                return np.log(hyp2f1_one_b(r + x, big_r + 1.0, (alpha - beta) / (alpha + t)))
        else:
            def log_f(t):
                return (np.log(alpha + t) - np.log(beta + t)
                        + np.log(hyp2f1_one_b(s + 1.0, big_r + 1.0, (beta - alpha) / (beta + t))))
        log_s_r = np.log(s) - np.log(big_r)
        log_pos = np.logaddexp(log_h_T, log_s_r + log_f(t_x) + log_h_tx)
        log_neg = log_s_r + log_f(T) + log_h_T
        ratio = np.minimum(np.exp(log_neg - log_pos), 1.0 - 1e-16)
        return log_pos + np.log1p(-ratio), log_h_T

    @classmethod
    def _loglik(cls, params, x, t_x, T):
        r, alpha, s, beta = params
        log_bracket, _ = cls._log_terms(params, x, t_x, T)
        return (special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
                + log_bracket)

    def fit(self, x, t_x, T, weights=None):
        """Fit by maximum likelihood; ``weights`` are counts of identical customers. Returns self."""
        x, t_x, T, w = as_summary_arrays(x, t_x, T, weights)
        rate = max(np.dot(w, x), 1.0) / max(np.dot(w, T), 1e-9)
        scale = max(np.dot(w, T) / max(w.sum(), 1e-9), 1e-9)
        theta0 = np.log([1.0, 1.0 / rate, 1.0, scale])
        theta, ll, ok, nfev = maximise_log_likelihood(
            lambda p: self._loglik(p, x, t_x, T), theta0, w, self.max_iter, self.tol)
        self.r_, self.alpha_, self.s_, self.beta_ = (float(v) for v in np.exp(theta))
        self.log_likelihood_ = float(ll)
        self.converged_ = ok
        self.n_evaluations_ = nfev
        self.n_customers_ = float(w.sum())
        return self

    def _params(self):
        if not hasattr(self, "r_"):
            raise RuntimeError("model is not fitted: call fit() first")
        return self.r_, self.alpha_, self.s_, self.beta_

    @property
    def params_(self) -> dict:
        r, alpha, s, beta = self._params()
        return {"r": r, "alpha": alpha, "s": s, "beta": beta}

    def log_likelihood(self, x, t_x, T):
        """Per-customer log-likelihood under the fitted parameters."""
        x, t_x, T, _ = as_summary_arrays(x, t_x, T)
        return self._loglik(self._params(), x, t_x, T)

    # ------------------------------------------------------------------ predictions
    def p_alive(self, x, t_x, T):
        """P(alive at T | x, t_x, T) = h(T) / [h(T) + s/R A0]  (Fader & Hardie 2005 note, eq. 18)."""
        x, t_x, T, _ = as_summary_arrays(x, t_x, T)
        log_bracket, log_h_T = self._log_terms(self._params(), x, t_x, T)
        return np.minimum(np.exp(log_h_T - log_bracket), 1.0)

    @staticmethod
    def _one_minus_ratio_pow_over(e, base, t):
        """[1 - (base/(base+t))^e] / e, continuous at e = 0 (where it is log(1 + t/base))."""
        lg = np.log1p(t / base)
        e_safe = np.where(np.abs(e) < 1e-12, 1.0, e)
        return np.where(np.abs(e) < 1e-12, lg, -np.expm1(-e * lg) / e_safe)

    def expected_purchases_new_customer(self, t):
        """E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]."""
        r, alpha, s, beta = self._params()
        t = np.asarray(t, dtype=float)
        return r * beta / alpha * self._one_minus_ratio_pow_over(np.asarray(s - 1.0), beta, t)

    def conditional_expected_purchases(self, t, x, t_x, T):
        """E[Y(t) | x, t_x, T] = P(alive) (r+x)(beta+T)/((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]."""
        r, alpha, s, beta = self._params()
        x, t_x, T, _ = as_summary_arrays(x, t_x, T)
        t = np.asarray(t, dtype=float)
        if_alive = ((r + x) * (beta + T) / (alpha + T)
                    * self._one_minus_ratio_pow_over(np.asarray(s - 1.0), beta + T, t))
        return self.p_alive(x, t_x, T) * if_alive

    def __repr__(self):
        if hasattr(self, "r_"):
            return "ParetoNBDModel(r=%.4g, alpha=%.4g, s=%.4g, beta=%.4g)" % self._params()
        return "ParetoNBDModel(max_iter=%r, tol=%r)" % (self.max_iter, self.tol)
