"""Radar ship detection on a full-size Sentinel-1 IW GRD scene (25,000 x 16,700 pixels, VV + VH, rendered) vs a
plain scipy CFAR (per-pixel box filters over the same 200-600 m ring, same windows, same threshold) on the same
scene in the same run. Each detector runs in its own child process: wall time and peak RSS are its own.

The scene: open sea off the Russian Far East (so the land mask falls back to global-land-mask for most of it, as
a real scene would), gamma speckle ENL 4.4 over a textured sea at 7 m/s, 300 ships of 20-350 m at known places.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))

H, W = 16_700, 25_000
PIXEL_M = 10.0
N_SHIPS = 300
ORIGIN = (600_000.0, 4_650_000.0)  # UTM 53N: the sea south-east of Nakhodka, 41.9-42.0 N


def make_scene(path: Path, seed: int = 20240307) -> list[tuple[float, float, float]]:
    """Write the scene stripe by stripe (bounded memory); returns (row, col, length) of the ships."""
    import rasterio
    from rasterio.transform import from_origin

    from shadowfleet.sim.render import ENL_IW_GRDH, _ship_sigma0_db, _stamp

    rng = np.random.default_rng(seed)
    ships = [(float(rng.uniform(200, H - 200)), float(rng.uniform(200, W - 200)), float(rng.uniform(20, 350)),
              float(rng.uniform(0, 180))) for _ in range(N_SHIPS)]
    sea = {"VV": 10 ** (-17.0 / 10), "VH": 10 ** (-25.5 / 10)}  # ~7 m/s (sim/render.py's model)
    prof = dict(driver="GTiff", width=W, height=H, count=2, dtype="uint16", crs="EPSG:32653",
                transform=from_origin(ORIGIN[0], ORIGIN[1], PIXEL_M, PIXEL_M), nodata=0, tiled=True,
                blockxsize=512, blockysize=512, compress="deflate", predictor=2, BIGTIFF="YES")
    stripe = 512
    with rasterio.open(path, "w", **prof) as dst:
        for r0 in range(0, H, stripe):
            h = min(stripe, H - r0)
            for b, pol in enumerate(("VV", "VH"), 1):
                mean = np.full((h, W), sea[pol], np.float32)
                for (r, c, length, hd) in ships:
                    if r0 - 40 <= r < r0 + h + 40:
                        _stamp(mean, c, r - r0, length, length / 6.5, hd,
                               10 ** (_ship_sigma0_db(length, pol) / 10), PIXEL_M)
                img = mean * rng.gamma(ENL_IW_GRDH, 1.0 / ENL_IW_GRDH, size=(h, W)).astype(np.float32)
                dst.write(np.clip(np.sqrt(img) * 1000.0, 1, 65535).astype(np.uint16), b,
                          window=((r0, r0 + h), (0, W)))
        dst.update_tags(SHADOWFLEET_SENSOR="sar", SHADOWFLEET_ACQUIRED="2024-03-07T08:40:00Z",
                        SHADOWFLEET_SCALE="amplitude", POLARISATION_1="VV", POLARISATION_2="VH")
    return [(r, c, length) for r, c, length, _ in ships]


OURS = """
import json, sys, time
t = time.perf_counter()
from shadowfleet.imagery import detect_scene, open_scene
s = open_scene(sys.argv[1])
det, row = detect_scene(s)
el = time.perf_counter() - t
rows, cols = [], []
import numpy as np
from pyproj import Transformer
x, y = Transformer.from_crs("EPSG:4326", "EPSG:32653", always_xy=True).transform(det["lon"].to_numpy(), det["lat"].to_numpy())
print(json.dumps({"seconds": el, "rss_gib": int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM"))) / 2**20,
                  "rows": ((4650000.0 - y) / 10.0 - 0.5).tolist(), "cols": ((x - 600000.0) / 10.0 - 0.5).tolist(),
                  "lengths": det["length_m"].to_list()}))
"""

# The peer: the textbook two-parameter CFAR with scipy -- ring mean and std from per-pixel box filters at full
# resolution (outer 1,210 m, inner 410 m boxes), threshold mean + 22 std, connected pixels labelled -- over the
# same windows of the same file. No land mask (the scene is all sea), no second pass.
PLAIN = """
import json, sys, time
import numpy as np, rasterio
from rasterio.windows import Window
from scipy import ndimage
t = time.perf_counter()
inner, outer, k = 20, 60, 22.0
rows, cols = [], []
with rasterio.open(sys.argv[1]) as src:
    H, W = src.height, src.width
    tile = 2048
    halo = outer + 25
    for r0 in range(0, H, tile):
        for c0 in range(0, W, tile):
            R0, C0 = max(0, r0 - halo), max(0, c0 - halo)
            R1, C1 = min(H, r0 + tile + halo), min(W, c0 + tile + halo)
            mask = np.zeros((R1 - R0, C1 - C0), bool)
            for b in (1, 2):
                x = src.read(b, window=Window(C0, R0, C1 - C0, R1 - R0)).astype(np.float32) ** 2
                so, si = 2 * outer + 1, 2 * inner + 1
                s1 = ndimage.uniform_filter(x, so) * so * so - ndimage.uniform_filter(x, si) * si * si
                s2 = ndimage.uniform_filter(x * x, so) * so * so - ndimage.uniform_filter(x * x, si) * si * si
                n = so * so - si * si
                m = s1 / n
                sd = np.sqrt(np.maximum(s2 / n - m * m, 0))
                mask |= x > m + k * sd
            lab, cnt = ndimage.label(ndimage.binary_dilation(mask, iterations=2))
            if cnt:
                cen = np.array(ndimage.center_of_mass(mask, lab * mask, np.arange(1, cnt + 1)))
                cen = cen[np.isfinite(cen).all(axis=1)]
                keep = (cen[:, 0] + R0 >= r0) & (cen[:, 0] + R0 < r0 + tile) & (cen[:, 1] + C0 >= c0) & (cen[:, 1] + C0 < c0 + tile)
                rows += (cen[keep, 0] + R0).tolist(); cols += (cen[keep, 1] + C0).tolist()
el = time.perf_counter() - t
print(json.dumps({"seconds": el, "rss_gib": int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM"))) / 2**20,
                  "rows": rows, "cols": cols}))
"""


def _run(code: str, scene: Path) -> dict:
    r = subprocess.run([sys.executable, "-c", code, str(scene)], capture_output=True, text=True,
                       env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    if r.returncode:
        raise RuntimeError(r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def _recall(found: dict, ships: list, min_len: float) -> tuple[int, int, int]:
    from scipy.spatial import cKDTree

    truth = np.array([(r, c) for r, c, length in ships if length >= min_len])
    pts = np.column_stack([found["rows"], found["cols"]]) if found["rows"] else np.zeros((0, 2))
    if not len(pts):
        return 0, len(truth), 0
    d, _ = cKDTree(pts).query(truth)
    hit = int((d <= 20).sum())  # 200 m
    all_truth = np.array([(r, c) for r, c, _ in ships])
    d2, _ = cKDTree(all_truth).query(pts)
    false = int((d2 > 20).sum())
    return hit, len(truth), false


def main() -> dict:
    from machine import write_section

    tmp = Path(tempfile.mkdtemp(prefix="shadowfleet-bench-imagery-"))
    try:
        scene = tmp / "s1-full-size.tif"
        t = time.perf_counter()
        ships = make_scene(scene)
        made = time.perf_counter() - t
        load = os.getloadavg()[0]
        ours = _run(OURS, scene)
        plain = _run(PLAIN, scene)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    oh, on, of = _recall(ours, ships, 50)
    ph, pn, pf = _recall(plain, ships, 50)
    ratio = plain["seconds"] / ours["seconds"]
    body = f"""
### imagery — `imagery.detect_scene` vs a plain scipy CFAR on a full-size Sentinel-1 IW GRD scene

Rendered scene (bench/bench_imagery.py): {W:,} x {H:,} pixels, VV + VH uint16 amplitude, 10 m, tiled deflate
GeoTIFF; gamma speckle ENL 4.4 over a sea at ~7 m/s; {N_SHIPS} ships of 20-350 m. Rendering took {made:.0f} s
(not timed below). Each detector in its own process (peak RSS is its own VmHWM: getrusage would carry the
renderer's peak into the child); load average {load:.1f} on 2 cores when the detectors started.

| figure | shadowfleet | plain scipy CFAR | target |
|---|---|---|---|
| wall time | {ours['seconds']:.1f} s | {plain['seconds']:.1f} s | < 120 s |
| speed ratio (plain / ours) | {ratio:.1f}x | 1x | |
| peak RSS | {ours['rss_gib']:.2f} GiB | {plain['rss_gib']:.2f} GiB | < 3 GiB |
| ships >= 50 m found (within 200 m) | {oh} / {on} | {ph} / {pn} | |
| objects not on a ship | {of} | {pf} | |

Ours includes opening the file, the land mask and measuring every object;
the plain CFAR has no land mask and only centroids. Skylight quotes ~30 min per scene for its CPU detector.
"""
    write_section("imagery: radar detection", body)
    print(body)
    return {"ours": ours["seconds"], "plain": plain["seconds"], "ratio": ratio}


if __name__ == "__main__":
    main()
