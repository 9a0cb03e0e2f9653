"""What the commands write cannot run as a spreadsheet formula, as terminal markup or escape sequences, or as KML
markup, whatever the AIS, places and list files held; --out never replaces what is not a regular file."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import stat
import xml.etree.ElementTree as ET
from functools import reduce
from operator import xor
from pathlib import Path

import polars as pl
import pyais
import pytest

from clirunner import run_cli

NAMED = 445000001  # broadcasts the name "=1+2" and a HYPERLINK destination
MARKUP = 445000002  # broadcasts the name "[/]"
T0 = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)
RECEIVER = "=CMD|' /C CALC'!A0"
FORMULA_DESTINATION = '=HYPERLINK("HTTP://X'  # 20 characters, AIS six-bit text


def _cs(body: str) -> str:
    return f"{reduce(xor, body.encode(), 0):02X}"


def _nmea(fields: dict, t: dt.datetime) -> list[str]:
    tag = f"s:{RECEIVER},c:{int(t.timestamp())}"
    out = []
    for s in pyais.encode_dict(fields, talker_id="AI"):
        s = s.replace("VDO,", "VDM,", 1)
        body = s[1:s.rindex("*")]
        out.append(f"\\{tag}*{_cs(tag)}\\!{body}*{_cs(body)}")
    return out


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """A store from AIS whose names, destination and receiver are formulas or markup, detected against a place
    whose id is a formula."""
    root = tmp_path_factory.mktemp("hostile-output")
    lines = []
    for mmsi, name, dest in ((NAMED, "=1+2", FORMULA_DESTINATION), (MARKUP, "[/]", "[BOLD]")):
        lines += _nmea({"type": 5, "mmsi": mmsi, "shipname": name, "destination": dest, "callsign": "@X",
                        "ship_type": 80, "to_bow": 50, "to_stern": 50, "to_port": 8, "to_starboard": 8,
                        "draught": 6.5}, T0)
        for k in range(19):  # three hours stopped inside the place: a port call
            t = T0 + dt.timedelta(minutes=10 * k)
            lines += _nmea({"type": 1, "mmsi": mmsi, "lat": 41.0, "lon": 130.0, "speed": 0.1, "course": 90}, t)
    (root / "ais.nmea").write_text("\n".join(lines) + "\n")
    ring = [[129.9, 40.9], [130.1, 40.9], [130.1, 41.1], [129.9, 41.1], [129.9, 40.9]]
    (root / "places.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"id": "=EVIL", "name": "<b>[/]</b> & co", "kind": "port", "country": "KP"}}]}))
    store = root / "store"
    assert run_cli("ingest", root / "ais.nmea", "--store", store, "-q").code == 0
    r = run_cli("detect", "--store", store, "--places", root / "places.geojson", "-q")
    assert r.code == 0, r.err
    return store


def _cells(csv: str) -> list[str]:
    return [v for row in pl.read_csv(io.StringIO(csv), infer_schema=False).iter_rows() for v in row if v is not None]


def _no_formula(cells: list[str]) -> None:
    assert cells and not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")], cells


def test_vessels_csv_keeps_formula_names_as_readable_text(hostile):
    r = run_cli("vessels", "--store", hostile, "--format", "csv")
    assert r.code == 0, r.err
    cells = _cells(r.out)
    _no_formula(cells)
    assert "'=1+2" in cells and "[/]" in cells


def test_track_csv_neutralises_a_formula_receiver_name(hostile):
    r = run_cli("track", NAMED, "--store", hostile, "--format", "csv")
    assert r.code == 0, r.err
    receivers = pl.read_csv(io.StringIO(r.out), infer_schema=False)["receiver"].unique().to_list()
    assert receivers == ["'" + RECEIVER]


def test_events_csv_neutralises_a_formula_place_id(hostile):
    r = run_cli("events", "--store", hostile, "--format", "csv", "--type", "port_call")
    assert r.code == 0, r.err
    df = pl.read_csv(io.StringIO(r.out), infer_schema=False)
    assert df.height == 2 and set(df["place"]) == {"'=EVIL"}
    _no_formula(_cells(r.out))


def test_cases_csv_neutralises_a_formula_ship_name(tmp_path):
    from shadowfleet.store import Store

    st = Store(tmp_path / "store")
    h = lambda hours: T0 + dt.timedelta(hours=hours)  # noqa: E731
    ev = [
        {"event_id": "a", "type": "port_call", "mmsi": NAMED, "start": h(0), "end": h(30), "lat": None, "lon": None,
         "place": "RUVYP-OIL", "other_mmsi": None, "inferred": True, "details": "{}"},
        {"event_id": "b", "type": "port_call", "mmsi": NAMED, "start": h(60), "end": h(90), "lat": None, "lon": None,
         "place": "KPCHO", "other_mmsi": None, "inferred": False, "details": "{}"},
    ]
    st.replace("events", pl.DataFrame(ev, schema_overrides={"other_mmsi": pl.Int64}))
    st.append("static", pl.DataFrame([{"mmsi": NAMED, "ts": h(0), "msg_type": 5, "imo": None, "name": "=1+2",
                                       "length": 100.0, "beam": 15.0, "draught": None, "dup_key": 1}]))
    r = run_cli("cases", "--store", st.root, "--format", "csv", "-q")
    assert r.code == 0, r.err
    df = pl.read_csv(io.StringIO(r.out), infer_schema=False)
    assert df.height == 1 and df["name"][0] == "'=1+2"
    _no_formula(_cells(r.out))
    # the HTML report goes through the same writer: /dev/null stays the device
    before = os.stat("/dev/null")
    assert run_cli("report", "--store", st.root, "--out", "/dev/null", "-q").code == 0
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


@pytest.mark.parametrize("argv", [["vessels"], ["vessel", str(MARKUP)], ["vessel", str(NAMED)], ["stats"],
                                  ["events", "--format", "table"]])
def test_markup_in_names_prints_as_typed(hostile, argv):
    r = run_cli(*argv, "--store", hostile)
    assert r.code == 0 and "Traceback" not in r.err, r.err
    if argv[0].startswith("vessel"):
        assert ("[/]" in r.out) or ("=1+2" in r.out)


def test_list_entries_with_markup_and_escape_sequences_screen_and_show(hostile, tmp_path):
    lst = tmp_path / "list.csv"
    lst.write_text(f"name,mmsi\n[/] X,{MARKUP}\n\x1b[31mRED\x1b]0;owned\x07 [bold],{NAMED}\n")
    r = run_cli("lists", "load", lst, "--store", hostile, "--date", "2024-01-01")
    assert r.code == 0, r.err
    for argv in (["screen"], ["lists", "show"], ["screen", "--format", "csv"], ["lists", "show", "--format", "jsonl"]):
        r = run_cli(*argv, "--store", hostile)
        assert r.code == 0, (argv, r.err)
        assert "\x1b" not in r.out + r.err and "\x07" not in r.out + r.err
    r = run_cli("screen", "--store", hostile)
    assert "[/] X" in r.out


def test_file_names_with_markup_and_escapes_print_as_text(tmp_path, hostile):
    src = hostile.parent / "ais.nmea"
    weird = tmp_path / "[red]\x1b[2Jx\u202e.nmea"  # a file name cannot hold the "/" of "[/]"
    weird.write_bytes(src.read_bytes())
    r = run_cli("ingest", weird, "--store", tmp_path / "store")
    assert r.code == 0, r.err
    assert "[red]" in r.out and "\x1b" not in r.out + r.err and "\u202e" not in r.out + r.err
    r = run_cli("ingest", tmp_path / "[/]\x1b[2J missing.nmea", "--store", tmp_path / "store")
    assert "\x1b" not in r.error_line and "[/]" in r.error_line


def test_kml_exports_are_valid_kml_22_with_names_escaped(hostile, tmp_path):
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    r = run_cli("events", "--store", hostile, "--format", "kml", "--type", "port_call")
    assert r.code == 0, r.err
    doc = ET.fromstring(r.out.encode())
    assert doc.tag == "{http://www.opengis.net/kml/2.2}kml"
    marks = doc.findall(".//k:Placemark", ns)
    assert len(marks) == 2 and {m.find("k:name", ns).text for m in marks} == {f"port_call {NAMED} at =EVIL",
                                                                               f"port_call {MARKUP} at =EVIL"}
    lon, lat = marks[0].find(".//k:coordinates", ns).text.split(",")
    assert float(lon) == pytest.approx(130.0, abs=0.01) and float(lat) == pytest.approx(41.0, abs=0.01)
    assert marks[0].find("k:TimeSpan/k:begin", ns).text.endswith("Z")
    out = tmp_path / "track.kml"
    r = run_cli("track", NAMED, "--store", hostile, "--format", "kml", "--out", out, "-q")
    assert r.code == 0, r.err
    doc = ET.parse(out).getroot()
    points = doc.findall(".//k:Placemark/k:Point", ns)
    lines = doc.findall(".//k:Placemark/k:LineString", ns)
    assert len(points) == 19 and len(lines) == 1
    receivers = {d.find("k:value", ns).text for d in doc.findall(".//k:Data[@name='receiver']", ns)}
    assert receivers == {RECEIVER}


def test_kml_text_drops_characters_xml_forbids():
    from shadowfleet.output import kml_document, kml_placemark, kml_point

    mark = kml_placemark("a\x01b<&>\x1b", kml_point(1, 2), data={"x": "]]>\x00"})
    doc = ET.fromstring("".join(kml_document("d", [("f", [mark])])).encode())
    assert doc.find(".//{http://www.opengis.net/kml/2.2}name").text == "d"
    assert doc.findall(".//{http://www.opengis.net/kml/2.2}Placemark/{http://www.opengis.net/kml/2.2}name")[0].text \
        == "ab<&>"


def test_csv_guard_follows_owasp_and_leaves_other_cells_alone():
    from shadowfleet.output import csv_text

    df = pl.DataFrame({"s": ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "a=b", "", None, "KUM JIN GANG 3"],
                       "n": [-1, 2, 3, 4, 5, 6, 7, 8, 9, 10]})
    back = pl.read_csv(io.StringIO(csv_text(df)), infer_schema=False)
    assert back["s"].to_list() == ["'=1+2", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "a=b", "", None,
                                   "KUM JIN GANG 3"]
    assert back["n"][0] == "-1"  # numbers are numbers, not formulas


# ---- --out -----------------------------------------------------------------------------------------------------


def test_out_over_dev_null_streams_and_leaves_the_device(hostile):
    before = os.stat("/dev/null")
    r = run_cli("vessels", "--store", hostile, "--format", "csv", "--out", "/dev/null", "-q")
    assert r.code == 0, r.err
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_out_to_a_fifo_streams_to_its_reader(hostile, tmp_path):
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(Path(fifo).read_bytes()))
    reader.start()
    r = run_cli("events", "--store", hostile, "--format", "jsonl", "--type", "port_call", "--out", fifo)
    reader.join(timeout=60)
    assert r.code == 0, r.err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and len(got[0].splitlines()) == 2


def test_out_through_a_symlink_writes_its_target_and_keeps_the_link(hostile, tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    r = run_cli("events", "--store", hostile, "--format", "csv", "--out", link, "-q")
    assert r.code == 0, r.err
    assert link.is_symlink() and target.read_text().startswith("event_id,")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "real.csv"]  # no temporary file left


@pytest.mark.parametrize("argv", [["vessels"], ["events"], ["track", str(NAMED)], ["lists", "show"], ["screen"]])
def test_out_naming_a_directory_is_one_error_and_leaves_nothing(hostile, tmp_path, argv):
    d = tmp_path / "dir"
    d.mkdir()
    err = run_cli(*argv, "--store", hostile, "--out", d).error_line
    assert "is a directory" in err and list(d.iterdir()) == []


def test_out_replaces_a_regular_file_atomically_and_fails_without_touching_it(hostile, tmp_path):
    from shadowfleet.output import output_stream

    out = tmp_path / "e.jsonl"
    out.write_text("previous\n")
    with pytest.raises(RuntimeError):
        with output_stream(out) as fh:
            fh.write("half")
            raise RuntimeError("the work failed half way")
    assert out.read_text() == "previous\n" and [p.name for p in tmp_path.iterdir()] == ["e.jsonl"]
    assert run_cli("events", "--store", hostile, "--type", "port_call", "--out", out, "-q").code == 0
    assert len(out.read_text().splitlines()) == 2


# ---- every listing command takes the same --format ---------------------------------------------------------------


@pytest.mark.parametrize("argv", [["vessels"], ["lists", "show"], ["screen"], ["events"], ["cases"]])
def test_listing_commands_share_table_csv_jsonl(hostile, argv):
    if argv == ["cases"]:
        assert run_cli("cases", "--store", hostile, "-q").code == 0
    if argv in (["lists", "show"], ["screen"]):
        lst = hostile.parent / "plain-list.csv"
        lst.write_text(f"name,mmsi\nSOMEONE,{NAMED}\n")
        assert run_cli("lists", "load", lst, "--store", hostile, "--date", "2024-02-01", "-q").code == 0
    for fmt in ("table", "csv", "jsonl"):
        r = run_cli(*argv, "--store", hostile, "--format", fmt, "-q")
        assert r.code == 0, (fmt, r.err)
        if fmt == "jsonl" and r.out:
            [json.loads(line) for line in r.out.splitlines()]
