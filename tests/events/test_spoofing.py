"""Spoofing: positions on land, impossible jumps, one MMSI in two places (real GFW case)."""

import json

import polars as pl
import pytest

from shared_data import shared_file
from helpers import SEA, places, sail, still, track
from shadowfleet.events.transforms.spoofing import find_spoofing

P = places()


def kinds(ev):
    return [json.loads(d)["kind"] for d in ev["details"]]


def test_an_unallocated_mid_is_not_a_spoofing_event():
    # identity, not position: the registry shows it as the vessel's red flag
    assert find_spoofing(track(217000001, still(0, 60, *SEA, every=10)), places=P).height == 0
    assert find_spoofing(track(445123456, still(0, 60, *SEA, every=10)), places=P).height == 0  # 445 = DPRK


def test_jump_onto_land_is_flagged_as_one_event():
    sea = still(0, 60, *SEA, every=10)
    inland = [(t, 43.8, 133.0, 10.0) for t in range(70, 121, 10)]  # ~180 km inland (Primorye) 10 min later
    tr = track(273000002, sea + inland + still(130, 200, *SEA, every=10))
    ev = find_spoofing(tr, places=P)
    assert kinds(ev) == ["on_land"]
    d = json.loads(ev["details"][0])
    assert d["n_positions"] == 6 and d["entered"] is True and d["left"] is True


def test_a_smooth_track_deep_inland_for_hours_is_on_land_without_any_jump():
    ev = find_spoofing(track(273000002, sail(0, 240, (43.9, 132.6), (43.7, 133.3), every=5)), places=P)
    assert kinds(ev) == ["on_land"] and json.loads(ev["details"][0])["inland"] is True


def test_ships_in_a_sea_canal_or_a_narrow_harbour_for_hours_are_not_on_land():
    kiel = sail(0, 300, (54.36, 9.95), (54.30, 9.67), every=5, sog=6.0)  # Kiel Canal by Rendsburg
    suez = sail(0, 300, (30.9, 32.32), (30.58, 32.30), every=5, sog=7.0)  # Suez Canal to Ismailia
    harbour = still(0, 600, 42.80, 132.885, every=5)  # Nakhodka inner harbour, moored
    for i, pts in enumerate((kiel, suez, harbour)):
        assert find_spoofing(track(273000010 + i, pts)).height == 0, i


def test_real_inland_waterways_are_not_spoofing(tmp_path):
    """DMA sample (Kiel Canal, Limfjord, Danish harbours): ships the land mask puts on land are not spoofing."""
    from shadowfleet.ingest import ingest
    from shadowfleet.store import Store
    from shadowfleet.tracks import prepare, segment_all

    path = shared_file("ais/dma_aisabnormal_ais-sample_20131112.txt.gz")
    st = Store(tmp_path / "s")
    ingest(path, st)
    seg = segment_all(prepare(st.read("positions")))
    ev = find_spoofing(seg, places=P)
    assert "on_land" not in kinds(ev)


def test_position_at_sea_is_not_on_land():
    assert find_spoofing(track(273000002, still(0, 100, *SEA, every=10)), places=P).height == 0


def test_isolated_far_position_flagged_as_noise_is_an_impossible_jump():
    tr = track(273000001, sail(0, 600, SEA, (42.6, 133.0)))
    jump = pl.arange(0, tr.height) == 20
    tr = tr.with_columns(
        pl.when(jump).then(None).otherwise(pl.col("segment")).alias("segment"),
        pl.when(jump).then(pl.col("lat") - 0.5).otherwise(pl.col("lat")).alias("lat"),  # 55 km south, at sea
    )
    ev = find_spoofing(tr, places=P)
    assert kinds(ev) == ["impossible_jump"]
    assert abs(json.loads(ev["details"][0])["jump_km"] - 55) < 2


def test_noise_close_to_the_track_is_not_a_jump():
    tr = track(273000001, sail(0, 600, SEA, (42.6, 133.0)))
    tr = tr.with_columns(pl.when(pl.arange(0, tr.height) == 20).then(None).otherwise(pl.col("segment")).alias("segment"))
    assert find_spoofing(tr, places=P).height == 0


def test_one_mmsi_on_two_sides_of_the_world_is_two_places():
    """GFW gpsdio-segment regression case 412331088: one MMSI shared by two fishing vessels."""
    path = shared_file("gfw_segmenter/gfw_gpsdio-segment_regr_412331088.json")
    keys = ("ssvid", "timestamp", "lat", "lon", "speed", "expected")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]  # has NaN: not strict JSON
    raw = pl.DataFrame([{k: r.get(k) for k in keys} for r in rows], infer_schema_length=None)
    tr = raw.select(
        pl.col("ssvid").cast(pl.Int64).alias("mmsi"),
        pl.col("timestamp").str.to_datetime(time_zone="UTC").dt.cast_time_unit("us").alias("ts"),
        pl.col("lat").cast(pl.Float64), pl.col("lon").cast(pl.Float64),
        pl.col("speed").cast(pl.Float32).alias("sog"),
        pl.col("expected").cast(pl.Utf8).alias("segment"),  # GFW's own segmentation of it
    ).filter(pl.col("lat").is_not_null())
    ev = find_spoofing(tr, places=P)
    two = ev.filter(pl.col("details").str.contains('"kind":"two_places"'))
    assert two.height >= 1
    assert json.loads(two["details"][0])["distance_km"] > 5000


def test_false_position_broadcast_for_hours_is_a_spliced_middle_stretch():
    # sailing, then "at anchor" 30 km away for 10 h (one segment or not), then back on the true track
    true_a = sail(0, 120, SEA, (42.4, 132.7))
    fake = still(125, 725, 42.2, 132.9, every=5)
    true_b = sail(730, 850, (42.45, 132.75), (42.6, 133.0))
    ev = find_spoofing(track(273000001, true_a + fake + true_b), places=P)
    assert kinds(ev) == ["spliced_track"]
    assert (ev["end"][0] - ev["start"][0]).total_seconds() == 600 * 60
    d = json.loads(ev["details"][0])
    assert d["position"] == "middle" and d["speed_in_kn"] > 25 and d["speed_out_kn"] > 25
    assert (d["unobserved_from"], d["unobserved_to"]) == ("2024-03-07T02:00:00Z", "2024-03-07T12:10:00Z")


def test_real_tracks_give_no_false_tracks(tmp_path):
    from shadowfleet.ingest import ingest
    from shadowfleet.store import Store
    from shadowfleet.tracks import prepare, segment_all

    st = Store(tmp_path / "s")
    ingest(shared_file("ais/dma_aisabnormal_538004030_drift_20140928.ais"), st)
    seg = segment_all(prepare(st.read("positions")))
    assert find_spoofing(seg, places=P).height == 0


def test_a_real_ocean_crossing_with_a_gps_glitch_is_not_spoofing():
    """GFW gpsdio-segment regression case 477293900: CSCL SUMMER across the North Pacific (one fix 3-4 km off)."""
    from shadowfleet.tracks import prepare, segment_all

    path = shared_file("gfw_segmenter/gfw_gpsdio-segment_regr_477293900.json")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    raw = pl.DataFrame([{k: r.get(k) for k in ("ssvid", "timestamp", "lat", "lon", "speed", "course")} for r in rows],
                       infer_schema_length=None)
    tr = raw.select(
        pl.col("ssvid").cast(pl.Int64).alias("mmsi"),
        pl.col("timestamp").str.to_datetime(time_zone="UTC").dt.cast_time_unit("us").alias("ts"),
        pl.col("lat").cast(pl.Float64), pl.col("lon").cast(pl.Float64),
        pl.col("speed").cast(pl.Float32).alias("sog"), pl.col("course").cast(pl.Float32).alias("cog"),
    ).filter(pl.col("lat").is_not_null() & pl.col("lat").is_not_nan())
    assert find_spoofing(segment_all(prepare(tr)), places=P).height == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", [
    "aisdb_test_data_20210701.csv", "aisdb_test_data_20211101.nm4", "aisdb_test_data_noaa_20230101.csv",
    "dma_aisabnormal_538004030_drift_20140928.ais", "dma_aislib_stream_example_20100611.txt", "gpsd_ais-nmea.log",
])
def test_real_samples_accuse_no_ship_of_spoofing(tmp_path, name):
    """Real traffic (Danish, US, Canadian, Dutch receivers; aids to navigation, SAR aircraft, test numbers among
    it): no spoofing event, and no receiver called late."""
    from shadowfleet.events import detect
    from shadowfleet.ingest import ingest
    from shadowfleet.store import Store

    st = Store(tmp_path / "s")
    ingest(shared_file(f"ais/{name}"), st)
    late: list = []
    ev = detect(st, delays=late)
    assert ev.filter(pl.col("type") == "spoofing").height == 0
    assert late[0].height == 0
