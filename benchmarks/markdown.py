"""The head of a results.md table: a label column, then one right-aligned column per figure."""

from __future__ import annotations


def table_head(label: str, columns) -> list[str]:
    """``["| label | c1 | c2 |", "|---|---:|---:|"]``."""
    columns = [str(c) for c in columns]
    return [f"| {label} | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]


def scale_columns(results: list[dict]) -> list[str]:
    """The column names of a table with one column per benchmarked scale: ``100,000``, ``1,000,000``."""
    return [f"{r['subscribers']:,}" for r in results]
