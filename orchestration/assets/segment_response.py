"""How each segment responds to content, and which segments respond alike (segment similarity analysis).

Reads every subscriber's campaign history by content topic and offer type
(``marts.subscriber_affinity_features``: sends and clicked sends per value), summed per segment of the
current assignment in the read statement, and fits :class:`ml.segmentation.SegmentResponse` per
dimension at both levels: shrunk click rates per segment x value and the cosine similarity of the
segments' lift profiles. Writes ``ml.segment_content_response`` and ``ml.segment_similarity``
(published by the dbt serving models).
"""

import dagster as dg
import pandas as pd
from dagster_dbt import get_asset_key_for_model

from ml.segmentation import SegmentResponse
from orchestration.assets.dbt import mailsift_dbt_models
from orchestration.assets.ingestion import WAREHOUSE_POOL
from orchestration.assets.segmentation import ASSIGNMENTS
from orchestration.resources import WarehouseResource
from orchestration.serving import ML_SCHEMA, replace_table
from orchestration.warehouse import connect

AFFINITY = get_asset_key_for_model([mailsift_dbt_models], "subscriber_affinity_features")
DIMENSIONS = ("content_topic", "offer_type")
SIMILAR_PER_SEGMENT = 3


def read_history(warehouse_path) -> pd.DataFrame:
    """Campaign history summed per micro segment (and its macro segment) x dimension x value.

    The sum runs in the warehouse (one row per cell instead of one per subscriber x value: at 1M
    subscribers ~4k rows instead of ~10M); :class:`~ml.segmentation.SegmentResponse` sums its input
    per cell, so the figures are the same. ``subscribers`` counts the histories summed."""
    with connect(warehouse_path, read_only=True) as con:
        return con.execute(
            "SELECT a.macro_segment_id, a.micro_segment_id, f.dimension, f.value, "
            "CAST(sum(f.sends) AS BIGINT) AS sends, CAST(sum(f.clicks) AS BIGINT) AS clicks, "
            "CAST(count(*) AS BIGINT) AS subscribers "
            "FROM marts.subscriber_affinity_features f "
            "JOIN ml.segment_assignments a ON a.subscriber_key = f.subscriber_key "
            "WHERE f.dimension IN (?, ?) AND f.sends > 0 "
            "GROUP BY a.macro_segment_id, a.micro_segment_id, f.dimension, f.value "
            "ORDER BY a.micro_segment_id, f.dimension, f.value", list(DIMENSIONS)).df()


def response_tables(history: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per level and dimension: shrunk rates per segment x value, and each segment's most similar segments."""
    rates, similar = [], []
    for level, col in (("macro", "macro_segment_id"), ("micro", "micro_segment_id")):
        for dim in DIMENSIONS:
            h = history[history["dimension"] == dim]
            if h.empty:
                continue
            resp = SegmentResponse(item_col="value", segment_col=col).fit(h)
            r = resp.rates_.rename(columns={"item": "value", "rate": "click_rate_shrunk", "raw_rate": "click_rate"})
            r.insert(1, "level", level)
            r.insert(2, "dimension", dim)
            r["prior_strength"] = resp.prior_strength_
            rates.append(r)
            for sid in resp.similarity_.index:
                top = resp.most_similar(sid, SIMILAR_PER_SEGMENT)
                similar += [{"segment_id": sid, "level": level, "dimension": dim, "similar_segment_id": other,
                             "rank": rank, "similarity": float(sim)}
                            for rank, (other, sim) in enumerate(top.items(), start=1)]
    cols_r = ["segment_id", "level", "dimension", "value", "sends", "clicks", "click_rate", "click_rate_shrunk",
              "lift", "prior_strength"]
    cols_s = ["segment_id", "level", "dimension", "similar_segment_id", "rank", "similarity"]
    return (pd.concat(rates, ignore_index=True)[cols_r] if rates else pd.DataFrame(columns=cols_r),
            pd.DataFrame(similar, columns=cols_s))


@dg.multi_asset(
    specs=[dg.AssetSpec(["ml", "segment_content_response"], group_name="segmentation", deps=[ASSIGNMENTS, AFFINITY],
                        description="Shrunk click rate per segment x content topic / offer type from campaign history."),
           dg.AssetSpec(["ml", "segment_similarity"], group_name="segmentation", deps=[ASSIGNMENTS, AFFINITY],
                        description="For every segment, the segments whose response to content is most alike.")],
    pool=WAREHOUSE_POOL, name="segment_response")
def segment_response(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    history = read_history(warehouse.settings().warehouse)
    rates, similar = response_tables(history)
    with warehouse.connection() as con:
        replace_table(con, ML_SCHEMA, "segment_content_response", rates)
        replace_table(con, ML_SCHEMA, "segment_similarity", similar)
    context.log.info(f"Content response: {len(rates):,} segment x value cells from "
                     f"{int(history['subscribers'].sum()):,} subscriber x value histories; "
                     f"{len(similar):,} similarity links")
    yield dg.MaterializeResult(asset_key=["ml", "segment_content_response"], metadata={"rows": len(rates)})
    yield dg.MaterializeResult(asset_key=["ml", "segment_similarity"], metadata={"rows": len(similar)})
