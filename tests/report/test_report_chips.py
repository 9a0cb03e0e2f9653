"""Image chips of the satellite detections that corroborate a case: inline PNGs cut from the scene file (a real
GeoTIFF on disk), with the track, berth, scale bar and north drawn; the report still loads nothing from the
network; a scene file that moved gives a one-line note instead of a chip."""

import base64
import io
import json
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cases"))
from casekit import PLACES, event, h, static  # noqa: E402
from chipkit import radar_tiff  # noqa: E402

from shadowfleet.cases import build_cases  # noqa: E402
from shadowfleet.report import write_report  # noqa: E402
from shadowfleet.report.chips import CHIP_PX, render_chip  # noqa: E402
from shadowfleet.store import Store  # noqa: E402
from shadowfleet.store.schema import DETECTIONS, MATCHES, SCENES  # noqa: E402

KP1 = 445100001
BERTH = (42.74, 133.06)  # RUVYP-OIL of the test gazetteer


def _store(tmp_path, scene_file: Path) -> Store:
    st = Store(tmp_path / "store")
    dark = {"event_id": "dark_detection-s1-1", "type": "dark_detection", "mmsi": None, "start": h(12), "end": h(12),
            "lat": BERTH[0], "lon": BERTH[1], "place": "RUVYP-OIL", "other_mmsi": None, "inferred": False,
            "details": json.dumps({"detection_id": "s1-1", "scene_id": "s1", "sensor": "sar", "length_m": 90.0})}
    st.replace("events", pl.DataFrame([
        event("ais_gap", KP1, 0, 30), event("port_call", KP1, 0, 30, place="RUVYP", inferred=True),
        event("port_call", KP1, 60, 90, place="KPCHO"), dark,
    ], schema_overrides={"other_mmsi": pl.Int64, "mmsi": pl.Int64}))
    st.append("static", pl.DataFrame([static(KP1, "YU SON", None, 100, 15)]))
    st.append("positions", pl.DataFrame({"mmsi": [KP1] * 3, "ts": [h(-2), h(-1), h(0)],
                                         "lat": [42.725, 42.732, 42.738], "lon": [133.05, 133.055, 133.058],
                                         "dup_key": [1, 2, 3]}))
    st.replace("scenes", pl.DataFrame([{k: None for k in SCENES} | {
        "scene_id": "s1", "sensor": "sar", "acquired": h(12), "source": str(scene_file), "status": "ok"}], schema=SCENES))
    st.replace("detections", pl.DataFrame([{k: None for k in DETECTIONS} | {
        "detection_id": "s1-1", "scene_id": "s1", "sensor": "sar", "acquired": h(12), "lat": BERTH[0], "lon": BERTH[1],
        "length_m": 90.0, "place": "RUVYP-OIL", "fixed": False}], schema=DETECTIONS))
    st.replace("matches", pl.DataFrame([{k: None for k in MATCHES} | {
        "detection_id": "s1-1", "scene_id": "s1", "acquired": h(12), "reason": "no AIS track within the gate"}],
        schema=MATCHES))
    build_cases(st, places=PLACES)
    return st


class _Fetches(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fetches, self.imgs = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "srcset", "data", "poster", "background", "href", "xlink:href"):
            if a.get(key):
                self.fetches.append(a[key])
        if tag == "img":
            self.imgs.append(a)


def test_report_shows_an_inline_chip_of_the_corroborating_detection_and_fetches_nothing(tmp_path):
    from PIL import Image

    st = _store(tmp_path, radar_tiff(tmp_path / "s1.tif", *BERTH, h(12)))
    html_text = write_report(st, tmp_path / "r.html", period="2024-03", places=PLACES).read_text(encoding="utf-8")
    p = _Fetches()
    p.feed(html_text)
    assert len(p.imgs) == 1
    assert all(u.startswith("data:image/png;base64,") for u in p.fetches)
    assert "http://" not in html_text.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html_text
    png = base64.b64decode(p.imgs[0]["src"].split(",", 1)[1])
    im = Image.open(io.BytesIO(png)).convert("RGB")
    assert im.size == (CHIP_PX, CHIP_PX)
    for words in ("scene s1", "2024-03-07 12:00 UTC", "SAR", "detection s1-1", "90 m", "dark (no AIS track"):
        assert words in p.imgs[0]["alt"]


def test_chip_centres_the_detection_and_draws_track_berth_and_scale(tmp_path):
    from PIL import Image

    src = radar_tiff(tmp_path / "s1.tif", *BERTH, h(12))
    track = pl.DataFrame({"lat": [42.735, 42.738], "lon": [133.055, 133.058]})
    chip = render_chip(str(src), *BERTH, track=track, places=PLACES, sensor="sar")
    assert chip.note == ""
    a = np.asarray(Image.open(io.BytesIO(chip.png)).convert("RGB")).astype(int)
    c = CHIP_PX // 2

    def has(colour, rows, cols):
        return bool((np.abs(a[rows, cols] - colour).sum(axis=-1) < 30).any())

    assert has((255, 40, 40), slice(c - 12, c + 12), slice(c - 12, c + 12))  # the detection ring, centred
    assert has((255, 200, 0), slice(None), slice(None))  # the berth outline
    assert has((0, 230, 230), slice(None), slice(None))  # the AIS track
    assert has((255, 255, 255), slice(CHIP_PX - 24, CHIP_PX), slice(0, 80))  # the scale bar
    # the hull is the brightest thing in the middle of the picture (contrast stretched)
    assert a[c - 1:c + 2, c - 2:c + 3, 1].min() > a[..., 1].mean() + 60


@pytest.mark.parametrize("damage", ["moved", "garbage"])
def test_a_scene_file_moved_or_damaged_gives_a_one_line_note_in_place_of_the_chip(tmp_path, damage):
    src = radar_tiff(tmp_path / "s1.tif", *BERTH, h(12))
    st = _store(tmp_path, src)
    if damage == "moved":
        src.rename(tmp_path / "elsewhere.tif")
    else:
        src.write_bytes(b"II*\x00 not really a tiff")
    html_text = write_report(st, tmp_path / "r.html", period="2024-03", places=PLACES).read_text(encoding="utf-8")
    p = _Fetches()
    p.feed(html_text)
    assert p.imgs == [] and p.fetches == []
    assert f"no image chip: scene file {src}" in html_text
    note = html_text.split("no image chip:", 1)[1].split("<", 1)[0]
    assert "\n" not in note and ("moved" in note if damage == "moved" else "unreadable" in note)


def test_a_scene_detected_by_a_relative_path_still_gives_a_chip_from_another_directory(tmp_path, monkeypatch):
    from shadowfleet.imagery import detect
    from shadowfleet.report.chips import scene_sources

    (tmp_path / "scenes").mkdir()
    radar_tiff(tmp_path / "scenes" / "s1.tif", *BERTH, h(12))
    st = Store(tmp_path / "store")
    monkeypatch.chdir(tmp_path)
    detect(["scenes/s1.tif"], st)
    monkeypatch.chdir(tmp_path / "store")
    (source, sensor), = scene_sources(st).values()
    chip = render_chip(source, *BERTH, sensor=sensor)
    assert chip.note == "" and chip.png is not None


def test_headline_counts_the_dark_visits_imagery_confirmed_and_not_ambiguous_or_matched_ones():
    from shadowfleet.report.headline import _imagery_sentence

    def item(role, scene, **kw):
        return {"role": role, "scene_id": scene, "matched": False, "ambiguous": False} | kw

    cases = pl.DataFrame({"mmsi": [1, 2, 3], "imagery": [
        json.dumps([item("load", "s1"), item("discharge", "s2"), item("sts", "s3"), item("load", "s1")]),
        json.dumps([item("load", "s1", ambiguous=True), item("discharge", "s4", matched=True)]), None]})
    assert _imagery_sentence(cases, "North Korea") == (
        "satellite imagery confirmed 2 dark berth visit(s) of these cases (1 loading at a supplier terminal, 1 "
        "discharging in North Korea) and 1 dark ship-to-ship transfer(s)")
    assert _imagery_sentence(cases.filter(pl.col("mmsi") != 1), "North Korea") is None
