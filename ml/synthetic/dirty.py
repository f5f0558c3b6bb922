"""Planted dirt for landing files, at small, recorded rates.

Kinds (counted per entity in ``truth/meta.json`` under ``dirty``):

``upper_case``   address in upper case (``ANNA.SMITH12@EXAMPLE.COM``)
``mixed_case``   address in title case (``Anna.Smith12@Example.Com``)
``padded``       address with surrounding spaces (``"  anna.smith12@example.com "``)
``duplicate``    an exact copy of another row of the same file batch, appended to it
``invalid_email`` a copy of a row whose address is replaced by an invalid one (``not-an-email``,
                 ``a@b`` ...) and whose id gets a ``-x`` suffix so it never collides with a real row

Truth files are never dirtied. Rows are only ever added or their address re-spelled, so a loader
that trims + lower-cases addresses, drops exact duplicates and rejects invalid addresses recovers the
clean data exactly.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .personas import INVALID_EMAILS

DEFAULT_RATES = {"upper_case": 0.0015, "mixed_case": 0.0025, "padded": 0.003, "duplicate": 0.002,
                 "invalid_email": 0.0003}
KINDS = tuple(DEFAULT_RATES)
CLEAN, UPPER, MIXED, PADDED = 0, 1, 2, 3


def email_variants(clean: pa.Array) -> pa.Array:
    """``clean`` followed by its upper-case, title-case and padded spellings (4 x n strings)."""
    padded = pc.binary_join_element_wise(pa.scalar("  "), clean, pa.scalar(" "), "")
    return pa.concat_arrays([clean, pc.utf8_upper(clean), pc.utf8_title(clean), padded.cast(pa.string())])


class Dirt:
    def __init__(self, seed: int, rates: dict[str, float] | None = None, enabled: bool = True) -> None:
        self.rng = np.random.Generator(np.random.PCG64([seed, 9]))
        self.rates = dict(DEFAULT_RATES if rates is None else rates)
        self.enabled = enabled
        self.counts: dict[str, dict[str, int]] = {}

    def _count(self, entity: str, kind: str, k: int) -> None:
        d = self.counts.setdefault(entity, {kind: 0 for kind in KINDS})
        d[kind] += int(k)

    def variants(self, entity: str, n: int, eligible: np.ndarray | None = None) -> np.ndarray:
        """Spelling code per row (CLEAN / UPPER / MIXED / PADDED); ``eligible`` rows only."""
        code = np.zeros(n, dtype=np.int64)
        if not self.enabled or n == 0:
            return code
        u = self.rng.random(n)
        r = self.rates
        edges = np.cumsum([r["upper_case"], r["mixed_case"], r["padded"]])
        code = np.where(u < edges[0], UPPER, np.where(u < edges[1], MIXED, np.where(u < edges[2], PADDED, CLEAN)))
        if eligible is not None:
            code = np.where(eligible, code, CLEAN)
        for kind, value in (("upper_case", UPPER), ("mixed_case", MIXED), ("padded", PADDED)):
            self._count(entity, kind, (code == value).sum())
        return code

    def extra_rows(self, entity: str, table: pa.Table, id_column: str | None,
                   eligible: np.ndarray | None = None) -> pa.Table:
        """Append exact duplicates and invalid-address copies of random rows."""
        n = table.num_rows
        if not self.enabled or n == 0:
            self.counts.setdefault(entity, {kind: 0 for kind in KINDS})
            return table
        dup = np.flatnonzero(self.rng.random(n) < self.rates["duplicate"])
        inv = np.flatnonzero(self.rng.random(n) < self.rates["invalid_email"])
        if eligible is not None:
            inv = inv[eligible[inv]]
        self._count(entity, "duplicate", len(dup))
        self._count(entity, "invalid_email", len(inv))
        parts = [table]
        if len(dup):
            parts.append(table.take(pa.array(dup)))
        if len(inv):
            bad = table.take(pa.array(inv))
            junk = pa.array(INVALID_EMAILS).take(pa.array(self.rng.integers(0, len(INVALID_EMAILS), len(inv))))
            bad = bad.set_column(bad.schema.get_field_index("email"), "email", junk)
            if id_column is not None:
                i = bad.schema.get_field_index(id_column)
                bad = bad.set_column(i, id_column, pc.binary_join_element_wise(bad.column(i), pa.scalar("-x"), ""))
            parts.append(bad)
        return pa.concat_tables(parts) if len(parts) > 1 else table
