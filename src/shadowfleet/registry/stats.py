"""What is in a store: reports by UTC day, by message type, by source, vessels by ship category, rejects by reason.

Counts are of stored rows (every receiver's copy) and, for positions, also of distinct transmissions after
multi-receiver copies are merged, so a user sees how much duplication the receivers produce.
"""

from __future__ import annotations

import polars as pl

from shadowfleet.identity import ship_type_category_expr
from shadowfleet.registry.identities import identity_history, read_static
from shadowfleet.store import mark_first_copies
from shadowfleet.store import Store


def stats(store: Store) -> dict[str, pl.DataFrame]:
    """Tables keyed by: by_day, by_msg_type, by_source, by_ship_category, rejects_by_reason, ingest_log."""
    # lazy scans with only the columns each count needs: the positions table is the big one
    pos = store.scan("positions")
    static = store.scan("static")
    rejects = store.scan("rejects")
    day = pl.col("ts").dt.strftime("%Y-%m-%d").fill_null("unknown").alias("day")
    merged = mark_first_copies(pos.select("ts", "dup_key")).filter(pl.col("first_copy"))

    pos_day, merged_day, static_day, rejects_day, pos_type, static_type, pos_src, static_src, reasons, pos_mmsi = (
        pl.collect_all([
            pos.group_by(day).agg(pl.len().alias("positions_rows"), pl.col("mmsi").n_unique().alias("vessels")),
            merged.group_by(day).agg(pl.len().alias("positions")),
            static.group_by(day).agg(pl.len().alias("static_rows")),
            rejects.group_by(day).agg(pl.len().alias("rejects")),
            pos.group_by("msg_type").agg(pl.len().alias("rows"), pl.col("mmsi").unique().alias("m")),
            static.group_by("msg_type").agg(pl.len().alias("rows"), pl.col("mmsi").unique().alias("m")),
            pos.group_by("source").agg(pl.len().alias("rows"), pl.col("mmsi").n_unique().alias("vessels")),
            static.group_by("source").agg(pl.len().alias("rows"), pl.col("mmsi").n_unique().alias("vessels")),
            rejects.group_by("reason").agg(pl.len().alias("rows")),
            pos.select(pl.col("mmsi").unique()),
        ])
    )
    by_day = (
        pos_day.join(merged_day, on="day", how="full", coalesce=True)
        .join(static_day, on="day", how="full", coalesce=True)
        .join(rejects_day, on="day", how="full", coalesce=True)
        .with_columns(pl.exclude("day").fill_null(0).cast(pl.Int64))
        .select("day", "positions", "positions_rows", "vessels", "static_rows", "rejects")
        .sort("day")
    )
    # a message type can be in both tables only in theory; merge by type, counting distinct vessels once
    types = pl.concat([pos_type, static_type])
    by_msg_type = (
        types.group_by("msg_type").agg(pl.col("rows").sum().cast(pl.Int64))
        .join(types.explode("m").group_by("msg_type").agg(pl.col("m").drop_nulls().n_unique().cast(pl.Int64).alias("vessels")),
              on="msg_type", how="left", nulls_equal=True)
        .sort("msg_type", nulls_last=True)
    )
    by_source = (
        pl.concat([pos_src.with_columns(pl.lit("positions").alias("table")),
                   static_src.with_columns(pl.lit("static").alias("table"))])
        .select("source", "table", pl.col("rows").cast(pl.Int64), pl.col("vessels").cast(pl.Int64))
        .sort(["source", "table"], nulls_last=True)
    )
    history = identity_history(static=read_static(store))
    latest_type = history.sort(["mmsi", "last_seen"]).group_by("mmsi").agg(pl.col("ship_type").drop_nulls().last())
    with_pos = pos_mmsi.join(latest_type, on="mmsi", how="full", coalesce=True)
    by_ship_category = (
        with_pos.with_columns(ship_type_category_expr("ship_type"))
        .group_by("ship_category").agg(pl.len().cast(pl.Int64).alias("vessels"))
        .sort(["vessels", "ship_category"], descending=[True, False])
    )
    rejects_by_reason = reasons.with_columns(pl.col("rows").cast(pl.Int64)).sort(
        ["rows", "reason"], descending=[True, False]
    )
    return {
        "by_day": by_day,
        "by_msg_type": by_msg_type,
        "by_source": by_source,
        "by_ship_category": by_ship_category,
        "rejects_by_reason": rejects_by_reason,
        "ingest_log": store.ingest_log(),
    }
