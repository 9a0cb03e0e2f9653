"""Loitering, draught changes and identity changes on constructed data."""

import datetime as dt
import json

import polars as pl

from helpers import ANCH, SEA, T0, places, sail, still, track
from shadowfleet.events.transforms.draught import find_draught_changes
from shadowfleet.events.transforms.identity import find_identity_changes
from shadowfleet.events.transforms.loitering import find_loitering

P = places()
OPEN_SEA = (42.3, 132.6)


def static(rows):
    """Type-5 rows from (mmsi, hours after T0, name, imo, callsign, draught)."""
    return pl.DataFrame(
        {
            "mmsi": [r[0] for r in rows],
            "ts": [T0 + dt.timedelta(hours=r[1]) for r in rows],
            "msg_type": [5] * len(rows),
            "name": [r[2] for r in rows],
            "imo": [r[3] for r in rows],
            "callsign": [r[4] for r in rows],
            "draught": [r[5] for r in rows],
        },
        schema_overrides={"ts": pl.Datetime("us", "UTC"), "msg_type": pl.Int8, "draught": pl.Float32,
                          "imo": pl.Int64},
    )


# ---- loitering ------------------------------------------------------------------------------------------------
def test_slow_at_sea_for_five_hours_is_loitering():
    ev = find_loitering(track(1, sail(0, 100, SEA, OPEN_SEA) + still(110, 410, *OPEN_SEA, sog=1.2)), P)
    assert ev.height == 1 and (ev["end"][0] - ev["start"][0]) == dt.timedelta(hours=5)


def test_slow_in_an_anchorage_is_not_loitering():
    assert find_loitering(track(1, still(0, 600, *ANCH, sog=1.0)), P).height == 0


def test_three_hours_slow_is_not_loitering_and_four_is():
    assert find_loitering(track(1, still(0, 180, *OPEN_SEA, sog=1.0)), P).height == 0
    assert find_loitering(track(1, still(0, 240, *OPEN_SEA, sog=1.0, every=4)), P).height == 1


def test_loitering_without_sog_uses_implied_speed():
    drift = [(t, OPEN_SEA[0] + t * 1e-5, OPEN_SEA[1], None) for t in range(0, 301, 10)]  # ~0.04 kn
    assert find_loitering(track(1, drift), P).height == 1


# ---- draught ---------------------------------------------------------------------------------------------------
def test_draught_change_spans_last_old_and_first_new_report():
    s = static([(1, 0, "A", None, None, 4.0), (1, 1, "A", None, None, 4.0), (1, 5, "A", None, None, None),
                (1, 9, "A", None, None, 6.8), (1, 10, "A", None, None, 6.8)])
    ev = find_draught_changes(s, track(1, still(0, 600, *ANCH, every=30)))
    assert ev.height == 1
    assert ev["start"][0] == T0 + dt.timedelta(hours=1) and ev["end"][0] == T0 + dt.timedelta(hours=9)
    d = json.loads(ev["details"][0])
    assert d == {"draught_before": 4.0, "draught_after": 6.8, "change_m": 2.8}
    assert abs(ev["lat"][0] - ANCH[0]) < 1e-9  # where the vessel was at the first new report


def test_draught_change_threshold_is_inclusive_and_small_changes_ignored():
    s = static([(1, 0, "A", None, None, 5.0), (1, 1, "A", None, None, 5.5), (1, 2, "A", None, None, 5.9)])
    ev = find_draught_changes(s)
    assert ev.height == 1 and ev["end"][0] == T0 + dt.timedelta(hours=1)


# ---- identity --------------------------------------------------------------------------------------------------
def test_at_padding_and_spaces_are_not_an_identity_change():
    s = static([(1, 0, "KUM UN SAN 3@@@@@", 8705539, "HMZA@@", None), (1, 1, "KUMUNSAN 3", 8705539, "HMZA", None),
                (1, 2, "KUM UN SAN 3", None, None, None)])
    assert find_identity_changes(s).height == 0


def test_name_and_callsign_change_is_one_event_with_before_and_after():
    s = static([(1, 0, "KUM UN SAN 3", 8705539, "HMZA", None), (1, 3, "SIN PYONG 5", 8705539, "HMZB", None)])
    ev = find_identity_changes(s)
    assert ev.height == 1
    d = json.loads(ev["details"][0])
    assert d["changed"] == ["name", "callsign"]
    assert d["name_before"] == "KUM UN SAN 3" and d["name_after"] == "SIN PYONG 5"
    # spans the last report with the old identity to the first with the new
    assert ev["start"][0] == T0 and ev["end"][0] == T0 + dt.timedelta(hours=3)
    assert d["previous_report"] == "2024-03-07T00:00:00Z" and d["first_new_report"] == "2024-03-07T03:00:00Z"


def test_imo_change_is_found():
    s = static([(1, 0, "X", 8705539, None, None), (1, 1, "X", 7389704, None, None)])
    assert json.loads(find_identity_changes(s)["details"][0])["changed"] == ["imo"]


def test_one_imo_on_two_mmsis_from_the_start_flags_both():
    s = static([(1, 0, "YU SON", 8691702, None, None), (1, 5, "YU SON", 8691702, None, None),
                (2, 0.5, "OTHER", 8691702, None, None), (2, 8, "OTHER", 8691702, None, None)])
    ev = find_identity_changes(s).sort("mmsi")
    assert ev["mmsi"].to_list() == [1, 2]
    d = [json.loads(x) for x in ev["details"]]
    assert d[0]["reason"] == "shared_imo" and d[0]["shared_with_mmsi"] == 2 and d[1]["shared_with_mmsi"] == 1
    assert ev["start"][0] == T0 + dt.timedelta(hours=0.5) and ev["end"][0] == T0 + dt.timedelta(hours=5)


def test_taking_another_ships_imo_is_one_event_on_the_taker_naming_the_donor():
    # MMSI 1 broadcasts as "SEA STAR" with its own IMO, then takes the name and IMO of MMSI 2 (still on air)
    s = static([(2, 0, "YU SON", 8691702, None, None), (2, 9, "YU SON", 8691702, None, None),
                (1, 0, "SEA STAR", 9231937, None, None), (1, 3, "YU SON", 8691702, None, None),
                (1, 6, "YU SON", 8691702, None, None)])
    ev = find_identity_changes(s)
    assert ev["mmsi"].to_list() == [1]
    d = json.loads(ev["details"][0])
    assert d["changed"] == ["name", "imo"] and d["shared_with_mmsi"] == 2
    assert ev["end"][0] == T0 + dt.timedelta(hours=3)


def test_imo_moving_to_a_new_mmsi_is_one_change_on_the_old_mmsi():
    s = static([(1, 0, "A", 8691702, None, None), (1, 2, "A", 8691702, None, None),
                (2, 3, "B", 8691702, None, None), (2, 8, "B", 8691702, None, None)])
    ev = find_identity_changes(s)
    assert ev["mmsi"].to_list() == [1]
    d = json.loads(ev["details"][0])
    assert d["reason"] == "imo_moved_to_new_mmsi" and d["new_mmsi"] == 2 and d["changed"] == ["mmsi"]
    assert ev["start"][0] == T0 + dt.timedelta(hours=2) and ev["end"][0] == T0 + dt.timedelta(hours=3)
    assert d["previous_report"] == "2024-03-07T02:00:00Z" and d["first_new_report"] == "2024-03-07T03:00:00Z"


def test_loitering_spans_a_silence_when_the_ship_stayed_slow():
    pts = still(0, 120, *OPEN_SEA, sog=0.5) + still(480, 540, *OPEN_SEA, sog=0.5)  # 6 h unheard, same spot
    ev = find_loitering(track(1, pts), P)
    assert ev.height == 1 and (ev["end"][0] - ev["start"][0]) == dt.timedelta(hours=9)
    moved = still(0, 180, *OPEN_SEA, sog=0.5) + still(480, 660, 42.5, 132.6, sog=0.5)  # 22 km in 5 h: not slow
    assert find_loitering(track(1, moved), P).height == 0
