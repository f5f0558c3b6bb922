"""Content affinity: each subscriber's click probability for a campaign of a given topic, offer or category.

**Data.** Counts per subscriber x dimension x value: ``subscriber_key, dimension, value, sends,
clicks`` (the warehouse's ``marts.subscriber_content_response``), with one ``dimension='overall'``,
``value='all'`` row per subscriber counting every send. The model only ever uses such counts, so they
are all it needs; a send-level frame (:func:`send_outcomes`: one row per send, ``clicked`` and the
campaign's ``content_topic``, ``offer_type``, ``category``) is accepted too and turned into them by
:func:`content_counts`.

**Model: empirical-Bayes beta-binomial, three levels.** For a dimension (say ``content_topic``) and a
value (``"running"``), a subscriber *i* with ``x`` clicks out of ``n`` such sends gets::

    affinity_i = (x + m_person * rate_segment) / (n + m_person)
    rate_segment = (x_seg + m_segment * rate_list) / (n_seg + m_segment)

so no evidence gives exactly the segment's rate (or the list's, for an unknown segment) and lots of
evidence gives the person's own rate. The prior strengths ``m`` (pseudo-sends) are **estimated from
the data by the method of moments**, per dimension and level: if click rates ``p`` vary around the
prior mean ``mu`` as Beta with strength ``m``, then ``E[(x - n mu)^2] = n mu (1-mu) (1 + (n-1) rho)``
with ``rho = 1 / (m + 1)`` (the intra-class correlation). Equating the Pearson statistic of all ``J``
units (subscriber x value, or segment x value) with its expectation gives::

    rho_hat = (sum[(x - n mu)^2 / (n mu (1-mu))] - J) / sum[n - 1],   m_hat = 1 / rho_hat - 1

clipped to ``[min_strength, max_strength]`` (no over-dispersion at all -> ``max_strength``: everyone is
the segment). Each unit weighs in proportion to its sends (the ``n^2`` weights of the raw moment would
let one heavy subscriber set the prior for everyone); units with one send carry no information on
``rho`` and add zero in expectation. The chosen strengths are kept in ``prior_strength_``.

**Ranking.** :func:`rank_audience` combines a planned campaign's topic and offer affinities on the
log-odds scale against the person's *overall* click rate (shrunk the same way)::

    logit p = logit p_topic + logit p_offer - logit p_overall

i.e. topic and offer each multiply the person's own baseline odds. Dividing by the person's overall
odds (not the list's) keeps their general clickiness, which is inside both affinities, from being
counted twice. An unknown topic or offer contributes no lift.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .affinity_table import long_table
from .pit import real_engagement_mask

__all__ = ["ContentAffinityModel", "rank_audience", "send_outcomes", "content_counts", "beta_binomial_strength",
           "combine_affinities", "campaign_click_probability", "cut_size", "long_table", "OVERALL"]

DIMENSIONS = ("content_topic", "offer_type", "category")
OVERALL = ("overall", "all")
_NO_SEGMENT = "__none__"


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 for missing) and the distinct values as strings (object array)."""
    codes, uniques = pd.factorize(column)
    return codes.astype(np.int64), np.array([str(u) for u in uniques], dtype=object)


def send_outcomes(events: pd.DataFrame, campaigns: pd.DataFrame, dimensions=DIMENSIONS,
                  key_col: str = "subscriber_key") -> pd.DataFrame:
    """One row per (subscriber, campaign) sent: ``clicked`` (real click) and the campaign's dimensions."""
    etype = events["event_type"].astype("string").str.lower()
    sent = events.loc[(etype == "sent").fillna(False).to_numpy(bool), [key_col, "campaign_id"]].drop_duplicates()
    clicks = events.loc[real_engagement_mask(events) & (etype == "click").fillna(False).to_numpy(bool),
                        [key_col, "campaign_id"]].drop_duplicates()
    out = sent.merge(clicks.assign(clicked=True), on=[key_col, "campaign_id"], how="left")
    out["clicked"] = out["clicked"].astype("boolean").fillna(False).astype(bool)
    dims = [d for d in dimensions if d in campaigns.columns]
    return out.merge(campaigns[["campaign_id", *dims]].drop_duplicates("campaign_id"), on="campaign_id", how="left")


def content_counts(sends: pd.DataFrame, dimensions=DIMENSIONS, extra_cols=()) -> pd.DataFrame:
    """Send-level frame (``subscriber_key, clicked`` and dimension columns) -> long counts
    ``subscriber_key, dimension, value, sends, clicks`` (plus ``extra_cols``, constant per subscriber, e.g.
    the segment), with the ``overall``/``all`` row: what ``marts.subscriber_content_response`` holds."""
    keys = ["subscriber_key", *extra_cols]
    base = sends[keys].assign(clicks=sends["clicked"].astype(bool).to_numpy().astype(np.int64))
    parts = [base.assign(dimension=OVERALL[0], value=OVERALL[1])]
    for d in (d for d in dimensions if d in sends.columns):
        vals = sends[d].astype("string").to_numpy(dtype=object, na_value=None)
        parts.append(base.assign(dimension=d, value=vals).dropna(subset=["value"]))
    long = pd.concat(parts, ignore_index=True)
    out = long.groupby([*keys, "dimension", "value"], dropna=False, sort=True).agg(
        sends=("clicks", "size"), clicks=("clicks", "sum"))
    return out.reset_index()


def beta_binomial_strength(x, n, mu, min_strength: float = 1.0, max_strength: float = 1e4) -> float:
    """Method-of-moments prior strength ``m`` of a beta-binomial (see the module docstring)."""
    x, n, mu = (np.asarray(a, float) for a in (x, n, mu))
    ok = (n > 0) & (mu > 0) & (mu < 1)
    x, n, mu = x[ok], n[ok], mu[ok]
    den = float((n - 1.0).sum())
    if den <= 0:
        return float(max_strength)
    rho = float(((x - n * mu) ** 2 / (n * mu * (1.0 - mu)) - 1.0).sum()) / den
    rho = min(max(rho, 1.0 / (max_strength + 1.0)), 1.0 / (min_strength + 1.0))
    return 1.0 / rho - 1.0


class ContentAffinityModel(BaseEstimator):
    """Click probability per subscriber x (dimension, value), shrunk subscriber -> segment -> list.

    Parameters
    ----------
    dimensions : campaign columns to model (those present at fit are used).
    segment_col : send-frame / candidate column naming the segment (``None``: list only).
    person_strength, segment_strength : ``"auto"`` (method of moments, per dimension) or a number of
        pseudo-sends.
    min_strength, max_strength : clip of the estimated strengths.

    Fitted attributes: ``dimensions_``, ``list_rates_`` / ``segment_rates_`` / ``person_counts_``
    (long DataFrames with ``sends, clicks`` and, for the first two, ``rate``), ``prior_strength_``
    (DataFrame: dimension, level, strength), ``person_segment_`` (Series), ``overall_rate_``.
    """

    def __init__(self, dimensions=DIMENSIONS, segment_col: str | None = "lifecycle_stage",
                 person_strength="auto", segment_strength="auto", min_strength: float = 1.0,
                 max_strength: float = 1e4):
        self.dimensions = dimensions
        self.segment_col = segment_col
        self.person_strength = person_strength
        self.segment_strength = segment_strength
        self.min_strength = min_strength
        self.max_strength = max_strength

    def _strength(self, setting, x, n, mu) -> float:
        if setting == "auto":
            return beta_binomial_strength(x, n, mu, self.min_strength, self.max_strength)
        return float(setting)

    def fit(self, X: pd.DataFrame, y=None) -> "ContentAffinityModel":
        """Fit on counts (``subscriber_key, dimension, value, sends, clicks`` with the ``overall`` rows) or a
        send frame (:func:`send_outcomes`), plus ``segment_col`` when used (see the module docstring)."""
        missing = [c for c in ("subscriber_key",) if c not in X.columns]
        if self.segment_col is not None and self.segment_col not in X.columns:
            missing.append(f"{self.segment_col} (merge it from the profiles, or pass segment_col=None)")
        if "dimension" in X.columns:
            missing += [c for c in ("value", "sends", "clicks") if c not in X.columns]
        elif "clicked" not in X.columns:
            missing.append("clicked (send frame) or dimension, value, sends, clicks (counts)")
        if missing:
            raise ValueError("send frame is missing column(s): " + ", ".join(missing))
        if "dimension" not in X.columns:
            if not any(d in X.columns for d in self.dimensions):
                raise ValueError(f"send frame has none of the dimensions {tuple(self.dimensions)}")
            X = content_counts(X, self.dimensions, () if self.segment_col is None else (self.segment_col,))
        n, x = (pd.to_numeric(X[c], errors="coerce").to_numpy(float) for c in ("sends", "clicks"))
        if not (np.isfinite(n).all() and np.isfinite(x).all()) or (x < 0).any() or (x > n).any():
            raise ValueError("counts must be finite, non-negative and clicks <= sends")
        # integer codes for the key columns: every grouping below runs on them (strings only in the results)
        dim_code, dim_names = _codes(X["dimension"])
        if OVERALL[0] not in dim_names:
            raise ValueError("counts need the 'overall' rows (every send of each subscriber)")
        # no campaign carried a topic or offer: only the overall rates (every affinity is the person's own)
        self.dimensions_ = tuple(d for d in self.dimensions if d in dim_names)
        val_code, val_names = _codes(X["value"])
        key_code, key_names = pd.factorize(X["subscriber_key"])
        used_dims = [i for i, d in enumerate(dim_names) if d in (OVERALL[0], *self.dimensions_)]
        keep = np.isin(dim_code, used_dims) & (val_code >= 0) & (key_code >= 0) & (n > 0)
        seg_code, seg_names = (_codes(X[self.segment_col].astype(object).where(X[self.segment_col].notna(),
                                                                              _NO_SEGMENT))
                               if self.segment_col else (np.zeros(len(X), np.int64), np.array([_NO_SEGMENT], object)))
        k, d, v, g, n, x = (a[keep] for a in (key_code, dim_code, val_code, seg_code, n, x))
        n_dim, n_val, n_seg = len(dim_names), len(val_names), len(seg_names)
        overall = d == dim_names.tolist().index(OVERALL[0])
        self.overall_rate_ = float(x[overall].sum() / n[overall].sum())

        def sums(*codes_and_sizes):
            """Sends and clicks summed per combination of codes: (codes of each column, sends, clicks)."""
            combined = np.zeros(len(n), np.int64)
            for c, size in codes_and_sizes:
                combined = combined * size + c
            group = pd.factorize(combined)[0]
            first = np.zeros(group.max() + 1 if len(group) else 0, np.int64)
            first[group[::-1]] = np.arange(len(group))[::-1]  # the first row of each group
            cols = [c[first] for c, _ in codes_and_sizes]
            return cols, np.bincount(group, n), np.bincount(group, x)

        (ld, lv), ls, lc = sums((d, n_dim), (v, n_val))
        lst = pd.DataFrame({"dimension": dim_names[ld], "value": val_names[lv], "sends": ls, "clicks": lc})
        lst["rate"] = (lst["clicks"] + self.overall_rate_) / (lst["sends"] + 1.0)  # one pseudo-send: never 0
        list_rate = np.full((n_dim, n_val), np.nan)
        list_rate[ld, lv] = lst["rate"].to_numpy()
        (sg, sd, sv), ss, sc = sums((g, n_seg), (d, n_dim), (v, n_val))
        seg = pd.DataFrame({"segment": seg_names[sg], "dimension": dim_names[sd], "value": val_names[sv],
                            "sends": ss, "clicks": sc, "prior": list_rate[sd, sv]})
        strengths, seg_rate = [], np.empty(len(seg))
        for dim in pd.unique(seg["dimension"]):
            at = (seg["dimension"] == dim).to_numpy()
            s = seg.loc[at]
            m = self._strength(self.segment_strength, s["clicks"], s["sends"], s["prior"])
            seg_rate[at] = (s["clicks"].to_numpy() + m * s["prior"].to_numpy()) / (s["sends"].to_numpy() + m)
            strengths.append((dim, "segment", m))
        seg["rate"] = seg_rate
        self.list_rates_ = lst.sort_values(["dimension", "value"]).reset_index(drop=True)
        self.segment_rates_ = (seg.drop(columns="prior").sort_values(["segment", "dimension", "value"])
                               .reset_index(drop=True))
        # a person's segment: the one on their last row
        last = np.full(len(key_names), -1, np.int64)
        last[k] = np.arange(len(k))  # later rows overwrite earlier ones
        seen = np.flatnonzero(last >= 0)
        self.person_segment_ = pd.Series(seg_names[g[last[seen]]], index=np.asarray(key_names, object)[seen])
        prior_grid = list_rate[None, :, :].repeat(n_seg, axis=0)
        prior_grid[sg, sd, sv] = seg_rate  # the segment's rate, the list's where the segment never got it
        (pk, pdim, pv), ps, pc = sums((k, len(key_names)), (d, n_dim), (v, n_val))
        prior = prior_grid[g[last[pk]], pdim, pv]
        for j in np.unique(pdim):
            at = pdim == j
            m = self._strength(self.person_strength, pc[at], ps[at], prior[at])
            strengths.append((dim_names[j], "person", m))
        self.prior_strength_ = pd.DataFrame(strengths, columns=["dimension", "level", "strength"])
        index = pd.MultiIndex(levels=[pd.Index(np.asarray(key_names, object)), pd.Index(dim_names),
                                      pd.Index(val_names)], codes=[pk, pdim, pv],
                              names=["subscriber_key", "dimension", "value"], verify_integrity=False)
        self.person_counts_ = pd.DataFrame({"sends": ps, "clicks": pc}, index=index)
        return self

    def _prior(self, frame: pd.DataFrame) -> np.ndarray:
        """Segment rate for (segment, dimension, value) rows; the list rate, then the overall rate, as fallbacks."""
        seg = frame.merge(self.segment_rates_[["segment", "dimension", "value", "rate"]],
                          on=["segment", "dimension", "value"], how="left")["rate"].to_numpy(float)
        lst = frame[["dimension", "value"]].merge(self.list_rates_[["dimension", "value", "rate"]],
                                                  on=["dimension", "value"], how="left")["rate"].to_numpy(float)
        return np.where(np.isfinite(seg), seg, np.where(np.isfinite(lst), lst, np.nan))

    def _person_strength(self, dimension: str) -> float:
        s = self.prior_strength_
        return float(s.loc[(s["dimension"] == dimension) & (s["level"] == "person"), "strength"].iloc[0])

    def _segments_of(self, subscribers: pd.DataFrame) -> np.ndarray:
        if self.segment_col is not None and self.segment_col in subscribers.columns:
            seg = subscribers[self.segment_col]  # named as at fit: str of the value (integer codes work too)
            codes, names = _codes(seg)
            return np.append(names, _NO_SEGMENT)[codes]  # code -1 (missing) -> the last entry
        known = subscribers["subscriber_key"].map(self.person_segment_)
        return known.astype(object).where(known.notna(), _NO_SEGMENT).to_numpy()

    def affinity_matrix(self, subscribers: pd.DataFrame, pairs) -> tuple[np.ndarray, np.ndarray]:
        """Shrunk click probabilities and evidence sends, ``(len(subscribers), len(pairs))`` each, for the
        ``(dimension, value)`` pairs (``OVERALL`` included). One pass over the fitted counts by their integer
        codes: no per-pair lookup, so every subscriber x every value costs about one column each.

        A pair that was never sent gets each person's overall affinity and zero evidence (no lift).
        """
        check_is_fitted(self, "person_counts_")
        pairs = [(str(d), str(v)) for d, v in pairs]
        keys = subscribers["subscriber_key"].to_numpy()
        n_rows, n_cols = len(keys), len(pairs)
        lst = self.list_rates_
        known = set(zip(lst["dimension"].astype(str), lst["value"].astype(str)))
        cols = {pair: j for j, pair in enumerate(pairs)}
        # evidence: scatter the fitted counts into a dense matrix via the MultiIndex codes
        key_codes, unique_keys = pd.factorize(keys)  # a key listed twice gets the same row of counts
        sends, clicks = np.zeros((len(unique_keys), n_cols)), np.zeros((len(unique_keys), n_cols))
        index = self.person_counts_.index
        levels, codes = index.levels, index.codes
        position = levels[0].get_indexer(unique_keys)  # unique key -> level position of it (-1 unseen)
        row_of = np.full(len(levels[0]), -1, dtype=np.int64)
        row_of[position[position >= 0]] = np.flatnonzero(position >= 0)
        pair_col = np.full((len(levels[1]), len(levels[2])), -1, dtype=np.int64)
        dim_pos, val_pos = levels[1].get_indexer([d for d, _ in pairs]), levels[2].get_indexer([v for _, v in pairs])
        for j, (i1, i2) in enumerate(zip(dim_pos, val_pos)):
            if i1 >= 0 and i2 >= 0:
                pair_col[i1, i2] = j
        row = row_of[codes[0]]
        col = pair_col[codes[1], codes[2]]
        hit = (row >= 0) & (col >= 0)
        sends[row[hit], col[hit]] = self.person_counts_["sends"].to_numpy(float)[hit]
        clicks[row[hit], col[hit]] = self.person_counts_["clicks"].to_numpy(float)[hit]
        if len(unique_keys) < n_rows:
            sends, clicks = sends[key_codes], clicks[key_codes]
        # prior: the segment's rate (the list's as fallback) per (segment, pair), spread to the rows
        seg_codes, seg_names = pd.factorize(pd.Series(self._segments_of(subscribers), dtype=object))
        grid = pd.DataFrame({"segment": np.repeat(np.asarray(seg_names, dtype=object), n_cols),
                             "dimension": [d for d, _ in pairs] * len(seg_names),
                             "value": [v for _, v in pairs] * len(seg_names)})
        prior = self._prior(grid).reshape(len(seg_names), n_cols)[seg_codes] if len(seg_names) else \
            np.empty((0, n_cols))
        strength = np.array([self._person_strength(d) if (d, v) in known or d == OVERALL[0] else 1.0
                             for d, v in pairs])
        out = (clicks + strength * prior) / (sends + strength)
        unknown = [j for j, pair in enumerate(pairs) if pair not in known and pair[0] != OVERALL[0]]
        if unknown:
            base = out[:, cols[OVERALL]] if OVERALL in cols else self.affinity_matrix(subscribers, [OVERALL])[0][:, 0]
            out[:, unknown] = base[:, None]
            sends[:, unknown] = 0.0
        return out, sends

    def affinity(self, subscribers: pd.DataFrame, dimension: str, value) -> tuple[np.ndarray, np.ndarray]:
        """Shrunk click probability and evidence sends of every row of ``subscribers`` for one value.

        A value never sent falls back to each person's overall affinity (no lift either way).
        """
        aff, n = self.affinity_matrix(subscribers, [(dimension, value)])
        return aff[:, 0], n[:, 0]

    def value_pairs(self) -> list[tuple[str, str]]:
        """Every (dimension, value) seen at fit except ``OVERALL``, sorted by dimension then value."""
        check_is_fitted(self, "person_counts_")
        values = self.list_rates_.loc[self.list_rates_["dimension"] != OVERALL[0], ["dimension", "value"]]
        return [(str(d), str(v)) for d, v in values.itertuples(index=False)]

    def predict_frame(self, subscribers: pd.DataFrame | None = None) -> pd.DataFrame:
        """Long table ``subscriber_key, dimension, value, affinity, evidence_sends`` for every known value.

        ``subscribers`` (with ``subscriber_key`` and optionally ``segment_col``) defaults to everyone
        seen at fit; people without evidence get their segment's (or the list's) rate.
        """
        check_is_fitted(self, "person_counts_")
        if subscribers is None:
            subscribers = pd.DataFrame({"subscriber_key": self.person_segment_.index.to_numpy()})
        pairs = self.value_pairs()
        empty = np.empty((len(subscribers), 0))
        matrices = self.affinity_matrix(subscribers, pairs) if pairs else (empty, empty)
        return long_table(subscribers["subscriber_key"], pairs, *matrices)


def _logit(p):
    p = np.clip(np.asarray(p, float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def combine_affinities(p_topic, p_offer, p_overall) -> np.ndarray:
    """Click probability of a campaign from its topic and offer affinities (see the module docstring):
    ``logit p = logit p_topic + logit p_offer - logit p_overall``. Pass ``p_overall`` for a missing one."""
    z = _logit(p_topic) + _logit(p_offer) - _logit(p_overall)
    return 1.0 / (1.0 + np.exp(-z))


def campaign_click_probability(model: ContentAffinityModel, candidates: pd.DataFrame, topic=None,
                               offer=None) -> np.ndarray:
    """Each candidate's predicted click probability for a campaign of ``topic`` and ``offer``."""
    base, _ = model.affinity(candidates, *OVERALL)
    p_topic = model.affinity(candidates, "content_topic", topic)[0] if topic is not None else base
    p_offer = model.affinity(candidates, "offer_type", offer)[0] if offer is not None else base
    return combine_affinities(p_topic, p_offer, base)


def cut_size(size, n: int) -> int:
    """Rows kept for a ``size`` of ``None`` (all), N, ``"N"`` or ``"P%"`` (rounded up) out of ``n``."""
    if size is None:
        return n
    if isinstance(size, str):
        text = size.strip()
        if text.endswith("%"):
            pct = float(text[:-1])
            if not 0 <= pct <= 100:
                raise ValueError(f"size percentage must be in [0, 100], got {size!r}")
            return min(n, int(np.ceil(pct / 100.0 * n)))
        size = int(text)
    if isinstance(size, (bool, float)) or not isinstance(size, (int, np.integer)) or size < 0:
        raise ValueError(f"size must be a non-negative integer N or a string 'P%', got {size!r}")
    return min(n, int(size))


def rank_audience(model: ContentAffinityModel, candidates: pd.DataFrame, topic=None, offer=None,
                  size=None) -> pd.DataFrame:
    """Candidates ranked by predicted click probability for a planned campaign, best first, cut to size.

    ``candidates`` holds the mailable subscribers (``subscriber_key``, optionally ``segment_col``;
    rows with a false ``is_mailable`` column are dropped as a safeguard). ``topic`` / ``offer`` are the
    campaign's ``content_topic`` / ``offer_type`` (``None`` = not targeted on it). ``size``: ``None``
    (everyone), an integer N (top N) or a string ``"N"`` / ``"P%"`` (top P %, rounded up).
    Returns the candidate columns plus ``topic_affinity``, ``offer_affinity``,
    ``predicted_click_probability`` and ``rank`` (1 = best; ties broken by subscriber_key).
    """
    if "is_mailable" in candidates.columns:
        candidates = candidates.loc[candidates["is_mailable"].astype("boolean").fillna(False).to_numpy(bool)]
    base, _ = model.affinity(candidates, *OVERALL)
    p_topic = model.affinity(candidates, "content_topic", topic)[0] if topic is not None else base
    p_offer = model.affinity(candidates, "offer_type", offer)[0] if offer is not None else base
    out = candidates.assign(topic_affinity=p_topic, offer_affinity=p_offer,
                            predicted_click_probability=combine_affinities(p_topic, p_offer, base))
    out = out.sort_values(["predicted_click_probability", "subscriber_key"], ascending=[False, True], kind="stable")
    out = out.head(cut_size(size, len(out))).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out
