"""Track preparation and the segmentation rules on synthetic tracks with known answers."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import numpy as np
import polars as pl
import pytest

from shadowfleet.errors import ShadowfleetError
from shadowfleet.places import destination_point
from shadowfleet.tracks import TracksConfig, prepare, segment_all, segment_track, tracks_config

T0 = datetime(2024, 3, 7, tzinfo=timezone.utc)


def steaming(mmsi: int, n: int, start=(42.0, 132.0), sog=10.0, cog=225.0, every_s=120, t0=T0) -> pl.DataFrame:
    """A ship steaming straight at `sog` knots, one report every `every_s` seconds."""
    secs = np.arange(n) * every_s
    la, lo = destination_point(start[0], start[1], cog, sog * 1.852 * secs / 3600)
    return pl.DataFrame(
        {
            "mmsi": np.full(n, mmsi, dtype=np.int64),
            "ts": [t0 + timedelta(seconds=int(s)) for s in secs],
            "lat": la,
            "lon": lo,
            "sog": np.full(n, sog, dtype=np.float32),
            "cog": np.full(n, cog, dtype=np.float32),
        },
        schema_overrides={"ts": pl.Datetime("us", "UTC")},
    )


def test_spoofed_positions_never_join_the_real_track():
    ship = steaming(445100000, 300)
    # every 10th report is a spoofed position 200 nm away, itself a plausible "ship" (so it forms a segment)
    spoof_idx = np.arange(5, 300, 10)
    la, lo = destination_point(ship["lat"].to_numpy()[spoof_idx], ship["lon"].to_numpy()[spoof_idx], 90.0, 370.0)
    spoof = ship[spoof_idx].with_columns(pl.Series("lat", la), pl.Series("lon", lo), pl.col("ts") + timedelta(seconds=30))
    df = pl.concat([ship.with_columns(pl.lit(False).alias("fake")), spoof.with_columns(pl.lit(True).alias("fake"))])
    out = segment_track(df.sort("ts"))
    real = out.filter(~pl.col("fake"))["segment"]
    fake = out.filter(pl.col("fake"))["segment"]
    assert real.n_unique() == 1 and real.null_count() == 0
    assert real[0] not in set(fake.drop_nulls())
    assert real[0] == "445100000-1"


def test_isolated_fixes_are_noise():
    ship = steaming(445100001, 100)
    # two single jumps to a far place: each opens a 1-point segment, which is noise
    bad = ship[[20, 60]].with_columns(pl.col("lat") + 5.0, pl.col("ts") + timedelta(seconds=10))
    out = segment_track(pl.concat([ship, bad]).sort("ts"))
    assert out.filter(pl.col("lat") > 40)["segment"].null_count() == 2
    assert out["segment"].drop_nulls().n_unique() == 1


def test_gap_over_max_hours_starts_a_new_segment():
    a = steaming(445100002, 50, sog=0.0)
    b = steaming(445100002, 50, sog=0.0, t0=T0 + timedelta(hours=30))
    out = segment_track(pl.concat([a, b]))
    assert out["segment"].unique(maintain_order=True).to_list() == ["445100002-1", "445100002-2"]
    out = segment_track(pl.concat([a, b]), TracksConfig(max_gap_h=48))
    assert out["segment"].n_unique() == 1


def test_long_range_report_keeps_a_quiet_segment_open_without_joining_it():
    a = steaming(445100003, 20, sog=0.0)
    heard = steaming(445100003, 1, sog=0.0, t0=T0 + timedelta(hours=20)).with_columns(pl.lit(27, pl.Int8).alias("msg_type"))
    b = steaming(445100003, 20, sog=0.0, t0=T0 + timedelta(hours=40))
    df = pl.concat([a.with_columns(pl.lit(1, pl.Int8).alias("msg_type")), heard,
                    b.with_columns(pl.lit(1, pl.Int8).alias("msg_type"))])
    out = segment_track(df)
    assert out.filter(pl.col("msg_type") == 27)["segment"].to_list() == [None]
    assert out["segment"].drop_nulls().n_unique() == 1


def test_invalid_positions_get_no_segment_and_do_not_break_the_track():
    ship = steaming(445100004, 30)
    ship = ship.with_columns(
        pl.when(pl.int_range(pl.len()) == 10).then(None).otherwise(pl.col("lat")).alias("lat"),
        pl.when(pl.int_range(pl.len()) == 11).then(181.0).otherwise(pl.col("lon")).alias("lon"),
    )
    out = segment_track(ship)
    assert out["segment"].null_count() == 2 and out["segment"].drop_nulls().n_unique() == 1


def test_segment_track_takes_one_mmsi_and_needs_positions():
    two = pl.concat([steaming(1, 5), steaming(2, 5)])
    with pytest.raises(ShadowfleetError, match="one MMSI"):
        segment_track(two)
    with pytest.raises(ShadowfleetError, match="lack column"):
        segment_track(steaming(1, 5).drop("lat"))
    empty = segment_track(steaming(1, 5).head(0))
    assert empty.height == 0 and empty.schema["segment"] == pl.Utf8


def test_segment_all_splits_every_mmsi_and_keeps_all_rows():
    a, b = steaming(273100000, 40), steaming(445100005, 40, start=(41.0, 130.0))
    shuffled = pl.concat([a, b]).sample(fraction=1.0, shuffle=True, seed=3)
    out = segment_all(shuffled)
    assert out.height == 80
    assert out.select(["mmsi", "ts"]).equals(out.sort(["mmsi", "ts"]).select(["mmsi", "ts"]))
    assert sorted(out["segment"].unique()) == ["273100000-1", "445100005-1"]


def test_prepare_sorts_drops_repeats_and_counts_what_it_drops():
    a = steaming(445100006, 10)
    df = pl.concat([a[5:], a[:5], a[:3]])  # out of order, three exact repeats
    df = pl.concat([df, a[:1].with_columns(pl.lit(91.0).alias("lat")), a[:1].with_columns(pl.lit(None, pl.Datetime("us", "UTC")).alias("ts"))])
    counts: dict[str, int] = {}
    out = prepare(df, counts)
    assert out.height == 10 and out["ts"].is_sorted()
    assert counts == {"missing_mmsi_or_time": 1, "invalid_position": 1, "duplicate": 3}


def test_thresholds_come_from_toml_overrides():
    cfg = tracks_config({"tracks": {"max_speed_kn": 30.0}})
    assert cfg.max_speed_kn == 30.0 and cfg.max_gap_h == 24.0
    with pytest.raises(ShadowfleetError, match="unknown setting"):
        tracks_config({"tracks": {"max_knots": 30}})


def test_segmentation_speed_on_a_long_track():
    ship = steaming(445100007, 200_000, every_s=10)
    t = time.perf_counter()
    out = segment_track(ship)
    elapsed = time.perf_counter() - t
    assert out["segment"].n_unique() == 1
    # measured ~1 s for 200k points on this machine (shared cores): keep a wide margin
    assert elapsed < 8, f"{elapsed:.1f}s"


def test_rows_without_time_get_no_segment():
    ship = steaming(445100008, 10).with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(pl.col("ts")).alias("ts")
    )
    out = segment_track(ship)
    assert out.height == 10 and out["segment"].null_count() == 1
    assert out.filter(pl.col("ts").is_null())["segment"].to_list() == [None]


def test_kernel_takes_an_arrow_partition_and_returns_arrow():
    import pyarrow as pa

    ship = steaming(445100009, 20)
    out = segment_track(ship.to_arrow())
    assert isinstance(out, pa.Table)
    assert pl.from_arrow(out).equals(segment_track(ship))


def test_two_ships_sharing_an_mmsi_30_nm_apart_make_two_tracks():
    # both report every minute, alternately, under one MMSI (identity cloning)
    a = steaming(445100010, 240, start=(41.5, 130.0), sog=11.0, cog=200.0, every_s=60)
    b = steaming(445100010, 240, start=(41.5, 130.67), sog=9.0, cog=200.0, every_s=60, t0=T0 + timedelta(seconds=30))
    df = pl.concat([a.with_columns(pl.lit("a").alias("ship")), b.with_columns(pl.lit("b").alias("ship"))]).sort("ts")
    out = segment_track(df)
    per_ship = out.group_by("ship").agg(pl.col("segment").n_unique().alias("n"), pl.col("segment").first())
    assert per_ship["n"].to_list() == [1, 1]
    assert per_ship["segment"].n_unique() == 2 and out["segment"].null_count() == 0
