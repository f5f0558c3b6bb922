"""The segment response asset's read: campaign history summed per segment in the warehouse.

A hand-made warehouse: three subscribers in two micro segments of one macro segment, and one more
subscriber without an assignment (not counted anywhere).
"""

from __future__ import annotations

import duckdb
import pandas as pd

# subscriber_key, dimension, value, sends, clicks
HISTORY = [
    ("k1", "content_topic", "home", 10, 2),
    ("k2", "content_topic", "home", 5, 1),
    ("k3", "content_topic", "home", 4, 0),
    ("k1", "offer_type", "discount", 6, 3),
    ("k2", "offer_type", "discount", 0, 0),  # no sends: left out
    ("k3", "offer_type", "discount", 8, 1),
    ("k1", "category", "books", 3, 3),  # another dimension: left out
    ("k9", "content_topic", "home", 100, 50),  # not assigned: left out
]
ASSIGNED = [("k1", "M01", "M01-01"), ("k2", "M01", "M01-01"), ("k3", "M01", "M01-02")]


def _warehouse(path):
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts; CREATE SCHEMA ml")
    con.execute("CREATE TABLE marts.subscriber_affinity_features (subscriber_key VARCHAR, dimension VARCHAR, "
                "value VARCHAR, sends BIGINT, clicks BIGINT)")
    con.executemany("INSERT INTO marts.subscriber_affinity_features VALUES (?, ?, ?, ?, ?)", HISTORY)
    con.execute("CREATE TABLE ml.segment_assignments (subscriber_key VARCHAR, macro_segment_id VARCHAR, "
                "micro_segment_id VARCHAR)")
    con.executemany("INSERT INTO ml.segment_assignments VALUES (?, ?, ?)", ASSIGNED)
    con.close()
    return path


def test_history_is_summed_per_micro_segment_and_value(tmp_path, dbt_manifest):
    from orchestration.assets.segment_response import read_history  # the asset module needs the manifest

    hist = read_history(_warehouse(tmp_path / "w.duckdb"))
    got = {(r.micro_segment_id, r.dimension, r.value): (r.macro_segment_id, r.sends, r.clicks, r.subscribers)
           for r in hist.itertuples()}
    assert got == {("M01-01", "content_topic", "home"): ("M01", 15, 3, 2),
                   ("M01-02", "content_topic", "home"): ("M01", 4, 0, 1),
                   ("M01-01", "offer_type", "discount"): ("M01", 6, 3, 1),
                   ("M01-02", "offer_type", "discount"): ("M01", 8, 1, 1)}


def test_summed_history_gives_the_same_tables_as_one_row_per_subscriber(tmp_path, dbt_manifest):
    from orchestration.assets.segment_response import read_history, response_tables

    summed = read_history(_warehouse(tmp_path / "w.duckdb"))
    rows = pd.DataFrame(HISTORY, columns=["subscriber_key", "dimension", "value", "sends", "clicks"])
    rows = rows[rows["dimension"].isin(["content_topic", "offer_type"]) & (rows["sends"] > 0)]
    per_subscriber = rows.merge(pd.DataFrame(ASSIGNED, columns=["subscriber_key", "macro_segment_id",
                                                                 "micro_segment_id"]), on="subscriber_key")
    rates_a, similar_a = response_tables(summed)
    rates_b, similar_b = response_tables(per_subscriber)
    pd.testing.assert_frame_equal(rates_a, rates_b, check_dtype=False)
    pd.testing.assert_frame_equal(similar_a, similar_b, check_dtype=False)
    macro = rates_a[(rates_a["level"] == "macro") & (rates_a["value"] == "home")].iloc[0]
    assert (macro["sends"], macro["clicks"], macro["click_rate"]) == (19, 3, 3 / 19)
