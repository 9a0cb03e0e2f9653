"""Held-out precision and recall of the optical detector on the real Sentinel-2 tiles of Galveston (2019-04-09).

The threshold k (standard deviations above the ring, `[imagery.optical] k_sigma`) is chosen on one half of the
tiles and scored on the other, and the other way round (2-fold, split by tile: tiles in name order, alternate
ones to each half; a half's truth is every labelled vessel inside its tiles' footprints, and one just outside
them, within the 200 m match distance, counts neither way); the full-set figure for each k is printed beside.

    PYTHONPATH=src python bench/accuracy_optical.py [--data ../shared/data] [--k 5,6,7,8,9,10,12]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))


def in_footprints(truth: pl.DataFrame, scenes: pl.DataFrame, edge_m: float = 200.0) -> pl.DataFrame:
    """The labels inside these scenes' footprints (tiles overlap: a ship in the overlap belongs to both halves);
    those just outside (within the 200 m match distance) count neither way, as `ambiguous` labels do."""
    import shapely

    polys = shapely.union_all([shapely.from_geojson(f) for f in scenes["footprint"].to_list()])
    x, y = truth["lon"].to_numpy(), truth["lat"].to_numpy()
    inside = shapely.contains_xy(polys, x, y)
    near = shapely.contains_xy(polys.buffer(edge_m / 111_195.0 / np.cos(np.radians(np.mean(y)))), x, y)
    return (truth.with_columns(pl.when(pl.Series(inside)).then(pl.col("label")).otherwise(pl.lit("ambiguous"))
                               .alias("label"))
            .filter(pl.Series(near)))


def main() -> None:
    from shadowfleet.imagery import detect, read_detections, read_scenes
    from shadowfleet.imagery.evaluate import evaluate, load_truth
    from shadowfleet.store import Store

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data"))
    ap.add_argument("--k", default="5,6,7,8,9,10,12")
    a = ap.parse_args()
    src = Path(a.data) / "imagery" / "sentinel2"
    tiles = sorted((src / "houston_20190409").glob("*.tif"))
    labels = src / "houston_20190409_labels.csv"
    halves = [{t.name for t in tiles[0::2]}, {t.name for t in tiles[1::2]}]
    tmp = Path(tempfile.mkdtemp(prefix="acc-optical-"))
    full_truth = load_truth(labels)
    scores: dict[float, list] = {}
    for k in [float(x) for x in a.k.split(",")]:
        cfg = tmp / f"k{k:g}.toml"
        cfg.write_text(f"[imagery.optical]\nk_sigma = {k}\n")
        st = Store(tmp / f"st{k:g}")
        detect([str(t) for t in tiles], st, config=cfg)
        det, sc = read_detections(st), read_scenes(st)
        per = []
        for h in halves:
            keep = pl.col("scene_id").is_in([Path(s).stem for s in h])
            per.append(evaluate(det.filter(keep), sc.filter(keep), in_footprints(full_truth, sc.filter(keep))).overall)
        full = evaluate(det, sc, full_truth).overall
        scores[k] = per + [full]
        print(f"k={k:g}: half A P {per[0].precision:.3f} R {per[0].recall:.3f} F1 {per[0].f1:.3f} | "
              f"half B P {per[1].precision:.3f} R {per[1].recall:.3f} F1 {per[1].f1:.3f} | "
              f"all P {full.precision:.3f} R {full.recall:.3f} F1 {full.f1:.3f} (tp {full.tp} fp {full.fp} fn {full.fn})",
              flush=True)
    for train, test in ((0, 1), (1, 0)):
        best = max(scores, key=lambda k: (scores[k][train].f1, -abs(k - 8)))
        c = scores[best][test]
        print(f"chosen on half {'AB'[train]}: k = {best:g} (F1 {scores[best][train].f1:.3f} there); held out on half "
              f"{'AB'[test]}: P {c.precision:.3f} R {c.recall:.3f} F1 {c.f1:.3f} (tp {c.tp} fp {c.fp} fn {c.fn})")


if __name__ == "__main__":
    main()
