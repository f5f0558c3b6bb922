"""benchmarks/planted_oracle.py: the Monte-Carlo oracle's figures on a tiny world and its results section."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks import planted_oracle
from ml.synthetic import generate


@pytest.fixture(scope="module")
def truth_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("oracle") / "landing"
    generate(1200, 3, out)
    return out / "truth"


def test_oracle_scores_the_replayed_expectations_against_the_real_future(truth_dir, monkeypatch):
    res = planted_oracle.oracle_ceilings(truth_dir, replays=4, workers=1, progress=None)
    assert res["subscribers"] == 1200 and res["replays"] == 4
    assert 0.5 < res["purchase_auc_oracle"] <= 1.0 and 0.0 < res["clv_spearman_oracle"] <= 1.0
    assert 0.0 < res["halves_agreement_revenue"] <= 1.0

    # by hand: if every replay were the world's own future, the oracle would know it, so the 30-day AUC is
    # 1 and the revenue Spearman 1 (the replays are what the figures read, nothing else)
    real = pd.read_parquet(truth_dir / "subscribers.parquet")

    def own_future(meta, draws):
        n = len(draws)
        return {"future_purchase_30d": n * real.future_purchase_30d.to_numpy(float),
                "future_revenue": n * real.future_revenue.to_numpy(float),
                "future_orders_90d": n * real.future_orders_90d.to_numpy(float)}

    monkeypatch.setattr(planted_oracle, "_replay_sums", own_future)
    monkeypatch.setattr(planted_oracle, "ProcessPoolExecutor", _InlinePool)
    res = planted_oracle.oracle_ceilings(truth_dir, replays=2, workers=1, progress=None)
    assert res["purchase_auc_oracle"] == pytest.approx(1.0) and res["clv_spearman_oracle"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="even"):
        planted_oracle.oracle_ceilings(truth_dir, replays=3)


class _InlinePool:
    def __init__(self, workers):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map(self, fn, *args):
        return map(fn, *args)


def test_the_section_goes_after_the_clv_section_and_replaces_itself(tmp_path):
    md = tmp_path / "results.md"
    md.write_text("# Results\n\n<!-- clv-small:begin -->\nclv\n<!-- clv-small:end -->\n\nNotes.\n")
    figures = {"subscribers": 100_000, "replays": 400, "purchase_auc_oracle": 0.8531, "clv_spearman_oracle": 0.5891,
               "purchase_auc_oracle_half": 0.851, "clv_spearman_oracle_half": 0.589,
               "halves_agreement_purchase": 0.9, "halves_agreement_revenue": 0.99, "seconds": 300.0}
    planted_oracle.write_section(planted_oracle.render_oracle(figures), md)
    text = md.read_text()
    assert text.index("<!-- clv-small:end -->") < text.index("<!-- oracle:begin -->") < text.index("Notes.")
    assert "| purchase-30d AUC | 0.853 | 0.851 | 0.85 |" in text
    assert "| Spearman of revenue | 0.589 | 0.589 | 0.65 |" in text
    planted_oracle.write_section(planted_oracle.render_oracle({**figures, "purchase_auc_oracle": 0.8}), md)
    again = md.read_text()
    assert again.count("<!-- oracle:begin -->") == 1 and "| purchase-30d AUC | 0.800 |" in again
    assert again.endswith("Notes.\n")
