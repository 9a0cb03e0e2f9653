"""Reception consistency: a position a shore receiver heard far beyond its reach cannot be where the ship was.

A VHF shore station hears ships within a few tens of nautical miles (IALA, ITU-R M.1371: 20-40 nm typical). Each
receiver (tag block `s:`, DMA `si:`) is placed at the middle (median latitude and longitude) of what it hears and
its reach is learned as a high quantile of the distances from there; or receivers come from a file
(receiver, lat, lon, range_km). A position heard by that receiver more than max(range_factor x reach,
range_min_km) from it is flagged with the receiver and the distance. Receivers whose learned reach is that of a
satellite, and type-27 long-range reports, are exempt.
"""

from __future__ import annotations

import polars as pl

from shadowfleet.events.config import SpoofingConfig
from shadowfleet.events.transforms.common import empty_events, haversine_km, to_events, with_run_id

RECEIVER_COLUMNS = {"receiver": pl.Utf8, "lat": pl.Float64, "lon": pl.Float64, "range_km": pl.Float64}


def learn_receivers(p: pl.DataFrame, cfg: SpoofingConfig = SpoofingConfig()) -> pl.DataFrame:
    """Shore receivers as the positions they hear place them: receiver, lat, lon (middle of what it hears),
    range_km (its learned reach), n_reports, satellite (reach beyond satellite_km)."""
    if "receiver" not in p.columns or p.height == 0:
        return pl.DataFrame(schema={**RECEIVER_COLUMNS, "n_reports": pl.UInt32, "satellite": pl.Boolean})
    heard = p.filter(pl.col("receiver").is_not_null())
    if "msg_type" in heard.columns:
        heard = heard.filter(pl.col("msg_type").fill_null(0) != 27)
    mid = heard.group_by("receiver").agg(pl.col("lat").median().alias("_rlat"), pl.col("lon").median().alias("_rlon"),
                                         pl.len().alias("n_reports"))
    reach = (
        heard.join(mid, on="receiver")
        .with_columns(haversine_km(pl.col("lat"), pl.col("lon"), pl.col("_rlat"), pl.col("_rlon")).alias("_km"))
        .group_by("receiver").agg(pl.col("_km").quantile(cfg.range_quantile).alias("range_km"))
    )
    return (
        mid.join(reach, on="receiver")
        .select("receiver", pl.col("_rlat").alias("lat"), pl.col("_rlon").alias("lon"), "range_km", "n_reports",
                (pl.col("range_km") > cfg.satellite_km).alias("satellite"))
        .sort("receiver")
    )


def out_of_range(p: pl.DataFrame, cfg: SpoofingConfig, receivers: pl.DataFrame | None = None) -> pl.DataFrame:
    if "receiver" not in p.columns or p.height == 0:
        return empty_events()
    if receivers is None:
        rx = learn_receivers(p, cfg).filter(~pl.col("satellite") & (pl.col("n_reports") >= cfg.range_min_reports))
        limit = pl.max_horizontal(pl.col("range_km") * cfg.range_factor, pl.lit(cfg.range_min_km))
    else:
        rx = receivers.select(list(RECEIVER_COLUMNS)).cast(RECEIVER_COLUMNS)
        limit = pl.col("range_km")
    rx = rx.select("receiver", pl.col("lat").alias("_rlat"), pl.col("lon").alias("_rlon"), limit.alias("_limit"))
    if rx.height == 0:
        return empty_events()
    # only reports a checked shore receiver heard: a satellite's between them neither breaks nor makes a run
    t = p.join(rx, on="receiver", how="inner", maintain_order="left").with_columns(
        haversine_km(pl.col("lat"), pl.col("lon"), pl.col("_rlat"), pl.col("_rlon")).alias("_km"))
    if "msg_type" in t.columns:
        t = t.filter(pl.col("msg_type").fill_null(0) != 27)
    t = t.filter((pl.col("_km") > pl.col("_limit")).fill_null(False)).sort(["mmsi", "ts"])
    # far reports of one MMSI less than silence_h apart are one incident (other receivers hear it in between)
    gap = (pl.col("ts") - pl.col("ts").shift(1)) > pl.duration(seconds=int(cfg.silence_h * 3600))
    t = with_run_id(t, gap | (pl.col("mmsi") != pl.col("mmsi").shift(1)))
    runs = (
        t.group_by("run", maintain_order=True)
        .agg(pl.col("mmsi").first(), pl.col("ts").min().alias("start"), pl.col("ts").max().alias("end"),
             pl.col("lat").mean(), pl.col("lon").mean(), pl.len().alias("n_positions"),
             pl.col("receiver").mode().first(), pl.col("_km").max().round(0).alias("distance_km"),
             pl.col("_limit").first().round(0).alias("range_km"))
        .with_columns(pl.lit("out_of_range").alias("kind"),
                      pl.lit("positions heard by a shore receiver farther away than it can hear").alias("explanation"))
    )
    return to_events(runs, "spoofing", ["kind", "n_positions", "explanation", "receiver", "distance_km", "range_km"])
