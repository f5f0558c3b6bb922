"""The best any purchase or revenue prediction could do on a generated world: a Monte-Carlo oracle.

    python -m benchmarks.planted_oracle TRUTH_DIR [--replays 400] [--workers 2] [--write]

The generator draws each person's held-back future from their planted traits. Replaying the world's
e-mail and orders many times with other random draws (:mod:`ml.synthetic.replay`) and averaging gives,
per person, the expected outcome *given every planted trait*: the chance of an order in the 30 days
after as_of and the expected revenue of the held-back period. Ranking people by those expectations is
what a model that knew each person's purchase rate, basket, propensities, tastes, quiet date and the
campaigns to come would do; scored against the world's real future with the same figures as
:mod:`benchmarks.scoring_quality` (purchase-30d AUC, Spearman of revenue), it is the ceiling of any
model trained on this world's data. (The ceilings in the scores table are a closed formula -- planted
rate x active days -- that leaves out campaign-driven orders and the gift season; this one leaves out
nothing the generator draws.)

What it does not know: how each person's own history turned out (an unsubscribe, say, changes the
mail they get later). A model sees that history, so it could in principle pass the oracle by a little;
the replays also tell how much a person's expectation still moves between two halves of the draws
(``halves_agreement_*``: near 1 means enough replays).

Ties: the 30-day chance is a share of replays, so people tie; ties are broken by the expected number
of orders in 90 days (also from the replays, nothing from the real future).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from ml.synthetic.replay import WorldReplay

__all__ = ["oracle_ceilings", "render_oracle", "ORACLE_BEGIN", "ORACLE_END"]

ORACLE_BEGIN, ORACLE_END = "<!-- oracle:begin -->", "<!-- oracle:end -->"
RESULTS_MD = Path(__file__).resolve().parent / "results.md"
_OUTCOMES = ("future_purchase_30d", "future_revenue", "future_orders_90d")


def _replay_sums(meta: dict, draws: list[int]) -> dict[str, np.ndarray]:
    """Sums of the outcomes over ``draws`` (one worker's share)."""
    world = WorldReplay(meta)
    sums = {k: np.zeros(world.pop.n) for k in _OUTCOMES}
    for d in draws:
        out = world.outcomes(d)
        for k in _OUTCOMES:
            sums[k] += out[k]
    return sums


def oracle_ceilings(truth_dir: str | Path, replays: int = 400, workers: int = 2, progress=print) -> dict:
    """Purchase-30d AUC and revenue Spearman of the replayed expectations against the world's real future.

    ``replays`` (at least 2, even) are split into two halves, each half over ``workers`` processes.
    Returns the two ceilings over all replays, the same from the first half alone, and the agreement
    (Spearman) between the two halves' per-person expectations.
    """
    if replays < 2 or replays % 2:
        raise ValueError("replays must be an even number of at least 2")
    truth_dir = Path(truth_dir)
    meta = json.loads((truth_dir / "meta.json").read_text())
    truth = pd.read_parquet(truth_dir / "subscribers.parquet", columns=["future_purchase_30d", "future_revenue"])
    t0 = time.perf_counter()
    halves = []
    for h in range(2):
        draws = list(range(h * replays // 2, (h + 1) * replays // 2))
        chunks = [draws[i::workers] for i in range(workers) if draws[i::workers]]
        with ProcessPoolExecutor(len(chunks)) as pool:
            parts = list(pool.map(_replay_sums, [meta] * len(chunks), chunks))
        halves.append({k: sum(p[k] for p in parts) for k in _OUTCOMES})
        if progress:
            progress(f"   oracle: {(h + 1) * replays // 2} of {replays} replays "
                     f"({time.perf_counter() - t0:.0f} s)")
    bought = truth["future_purchase_30d"].to_numpy(bool)
    revenue = truth["future_revenue"].to_numpy(float)

    def figures(s: dict, n: int) -> tuple[float, float]:
        chance = s["future_purchase_30d"] / n + 1e-9 * s["future_orders_90d"] / n  # ties: expected orders
        return (float(roc_auc_score(bought, chance)), float(spearmanr(s["future_revenue"], revenue).statistic))

    both = {k: halves[0][k] + halves[1][k] for k in _OUTCOMES}
    auc, rho = figures(both, replays)
    auc_half, rho_half = figures(halves[0], replays // 2)
    return {
        "subscribers": int(len(truth)), "replays": int(replays),
        "purchase_auc_oracle": auc, "clv_spearman_oracle": rho,
        "purchase_auc_oracle_half": auc_half, "clv_spearman_oracle_half": rho_half,
        "halves_agreement_purchase": float(spearmanr(halves[0]["future_purchase_30d"],
                                                     halves[1]["future_purchase_30d"]).statistic),
        "halves_agreement_revenue": float(spearmanr(halves[0]["future_revenue"],
                                                    halves[1]["future_revenue"]).statistic),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def render_oracle(d: dict) -> str:
    return "\n".join([
        ORACLE_BEGIN, "## The best any model could do: a Monte-Carlo oracle (issue 4)", "",
        f"benchmarks/planted_oracle.py on the {d['subscribers']:,}-subscriber world above: its e-mail and orders "
        f"replayed {d['replays']} times with other random draws, the same people (every planted trait) and "
        "campaigns; each person's share of replays with an order in the 30 days after as_of and their mean "
        "revenue over the held-back period, scored against the world's real future like the scores table. "
        "That is what a model knowing every planted trait exactly would reach. A model also sees how each "
        "person's history turned out (who unsubscribed, for one), which the oracle does not; only that could "
        "carry a model past it.", "",
        "| figure | oracle, all replays | first half of the replays | goal |", "|---|---:|---:|---:|",
        f"| purchase-30d AUC | {d['purchase_auc_oracle']:.3f} | {d['purchase_auc_oracle_half']:.3f} | 0.85 |",
        f"| Spearman of revenue | {d['clv_spearman_oracle']:.3f} | {d['clv_spearman_oracle_half']:.3f} | 0.65 |",
        "", f"Agreement of the two halves' per-person expectations (Spearman): purchase "
            f"{d['halves_agreement_purchase']:.3f}, revenue {d['halves_agreement_revenue']:.3f}. "
            f"{d['seconds']:.0f} s.", "", ORACLE_END])


def write_section(section: str, path: Path = RESULTS_MD) -> None:
    """Put ``section`` in place of the oracle section of results.md, or after the CLV section."""
    text = path.read_text() if path.exists() else "# Benchmark results\n\n"
    if ORACLE_BEGIN in text and ORACLE_END in text:
        text = text[: text.index(ORACLE_BEGIN)] + section + text[text.index(ORACLE_END) + len(ORACLE_END):]
    elif "<!-- clv-small:end -->" in text:
        at = text.index("<!-- clv-small:end -->") + len("<!-- clv-small:end -->")
        text = text[:at] + "\n\n" + section + text[at:]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("truth_dir", help="a generated world's truth/ folder")
    ap.add_argument("--replays", type=int, default=400)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--write", action="store_true", help="write the section into benchmarks/results.md")
    args = ap.parse_args(argv)
    res = oracle_ceilings(args.truth_dir, args.replays, args.workers)
    if args.write:
        write_section(render_oracle(res))
    print(json.dumps(res))
    return res


if __name__ == "__main__":
    main(sys.argv[1:])
