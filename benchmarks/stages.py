"""Single benchmark stages, each run in its own process so its time and peak memory are its own.

python -m benchmarks.stages ingest   # landing files -> raw layer (settings from MAILSIFT_* variables)
python -m benchmarks.stages floor    # one plain DuckDB aggregation pass over the raw e-mail events
python -m benchmarks.stages segment  # segmentation quality vs the planted personas, fit/assign time
python -m benchmarks.stages scores   # after `mailsift run`: served scores vs the held-back future
python -m benchmarks.stages segments_vs_rules  # AI vs lifecycle/RFM segments as audiences, held-back campaigns
python -m benchmarks.stages refresh_reach  # after `mailsift refresh`: whose change the day of new events was
"""

from __future__ import annotations

import json
import sys
import time

from orchestration.ingestion import ingest_landing
from orchestration.settings import load_settings, read_or_create_salt
from orchestration.warehouse import bootstrap, connect

# The floor: what any feature SQL must at least do — read every e-mail event once, normalise the
# address and aggregate per subscriber — as one statement, written to a table like a model would be.
FLOOR_SQL = """
CREATE OR REPLACE TABLE main.bench_floor AS
SELECT lower(trim(email)) AS email,
       count(*) FILTER (WHERE event_type = 'sent') AS sends,
       count(*) FILTER (WHERE event_type = 'open' AND NOT coalesce(is_machine_open, false)) AS opens,
       count(*) FILTER (WHERE event_type = 'click') AS clicks,
       max(occurred_at) AS last_event_at
FROM raw.email_events
GROUP BY 1
"""


def main(stage: str) -> dict:
    settings = load_settings()
    t0 = time.perf_counter()
    if stage == "segment":
        from benchmarks.segmentation_quality import evaluate_segmentation, load_profiles_and_personas

        profiles, personas = load_profiles_and_personas(settings.warehouse, settings.landing_dir / "truth")
        return evaluate_segmentation(profiles, personas)
    if stage == "scores":
        from benchmarks.scoring_quality import scoring_quality

        return scoring_quality(settings.warehouse, settings.landing_dir / "truth")
    if stage == "segments_vs_rules":
        from benchmarks.segments_vs_rules import segments_vs_rules

        figures = segments_vs_rules(settings.warehouse, settings.landing_dir / "truth")
        figures.pop("per_campaign", None)
        return figures
    if stage == "refresh_reach":
        from benchmarks.refresh_reach import refresh_reach

        with connect(settings.warehouse, read_only=True) as con:
            return refresh_reach(con)
    with connect(settings.warehouse) as con:
        if stage == "ingest":
            bootstrap(con, read_or_create_salt(settings.salt_file))
            report = ingest_landing(con, settings.landing_dir)
            loaded, rejected = report.rows()
            out = {"files_loaded": report.count("loaded"), "files_skipped": report.count("skipped"),
                   "rows_loaded": loaded, "rows_rejected": rejected}
        elif stage == "floor":
            con.execute(FLOOR_SQL)
            out = {"subscribers": con.execute("SELECT count(*) FROM main.bench_floor").fetchone()[0],
                   "events": con.execute("SELECT count(*) FROM raw.email_events").fetchone()[0]}
            con.execute("DROP TABLE main.bench_floor")
        else:
            raise SystemExit(f"unknown stage {stage!r}")
    out["seconds_inside"] = round(time.perf_counter() - t0, 2)
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
