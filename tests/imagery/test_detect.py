"""Detection on scenes with known answers: rendered radar and optical scenes, a flat real product, persistence."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from shadowfleet.imagery import detect, detect_scene, open_scene, read_detections, read_scenes
from shadowfleet.imagery.evaluate import evaluate, load_truth
from shadowfleet.imagery.transforms.cfar import ring_cfar
from shadowfleet.places import load_places
from shadowfleet.store import Store
from tests.shared_data import shared_file

S1 = "imagery/sentinel1/S1B_IW_GRDH_1SDV_20210401T052623_20210401T052648_026269_032297_ECC8.SAFE"


def test_cfar_finds_a_bright_target_in_speckle_and_nothing_in_a_flat_image():
    rng = np.random.default_rng(0)
    sea = rng.gamma(4.4, 0.01 / 4.4, size=(300, 300)).astype(np.float32)
    sea[150:153, 140:160] = 1.0  # a 200 m x 30 m hull, 20 dB above the sea
    rr, cc, sig = ring_cfar(sea, np.ones(sea.shape, bool), 10.0, 200, 600, 22.0, 50.0, floor_rel=1 / np.sqrt(4.4))
    assert rr.size >= 50 and rr.min() >= 150 and rr.max() <= 152 and cc.min() >= 140 and cc.max() < 160
    assert sig.min() > 22.0
    flat = np.full((300, 300), 0.01, np.float32)
    rr, _, _ = ring_cfar(flat, np.ones(flat.shape, bool), 10.0, 200, 600, 22.0, 50.0, floor_rel=1 / np.sqrt(4.4))
    assert rr.size == 0


def test_rendered_scenes_are_detected_against_their_truth(rendered, tmp_path):
    folder, doc = rendered
    scenes = sorted(str(p) for p in (folder / "scenes").glob("acq-*.tif") if "_B0" not in p.name)
    scenes += sorted(str(p) for p in (folder / "scenes").glob("*_B04.tif"))
    st = Store(tmp_path / "st")
    run = detect(scenes, st)
    assert run.scenes == len(doc["acquisitions"]) and not run.errors
    s = evaluate(read_detections(st), read_scenes(st), load_truth(folder / "imagery.json"))
    big = [c for k, c in s.by_length.items() if k in ("50-100 m", "100-200 m", ">=200 m")]
    tp, fn, fp = sum(c.tp for c in big), sum(c.fn for c in big), sum(c.fp for c in big)
    assert tp + fn >= 10
    # ships >= 50 m (truth length for hits and misses, measured length for false detections: the renderer's
    # 20 m fixed structures are not in this class)
    assert tp / (tp + fn) >= 0.9, s.misses
    assert tp / (tp + fp) >= 0.9, s.false_detections
    det = read_detections(st)
    assert det["length_m"].min() > 0 and det["acquired"].dt.year().unique().to_list() == [2024]


def test_a_cloudy_optical_scene_is_skipped_and_says_so(rendered, tmp_path):
    folder, doc = rendered
    cloudy = [a for a in doc["acquisitions"] if a["sensor"] == "optical" and a["cloudy"]]
    if not cloudy:
        pytest.skip("no cloudy acquisition in this run")
    det, row = detect_scene(open_scene(folder / "scenes" / f"{cloudy[0]['id']}_B04.tif"))
    assert row["status"] == "cloudy" and row["cloud_share"] > 0.8 and det.height == 0


def test_fixed_structures_seen_in_most_passes_are_set_aside(rendered, tmp_path):
    folder, doc = rendered
    sar = [a for a in doc["acquisitions"] if a["sensor"] == "SAR" and a["site"] == "Vostochny"]
    assert len(sar) >= 2
    st = Store(tmp_path / "st")
    paths = [folder / "scenes" / f"{a['id']}.tif" for a in sar]
    cfg = tmp_path / "c.toml"
    cfg.write_text("[imagery.persistence]\nmin_scenes = 2\nmin_span_days = 0.0\n")
    detect(paths, st, config=cfg)
    allrows = read_detections(st, include_fixed=True)
    fixed = allrows.filter(pl.col("fixed"))
    # the renderer's fixed structures (20 m, the same spot every pass) are set aside, ships that moved are not
    assert fixed.height >= 2 * len(sar)
    assert fixed["length_m"].max() < 40
    assert read_detections(st).filter(pl.col("fixed")).height == 0
    # with the default (30 days of persistence) nothing in a 13-day run is fixed
    st2 = Store(tmp_path / "st2")
    detect(paths, st2)
    assert read_detections(st2, include_fixed=True)["fixed"].sum() == 0


@pytest.mark.slow
def test_the_real_flat_sentinel1_product_runs_through_with_no_detection(tmp_path):
    st = Store(tmp_path / "st")
    run = detect([shared_file(S1)], st)
    assert run.scenes == 1 and run.detections == 0 and not run.errors
    sc = read_scenes(st)
    assert sc["width"][0] == 25788 and sc["sensor"][0] == "sar"


def test_the_shore_test_bed_puts_ships_at_quays_approaches_and_open_water_and_the_buffer_decides_the_quays(tmp_path):
    import json

    from shadowfleet.sim.render import render, shore_testbed

    acq = shore_testbed("Vostochny", 42.745, 133.05, seed=7, wind_mps=7.0, time_iso="2024-03-07T08:40:00Z")
    roles = [s["role"] for s in acq["ships"]]
    assert (roles.count("berth"), roles.count("approach"), roles.count("open")) == (12, 12, 10)
    doc = {"acquisitions": [acq]}
    render(doc, tmp_path / "scenes", 7, sites={"Vostochny": (42.745, 133.05)}, sensors=("SAR",))
    (tmp_path / "imagery.json").write_text(json.dumps(doc))
    truth = load_truth(tmp_path / "imagery.json")
    scores = {}
    for buf in (60.0, 20.0):
        cfg = tmp_path / f"b{buf:g}.toml"
        cfg.write_text(f"[imagery.sar]\nshore_buffer_m = {buf}\n")
        st = Store(tmp_path / f"st{buf:g}")
        detect([tmp_path / "scenes" / f"{acq['id']}.tif"], st, config=cfg,
               structures=tmp_path / "scenes" / "structures.geojson")
        scores[buf] = evaluate(read_detections(st), read_scenes(st), truth)
    s = scores[60.0]
    assert s.close_to_shore.tp + s.close_to_shore.fn >= 20  # quays and approaches are within 2 km of land
    big = ("50-100 m", "100-200 m", ">=200 m")
    open_big = s.subset("open water", big)
    assert open_big.tp + open_big.fn >= 3 and open_big.recall >= 0.75 and open_big.precision >= 0.9
    # hulls alongside a quay lie inside a 60 m shore buffer; a 20 m one (exact in a rendered scene) finds more
    assert scores[20.0].close_to_shore.tp > s.close_to_shore.tp
