"""Deterministic, unique, human-readable segment names built from a segment's traits.

A name is ``[adjective] [adjective] [topic] noun``:

* the **noun** comes from the value tier (share of buyers and how high the segment's spend stands):
  "VIPs", "buyers", "occasional buyers", "readers" or "subscribers"; two traits make their own noun
  because they say what the people *are*: discount-seeking buyers are "discount seekers",
  window-shopping non-buyers are "window shoppers";
* the **adjectives** are the trait words (:data:`~ml.segmentation.traits.TRAITS`) of the strongest
  standardised differences, strongest first, at most ``n_adjectives``;
* a **topic** (e.g. "home") is added when one content topic or purchase category is clearly
  over-represented (at least ``topic_min_share`` of the segment and ``topic_min_lift`` times its share
  in the reference group).

Names are made unique within a level in a fixed order (the order segments are given, i.e. by id): a
name already taken gets the next trait word instead of its last adjective, then a roman numeral. The
same traits always give the same name; names made of the same words in another order count as equal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .traits import TRAITS

__all__ = ["SegmentTraits", "noun_for", "build_names", "trait_words"]

_ROMAN = ("II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


@dataclass
class SegmentTraits:
    """What naming needs to know about one segment."""

    smd: dict  # trait key -> standardised mean difference (NaN allowed)
    buyer_share: float  # share of the segment with at least one order
    topic: str | None = None  # an over-represented topic / category, already vetted


def trait_words(smd: dict, min_smd: float = 0.2) -> list[tuple[str, str, float]]:
    """``[(trait key, word, smd)]`` for traits beyond ``min_smd`` that have a word in that direction,
    strongest first (ties broken by the vocabulary order, so the result is deterministic)."""
    out = []
    for rank, t in enumerate(TRAITS):
        v = smd.get(t.key, np.nan)
        if not np.isfinite(v) or abs(v) < min_smd:
            continue
        word = t.high if v > 0 else t.low
        if word:
            out.append((t.key, word, float(v), rank))
    out.sort(key=lambda x: (-abs(x[2]), x[3]))
    return [(k, w, v) for k, w, v, _ in out]


def noun_for(seg: SegmentTraits, words: list[tuple[str, str, float]]) -> tuple[str, set[str]]:
    """The noun for a segment and the trait keys it already expresses."""
    top = {k for k, _, v in words[:3] if v > 0}
    value = seg.smd.get("value", np.nan)
    if "discount" in top and seg.buyer_share >= 0.2:
        return "discount seekers", {"discount"}
    if "window" in top and seg.buyer_share < 0.35:
        return "window shoppers", {"window", "browsing"}
    if np.isfinite(value) and value >= 0.8 and seg.buyer_share >= 0.6:
        return "VIPs", {"value"}
    if seg.buyer_share >= 0.5:
        return "buyers", set()
    if seg.buyer_share >= 0.25:
        return "occasional buyers", set()
    if seg.smd.get("open_rate", 0.0) >= 0.3 or "reading" in top:
        return "readers", set()
    return "subscribers", set()


def _key(name: str) -> tuple:
    """A name's words regardless of order ("engaged newsletter-reading readers" = "newsletter-reading engaged readers")."""
    return tuple(sorted(name.split()))


def _compose(adjectives: list[str], topic: str | None, noun: str) -> str:
    parts = list(adjectives) + ([topic] if topic else []) + [noun]
    return " ".join(parts)


def build_names(segments: list[SegmentTraits], n_adjectives: int = 2, min_smd: float = 0.2,
                taken: set[str] | None = None) -> list[str]:
    """One unique name per segment, in the given order (see the module docstring).

    ``taken`` holds names that are already in use at this level (e.g. inherited by stable ids); new
    names avoid them.
    """
    used = set(taken or ())
    used_keys = {_key(n) for n in used}  # same words in another order count as taken
    names = []
    for seg in segments:
        words = trait_words(seg.smd, min_smd)
        noun, consumed = noun_for(seg, words)
        words = [w for w in words if w[0] not in consumed and w[1] not in noun]
        adjs = [w for _, w, _ in words]
        candidates = [_compose(adjs[:n_adjectives], seg.topic, noun)]
        for extra in range(n_adjectives, len(adjs)):  # swap in further traits, keep the strongest
            candidates.append(_compose(adjs[:n_adjectives - 1] + [adjs[extra]], seg.topic, noun))
        if seg.topic:
            candidates.append(_compose(adjs[:n_adjectives], None, noun))
        candidates.append(_compose(adjs[:n_adjectives + 1], seg.topic, noun))
        name = next((c for c in candidates if _key(c) not in used_keys), None)
        if name is None:
            base = candidates[0]
            name = next(f"{base} {r}" for r in _ROMAN + tuple(str(i) for i in range(11, 10_000))
                        if f"{base} {r}" not in used)
        used.add(name)
        used_keys.add(_key(name))
        names.append(name)
    return names
