#!/usr/bin/env python
"""Rebuild shadowfleet's built-in gazetteer (src/shadowfleet/places/data/gazetteer.geojson) from public data.

    .venv/bin/python tools/build_gazetteer.py [--data ../shared/data/places] [--out src/shadowfleet/places/data/gazetteer.geojson]

Sources (../shared/data/places, see its README):
- ports: NGA World Port Index (Pub. 150) reference points → a circle whose radius follows the WPI harbour size;
- anchorages: Global Fishing Watch anchorage cells (S2 level 14, ≈0.5 km) → union of discs around cell centres
  per GFW label;
- berths and terminals: placed by hand from the GFW cells, the WPI point, docs/reference.md and the ~1 km land mask,
  each with `derived_from` and `uncertainty_m` saying how it was placed and how far off it may be;
- the DPRK east-coast EEZ: GFW's North Korea paper polygon (Park et al. 2020), simplified to ~100 m.
Every feature carries `derived_from` and `uncertainty_m` (metres, an honest order of magnitude).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Point, mapping, shape
from shapely.ops import unary_union

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shadowfleet.places.geo import destination_point, on_land  # noqa: E402

# Port disc radius by WPI harbour size (ours: the water area a harbour of that class spans; brief asks 3–6 km)
PORT_RADIUS_KM = {"Very Small": 3.0, "Small": 4.0, "Medium": 5.0, "Large": 6.0}
# Disc around each GFW cell centre (ours: a level-14 S2 cell is ≈0.5 km wide, so 0.45 km discs join neighbours
# into one area and cover the cell's corners)
ANCHORAGE_CELL_RADIUS_KM = 0.45
# A port's position uncertainty: WPI gives points to 0.01' but the harbour is the whole disc
PORT_UNCERTAINTY_M = 2000.0
ANCHORAGE_UNCERTAINTY_M = 500.0  # one S2 cell
EEZ_SIMPLIFY_DEG = 0.001  # ≈100 m, keeps the shipped file small
DISC_VERTICES = 48

# id → (WPI number, name, country, kind note, radius override km or None, reason for override)
WPI_PORTS = [
    ("RUVYP", 60725, "Vostochny (Vostochnyy)", "RU", 5.0,
     "WPI classes it 'Very Small' but it is Russia's largest coal port spread around Vrangel Bay"),
    ("RUNJK", 60730, "Nakhodka", "RU", None, None),
    ("RUVVO", 60610, "Vladivostok", "RU", None, None),
    ("RUSKA", 62535, "Slavyanka", "RU", None, None),
    ("RUZAR", 60582, "Zarubino", "RU", None, None),
    ("RUPSE", 60540, "Posyet", "RU", None, None),
    ("KPCHO", 60500, "Chongjin", "KP", None, None),
    ("KPRJN", 60510, "Najin (Rajin)", "KP", None, None),
    ("KPSBG", 60520, "Sonbong (Unggi)", "KP", None, None),
    ("KPNAM", 60280, "Nampo", "KP", None, None),
    ("KPSGN", 60290, "Songrim (Kyomipo)", "KP", None, None),
    ("KPHAE", 60310, "Haeju", "KP", None, None),
    ("KPHGM", 60450, "Hungnam", "KP", None, None),
    ("KPSON", 60480, "Kimchaek (Songjin)", "KP", None, None),
    ("KPWON", 60440, "Wonsan", "KP", None, None),
    ("KRPUS", 60390, "Busan", "KR", None, None),
    ("JPKIJ", 61870, "Niigata", "JP", None, None),
    ("CNDLC", 60250, "Dalian", "CN", None, None),
    ("CNYIK", 60220, "Yingkou", "CN", None, None),
    ("CNLKU", 60170, "Longkou", "CN", None, None),
    ("CNYNT", 60160, "Yantai", "CN", None, None),
    ("CNTSN", 60190, "Tianjin (Xingang)", "CN", None, None),
]

# id → (GFW label, sublabel filter or None for "no sublabel", name, country)
GFW_ANCHORAGES = [
    ("RUVYP-ANCH", "VOSTOCHNYY", "", "Vostochny anchorage and berths (GFW cells)", "RU"),
    ("RUNJK-ANCH", "NAKHODKA", "", "Nakhodka Bay anchorage (GFW cells)", "RU"),
    ("RUNJK-VOSTOK", "NAKHODKA", "VOSTOK BAY", "Vostok Bay anchorage (GFW cells labelled NAKHODKA)", "RU"),
    ("RUVVO-ANCH", "VLADIVOSTOK", "", "Vladivostok anchorage (GFW cells)", "RU"),
    ("RUSKA-ANCH", "SLAVYANKA", "", "Slavyanka anchorage (GFW cells)", "RU"),
    ("RUZAR-ANCH", "ZARUBINO", "", "Zarubino anchorage (GFW cells)", "RU"),
]

# Hand-placed berths and terminals: (id, name, kind, country, lat, lon, radius_km, uncertainty_m, derived_from).
# Each centre was checked to be on water in global-land-mask (1 km) and next to the quay it serves.
HAND_PLACED = [
    ("RUVYP-OIL", "Vostochny oil berth (position not public)", "berth", "RU", 42.7518, 133.0692, 0.35, 3000.0,
     "hand-placed: the berth DPRK tankers loaded at in 2024 is not named in public sources (docs/reference.md); put at "
     "the innermost GFW VOSTOCHNYY stop cells on the east shore of Vrangel Bay next to the WPI port point; "
     "could be any quay of the bay"),
    ("RUVYP-COAL", "Vostochny coal terminal", "terminal", "RU", 42.7450, 133.0610, 0.5, 2000.0,
     "hand-placed: water east of the pier-like land spur at 42.745N 133.053E in the land mask, south part of "
     "the inner bay; the coal terminal's exact quay line not checked"),
    ("RUVYP-CTN", "Vostochny container terminal", "terminal", "RU", 42.7565, 133.0580, 0.3, 2000.0,
     "hand-placed: north shore of inner Vrangel Bay (land mask); exact quay not checked"),
    ("KOZMINO", "Kozmino crude oil terminal (ESPO)", "terminal", "RU", None, None, 0.6, 3000.0,
     "GFW cells labelled VOSTOCHNYY at 42.72N 133.00-133.01E on the coast between Nakhodka Bay and Vrangel Bay, "
     "where ports_reference.csv puts Kozmino (no coordinates published in the sources reached)"),
    ("KPCHO-OIL", "Chongjin oil berth", "berth", "KP", 41.7697, 129.8197, 0.3, 1500.0,
     "hand-placed: harbour water nearest the Global Energy Monitor oil site (41.7816, 129.8204, approximate) "
     "north of the WPI point; exact berth not public"),
    ("KPNAM-OIL", "Nampo oil terminal", "terminal", "KP", 38.7050, 125.3600, 0.7, 3000.0,
     "hand-placed: Taedong estuary water west of the WPI Nampo point, where the Panel of Experts describes the "
     "oil terminal's piers and offloading buoys (docs/reference.md); position approximate"),
    ("SOKDO-STS", "Sok Island ship-to-ship transfer area", "sts_area", "KP", 38.60, 125.07, 5.0, 15000.0,
     "docs/reference.md: STS area named by the 1718 Committee near Sok Island, ~30 km SW of Nampo (Daily NK); "
     "coordinates not published: centred on the nearest open water ~31 km WSW of Nampo (the point 30 km due SW "
     "is on land in the mask)"),
]
KOZMINO_CELLS = ("5fb12339", "5fb1233f")  # the third cell there (5fb1231b) lies on land in the 1 km mask


def disc(lat: float, lon: float, radius_km: float):
    """A geodesic disc as a lon/lat polygon."""
    bearings = np.linspace(0.0, 360.0, DISC_VERTICES, endpoint=False)
    la, lo = destination_point(lat, lon, bearings, radius_km)
    return shapely.Polygon(np.column_stack([lo, la]))


def read_wpi(path: Path) -> dict[int, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {int(float(r["World Port Index Number"])): r for r in csv.DictReader(fh)}


def read_cells(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def feature(fid, name, kind, country, geom, derived_from, uncertainty_m):
    geom = shapely.set_precision(geom, 1e-5)  # ≈1 m; keeps the file small and stable across rebuilds
    assert geom.is_valid and not geom.is_empty, fid
    return {
        "type": "Feature",
        "properties": {"id": fid, "name": name, "kind": kind, "country": country,
                       "derived_from": derived_from, "uncertainty_m": uncertainty_m},
        "geometry": mapping(geom),
    }


def build(data: Path) -> dict:
    wpi = read_wpi(data / "nga_world_port_index_pub150.csv")
    cells = read_cells(data / "gfw_anchorage_overrides_sea_of_japan_subset.csv")
    feats = []
    for fid, number, name, country, override_km, reason in WPI_PORTS:
        row = wpi[number]
        lat, lon = float(row["Latitude"]), float(row["Longitude"])
        size = row["Harbor Size"].strip()
        radius = override_km or PORT_RADIUS_KM.get(size, 3.0)
        how = f"NGA World Port Index {number} ({row['Main Port Name']}) point, disc of {radius:g} km"
        how += f" ({reason})" if reason else f" for harbour size '{size}'"
        feats.append(feature(fid, name, "port", country, disc(lat, lon, radius), how, PORT_UNCERTAINTY_M))
    for fid, label, sub, name, country in GFW_ANCHORAGES:
        pts = [(float(c["latitude"]), float(c["longitude"])) for c in cells
               if c["label"] == label and c["sublabel"] == sub]
        geom = unary_union([disc(la, lo, ANCHORAGE_CELL_RADIUS_KM) for la, lo in pts])
        how = (f"GFW pipe-anchorages overrides: union of {ANCHORAGE_CELL_RADIUS_KM:g} km discs around {len(pts)} "
               f"S2 level-14 cells labelled {label}" + (f"/{sub}" if sub else ""))
        feats.append(feature(fid, name, "anchorage", country, geom, how, ANCHORAGE_UNCERTAINTY_M))
    by_id = {c["s2id"]: c for c in cells}
    for fid, name, kind, country, lat, lon, radius, unc, how in HAND_PLACED:
        if lat is None:  # Kozmino: from named GFW cells
            pts = [(float(by_id[s]["latitude"]), float(by_id[s]["longitude"])) for s in KOZMINO_CELLS]
            geom = unary_union([disc(la, lo, radius) for la, lo in pts])
        else:
            if on_land(lat, lon):
                raise SystemExit(f"{fid}: hand-placed centre {lat},{lon} is on land in the mask")
            geom = disc(lat, lon, radius)
        feats.append(feature(fid, name, kind, country, geom, how, unc))
    eez = json.loads((data / "gfw_nk_paper_eez_prk.json").read_text(encoding="utf-8"))
    geom = shape(eez["features"][0]["geometry"]).simplify(EEZ_SIMPLIFY_DEG, preserve_topology=True)
    feats.append(feature(
        "KP-EEZ-EAST", "DPRK east-coast EEZ (claimed)", "eez", "KP", geom,
        "GFW paper-dark-fishing-fleets-in-north-korea gfw_nk_paper_eez_prk.json (Park et al. 2020), simplified "
        f"to {EEZ_SIMPLIFY_DEG:g} deg; a claimed boundary, not agreed with neighbours (the file's properties still "
        "read 'North Korean 12 NM', but its polygon spans ~121,000 km2 of the Sea of Japan, EEZ-scale)", 1000.0))
    ids = [f["properties"]["id"] for f in feats]
    assert len(ids) == len(set(ids)), "duplicate ids"
    return {"type": "FeatureCollection", "features": feats}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "places")
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "shadowfleet" / "places" / "data" / "gazetteer.geojson")
    args = ap.parse_args(argv)
    doc = build(args.data)
    # one feature per line: readable diffs when the gazetteer is rebuilt
    lines = ",\n".join(json.dumps(f, separators=(",", ":"), ensure_ascii=False) for f in doc["features"])
    args.out.write_text('{"type":"FeatureCollection","features":[\n' + lines + "\n]}\n", encoding="utf-8")
    print(f"wrote {len(doc['features'])} places to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
