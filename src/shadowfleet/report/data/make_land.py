"""Build land_nea.json (land polygons for the report's map) from Natural Earth 1:50m land via npm world-atlas.

Run once by a maintainer, offline afterwards:  npm pack world-atlas@2 && tar xzf world-atlas-2.0.2.tgz
    python make_land.py package/land-50m.json land_nea.json
Natural Earth is public domain; world-atlas (ISC) only converts it to TopoJSON. The output keeps the
north-east Asia box the cases live in (110–150 E, 28–52 N), simplified to ~1 km.
"""

import json
import sys

import numpy as np
import shapely
from shapely.geometry import Polygon, box

BOX = (110.0, 28.0, 150.0, 52.0)


def decode(topo: dict) -> list:
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        a = np.cumsum(np.asarray(arc, dtype=float), axis=0)  # delta-encoded, quantised
        arcs.append(np.c_[a[:, 0] * sx + tx, a[:, 1] * sy + ty])

    def ring(ids):
        pts = []
        for i in ids:
            a = arcs[i] if i >= 0 else arcs[~i][::-1]
            pts.extend(a[1:] if pts else a)
        return pts

    polys = []
    for g in topo["objects"]["land"]["geometries"]:
        coords = g["arcs"] if g["type"] == "MultiPolygon" else [g["arcs"]]
        for p in coords:
            rings = [ring(r) for r in p]
            if len(rings[0]) >= 4:
                polys.append(Polygon(rings[0], [r for r in rings[1:] if len(r) >= 4]))
    return polys


def main(src: str, dst: str) -> None:
    topo = json.load(open(src))
    clip = box(*BOX)
    out = []
    for p in decode(topo):
        p = shapely.make_valid(p)
        if not p.intersects(clip):
            continue
        g = p.intersection(clip).simplify(0.01)
        parts = g.geoms if hasattr(g, "geoms") else [g]
        for q in parts:
            if isinstance(q, Polygon) and q.area > 1e-4:
                out.append([[round(x, 3), round(y, 3)] for x, y in q.exterior.coords])
    doc = {"source": "Natural Earth 1:50m land (public domain) via npm world-atlas 2.0.2 land-50m.json, "
                     f"clipped to {BOX}, simplified 0.01 deg", "rings": out}
    json.dump(doc, open(dst, "w"), separators=(",", ":"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
