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


def test_history_is_published_one_as_of_at_a_time(tmp_path):
    """serving.subscriber_scores_history goes to a folder with one Parquet file per as_of; a publish writes
    only the as_of values that are new or changed (rows, run ids) and the latest one, in the Parquet
    folder and in the serving.duckdb copy (which starts from the previous copy); full=True rewrites all."""
    import os
    from datetime import datetime

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA serving")
    con.execute("CREATE TABLE serving.subscriber_scores_history (subscriber_key VARCHAR, as_of TIMESTAMP, "
                "churn_probability DOUBLE, run_id VARCHAR)")
    con.execute("CREATE TABLE serving.a AS SELECT 1 AS i")
    d1, d2 = datetime(2026, 10, 1, 23, 59, 59), datetime(2026, 10, 2, 23, 59, 59)
    insert = "INSERT INTO serving.subscriber_scores_history VALUES (?, ?, ?, ?)"
    con.executemany(insert, [["k1", d1, 0.1, "r1"], ["k2", d1, 0.2, "r1"]])
    out = tmp_path / "serving"
    out.mkdir()
    con.execute(f"COPY serving.a TO '{out / 'subscriber_scores_history.parquet'}' (FORMAT parquet)")
    tables = ["a", "subscriber_scores_history"]
    folder, f1, f2 = out / "subscriber_scores_history", "20261001T235959.parquet", "20261002T235959.parquet"

    def copy_rows():
        copy = duckdb.connect(str(out / "serving.duckdb"), read_only=True)
        try:
            return copy.execute("SELECT subscriber_key, as_of, churn_probability, run_id FROM subscriber_scores_history "
                                "ORDER BY as_of, subscriber_key").fetchall()
        finally:
            copy.close()

    def inode(name):
        return os.stat(folder / name).st_ino

    assert publish_parquet(con, tables, out, run_id="r1") == {"a": 1, "subscriber_scores_history": 2}
    assert sorted(p.name for p in folder.iterdir()) == [f1]
    assert not (out / "subscriber_scores_history.parquet").exists()  # the single file of older versions
    manifest = json.loads((out / "_published.json").read_text())
    assert manifest["partitions"] == {"subscriber_scores_history": {d1.isoformat(): [2, "r1", "r1"]}}
    assert copy_rows() == [("k1", d1, 0.1, "r1"), ("k2", d1, 0.2, "r1")]

    # day 2: its file is added, day 1's file is left as it was (same inode) and so is its copy
    # (a value changed in the copy by hand stays: the copy starts from the previous one)
    first = inode(f1)
    tamper = duckdb.connect(str(out / "serving.duckdb"))
    tamper.execute("UPDATE subscriber_scores_history SET churn_probability = 0.15 WHERE subscriber_key = 'k1'")
    tamper.close()
    con.executemany(insert, [["k1", d2, 0.3, "r2"], ["k2", d2, 0.4, "r2"], ["k3", d2, 0.5, "r2"]])
    assert publish_parquet(con, tables, out, run_id="r2")["subscriber_scores_history"] == 5
    assert sorted(p.name for p in folder.iterdir()) == [f1, f2] and inode(f1) == first
    assert pd.read_parquet(folder).sort_values(["as_of", "subscriber_key"])["churn_probability"].tolist() == \
        [0.1, 0.2, 0.3, 0.4, 0.5]
    assert copy_rows()[0] == ("k1", d1, 0.15, "r1") and len(copy_rows()) == 5
    copy = duckdb.connect(str(out / "serving.duckdb"), read_only=True)  # still the older storage format
    assert copy.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = 'serving'"
                        ).fetchone()[0].startswith("v1.4.0")
    copy.close()

    # a rerun of day 2 (its rows upserted by another run) rewrites day 2 only
    con.execute("UPDATE serving.subscriber_scores_history SET churn_probability = churn_probability + 0.01, "
                "run_id = 'r3' WHERE as_of = ?", [d2])
    publish_parquet(con, tables, out, run_id="r3")
    assert inode(f1) == first
    assert pq.read_table(folder / f2).column("run_id").to_pylist() == ["r3"] * 3
    assert [r[2] for r in copy_rows()] == pytest.approx([0.15, 0.2, 0.31, 0.41, 0.51])

    # an erasure (a row of day 1 deleted) changes day 1's count: day 1 is written again, here and in the copy
    con.execute("DELETE FROM serving.subscriber_scores_history WHERE subscriber_key = 'k2'")
    publish_parquet(con, tables, out, run_id="forget")
    assert pq.read_table(folder / f1).column("subscriber_key").to_pylist() == ["k1"]
    assert [(k, t, pytest.approx(p), r) for k, t, p, r in copy_rows()] == [
        ("k1", d1, 0.1, "r1"), ("k1", d2, 0.31, "r3"), ("k3", d2, 0.51, "r3")]

    # publishing other tables only leaves the folder and its record alone (so day 1 is not written again)
    first = inode(f1)
    publish_parquet(con, ["a"], out, run_id="other")
    assert json.loads((out / "_published.json").read_text())["partitions"]["subscriber_scores_history"] == {
        d1.isoformat(): [1, "r1", "r1"], d2.isoformat(): [2, "r3", "r3"]}
    publish_parquet(con, tables, out, run_id="r4")
    assert inode(f1) == first and pq.read_table(folder / f1).num_rows == 1
    # full=True writes every as_of; an as_of gone from the table loses its file and its copy rows
    second = inode(f2)
    con.execute("DELETE FROM serving.subscriber_scores_history WHERE as_of = ?", [d1])
    publish_parquet(con, tables, out, run_id="full", full=True)
    assert sorted(p.name for p in folder.iterdir()) == [f2] and inode(f2) != second
    assert [r[1] for r in copy_rows()] == [d2, d2]
    copy = duckdb.connect(str(out / "serving.duckdb"), read_only=True)
    assert copy.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = 'serving'"
                        ).fetchone()[0].startswith("v1.4.0")
    assert copy.execute("SELECT i FROM a").fetchall() == [(1,)]
    copy.close()
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]  # no temp files left
    # a previous copy that is not a DuckDB file is replaced by a new one, not an error
    (out / "serving.duckdb").write_bytes(b"not a database")
    publish_parquet(con, tables, out, run_id="after-damage")
    assert copy_rows() == [("k1", d2, pytest.approx(0.31), "r3"), ("k3", d2, pytest.approx(0.51), "r3")]
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
