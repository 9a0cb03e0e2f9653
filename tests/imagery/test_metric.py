"""xView3's metric on hand-worked cases: one-to-one matching within 200 m, P/R/F1, close to shore apart."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from shadowfleet.imagery.evaluate import Counts, evaluate, match
from shadowfleet.store.schema import DETECTIONS, SCENES

M_PER_DEG = 111_195.0


def test_matching_is_one_to_one_and_minimises_total_distance():
    # two detections, two ships 150 m apart on a line; detection A is 100 m from both (greedy would take
    # ship 1 for A and leave B (60 m from ship 1, 210 m from ship 2) unmatched); Hungarian pairs A-2, B-1
    d_lat = np.array([0.0, 0.0]) + 42.0
    d_lon = np.array([100.0, -60.0]) / (M_PER_DEG * np.cos(np.radians(42.0))) + 133.0
    t_lat = np.array([42.0, 42.0])
    t_lon = np.array([0.0, 200.0]) / (M_PER_DEG * np.cos(np.radians(42.0))) + 133.0
    di, ti, dist = match(d_lat, d_lon, t_lat, t_lon, 200.0)
    assert sorted(zip(di.tolist(), ti.tolist())) == [(0, 1), (1, 0)]
    assert dist.round() .tolist() == pytest.approx([100, 60], abs=1) or sorted(dist.round().tolist()) == [60, 100]


def test_a_detection_beyond_200_m_does_not_match():
    off = 201.0 / M_PER_DEG
    di, _, _ = match([42.0 + off], [133.0], [42.0], [133.0], 200.0)
    assert di.size == 0
    di, _, _ = match([42.0 + 199.0 / M_PER_DEG], [133.0], [42.0], [133.0], 200.0)
    assert di.size == 1


def test_counts_give_precision_recall_f1_by_hand():
    c = Counts(tp=8, fp=2, fn=4)
    assert c.precision == pytest.approx(0.8) and c.recall == pytest.approx(8 / 12)
    assert c.f1 == pytest.approx(2 * 8 / (16 + 2 + 4))


def _det(rows):
    t = dt.datetime(2024, 3, 7, 8, 40, tzinfo=dt.timezone.utc)
    base = {k: None for k in DETECTIONS}
    out = []
    for i, (lat, lon, length, shore) in enumerate(rows):
        r = dict(base, detection_id=f"acq-0001-{i}", scene_id="acq-0001", sensor="sar", acquired=t, lat=lat, lon=lon,
                 length_m=length, score=50.0, distance_to_shore_km=shore, fixed=False)
        out.append(r)
    return pl.DataFrame(out, schema=DETECTIONS)


def test_evaluate_scores_open_water_and_close_to_shore_apart():
    # open sea far from land (Sea of Japan, 41.0 N 134.5 E): three ships, two found (one 120 m off), one false
    truth = pl.DataFrame({"group": ["acq-0001"] * 3, "lat": [41.0, 41.01, 41.02], "lon": [134.5] * 3,
                          "length": [120.0, 60.0, 200.0], "label": ["vessel"] * 3, "wind": [4.0] * 3,
                          "ais_on": [True] * 3, "mmsi": [1, 2, 3], "cloudy": [False] * 3, "cand_id": [None] * 3})
    det = _det([(41.0, 134.5, 110.0, 50.0), (41.01 + 120 / M_PER_DEG, 134.5, 70.0, 50.0), (41.2, 134.5, 40.0, 50.0)])
    scenes = pl.DataFrame([{"scene_id": "acq-0001", "status": "ok", "acquired": det["acquired"][0]}],
                          schema={k: SCENES[k] for k in ("scene_id", "status", "acquired")})
    s = evaluate(det, scenes, truth)
    assert (s.overall.tp, s.overall.fp, s.overall.fn) == (2, 1, 1)
    assert s.close_to_shore.tp + s.close_to_shore.fn == 0  # all truth is far from land
    assert s.length_error_m == pytest.approx(10.0)
    assert s.misses[0]["mmsi"] == 3 and "not detected" in s.misses[0]["reason"]
    assert s.false_detections[0]["reason"] == "no vessel there in the truth"
    assert s.by_length["100-200 m"].tp == 1 and s.by_length[">=200 m"].fn == 1
    # the false detection is counted in its scene's wind class (4 m/s) and by its measured length (40 m)
    assert (s.by_wind["0-5.4 m/s"].tp, s.by_wind["0-5.4 m/s"].fp, s.by_wind["0-5.4 m/s"].fn) == (2, 1, 1)
    assert s.by_length["0-50 m"].fp == 1


def test_cells_give_any_cross_section_of_zone_length_and_wind():
    # the same scene: ships of 120 m (found), 60 m (found), 200 m (missed) and a false 40 m detection, 4 m/s
    truth = pl.DataFrame({"group": ["acq-0001"] * 3, "lat": [41.0, 41.01, 41.02], "lon": [134.5] * 3,
                          "length": [120.0, 60.0, 200.0], "label": ["vessel"] * 3, "wind": [4.0] * 3,
                          "ais_on": [True] * 3, "mmsi": [1, 2, 3], "cloudy": [False] * 3, "cand_id": [None] * 3})
    det = _det([(41.0, 134.5, 110.0, 50.0), (41.01, 134.5, 70.0, 50.0), (41.2, 134.5, 40.0, 50.0)])
    scenes = pl.DataFrame([{"scene_id": "acq-0001", "status": "ok", "acquired": det["acquired"][0]}],
                          schema={k: SCENES[k] for k in ("scene_id", "status", "acquired")})
    s = evaluate(det, scenes, truth)
    big = ("50-100 m", "100-200 m", ">=200 m")
    c = s.subset("open water", big, ("0-5.4 m/s",))
    # ships >= 50 m: 2 found, 1 missed; the 40 m false detection is outside the length class
    assert (c.tp, c.fp, c.fn) == (2, 0, 1) and c.f1 == pytest.approx(0.8)
    assert (s.subset("open water").fp, s.subset("close to shore").tp) == (1, 0)
    assert s.subset(winds=(">=10.7 m/s",)).tp == 0
    cells = {(r["zone"], r["length"], r["wind"]): r for r in s.as_dict()["cells"]}
    assert cells[("open water", "0-50 m", "0-5.4 m/s")]["fp"] == 1
