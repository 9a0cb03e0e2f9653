"""Alert rules from TOML, matched against events; alert messages new / revised / retracted, once each."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from shadowfleet.errors import ShadowfleetError
from shadowfleet.live import DEFAULT_RULES, AlertBook, load_rules, match_rules, read_alerts
from shadowfleet.live.detection import _alert_rows, with_live_state
from shadowfleet.places import load_places
from shadowfleet.store import Store

T0 = dt.datetime(2024, 3, 7, tzinfo=dt.timezone.utc)
OIL = (42.75, 133.07)  # beside the built-in Vostochny oil berth (RUVYP-OIL)


def _events(rows):
    base = {"event_id": None, "type": None, "mmsi": None, "start": T0, "end": T0, "lat": 0.0, "lon": 0.0,
            "place": None, "other_mmsi": None, "inferred": False, "details": "{}", "open": False, "duration_h": 10.0}
    return pl.DataFrame([{**base, **r} for r in rows], schema_overrides={
        "event_id": pl.Utf8, "type": pl.Utf8, "mmsi": pl.Int64, "other_mmsi": pl.Int64, "place": pl.Utf8})


def _vessels():
    return pl.DataFrame({"mmsi": [445000001, 273000001, 273000002], "flag": ["KP", "RU", "RU"],
                         "listed": [False, False, True], "list_names": [None, None, "SOME TANKER"],
                         "name": ["A", "B", "C"]})


def test_builtin_rules_catch_the_reference_case_and_nothing_else():
    ev = _events([
        {"event_id": "gap-kp", "type": "ais_gap", "mmsi": 445000001, "lat": OIL[0], "lon": OIL[1]},
        {"event_id": "gap-ru", "type": "ais_gap", "mmsi": 273000001, "lat": OIL[0], "lon": OIL[1]},
        {"event_id": "gap-kp-far", "type": "ais_gap", "mmsi": 445000001, "lat": 30.0, "lon": 125.0},
        {"event_id": "gap-kp-short", "type": "ais_gap", "mmsi": 445000001, "lat": OIL[0], "lon": OIL[1], "duration_h": 3.0},
        {"event_id": "enc-listed", "type": "encounter", "mmsi": 273000001, "other_mmsi": 273000002},
        {"event_id": "enc-ru", "type": "encounter", "mmsi": 273000001, "other_mmsi": 273000001},
        {"event_id": "dark-call", "type": "port_call", "mmsi": 273000001, "lat": OIL[0], "lon": OIL[1], "inferred": True},
        {"event_id": "seen-call", "type": "port_call", "mmsi": 273000001, "lat": OIL[0], "lon": OIL[1]},
    ])
    m = match_rules(ev, _vessels(), DEFAULT_RULES, load_places())
    got = sorted(zip(m["rule"], m["event_id"]))
    assert got == [("dark-near-supplier-terminal", "gap-kp"), ("dark-port-call-supplier-terminal", "dark-call"),
                   ("encounter-kp-or-listed", "enc-listed")]
    reasons = dict(zip(m["event_id"], m["reasons"]))
    assert "vessel KP-flagged" in reasons["gap-kp"] and "RUVYP-OIL" in reasons["gap-kp"]
    assert "other vessel on a sanctions list (SOME TANKER)" in reasons["enc-listed"]


@pytest.mark.parametrize("text, message", [
    ('[[rules]]\nid = "x"\ncolour = "red"\n', "unknown key(s) colour"),
    ('[[rules]]\nid = "x"\ntypes = ["sunbathing"]\n', "unknown event type(s) sunbathing"),
    ('[[rules]]\nid = "x"\nnear_km = -1\n', "near_km must be a number >= 0"),
    ('[[rules]]\nid = "x"\nvessel = ["flag:KPX"]\n', "is not flag:XX"),
    ('[[rules]]\nid = "x"\n[[rules]]\nid = "x"\n', "used twice"),
    ('[[rules]]\nid = "x"\nnear_km = 5.0\n', "near_km needs places"),
    ('[rule]\nid = "x"\n', "unknown section"),
    ('[[rules]\n', "not valid TOML"),
])
def test_a_bad_rules_file_is_one_clear_error(tmp_path, text, message):
    p = tmp_path / "rules.toml"
    p.write_text(text)
    with pytest.raises(ShadowfleetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_rules(p)


def test_a_rules_file_replaces_the_builtin_rules(tmp_path):
    p = tmp_path / "rules.toml"
    p.write_text('[[rules]]\nid = "watched"\nseverity = "low"\ntypes = ["port_call"]\nvessel = ["mmsi:273000001"]\n'
                 'places = ["RUVYP-OIL"]\n')
    rules = load_rules(p)
    ev = _events([{"event_id": "c1", "type": "port_call", "mmsi": 273000001, "place": "RUVYP-OIL"},
                  {"event_id": "c2", "type": "port_call", "mmsi": 273000001, "place": "RUNJK"}])
    m = match_rules(ev, _vessels(), rules, load_places())
    assert m["event_id"].to_list() == ["c1"] and m["severity"].to_list() == ["low"]


def test_an_open_gap_is_raised_once_then_revised_when_it_closes_then_retracted(tmp_path):
    store = Store(tmp_path)
    book = AlertBook(store)
    empty = _events([{"event_id": "x"}]).head(0).drop("open", "duration_h")
    # heard last at T0 by the oil berth; the feed's clock runs on
    last = pl.DataFrame({"mmsi": [445000001], "last_ts": [T0], "lat": [OIL[0]], "lon": [OIL[1]]})
    for hours in (3, 7, 8):
        live = with_live_state(empty, last, T0 + dt.timedelta(hours=hours), 6.0)
        book.diff(_alert_rows(match_rules(live, _vessels(), DEFAULT_RULES, load_places()), live, _vessels()), 1.0)
    msgs = read_alerts(store)
    assert msgs["status"].to_list() == ["new"]  # opened at 7 h, not repeated at 8 h
    assert msgs["open"].to_list() == [True] and msgs["end"].to_list() == [None]
    # the vessel is heard again: batch detection now has the closed gap, same id
    closed = _events([{"event_id": f"ais_gap-445000001-{int(T0.timestamp())}", "type": "ais_gap", "mmsi": 445000001,
                       "start": T0, "end": T0 + dt.timedelta(hours=9), "lat": OIL[0], "lon": OIL[1]}]).drop("open", "duration_h")
    last2 = last.with_columns(pl.lit(T0 + dt.timedelta(hours=9)).alias("last_ts"))
    live = with_live_state(closed, last2, T0 + dt.timedelta(hours=9), 6.0)
    book.diff(_alert_rows(match_rules(live, _vessels(), DEFAULT_RULES, load_places()), live, _vessels()), 1.0)
    # a restart reads the book back from the store: the same alerts raise nothing
    book = AlertBook(store)
    book.diff(_alert_rows(match_rules(live, _vessels(), DEFAULT_RULES, load_places()), live, _vessels()), 1.0)
    # late data fills the gap: the alert no longer holds
    book.diff(_alert_rows(match_rules(with_live_state(empty, last2, T0 + dt.timedelta(hours=9), 6.0), _vessels(),
                                      DEFAULT_RULES, load_places()), live.head(0), _vessels()), 1.0)
    msgs = read_alerts(store)
    assert msgs["status"].to_list() == ["new", "revised", "retracted"]
    assert msgs["version"].to_list() == [1, 2, 3] and msgs["seq"].to_list() == [1, 2, 3]
    assert len(set(msgs["alert_id"])) == 1
    assert msgs["open"].to_list()[1] is False and msgs["end"].to_list()[1] == T0 + dt.timedelta(hours=9)


def _static(rows):
    return pl.DataFrame([{"mmsi": m, "ts": t, "msg_type": 5, "draught": d} for m, t, d in rows],
                        schema={"mmsi": pl.Int64, "ts": pl.Datetime("us", "UTC"), "msg_type": pl.Int16,
                                "draught": pl.Float32}).lazy()


def test_a_tanker_back_from_a_gap_at_a_supplier_terminal_with_another_draught_loaded_dark():
    h = dt.timedelta(hours=1)
    gap = {"type": "ais_gap", "mmsi": 445000001, "start": T0, "end": T0 + 9 * h, "lat": OIL[0], "lon": OIL[1]}
    ev = _events([{**gap, "event_id": "loaded"}, {**gap, "event_id": "same", "mmsi": 445000002},
                  {**gap, "event_id": "open", "mmsi": 445000003, "end": None, "open": True}])
    static = _static([
        (445000001, T0 - 2 * h, 3.0), (445000001, T0 - h, 3.1), (445000001, T0 + 10 * h, 8.4),
        (445000001, T0 + 20 * h, 3.2),  # discharged later: not what this gap is about
        (445000002, T0 - h, 3.1), (445000002, T0 + 10 * h, 3.3),  # 0.2 m: within the reporting noise
        (445000003, T0 - h, 3.1), (445000003, T0 + 10 * h, 8.4),  # open: nothing after it yet
    ])
    from shadowfleet.live.detection import with_draught_across

    live = with_draught_across(ev, static)
    assert live["draught_change_m"].to_list() == [5.3, pytest.approx(0.2), None]
    vessels = pl.DataFrame({"mmsi": [445000001, 445000002, 445000003], "flag": ["KP"] * 3, "listed": [False] * 3,
                            "list_names": [None] * 3, "name": ["A", "B", "C"]})
    m = match_rules(live, vessels, DEFAULT_RULES, load_places()).filter(
        pl.col("rule") == "loaded-dark-near-supplier-terminal")
    assert m["event_id"].to_list() == ["loaded"]
    assert "type-5 draught 3.1 m before, 8.4 m after" in m["reasons"][0]


# every key a rules file can hold, each with an event it lets through and one it stops
_KEY_CASES = [
    ("types = [\"port_call\"]", {"type": "port_call"}, {"type": "ais_gap"}),
    ("vessel = [\"flag:KP\"]", {"mmsi": 445000001}, {"mmsi": 273000001}),
    ("vessel = [\"listed\"]", {"mmsi": 273000002}, {"mmsi": 273000001}),
    ("vessel = [\"mmsi:273000001\"]", {"mmsi": 273000001}, {"mmsi": 273000002}),
    ("places = [\"RUVYP-OIL\"]", {"place": "RUVYP-OIL"}, {"place": "RUNJK"}),
    ("place_kinds = [\"berth\"]", {"place": "RUVYP-OIL"}, {"place": "RUVYP-CTN"}),
    ("place_countries = [\"RU\"]", {"place": "RUVYP-OIL"}, {"place": "KPCHO"}),
    ("place_kinds = [\"terminal\"]\nplace_exclude_tags = [\"COAL\"]", {"place": "RUVYP-CTN"}, {"place": "RUVYP-COAL"}),
    ("place_countries = [\"RU\"]\nnear_km = 60.0", {"lat": OIL[0], "lon": OIL[1]}, {"lat": 30.0, "lon": 125.0}),
    ("inferred = true", {"inferred": True}, {"inferred": False}),
    ("inferred = false", {"inferred": False}, {"inferred": True}),
    ("min_duration_h = 6.0", {"duration_h": 10.0}, {"duration_h": 3.0}),
    ("state = \"open\"", {"open": True}, {"open": False}),
    ("state = \"closed\"", {"open": False}, {"open": True}),
    ("min_draught_change_m = 0.5", {"draught_change_m": -1.2}, {"draught_change_m": 0.2}),
]


@pytest.mark.parametrize("key, passes, stops", _KEY_CASES, ids=[c[0].split(" ")[0] + ":" + c[0][-12:] for c in _KEY_CASES])
def test_every_rule_key_decides_what_matches(tmp_path, key, passes, stops):
    p = tmp_path / "rules.toml"
    p.write_text(f'[[rules]]\nid = "r"\ndescription = "what the analyst wants to know"\nseverity = "low"\n{key}\n')
    rules = load_rules(p)
    base = {"type": "port_call", "mmsi": 273000001, "place": "RUVYP-OIL", "lat": OIL[0], "lon": OIL[1]}
    ev = _events([{**base, **passes, "event_id": "yes"}, {**base, **stops, "event_id": "no"}]).with_columns(
        pl.Series("draught_change_m", [passes.get("draught_change_m"), stops.get("draught_change_m")], pl.Float64))
    m = match_rules(ev, _vessels(), rules, load_places())
    assert m["event_id"].to_list() == ["yes"] and m["severity"].to_list() == ["low"]
