"""Ingestion: every new landing file into the raw layer, with its row accounting checked."""


import dagster as dg

from orchestration.ingestion import ingest_landing, reconcile
from orchestration.landing_contract import ENTITIES
from orchestration.resources import WarehouseResource

RAW_KEYS = {entity: dg.AssetKey(["raw", entity]) for entity in ENTITIES}
BOOKKEEPING = {
    "load_manifest": "One row per landing file loaded: content hash, arrival order, rows in file, loaded, rejected.",
    "rejected_rows": "Every landing row that was not loaded, with its file, line and reason.",
    "rejected_files": "Landing files that could not be read at all, with the reason.",
    "key_salt": "The secret salt behind subscriber_key (one row).",
    "absent_columns": "The contract columns each loaded file lacked: a partial update does not blank them.",
}
ROW_CHECK = "loaded_plus_rejected_equals_rows"
WAREHOUSE_POOL = "warehouse"  # one writer at a time: every asset that writes the warehouse uses it


@dg.multi_asset(
    name="raw_landing",
    group_name="landing",
    pool=WAREHOUSE_POOL,
    specs=[
        dg.AssetSpec(
            key, description=f"Raw `{entity}` rows from the landing files, typed and validated.",
            kinds={"duckdb"},
        )
        for entity, key in RAW_KEYS.items()
    ]
    + [dg.AssetSpec(["raw", name], description=text, kinds={"duckdb"}) for name, text in BOOKKEEPING.items()],
    check_specs=[
        dg.AssetCheckSpec(
            ROW_CHECK, asset=key,
            description="For every loaded file: rows loaded + rows rejected (+ rows erased since by mailsift forget) = rows in the file.",
        )
        for key in RAW_KEYS.values()
    ],
)
def raw_landing(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Load every landing file not loaded before (a file is known by the SHA-256 of its content)."""
    settings = warehouse.settings()
    context.log.info(f"landing folder {settings.landing_dir} -> warehouse {settings.warehouse}")
    with warehouse.connection() as con:
        report = ingest_landing(con, settings.landing_dir, progress=context.log.info)
        mismatches = reconcile(con)
        totals = dict(
            con.execute(
                "SELECT entity, sum(rows_loaded)::BIGINT FROM raw.load_manifest GROUP BY 1"
            ).fetchall()
        )
        rejected_files = con.execute("SELECT count(*) FROM raw.rejected_files").fetchone()[0]

    for entity, key in RAW_KEYS.items():
        loaded, rejected = report.rows(entity)
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "rows_loaded_this_run": loaded,
                "rows_rejected_this_run": rejected,
                "files_loaded_this_run": sum(
                    1 for f in report.files if f.entity == entity and f.status == "loaded"
                ),
                "rows_total": int(totals.get(entity, 0)),
            },
        )
        bad = [m for m in mismatches if m[0].split("/", 1)[0].lower() == entity]
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=ROW_CHECK,
            passed=not bad,
            metadata={
                "mismatched_files": "; ".join(f"{f}: {n} rows, {l} loaded, {r} rejected" for f, n, l, r in bad)
                or "none",
            },
        )
    loaded, rejected = report.rows()
    yield dg.MaterializeResult(
        asset_key=["raw", "load_manifest"],
        metadata={
            "files_loaded": report.count("loaded"),
            "files_skipped_seen_before": report.count("skipped"),
            "rows_loaded": loaded,
        },
    )
    yield dg.MaterializeResult(asset_key=["raw", "rejected_rows"], metadata={"rows_rejected_this_run": rejected})
    yield dg.MaterializeResult(
        asset_key=["raw", "rejected_files"],
        metadata={"files_rejected_this_run": report.count("rejected"), "files_rejected_total": rejected_files},
    )
    yield dg.MaterializeResult(asset_key=["raw", "key_salt"])
    yield dg.MaterializeResult(asset_key=["raw", "absent_columns"])
