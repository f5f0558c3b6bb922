"""Pareto/NBD buy-till-you-die model (Schmittlein, Morrison & Colombo 1987).

While alive a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``; their
unobserved lifetime is exponential with rate ``mu ~ Gamma(s, beta)`` (shape, rate).  Same summary
data (x, t_x, T) as :class:`ml.clv.bgnbd.BetaGeoModel`.  Interpretation: ``r / alpha`` is the mean
purchase rate of an alive customer, ``s / beta`` the mean drop-out rate per time unit.

Likelihood (Fader & Hardie, "A Note on Deriving the Pareto/NBD Model and Related Expressions", 2005,
eq. 22): with ``R = r + s + x``,

    L  = Gamma(r+x) alpha^r beta^s / Gamma(r) * [h(T) + s/R * A0]
    h(t) = (alpha+t)^-(r+x) (beta+t)^-s
    A0 = 2F1(R, s+1; R+1; (alpha-beta)/(alpha+t_x)) / (alpha+t_x)^R - (same at T)  (alpha >= beta)
    A0 = 2F1(R, r+x; R+1; (beta-alpha)/(beta+t_x)) / (beta+t_x)^R - (same at T)    (alpha <  beta)

``scipy.special.hyp2f1`` can overflow or lose accuracy here (large ``R`` and ``z`` near 1).  Euler's
transformation ``2F1(A, B; A+1; z) = (1-z)^(1-B) 2F1(1, A+1-B; A+1; z)`` gives, in both cases,

    2F1(...; z(t)) / (max(alpha, beta) + t)^R = h(t) * F(z(t)),
    F(z) = 2F1(1, r+x; R+1; z)            (alpha >= beta)
    F(z) = (1 - z) 2F1(1, s+1; R+1; z)    (alpha <  beta)

``2F1(1, c; R+1; z)`` is a series of positive, decreasing terms ``prod_{k<n} (c+k)/(R+1+k) z``
(each below ``z^n``, so the sum is below ``1 / (1 - z)`` and never overflows); it is summed in
vectorised chunks until the tail bound ``term * z / (1 - z)`` is below 1e-15 of the sum. The
likelihood is then ``h(T) + I`` with ``I = s/R A0 = s/R [h(t_x) F(z_tx) - h(T) F(z_T)] >= 0``, all
in log space (``log1p`` for the difference, ``logaddexp`` for the sum), so tiny ``h`` never
underflow; ``h`` is carried as ``h(t) alpha^r beta^s = (1+t/alpha)^-r (alpha+t)^-x (1+t/beta)^-s``
so that huge r or s do not cancel.

Where ``z(t_x) > 0.99`` (``min(alpha, beta) + t_x`` below 1 % of ``max(alpha, beta)``:
near-degenerate fits such as ``s, beta -> inf``, common on small samples) the series would need
thousands of terms, so ``I = s int_{t_x}^T (alpha+u)^-(r+x) (beta+u)^-(s+1) du`` is instead
integrated numerically (composite Gauss-Legendre in ``log(min(alpha, beta) + u)``; relative error <
1e-9 against adaptive quadrature on 400 random parameter sets with alpha, beta in 3e-4..2e5, s up
to 2e5, x up to 60). Both routes agree to 1e-13 where both apply.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .bgnbd import PurchaseCountModel, as_summary_arrays, log_rising

__all__ = ["ParetoNBDModel", "hyp2f1_one_b"]


def hyp2f1_one_b(b, c, z, rtol=1e-15, max_terms=100_000):
    """``2F1(1, b; c; z)`` for ``c > b > 0`` and ``0 <= z < 1`` (vectorised power series).

    Terms ``t_0 = 1, t_{n+1} = t_n (b + n)/(c + n) z`` are positive and decreasing with ratio below
    z, so the remainder after term ``t_n`` is at most ``t_n z / (1 - z)``; summation stops once that
    bound is below ``rtol`` of the sum.  Identical argument triples are evaluated once, and the
    chunk of terms summed per pass doubles (64 ... 4096).  Only for z within ~3e-4 of 1 can
    ``max_terms`` be reached; those entries take ``scipy.special.hyp2f1`` (accurate there for a = 1
    when finite), else the partial sum plus half the remainder bound.
    """
    b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (b, c, z)))
    shape = b.shape
    if ((z < 0) | (z >= 1)).any() or (c <= b).any() or (b <= 0).any():
        raise ValueError("need 0 <= z < 1 and c > b > 0")
    uniq, inverse = np.unique(np.stack([b.ravel(), c.ravel(), z.ravel()]), axis=1,
                              return_inverse=True)
    b, c, z = uniq
    total = np.ones_like(z)
    last = np.ones_like(z)
    active = np.nonzero(z > 0)[0]
    n0, chunk = 0, 64
    while active.size and n0 < max_terms:
        k = np.arange(n0, n0 + chunk, dtype=float)
        ba, ca, za = b[active, None], c[active, None], z[active, None]
        terms = last[active, None] * np.cumprod((ba + k) / (ca + k) * za, axis=1)
        total[active] += terms.sum(axis=1)
        last[active] = terms[:, -1]
        n0 += chunk
        chunk = min(2 * chunk, 4096)
        tail = last[active] * z[active] / (1.0 - z[active])
        active = active[tail > rtol * total[active]]
    if active.size:
        fallback = special.hyp2f1(1.0, b[active], c[active], z[active])
        bound = last[active] * z[active] / (1.0 - z[active])
        ok = (np.isfinite(fallback) & (fallback >= total[active])
              & (fallback <= total[active] + bound))
        total[active] = np.where(ok, fallback, total[active] + 0.5 * bound)
    return total[inverse.ravel()].reshape(shape)


Z_SERIES_MAX = 0.99  # beyond this z the series needs thousands of terms: use quadrature
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(8)


def _log_integral(r, x, s, alpha, beta, lo, hi, panels=48, growth=1.2):
    """log of  int_lo^hi alpha^r beta^s (alpha+u)^-(r+x) (beta+u)^-(s+1) du  (rows of x, lo, hi).

    The integrand is written as (1 + u/alpha)^-r (alpha + u)^-x (1 + u/beta)^-s / (beta + u), which
    stays accurate for huge r or s.  Composite 8-point Gauss-Legendre in
    v = log(min(alpha, beta) + u), where the integrand is smooth (no spike at u = 0 when
    min(alpha, beta) is tiny), on panels whose widths grow geometrically from ``lo`` (where the
    integrand peaks when r + x > 1); summed with logsumexp.
    """
    m, d = min(alpha, beta), abs(alpha - beta)
    v0, v1 = np.log(m + lo), np.log(m + hi)
    frac = np.expm1(np.arange(panels + 1) * np.log(growth)) / np.expm1(panels * np.log(growth))
    edges = v0[:, None] + (v1 - v0)[:, None] * frac
    half = 0.5 * np.diff(edges, axis=1)
    v = (0.5 * (edges[:, 1:] + edges[:, :-1]))[..., None] + half[..., None] * _GL_NODES
    log_other = np.log(d + np.exp(v))  # log(max(alpha, beta) + u); log(min + u) is v
    rel_min = v - np.log(m)  # log1p(u / min(alpha, beta))
    rel_max = np.log1p(m * np.expm1(rel_min) / max(alpha, beta))  # log1p(u / max(alpha, beta))
    x = np.asarray(x, dtype=float)[:, None, None]
    if alpha <= beta:
        log_f = -r * rel_min - x * v - s * rel_max - log_other
    else:
        log_f = -r * rel_max - x * log_other - s * rel_min - v
    with np.errstate(divide="ignore"):
        terms = log_f + v + np.log(half)[..., None] + np.log(_GL_WEIGHTS)  # + v: du = e^v dv
    return special.logsumexp(terms.reshape(terms.shape[0], -1), axis=1)


class ParetoNBDModel(PurchaseCountModel):
    """Pareto/NBD model with scikit-learn style ``fit``; fitted ``r_, alpha_, s_, beta_``. Parameters
    (``max_iter``, ``tol``) as :class:`PurchaseCountModel`."""

    PARAM_NAMES = ("r", "alpha", "s", "beta")

    # ------------------------------------------------------------------ likelihood
    @staticmethod
    def _to_params(theta):
        """theta = (log r, log(r/alpha), log s, log(s/beta)): log shape, log mean of each gamma."""
        r, mean_rate, s, mean_death = np.exp(theta)
        return r, r / mean_rate, s, s / mean_death

    @staticmethod
    def _log_terms(params, x, t_x, T):
        """(log of [h(T) + I], log h(T)), both plus r log(alpha) + s log(beta); I = s/R A0."""
        r, alpha, s, beta = params
        big_r = r + s + x

        def log_h(t):  # log h(t) + r log(alpha) + s log(beta), accurate for huge r or s
            return -r * np.log1p(t / alpha) - x * np.log(alpha + t) - s * np.log1p(t / beta)

        log_h_T, log_h_tx = log_h(T), log_h(t_x)
        top, gap = max(alpha, beta), abs(alpha - beta)
        near = gap / (top + t_x) > Z_SERIES_MAX
        log_int = np.empty_like(x)
        far = ~near
        if far.any():
            xf = x[far]
            if alpha >= beta:
                def log_f(t):
                    return np.log(hyp2f1_one_b(r + xf, big_r[far] + 1.0, gap / (alpha + t)))
            else:
                def log_f(t):
                    return (np.log(alpha + t) - np.log(beta + t) + np.log(
                        hyp2f1_one_b(s + 1.0, big_r[far] + 1.0, gap / (beta + t))))
            log_s_r = np.log(s) - np.log(big_r[far])
            log_pos = log_s_r + log_f(t_x[far]) + log_h_tx[far]
            log_neg = log_s_r + log_f(T[far]) + log_h_T[far]
            with np.errstate(divide="ignore"):  # t_x == T: I = 0
                log_int[far] = log_pos + np.log1p(-np.minimum(np.exp(log_neg - log_pos), 1.0))
        if near.any():
            log_int[near] = np.log(s) + _log_integral(r, x[near], s, alpha, beta, t_x[near],
                                                      T[near])
        return np.logaddexp(log_h_T, log_int), log_h_T

    @classmethod
    def _loglik(cls, params, x, t_x, T):
        r, alpha, s, beta = params
        log_bracket, _ = cls._log_terms(params, x, t_x, T)
        return log_rising(r, x) + log_bracket

    @staticmethod
    def _initial_theta(x, T, w):
        rate = max(np.dot(w, x), 1.0) / max(np.dot(w, T), 1e-9)
        scale = max(np.dot(w, T) / max(w.sum(), 1e-9), 1e-9)
        return np.log([1.0, rate, 1.0, 1.0 / scale])

    # ------------------------------------------------------------------ predictions
    def p_alive(self, x, t_x, T):
        """P(alive at T | x, t_x, T) = h(T) / [h(T) + s/R A0]  (Fader & Hardie 2005 note)."""
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
        """E[Y(t) | x, t_x, T].

        = P(alive) (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)].
        """
        r, alpha, s, beta = self._params()
        x, t_x, T, _ = as_summary_arrays(x, t_x, T)
        t = np.asarray(t, dtype=float)
        if_alive = ((r + x) * (beta + T) / (alpha + T)
                    * self._one_minus_ratio_pow_over(np.asarray(s - 1.0), beta + T, t))
        return self.p_alive(x, t_x, T) * if_alive
