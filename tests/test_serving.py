"""Writing model outputs and publishing serving files: all or nothing, for a reader."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from orchestration.serving import publish_parquet, replace_table


def test_replace_table_swaps_whole_tables_and_keeps_the_old_one_on_failure(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert replace_table(con, "ml", "t", pd.DataFrame({"k": ["a", "b"], "v": [1, 2]})) == 2
    assert replace_table(con, "ml", "t", pd.DataFrame({"k": ["c"], "v": [3]})) == 1
    assert con.sql("SELECT k, v FROM ml.t").fetchall() == [("c", 3)]
    # a frame DuckDB cannot store (bytes and integers in one column) fails inside the transaction
    bad = pd.DataFrame({"k": ["x", "y"], "v": [b"bytes", 1]})
    with pytest.raises(Exception):
        replace_table(con, "ml", "t", bad)
    assert con.sql("SELECT k, v FROM ml.t").fetchall() == [("c", 3)]


def test_replace_table_refuses_names_that_are_not_identifiers(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    with pytest.raises(ValueError, match="identifier"):
        replace_table(con, "ml", "t; DROP TABLE x", pd.DataFrame({"a": [1]}))


def test_publish_parquet_writes_every_table_and_a_manifest(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA serving")
    con.execute("CREATE TABLE serving.a AS SELECT range AS i FROM range(5)")
    con.execute("CREATE TABLE serving.b AS SELECT 'x' AS s")
    out = tmp_path / "serving"
    counts = publish_parquet(con, ["a", "b", "not_built_yet"], out, run_id="r1")
    assert counts == {"a": 5, "b": 1}
    assert pq.read_table(out / "a.parquet").column("i").to_pylist() == [0, 1, 2, 3, 4]
    manifest = json.loads((out / "_published.json").read_text())
    assert manifest["run_id"] == "r1" and manifest["rows"] == {"a": 5, "b": 1}
    assert sorted(p.name for p in out.iterdir()) == ["_published.json", "a.parquet", "b.parquet",
                                                     "serving.duckdb"]  # no temp files
    # the DuckDB copy holds the same tables in a storage format older engines read
    copy = duckdb.connect(str(out / "serving.duckdb"), read_only=True)
    assert copy.execute("SELECT count(*) FROM a").fetchone() == (5,)
    assert copy.execute("SELECT s FROM b").fetchone() == ("x",)
    assert copy.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = 'serving'"
                        ).fetchone()[0].startswith("v1.4.0")
    copy.close()
    # republishing replaces the file
    con.execute("CREATE OR REPLACE TABLE serving.a AS SELECT 42 AS i")
    publish_parquet(con, ["a"], out, run_id="r2")
    assert pq.read_table(out / "a.parquet").column("i").to_pylist() == [42]


def test_fetch_frame_gives_the_frame_duckdb_df_gives(tmp_path):
    """Arrow hand-over, same frame: NULLs in integer and boolean columns become pandas' nullable dtypes,
    columns without NULLs stay NumPy, strings, doubles and timestamps as DuckDB's own conversion."""
    from orchestration.warehouse import fetch_frame

    con = duckdb.connect()
    con.execute("""CREATE TABLE t AS SELECT * FROM (VALUES
        ('a', 1, 10::INTEGER, true, 1.5, TIMESTAMP '2026-03-01 10:00', NULL::BOOLEAN),
        ('b', 2, NULL::INTEGER, NULL::BOOLEAN, NULL::DOUBLE, NULL::TIMESTAMP, NULL::BOOLEAN),
        (NULL, 3, 7::INTEGER, false, 2.0, TIMESTAMP '2026-03-02 11:30', true))
        AS v(k, n, days, flag, x, seen_at, maybe)""")
    sql = "SELECT * FROM t WHERE n >= ? ORDER BY n"
    got, expected = fetch_frame(con, sql, [1]), con.execute(sql, [1]).df()
    pd.testing.assert_frame_equal(got, expected)
    assert str(got["days"].dtype) == "Int32" and got["days"].isna().tolist() == [False, True, False]
    assert str(got["flag"].dtype) == "boolean" and str(got["n"].dtype) == "int32"
    assert fetch_frame(con, "SELECT n FROM t WHERE n > 5").empty
    # DECIMAL and HUGEINT (a sum of integers) come back as floats, as DuckDB's .df() gives them
    sql = "SELECT sum(n) AS total, CAST(sum(x) AS DECIMAL(10, 2)) AS amount FROM t"
    pd.testing.assert_frame_equal(fetch_frame(con, sql), con.execute(sql).df())
    assert fetch_frame(con, sql).iloc[0].tolist() == [6.0, 3.5]
