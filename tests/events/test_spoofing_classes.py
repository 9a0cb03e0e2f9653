"""Spoofing as investigators find it, on tracks run through the real segmenter: spliced stretches (middle, first,
last), circles, replayed tracks, grids, positions beyond the hearing receiver's reach; and the honest traps that
must stay silent (fast ferries, late feeds, receivers that hear far at sea by satellite)."""

import datetime as dt
import json
import math

import numpy as np
import polars as pl

from helpers import SEA, T0, places
from shadowfleet.events.transforms.reception import learn_receivers
from shadowfleet.events.transforms.spoofing import find_spoofing
from shadowfleet.tracks import prepare, segment_all

P = places()


def rows(mmsi, minutes, lat, lon, sog, cog=None, receiver=None):
    n = len(minutes)
    return pl.DataFrame({
        "mmsi": [mmsi] * n, "ts": [T0 + dt.timedelta(minutes=float(m)) for m in minutes],
        "lat": np.asarray(lat, float), "lon": np.asarray(lon, float),
        "sog": np.broadcast_to(np.asarray(sog, float), (n,)).copy(),
        "cog": np.broadcast_to(np.asarray(np.nan if cog is None else cog, float), (n,)).copy(),
        "receiver": [receiver] * n,
    }, schema_overrides={"ts": pl.Datetime("us", "UTC"), "sog": pl.Float32, "cog": pl.Float32})


def line(mmsi, m0, m1, a, b, every=2.0, receiver=None):
    m = np.arange(m0, m1 + 1e-9, every)
    f = (m - m0) / (m1 - m0)
    lat, lon = a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f
    km = 111.2 * math.hypot(b[0] - a[0], (b[1] - a[1]) * math.cos(math.radians(a[0])))
    sog = km / 1.852 / ((m1 - m0) / 60)
    cog = math.degrees(math.atan2((b[1] - a[1]) * math.cos(math.radians(a[0])), b[0] - a[0])) % 360
    return rows(mmsi, m, lat, lon, sog, cog, receiver)


def detect(*parts):
    seg = segment_all(prepare(pl.concat(parts).with_columns(pl.col("cog").fill_nan(None))))
    return find_spoofing(seg, places=P)


def details(ev):
    return [json.loads(d) for d in ev["details"]]


def test_a_false_stretch_while_the_real_ship_is_silent_is_spliced_in_the_middle():
    real_a = line(273000001, 0, 180, SEA, (42.3, 132.7))
    fake = line(273000001, 190, 600, (41.6, 131.6), (41.7, 131.8))  # ~100 km away, "sailing" slowly
    real_b = line(273000001, 610, 800, (42.31, 132.72), (42.45, 132.9))
    ev = detect(real_a, fake, real_b)
    [d] = details(ev)
    assert d["kind"] == "spliced_track" and d["position"] == "middle"
    assert ev["start"][0] == T0 + dt.timedelta(minutes=190) and ev["end"][0] == T0 + dt.timedelta(minutes=600)
    assert d["false_segment"] != d["true_segment"] and d["speed_in_kn"] > 25 and d["speed_out_kn"] > 25


def test_a_false_stretch_opening_a_received_period_is_spliced_first():
    fake = line(273000002, 0, 120, (41.5, 131.5), (41.55, 131.6))
    real = line(273000002, 125, 900, (42.5, 133.0), (42.0, 134.5))  # > 100 km jump, then a long real voyage
    [d] = details(detect(fake, real))
    assert d["kind"] == "spliced_track" and d["position"] == "first" and d["jump_out_km"] > 100


def test_a_false_stretch_closing_the_reports_is_spliced_last():
    real = line(273000003, 0, 900, (42.5, 133.0), (42.0, 134.5))
    fake = line(273000003, 905, 1000, (41.0, 131.0), (41.05, 131.1))
    [d] = details(detect(real, fake))
    assert d["kind"] == "spliced_track" and d["position"] == "last"


def test_a_fast_ferry_at_38_knots_whose_sog_and_cog_agree_is_not_spoofing():
    ferry = line(257000001, 0, 120, (59.0, 10.0), (59.0 + 76 * 1.852 / 111.2, 10.0))  # 76 nm in 2 h due north
    back = line(257000001, 130, 250, (59.0 + 76 * 1.852 / 111.2, 10.0), (59.0, 10.0))
    assert ferry["sog"][0] > 37
    assert detect(ferry, back).height == 0


def test_a_satellite_feed_stamped_40_minutes_late_is_not_two_places():
    from shadowfleet.tracks import correct_late_feeds, feed_delays

    shore = line(273000004, 0, 720, SEA, (42.0, 135.0), every=1, receiver="SHORE")
    m = np.arange(0, 720, 6.0)
    f = m / 720
    sat = rows(273000004, m + 40, SEA[0] + (42.0 - SEA[0]) * f, SEA[1] + (135.0 - SEA[1]) * f, shore["sog"][0],
               shore["cog"][0], "SAT")
    pos = prepare(pl.concat([shore, sat]))
    raw = find_spoofing(segment_all(pos), places=P)  # even uncorrected, a retrace is not a second ship
    assert raw.height == 0, details(raw)
    assert find_spoofing(segment_all(correct_late_feeds(pos, feed_delays(pos))), places=P).height == 0


def test_circles_at_constant_speed_for_hours_are_a_pattern():
    m = np.arange(0, 360, 2.0)
    a = 2 * math.pi * m / 40  # one turn every 40 min on a 2 km circle: ~10 kn
    lat = 42.0 + 2.0 * np.sin(a) / 111.2
    lon = 132.0 + 2.0 * np.cos(a) / (111.2 * math.cos(math.radians(42)))
    [d] = details(detect(rows(273000005, m, lat, lon, 10.0)))
    assert d["kind"] == "pattern" and d["pattern"] == "circle" and abs(d["radius_km"] - 2) < 0.1
    assert 8.5 < d["turns"] < 9.5


def test_a_ship_swinging_at_anchor_is_not_a_circle():
    m = np.arange(0, 720, 3.0)
    a = 2 * math.pi * m / 360  # round its anchor on 0.3 km every 6 h at ~0.2 kn
    lat = 42.0 + 0.3 * np.sin(a) / 111.2
    lon = 132.0 + 0.3 * np.cos(a) / (111.2 * math.cos(math.radians(42)))
    assert detect(rows(273000006, m, lat, lon, 0.2)).height == 0


def test_a_replayed_track_is_a_pattern():
    first = line(273000007, 0, 120, SEA, (42.3, 132.7), every=1)
    again = first.with_columns(pl.col("ts") + dt.timedelta(minutes=121))  # the same fixes replayed
    again = again.with_columns(pl.col("lat"), pl.col("lon"))
    ev = detect(first, again)
    assert "repeated" in [d.get("pattern") for d in details(ev)]


def test_positions_snapped_to_a_lattice_across_an_area_are_a_grid():
    g = np.array([(i, j) for i in range(6) for j in range(6)])
    m = np.arange(len(g)) * 4.0
    ev = detect(rows(273000008, m, 42.0 + g[:, 0] * 0.01, 132.0 + g[:, 1] * 0.01, 6.0))
    assert [d.get("pattern") for d in details(ev)] == ["grid"]


def test_a_position_far_beyond_the_hearing_shore_receiver_is_out_of_range():
    near = [line(273000100 + k, 0, 300, (42.6 + 0.05 * k, 132.9), (42.5, 133.3), receiver="RU-NAKHODKA")
            for k in range(5)]
    spoof = line(273000009, 0, 60, (38.9, 125.2), (38.95, 125.3), receiver="RU-NAKHODKA")  # off Nampo, 800 km
    ev = detect(*near, spoof)
    [d] = details(ev)
    assert ev["mmsi"][0] == 273000009 and d["kind"] == "out_of_range"
    assert d["receiver"] == "RU-NAKHODKA" and d["distance_km"] > 600


def test_a_satellite_receiver_hearing_an_ocean_is_exempt():
    far = [line(273000200 + k, 0, 120, (20.0 + 5 * k, 150.0 + 3 * k), (20.5 + 5 * k, 150.5 + 3 * k),
                receiver="SAT-1") for k in range(6)]  # the North Pacific, 3,000 km across
    rx = learn_receivers(pl.concat(far))
    assert rx["satellite"].to_list() == [True]
    assert detect(*far).height == 0


def test_two_ships_on_one_mmsi_keep_their_own_port_calls_and_the_mmsi_is_reported_once():
    from helpers import BERTH
    from shadowfleet.events.main import detect_events

    moored = rows(445000001, np.arange(0, 600, 3.0), [BERTH[0]] * 200, [BERTH[1]] * 200, 0.1)
    away = line(445000001, 1.5, 600, (41.0, 131.5), (41.5, 132.5), every=3)
    seg = segment_all(prepare(pl.concat([moored, away]).with_columns(pl.col("cog").fill_nan(None))))
    static = pl.DataFrame(schema={"mmsi": pl.Int64, "ts": pl.Datetime("us", "UTC"), "draught": pl.Float32})
    ev = detect_events(seg, static, P)
    spoof = ev.filter(pl.col("type") == "spoofing")
    assert [d["kind"] for d in details(spoof)] == ["two_places"]
    assert len(details(spoof)[0]["tracks"]) == 2
    calls = ev.filter(pl.col("type") == "port_call")
    assert calls["place"].to_list() == ["PORT-OIL"] and calls["mmsi"].to_list() == [445000001]
    assert details(calls)[0]["ship_track"] in {t["segment"] for t in details(spoof)[0]["tracks"]}


def test_a_transfer_hidden_behind_a_spliced_false_track_is_still_one_encounter():
    from helpers import offset_km
    from shadowfleet.events.main import detect_events

    meet = (42.35, 132.75)
    m = np.arange(0, 14 * 60 + 1, 3.0)
    hidden = (m >= 4 * 60) & (m < 9 * 60)
    supplier = rows(273000501, m[~hidden], [meet[0]] * (~hidden).sum(), [meet[1]] * (~hidden).sum(), 0.1)
    fake = line(273000501, 4 * 60, 9 * 60 - 3, (41.5, 131.6), (41.45, 131.9), every=3)  # ~120 km away
    b = offset_km(meet, 0.05, 0)
    receiver = rows(273000502, m, [b[0]] * len(m), [b[1]] * len(m), 0.1)
    seg = segment_all(prepare(pl.concat([supplier, fake, receiver]).with_columns(pl.col("cog").fill_nan(None))))
    static = pl.DataFrame(schema={"mmsi": pl.Int64, "ts": pl.Datetime("us", "UTC"), "draught": pl.Float32})
    ev = detect_events(seg, static, P)
    [d] = details(ev.filter(pl.col("type") == "spoofing"))
    assert d["kind"] == "spliced_track" and d["position"] == "middle"
    enc = ev.filter((pl.col("type") == "encounter") & (pl.col("mmsi") == 273000501))  # one row per ship
    assert enc["other_mmsi"].to_list() == [273000502] and enc["end"][0] - enc["start"][0] == dt.timedelta(hours=14)


def test_a_fast_ferry_turning_between_reports_is_no_spliced_track():
    """36 kn, a report every 5 min, two 70-degree turns (090, 160, 090 through a channel) each between two
    reports: the chords across the turns (~26 kn) point between the two COGs, 35 degrees off each."""
    km_per_min = 36 * 1.852 / 60
    legs = [(90.0, 60.0), (160.0, 30.0), (90.0, 60.0)]  # course, minutes
    t = np.arange(2.5, sum(m for _, m in legs), 5.0)  # never a report at a turn
    ends = np.cumsum([m for _, m in legs])
    north, east, cog = np.zeros(len(t)), np.zeros(len(t)), np.zeros(len(t))
    for i, x in enumerate(t):
        start = 0.0
        for (c, m), end in zip(legs, ends):
            run = min(x, end) - start
            if run > 0:
                north[i] += run * km_per_min * math.cos(math.radians(c))
                east[i] += run * km_per_min * math.sin(math.radians(c))
                cog[i] = c
            start = end
    lat = 42.60 + north / 111.2
    lon = 132.40 + east / (111.2 * math.cos(math.radians(42.6)))
    assert detect(rows(273000601, t, lat, lon, 36.0, cog)).height == 0
