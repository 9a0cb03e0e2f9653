"""What is in a store: reports by UTC day, by message type, by source, vessels by ship category, rejects by reason.

Counts are of stored rows (every receiver's copy) and, for positions, also of distinct transmissions after
multi-receiver copies are merged, so a user sees how much duplication the receivers produce.
"""

from __future__ import annotations

import polars as pl

from shadowfleet.identity import ship_type_category_expr
from shadowfleet.registry.identities import identity_history, read_static
from shadowfleet.store import Store, dedupe_reports


def stats(store: Store) -> dict[str, pl.DataFrame]:
    """Tables keyed by: by_day, by_msg_type, by_source, by_ship_category, rejects_by_reason, ingest_log."""
    pos = store.scan("positions").select("mmsi", "ts", "msg_type", "source", "dup_key", "n_receivers").collect()
    static = store.scan("static").select("mmsi", "ts", "msg_type", "source").collect()
    rejects = store.scan("rejects").select("ts", "reason", "source").collect()
    merged = dedupe_reports(pos.select("ts", "mmsi", "dup_key", "n_receivers")) if pos.height else pos

    def day(df: pl.DataFrame) -> pl.Expr:
        return pl.col("ts").dt.strftime("%Y-%m-%d").fill_null("unknown").alias("day")

    by_day = (
        pos.group_by(day(pos)).agg(pl.len().alias("positions_rows"), pl.col("mmsi").n_unique().alias("vessels"))
        .join(merged.group_by(day(merged)).agg(pl.len().alias("positions")), on="day", how="full", coalesce=True)
        .join(static.group_by(day(static)).agg(pl.len().alias("static_rows")), on="day", how="full", coalesce=True)
        .join(rejects.group_by(day(rejects)).agg(pl.len().alias("rejects")), on="day", how="full", coalesce=True)
        .with_columns(pl.exclude("day").fill_null(0).cast(pl.Int64))
        .select("day", "positions", "positions_rows", "vessels", "static_rows", "rejects")
        .sort("day")
    )
    by_msg_type = (
        pl.concat([pos.select("msg_type", "mmsi"), static.select("msg_type", "mmsi")])
        .group_by("msg_type").agg(pl.len().cast(pl.Int64).alias("rows"), pl.col("mmsi").n_unique().cast(pl.Int64).alias("vessels"))
        .sort("msg_type", nulls_last=True)
    )
    by_source = (
        pl.concat([pos.select("source", "mmsi").with_columns(pl.lit("positions").alias("table")),
                   static.select("source", "mmsi").with_columns(pl.lit("static").alias("table"))])
        .group_by("source", "table").agg(pl.len().cast(pl.Int64).alias("rows"), pl.col("mmsi").n_unique().cast(pl.Int64).alias("vessels"))
        .sort(["source", "table"], nulls_last=True)
    )
    history = identity_history(static=read_static(store))
    latest_type = history.sort(["mmsi", "last_seen"]).group_by("mmsi").agg(pl.col("ship_type").drop_nulls().last())
    with_pos = pos.select(pl.col("mmsi").unique()).join(latest_type, on="mmsi", how="full", coalesce=True)
    by_ship_category = (
        with_pos.with_columns(ship_type_category_expr("ship_type"))
        .group_by("ship_category").agg(pl.len().cast(pl.Int64).alias("vessels"))
        .sort(["vessels", "ship_category"], descending=[True, False])
    )
    rejects_by_reason = (
        rejects.group_by("reason").agg(pl.len().cast(pl.Int64).alias("rows"))
        .sort(["rows", "reason"], descending=[True, False])
    )
    return {
        "by_day": by_day,
        "by_msg_type": by_msg_type,
        "by_source": by_source,
        "by_ship_category": by_ship_category,
        "rejects_by_reason": rejects_by_reason,
        "ingest_log": store.ingest_log(),
    }
