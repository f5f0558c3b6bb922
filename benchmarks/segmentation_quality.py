"""How well do the macro segments recover the synthetic world's planted personas?

    python -m benchmarks.segmentation_quality --warehouse PATH --truth DIR [--seeds 0 1 2]

reads ``marts.subscriber_profiles`` and ``marts.dim_subscribers`` from the warehouse (read-only) and the
generator's ``truth/subscribers.parquet`` (planted persona per e-mail address), joins them on the
normalised address, and prints the figures of :func:`evaluate_segmentation`.

The segmentation never sees the personas: they are used only here, after fitting, to score the result.

Figures:

* ``ari_macro`` -- adjusted Rand index between :class:`~ml.segmentation.SegmentationModel` macro
  segments (first seed) and the planted persona per subscriber (``ari_macro_mean`` / ``_min``: over
  all seeds);
* ``ari_kmeans_baseline`` -- the same for a naive baseline, plain k-means (k = number of personas,
  ``StandardScaler``) on RFM + open/click rates: ``days_since_last_order`` (never ordered: the tenure),
  ``orders_total``, ``revenue_total``, ``open_rate_smoothed``, ``click_rate_smoothed``;
  ``ratio`` = ``ari_macro / ari_kmeans_baseline``;
* ``stability_ari`` -- the smallest ARI between the macro assignments of models fitted with different
  ``random_state`` seeds;
* ``ari_supervised_ceiling`` / ``accuracy_supervised_ceiling`` -- a classifier trained *on the personas*
  (cross-fitted, :mod:`benchmarks.persona_ceiling`): how far any segmentation of these profiles could go;
* ``ari_macro_merged`` / ``ari_micro_merged`` -- the first seed's macro / micro segments each relabelled
  with its most common persona (:mod:`benchmarks.persona_oracle`): how far a merging of them could go;
  ``neighbour_purity`` -- the share of each person's 15 nearest neighbours in the model's feature space
  with the same persona (a sample of ``PURITY_ROWS`` scored profiles); ``ari_nearest_persona_centre`` --
  every scored person given the persona with the nearest mean in that space;
  ``ari_kmeans_from_persona_centres`` -- k-means started at those means, run to convergence;
* ``k`` (chosen number of macro segments, first seed; ``k_per_seed``), ``n_micro``, ``n_personas``;
* ``fit_seconds`` / ``assign_seconds`` -- wall time of ``fit`` and ``assign`` (first seed);
  ``fit_seconds_mean`` over the seeds; ``peak_rss_mb`` -- the process's peak resident memory so far.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from benchmarks.persona_ceiling import supervised_persona_ceiling
from benchmarks.persona_oracle import majority_persona_ari, neighbour_purity, persona_centre_figures

__all__ = ["evaluate_segmentation", "baseline_kmeans", "load_profiles_and_personas", "main"]

BASELINE_COLUMNS = ("days_since_last_order", "orders_total", "revenue_total", "open_rate_smoothed",
                    "click_rate_smoothed")
PURITY_ROWS = 20_000  # profiles sampled for the neighbour purity (a nearest-neighbour search of them all)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def baseline_kmeans(profiles: pd.DataFrame, k: int, random_state: int = 0) -> np.ndarray:
    """Plain k-means on standardised RFM + open/click rates (the naive baseline)."""
    df = profiles[list(BASELINE_COLUMNS)].apply(pd.to_numeric, errors="coerce").astype(float)
    tenure = pd.to_numeric(profiles["tenure_days"], errors="coerce").astype(float)
    df["days_since_last_order"] = df["days_since_last_order"].fillna(tenure).fillna(10_000.0)
    df = df.fillna(df.median()).fillna(0.0)
    X = StandardScaler().fit_transform(df.to_numpy())
    return KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(X)


def evaluate_segmentation(profiles: pd.DataFrame, personas: pd.Series, seeds=(0, 1, 2),
                          model_params: dict | None = None) -> dict:
    """Fit :class:`SegmentationModel` once per seed on ``profiles`` and score it against ``personas``.

    ``personas`` is indexed by ``subscriber_key``; profiles without a persona are still segmented but
    not scored. ``model_params`` are extra keyword arguments of the model. Returns the figures of the
    module docstring as a flat dict.
    """
    from ml.segmentation import SegmentationModel

    seeds = tuple(seeds)
    if not seeds:
        raise ValueError("need at least one seed")
    profiles = profiles.reset_index(drop=True)
    truth = personas.reindex(profiles["subscriber_key"].to_numpy())
    scored = truth.notna().to_numpy()
    if scored.sum() < 2:
        raise ValueError("fewer than 2 profiles have a persona: check the join of profiles and truth")
    y = truth.to_numpy()[scored]
    n_personas = int(pd.Series(y).nunique())

    labels, fit_s, ks, n_micro = [], [], [], []
    assign_s = oracle = None
    for i, seed in enumerate(seeds):
        started = time.perf_counter()
        model = SegmentationModel(random_state=seed, **(model_params or {})).fit(profiles)
        fit_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        assigned = model.assign(profiles)
        if i == 0:
            assign_s = time.perf_counter() - started
            oracle = _oracle_figures(model, profiles, assigned, scored, y, seed)
        labels.append(assigned["macro_segment_id"].to_numpy())
        ks.append(int(model.metrics_["k"]))
        n_micro.append(int(model.metrics_["n_micro"]))
    aris = [adjusted_rand_score(y, lab[scored]) for lab in labels]
    pairs = [adjusted_rand_score(a, b) for a, b in itertools.combinations(labels, 2)]

    base = baseline_kmeans(profiles.loc[scored], n_personas, random_state=seeds[0])
    ari_base = adjusted_rand_score(y, base)
    return {**supervised_persona_ceiling(profiles, personas, random_state=seeds[0]),
        "n_profiles": int(len(profiles)), "n_scored": int(scored.sum()), "n_personas": n_personas,
        "ari_macro": float(aris[0]), "ari_macro_mean": float(np.mean(aris)), "ari_macro_min": float(np.min(aris)),
        "ari_kmeans_baseline": float(ari_base), **oracle,
        "ratio": float(aris[0] / ari_base) if ari_base > 0 else float("inf"),
        "stability_ari": float(min(pairs)) if pairs else float("nan"),
        "k": ks[0], "k_per_seed": ks, "n_micro": n_micro[0],
        "fit_seconds": float(fit_s[0]), "fit_seconds_mean": float(np.mean(fit_s)),
        "assign_seconds": float(assign_s), "peak_rss_mb": _peak_rss_mb(),
    }


def load_profiles_and_personas(warehouse: str | Path, truth_dir: str | Path) -> tuple[pd.DataFrame, pd.Series]:
    """Profiles from the warehouse (read-only) and the planted persona per ``subscriber_key``."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        profiles = con.sql("select * from marts.subscriber_profiles").df()
        keys = con.sql("select subscriber_key, email from marts.dim_subscribers").df()
    finally:
        con.close()
    truth = pd.read_parquet(Path(truth_dir) / "subscribers.parquet", columns=["email", "persona"])
    norm = lambda s: s.astype("string").str.strip().str.lower()  # noqa: E731
    truth = truth.assign(email=norm(truth["email"])).drop_duplicates("email")
    keys = keys.assign(email=norm(keys["email"])).merge(truth, on="email", how="inner")
    return profiles, keys.drop_duplicates("subscriber_key").set_index("subscriber_key")["persona"]


def _oracle_figures(model, profiles: pd.DataFrame, assigned: pd.DataFrame, scored: np.ndarray,
                    personas: np.ndarray, seed: int) -> dict:
    """The figures of :mod:`benchmarks.persona_oracle` for one fitted model: ``assigned`` is its
    assignment of ``profiles``, ``personas`` those of the rows where ``scored`` is true."""
    rows = np.flatnonzero(scored)
    pick = np.arange(len(rows))
    if len(pick) > PURITY_ROWS:
        pick = np.sort(np.random.default_rng(seed).choice(len(rows), PURITY_ROWS, replace=False))
    # float32, one row per scored profile; transforming every profile and then taking the rows copies the
    # matrix, not the profiles (the transform is row by row, so the rows are the same either way)
    X = model.featurizer_.transform(profiles)
    if len(rows) < len(X):
        X = X[rows]
    return {"ari_macro_merged": majority_persona_ari(assigned["macro_segment_id"].to_numpy()[scored], personas),
            "ari_micro_merged": majority_persona_ari(assigned["micro_segment_id"].to_numpy()[scored], personas),
            "neighbour_purity": neighbour_purity(X[pick], personas[pick], n_neighbors=min(15, len(pick) - 1)),
            "purity_rows": int(len(pick)), **persona_centre_figures(X, personas, random_state=seed)}


def _table(res: dict) -> str:
    rows = [
        ("profiles (scored)", f"{res['n_profiles']:,} ({res['n_scored']:,})"),
        ("planted personas", str(res["n_personas"])),
        ("ARI macro vs personas", f"{res['ari_macro']:.3f} (seeds: mean {res['ari_macro_mean']:.3f}, "
                                  f"min {res['ari_macro_min']:.3f})"),
        ("ARI k-means baseline", f"{res['ari_kmeans_baseline']:.3f}"),
        ("ARI ceiling: classifier trained on the personas", f"{res['ari_supervised_ceiling']:.3f}"
         if "ari_supervised_ceiling" in res else "n/a"),
        ("ARI of the macro / micro segments merged by majority persona (reads the truth)",
         f"{res['ari_macro_merged']:.3f} / {res['ari_micro_merged']:.3f}"),
        ("personas' neighbour purity in the segment features", f"{res['neighbour_purity']:.3f}"),
        ("ARI of the nearest persona centre / k-means started there (reads the truth)",
         f"{res['ari_nearest_persona_centre']:.3f} / {res['ari_kmeans_from_persona_centres']:.3f}"),
        ("ratio", f"{res['ratio']:.2f}x"),
        ("stability (min ARI across seeds)", f"{res['stability_ari']:.3f}"),
        ("k chosen (per seed)", f"{res['k']} ({', '.join(map(str, res['k_per_seed']))})"),
        ("micro segments", str(res["n_micro"])),
        ("fit seconds (mean over seeds)", f"{res['fit_seconds']:.1f} ({res['fit_seconds_mean']:.1f})"),
        ("assign seconds", f"{res['assign_seconds']:.2f}"),
        ("peak RSS MB", f"{res['peak_rss_mb']:.0f}"),
    ]
    w = max(len(a) for a, _ in rows)
    return "\n".join(f"{a:<{w}}  {b}" for a, b in rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--warehouse", required=True, help="DuckDB warehouse with marts.subscriber_profiles")
    ap.add_argument("--truth", required=True, help="the generator's truth/ folder")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args(argv)
    profiles, personas = load_profiles_and_personas(args.warehouse, args.truth)
    res = evaluate_segmentation(profiles, personas, seeds=args.seeds)
    print(_table(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
