"""Grid spoofing: positions snapped to a lattice of any spacing and origin, tested against the null of real tracks
(whose coordinates share no spacing coarser than a feed's rounding)."""

import dataclasses
import json

import numpy as np
import polars as pl
import pytest

from shared_data import shared_file
from test_spoofing_classes import detect, details, line, rows
from shadowfleet.events.config import SpoofingConfig
from shadowfleet.events.transforms.patterns import _UNITS_PER_DEG, _moving, lattice_windows

RNG = np.random.default_rng(7)


def lattice_walk(n, spacing, origin, off_share=0.0, rng=RNG):
    """A walk from node to neighbouring node of an 8 x 8 lattice (the way a spoofing device might move a false
    position), with a share of positions off the lattice."""
    steps = rng.integers(-1, 2, size=(n, 2))
    steps[np.all(steps == 0, axis=1)] = (1, 0)
    ij = np.abs((np.cumsum(steps, axis=0) + 7) % 14 - 7)  # reflected at the box's sides
    lat, lon = origin[0] + ij[:, 0] * spacing, origin[1] + ij[:, 1] * spacing
    off = rng.random(n) < off_share
    lat[off] += rng.uniform(0.1, 0.9, off.sum()) * spacing
    return lat, lon


def grids(ev):
    return [d for d in details(ev) if d.get("pattern") == "grid"]


def test_a_walk_on_a_lattice_of_unusual_spacing_and_origin_is_a_grid_with_its_spacing():
    lat, lon = lattice_walk(40, 0.0075, (42.00123, 132.00457), off_share=0.15)
    [d] = grids(detect(rows(273000301, np.arange(40) * 4.0, lat, lon, 6.0)))
    assert d["spacing_lat_deg"] == 0.0075 and d["spacing_lon_deg"] == 0.0075 and d["null_p"] < 1e-6


def test_positions_on_a_one_minute_lattice_are_a_grid():
    ij = RNG.integers(0, 10, size=(30, 2))
    lat, lon = 41.5 + ij[:, 0] / 60, 131.5 + ij[:, 1] / 60
    [d] = grids(detect(rows(273000302, np.arange(30) * 5.0, lat, lon, 8.0)))
    assert d["spacing_lat_deg"] == round(1 / 60, 6)


def test_a_straight_passage_at_a_steady_rate_is_not_a_grid():
    # evenly spaced reports on one line are a lattice of their own step: spread over no area
    assert grids(detect(line(273000303, 0, 170, (42.0, 132.0), (42.3, 132.5)))) == []


def test_a_search_pattern_rounded_by_a_coarse_feed_is_not_a_grid():
    # a ship sweeping an area in legs 1 km apart, its positions given to 3 decimals (110 m) by the feed
    t = np.arange(0, 170, 1.0)
    leg = (t // 20).astype(int)
    x = np.where(leg % 2 == 0, t % 20, 20 - t % 20) * 0.0045
    lat = np.round(42.0 + leg * 0.009 + RNG.normal(0, 0.00005, len(t)), 3)
    lon = np.round(132.0 + x + RNG.normal(0, 0.00005, len(t)), 3)
    assert grids(detect(rows(273000304, t, lat, lon, 8.0))) == []


def _windows(t, cfg):
    t = t.with_columns((pl.col("ts").dt.epoch("us") // int(cfg.pattern_window_h * 3.6e9)).alias("_win"))
    w = t.filter(_moving(t) & pl.col("lat").is_finite() & pl.col("lon").is_finite()).with_columns(
        (pl.col("lat") * _UNITS_PER_DEG).round(0).cast(pl.Int64).alias("_ua"),
        (pl.col("lon") * _UNITS_PER_DEG).round(0).cast(pl.Int64).alias("_uo"))
    return lattice_windows(w, dataclasses.replace(cfg, grid_min_spacing_deg=0.0), ["mmsi", "_win"])


@pytest.mark.parametrize("name", ["412331088", "477293900"])
def test_real_tracks_are_the_null_no_window_comes_near_a_grid(name):
    """The null on real tracks (GFW gpsdio-segment regression cases: days of Pacific fishing, an ocean crossing):
    with no floor on the spacing at all, no 3-hour window of >= 12 distinct positions has a lattice share near
    grid_min_share or a null probability near grid_max_null_p."""
    path = shared_file(f"gfw_segmenter/gfw_gpsdio-segment_regr_{name}.json")
    recs = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    t = pl.DataFrame([{k: r.get(k) for k in ("ssvid", "timestamp", "lat", "lon", "speed")} for r in recs],
                     infer_schema_length=None).select(
        pl.col("ssvid").cast(pl.Int64).alias("mmsi"),
        pl.col("timestamp").str.to_datetime(time_zone="UTC").dt.cast_time_unit("us").alias("ts"),
        pl.col("lat").cast(pl.Float64), pl.col("lon").cast(pl.Float64), pl.col("speed").cast(pl.Float32).alias("sog"),
    ).filter(pl.col("lat").is_not_null() & pl.col("lat").is_not_nan())
    cfg = SpoofingConfig()
    w = _windows(t, cfg)
    assert w.height >= 20
    # spacings finer than a feed's rounding hold every position of it
    q = cfg.grid_null_quantum_deg * _UNITS_PER_DEG
    coarse = w.filter((pl.col("_s_ua") > q) & (pl.col("_s_uo") > q))
    assert (coarse["_k"] / coarse["_n"]).max() < cfg.grid_min_share / 2
    assert w["null_p"].min() > 1e3 * cfg.grid_max_null_p
