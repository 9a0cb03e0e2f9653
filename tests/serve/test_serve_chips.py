"""The dashboard's case page shows the image chips of the detections that corroborate the case: the API returns
the PNG (cut from a real scene file), a real Chromium loads it into the page, and a scene file that has gone is a
note, never a broken page."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import sys
from pathlib import Path

import httpx
import polars as pl
import pytest

from servekit import running

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from chipkit import radar_tiff  # noqa: E402

T = dt.datetime(2024, 3, 3, 8, 40, tzinfo=dt.timezone.utc)
AT = (42.74, 133.06)


@pytest.fixture(scope="module")
def chip_store(served, tmp_path_factory):
    """A copy of the served store whose first case carries two corroborating detections: one in a real scene
    file, one in a scene whose file has been moved away."""
    from shadowfleet.store import Store
    from shadowfleet.store.schema import SCENES

    root = tmp_path_factory.mktemp("chips")
    shutil.copytree(served["store"], root / "store")
    tif = radar_tiff(root / "S1X.tif", *AT, T)
    st = Store(root / "store", create=False)
    st.replace("scenes", pl.DataFrame([{k: None for k in SCENES} | {"scene_id": sid, "sensor": "sar", "acquired": T,
                                        "source": src, "status": "ok"}
                                       for sid, src in (("S1X", str(tif)), ("S1GONE", str(root / "gone.tif")))],
                                      schema=SCENES))
    item = {"role": "load", "matched": False, "sensor": "sar", "acquired": T.strftime("%Y-%m-%d %H:%M"),
            "lat": AT[0], "lon": AT[1], "length_m": 90.0, "ais_length_m": 95.0, "place": "RUVYP-OIL",
            "distance_m": 1200.0, "distance_to": "from where AIS placed the ship for the call"}
    imagery = [item | {"detection_id": "S1X-1", "scene_id": "S1X", "event_id": "dark_detection-S1X-1"},
               item | {"detection_id": "S1GONE-1", "scene_id": "S1GONE", "event_id": "dark_detection-S1GONE-1"}]
    cases = st.read("cases")
    case_id = cases["case_id"][0]
    st.replace("cases", cases.with_columns(
        pl.when(pl.col("case_id") == case_id).then(pl.lit(json.dumps(imagery))).otherwise(pl.col("imagery"))
        .alias("imagery")))
    return {"root": root / "store", "places": served["places"], "case_id": case_id}


def test_case_chip_route_returns_the_png_and_a_reason_when_it_cannot(chip_store):
    from PIL import Image

    from shadowfleet.serve import create_app

    cid = chip_store["case_id"]
    with running(create_app(chip_store["root"], places=chip_store["places"])) as base:
        case = httpx.get(f"{base}/api/v1/cases/{cid}", timeout=30).json()
        assert [x["detection_id"] for x in case["imagery"]] == ["S1X-1", "S1GONE-1"]
        assert "scene S1X" in case["imagery"][0]["caption"] and "90 m" in case["imagery"][0]["caption"]
        r = httpx.get(f"{base}/api/v1{case['imagery'][0]['chip']}", timeout=30)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(r.content)).size == (256, 256)
        gone = httpx.get(f"{base}/api/v1/cases/{cid}/imagery/S1GONE-1.png", timeout=30)
        assert gone.status_code == 404 and "no image chip: scene file" in gone.json()["detail"]
        assert httpx.get(f"{base}/api/v1/cases/{cid}/imagery/NOPE-1.png", timeout=30).status_code == 404
        assert httpx.get(f"{base}/api/v1/cases/{cid}/imagery/..%2Fetc.png", timeout=30).status_code in (404, 422)
    with running(create_app(chip_store["root"], token="s3cret", places=chip_store["places"])) as base:
        url = f"{base}/api/v1/cases/{cid}/imagery/S1X-1.png"
        assert httpx.get(url, timeout=30).status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer s3cret"}, timeout=30).status_code == 200


@pytest.mark.slow
def test_case_page_loads_the_chip_in_a_real_browser_and_notes_the_missing_scene(chip_store):
    import os

    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    chromium = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else shutil.which("chromium")
    if not chromium:
        pytest.skip("Chromium not found")
    from test_serve_browser import ARGS, Watched

    from shadowfleet.serve import create_app

    cid = chip_store["case_id"]
    with sync_api.sync_playwright() as p, running(create_app(chip_store["root"], places=chip_store["places"])) as base:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            w = Watched(browser, base)
            page = w.open(f"#/case/{cid}")
            page.wait_for_selector("img.chip[src^='data:image/png;base64,']", timeout=20000)
            assert page.eval_on_selector("img.chip", "i => i.complete && i.naturalWidth") == 256
            page.wait_for_selector(".chip-note")
            assert "no image chip: scene file" in page.locator(".chip-note").inner_text()
            assert page.locator("figure.chip figcaption").count() == 2
            w.shot("10-case-chips")
            w.check()
        finally:
            browser.close()
