"""Known receivers from a file (CSV or JSON; `detect --receivers`, `[events.spoofing] receivers`): a listed shore
station is checked against its own range, a listed satellite is exempt, unlisted receivers are still learned, and
hostile rows are refused and counted or the file is one error line."""

import json

import polars as pl
import pytest

from clirunner import run_cli
from helpers import T0
from shadowfleet.errors import ShadowfleetError
from shadowfleet.events.transforms.reception import read_receivers
from shadowfleet.events.transforms.spoofing import find_spoofing
from shadowfleet.store import Store
from test_spoofing_classes import details, line
from shadowfleet.tracks import prepare, segment_all

# ships off Nakhodka heard by station RU-NAKHODKA (42.8 N 132.9 E); one ship 120 km south-east of it
NEAR = [line(273000100 + k, 0, 300, (42.6 + 0.05 * k, 132.9), (42.5, 133.3), receiver="RU-NAKHODKA")
        for k in range(5)]
FAR = line(273000009, 0, 60, (41.9, 134.0), (41.95, 134.1), receiver="RU-NAKHODKA")


def spoofing(parts, receivers=None):
    seg = segment_all(prepare(pl.concat(parts).with_columns(pl.col("cog").fill_nan(None))))
    return find_spoofing(seg, receivers=receivers)


def test_a_listed_shore_station_checks_positions_against_its_own_range(tmp_path):
    assert spoofing(NEAR + [FAR]).height == 0  # learned reach: 120 km is within 185 km
    f = tmp_path / "rx.csv"
    f.write_text("id,lat,lon,range_km,kind\nRU-NAKHODKA,42.80,132.90,60,shore\n")
    rx = read_receivers(f)
    assert rx.rejected == {} and rx.receivers["receiver"].to_list() == ["RU-NAKHODKA"]
    ev = spoofing(NEAR + [FAR], rx.receivers)
    [d] = details(ev)
    assert ev["mmsi"].to_list() == [273000009] and d["kind"] == "out_of_range"
    assert d["receiver"] == "RU-NAKHODKA" and d["range_km"] == 60 and 100 < d["distance_km"] < 140


def test_a_listed_satellite_is_exempt_and_unlisted_receivers_are_still_learned(tmp_path):
    spoof = line(273000019, 0, 60, (38.9, 125.2), (38.95, 125.3), receiver="RU-NAKHODKA")  # 800 km away
    f = tmp_path / "rx.json"
    f.write_text(json.dumps({"receivers": [{"id": "RU-NAKHODKA", "lat": 42.8, "lon": 132.9, "kind": "satellite"},
                                           {"id": "KR-POHANG", "lat": 36.0, "lon": 129.4, "range_km": 70}]}))
    rx = read_receivers(f)
    assert rx.receivers["satellite"].to_list() == [True, False]
    assert spoofing(NEAR + [spoof], rx.receivers).height == 0
    other = read_receivers(_write(tmp_path / "other.csv", "id,lat,lon,range_km\nKR-POHANG,36.0,129.4,70\n"))
    assert details(spoofing(NEAR + [spoof], other.receivers))[0]["kind"] == "out_of_range"


def _write(path, text):
    path.write_text(text)
    return path


def test_hostile_rows_are_refused_and_counted(tmp_path):
    f = _write(tmp_path / "rx.csv", "\n".join([
        "id,lat,lon,range_km,kind",
        "A,42.8,132.9,60,shore",
        "A,42.8,132.9,60,shore",            # listed twice
        ",42.8,132.9,60,shore",             # no id
        "B,95,132.9,60,shore",              # latitude beyond the pole
        "C,42.8,abc,60,shore",              # not a number
        "D,42.8,132.9,-5,shore",            # negative range
        "E,42.8,132.9,nan,shore",           # not finite
        "F,42.8,132.9,60,balloon",          # unknown kind
        "=cmd|' /C calc'!A0,42.8,132.9,60,shore",  # a formula is only a strange name: kept as text
        "G\x1b[31m,42.8,132.9,60,shore",    # terminal control characters
    ]) + "\n")
    rx = read_receivers(f)
    assert rx.receivers["receiver"].to_list() == ["A", "=cmd|' /C calc'!A0"]
    assert rx.rejected == {"duplicate_id": 1, "bad_id": 2, "bad_position": 2, "bad_range": 2, "unknown_kind": 1}


def test_a_json_number_too_large_for_a_float_is_a_refused_row(tmp_path):
    big = "1" + "0" * 400
    f = _write(tmp_path / "rx.json", f'[{{"id": "A", "lat": {big}, "lon": 1, "range_km": 5}}, '
                                     f'{{"id": "B", "lat": 1, "lon": 1, "range_km": {big}}}]')
    rx = read_receivers(f)
    assert rx.receivers.height == 0
    assert rx.rejected == {"bad_position": 1, "bad_range": 1}


@pytest.mark.parametrize("text, message", [
    ("lat,lon\n1,2\n", r"lacks column\(s\) id"),
    ("[1, 2", "not valid JSON"),
    ('{"a": 1}', "must be a list"),
    ('[{"id": "A", "lat": 1' + "0" * 5000 + ', "lon": 1, "range_km": 5}]', "not valid JSON"),
    ("id,lat,lon,range_km\n", "lists no receiver"),
])
def test_a_file_that_is_no_receivers_list_is_one_error(tmp_path, text, message):
    with pytest.raises(ShadowfleetError, match=message):
        read_receivers(_write(tmp_path / "rx.txt", text))


def test_a_missing_or_binary_file_is_one_error(tmp_path):
    with pytest.raises(ShadowfleetError, match="not found"):
        read_receivers(tmp_path / "nope.csv")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(ShadowfleetError, match="not UTF-8"):
        read_receivers(tmp_path / "bin.csv")


def _store(tmp_path):
    pos = pl.concat(NEAR + [FAR]).with_columns(
        pl.col("cog").fill_nan(None), pl.lit(1, pl.Int8).alias("msg_type"), pl.lit("A").alias("ais_class"),
        pl.lit(1, pl.Int32).alias("n_receivers"), pl.arange(0, pl.len()).cast(pl.UInt64).alias("dup_key"))
    st = Store(tmp_path / "store")
    st.append("positions", pos, "test")
    return tmp_path / "store"


def test_detect_takes_receivers_from_the_option_or_the_config_file(tmp_path):
    s = _store(tmp_path)
    (tmp_path / "cfg").mkdir()
    _write(tmp_path / "cfg" / "rx.csv", "id,lat,lon,range_km,kind\nRU-NAKHODKA,42.8,132.9,60,shore\nX,1,2,-1,shore\n")
    _write(tmp_path / "cfg" / "detect.toml", '[events.spoofing]\nreceivers = "rx.csv"\n')

    def far_events():
        ev = Store(s, create=False).read("events").filter(pl.col("type") == "spoofing")
        return [(m, json.loads(d)["kind"]) for m, d in ev.select("mmsi", "details").rows()]

    code, out, err = run_cli("detect", "--store", str(s))
    assert code == 0, err
    assert far_events() == []
    code, out, err = run_cli("detect", "--store", str(s), "--config", str(tmp_path / "cfg" / "detect.toml"))
    assert code == 0, err
    assert "1 receivers read, rows refused: bad range 1" in err
    assert far_events() == [(273000009, "out_of_range")]
    code, out, err = run_cli("detect", "--store", str(s), "--receivers", str(tmp_path / "cfg" / "rx.csv"))
    assert code == 0 and far_events() == [(273000009, "out_of_range")]
    code, out, err = run_cli("detect", "--store", str(s), "--receivers", str(tmp_path / "nope.json"))
    assert code != 0 and "error:" in err and "receivers file not found" in err
    assert len(err.strip().splitlines()) == 1
