"""The long affinity table (``subscriber_key, dimension, value, affinity, evidence_sends``) assembled from
the dense matrices of :meth:`ml.scoring.affinity.ContentAffinityModel.affinity_matrix`: 13M rows at 1M
subscribers, so the string columns are gathered in Arrow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["long_table"]


def long_table(keys: pd.Series, pairs, aff: np.ndarray, n: np.ndarray) -> pd.DataFrame:
    """``subscriber_key, dimension, value, affinity, evidence_sends`` from :meth:`ContentAffinityModel.affinity_matrix`
    output (one row per key x pair; value-major: everyone for a value, then the next)."""
    keys, dims, values = (pd.Series(keys).reset_index(drop=True), pd.Series([d for d, _ in pairs], dtype="str"),
                          pd.Series([v for _, v in pairs], dtype="str"))
    pair = np.repeat(np.arange(len(pairs)), len(keys))
    return pd.DataFrame({"subscriber_key": _take(keys, np.tile(np.arange(len(keys)), len(pairs))),
                         "dimension": _take(dims, pair), "value": _take(values, pair),
                         "affinity": aff.T.ravel(), "evidence_sends": n.T.ravel().astype(np.int64)})


def _take(values: pd.Series, index: np.ndarray):
    """``values`` at positions ``index``. Strings are gathered in Arrow (C++): building a pandas string
    column of millions of rows from Python objects took most of the time of a 1M-subscriber long table."""
    if isinstance(values.dtype, pd.StringDtype) and not values.isna().any():
        return pd.array(pa.array(values.to_numpy(dtype=object), pa.string()).take(pa.array(index)), dtype="str")
    return values.to_numpy()[index]
