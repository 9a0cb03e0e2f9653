"""Rendered satellite scenes for the simulator's acquisitions: radar GeoTIFFs like Sentinel-1 GRD and optical
band files like Sentinel-2, with the ships of imagery.json in them. Deterministic per seed.

Radar: sea backscatter that rises with wind, textured (K-distribution-like: a gamma texture whose shape falls
with wind) and speckled as IW GRDH (gamma, ENL 4.4: ESA Sentinel-1 user guide); land brighter and rough; ships as
bright rectangles of their length and beam turned to their heading, shifted along the track by -(R/V) v_r when
moving (v_r: speed towards/away from the radar); a few fixed bright structures near each site's shore (the same
in every scene). Amplitude DN as uint16 (sigma0 = DN^2 / A^2), 0 outside the footprint.

Optical: water, land, grey-white or red hulls, foam wakes behind moving ships, clouds (most of a cloudy scene,
a few puffs otherwise), as 10 m reflectance x 10000 in B02/B03/B04/B08 files.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from shadowfleet.places.coast import is_land

ENL_IW_GRDH = 4.4  # ESA Sentinel-1 user guide
CALIBRATION_A = 1000.0  # ours: sigma0 = DN^2 / A^2 keeps sea and ships inside uint16
# ours: Sentinel-1 IW: slant range ~850 km mid-swath (693 km orbit, 30-46 deg incidence), speed ~7.6 km/s
RANGE_OVER_VELOCITY_S = 850_000.0 / 7_600.0
KNOT_MPS = 1852.0 / 3600.0


def _sea_sigma0_db(wind: float, pol: str) -> float:
    # ours, shaped after C-band model functions (CMOD5 at ~35 deg incidence): VV from about -25 dB at 2 m/s to
    # -10 dB at 15 m/s; cross-pol about 8-9 dB lower
    vv = -25.0 + 15.0 * np.log10(max(wind, 1.0) / 2.0) / np.log10(7.5)
    return vv if pol == "VV" else vv - 8.5


def _ship_sigma0_db(length: float, pol: str) -> float:
    # ours: a hull's mean backscatter per pixel grows with its size (superstructure, corner reflectors);
    # about -3 dB for 50 m and +4 dB for 200 m in VV, 6 dB less in VH
    base = -3.0 + 11.0 * np.log10(max(length, 5.0) / 50.0)
    return base if pol == "VV" else base - 6.0


def _grid(footprint: list[list[float]], pixel_m: float):
    """A north-up grid in the site's UTM zone covering the footprint: (transform, crs, width, height, to_xy)."""
    from pyproj import CRS, Transformer
    from rasterio.transform import from_origin

    ring = np.asarray(footprint, dtype=np.float64)
    lon0, lat0 = ring[:, 0].mean(), ring[:, 1].mean()
    zone = int((lon0 + 180) // 6) + 1
    crs = CRS.from_epsg((32600 if lat0 >= 0 else 32700) + zone)
    fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    x, y = fwd.transform(ring[:, 0], ring[:, 1])
    x0, y1 = np.floor(x.min() / pixel_m) * pixel_m, np.ceil(y.max() / pixel_m) * pixel_m
    w = int(np.ceil((x.max() - x0) / pixel_m))
    h = int(np.ceil((y1 - y.min()) / pixel_m))
    return from_origin(x0, y1, pixel_m, pixel_m), crs, w, h, fwd, inv, np.column_stack([x, y])


def _land_grid(inv, transform, w: int, h: int, step: int) -> np.ndarray:
    """Land (h x w) tested every ``step`` pixels and filled in between (fine enough for a rendering)."""
    rows = np.arange(0, h, step) + step / 2
    cols = np.arange(0, w, step) + step / 2
    x = transform.c + cols * transform.a
    y = transform.f + rows * transform.e
    lon, lat = inv.transform(*np.meshgrid(x, y))
    coarse = is_land(lat, lon)
    return np.repeat(np.repeat(coarse, step, axis=0), step, axis=1)[:h, :w]


def _texture(rng, h: int, w: int, cell_px: int, shape: float) -> np.ndarray:
    from scipy import ndimage

    ch, cw = max(2, h // cell_px + 2), max(2, w // cell_px + 2)
    t = rng.gamma(shape, 1.0 / shape, size=(ch, cw)).astype(np.float32)
    return ndimage.zoom(t, (h / ch, w / cw), order=1)[:h, :w]




def _footprint_mask(poly_xy: np.ndarray, transform, w: int, h: int) -> np.ndarray:
    import shapely

    poly = shapely.Polygon(poly_xy)
    # rows of the raster are cut by the polygon in a convex span: test the row's ends via a coarse sampling
    step = 8
    rows = np.arange(0, h, step) + step / 2
    cols = np.arange(0, w, step) + step / 2
    xx = transform.c + cols[None, :] * transform.a
    yy = transform.f + rows[:, None] * transform.e
    inside = shapely.contains_xy(poly, np.broadcast_to(xx, (rows.size, cols.size)),
                                 np.broadcast_to(yy, (rows.size, cols.size)))
    return np.repeat(np.repeat(inside, step, axis=0), step, axis=1)[:h, :w]


def _stamp(img: np.ndarray, cx: float, cy: float, length: float, beam: float, heading: float, value: float,
           pixel_m: float, mode: str = "add") -> None:
    """Paint a rectangle (length x beam metres, long axis along ``heading`` from north) centred at pixel
    (cx, cy), weighting each pixel by the share of it covered (3 x 3 sub-samples)."""
    r = int(np.ceil((length / 2 + 2 * pixel_m) / pixel_m))
    c0, r0 = int(np.floor(cx)) - r, int(np.floor(cy)) - r
    cols = np.arange(c0, c0 + 2 * r + 1)
    rows = np.arange(r0, r0 + 2 * r + 1)
    ok_c = (cols >= 0) & (cols < img.shape[1])
    ok_r = (rows >= 0) & (rows < img.shape[0])
    if not ok_c.any() or not ok_r.any():
        return
    sub = (np.arange(3) + 0.5) / 3
    xs = (cols[:, None] + sub[None, :]).ravel()  # pixel units, east
    ys = (rows[:, None] + sub[None, :]).ravel()  # pixel units, south
    dx = (xs[None, :] - cx) * pixel_m
    dy = -(ys[:, None] - cy) * pixel_m  # north positive
    a = np.radians(heading)
    along = dx * np.sin(a) + dy * np.cos(a)
    across = dx * np.cos(a) - dy * np.sin(a)
    inside = (np.abs(along) <= length / 2) & (np.abs(across) <= beam / 2)
    cover = inside.reshape(rows.size, 3, cols.size, 3).mean(axis=(1, 3))
    cover = cover[np.ix_(ok_r, ok_c)]
    view = img[rows[ok_r][0]:rows[ok_r][-1] + 1, cols[ok_c][0]:cols[ok_c][-1] + 1]
    if mode == "add":
        view += np.float32(value) * cover.astype(np.float32)
    else:
        view[:] = view * (1 - cover) + np.float32(value) * cover


def _wind(seed: int, acq_id: str) -> float:
    rng = np.random.default_rng([seed, 5, zlib.crc32(acq_id.encode())])
    return float(np.round(np.clip(rng.weibull(2.0) * 7.5, 1.0, 18.0), 1))  # ours: Weibull k=2, mean ~6.6 m/s


def _fixed_structures(site: str, lat: float, lon: float, n: int = 4) -> list[tuple[float, float]]:
    """A few fixed bright objects (buoys, platforms, jetty heads) on water 0.3-3 km from the shore near a site
    (the site must have shore within ~3 km);
    the same for every scene of it."""
    rng = np.random.default_rng(zlib.crc32(site.encode()))
    out = []
    for _ in range(400):
        if len(out) >= n:
            break
        la = lat + rng.uniform(-0.025, 0.025)  # within ~2.5 km of the site: inside even a small footprint
        lo = lon + rng.uniform(-0.033, 0.033)
        if is_land(la, lo)[0]:
            continue
        ring = np.radians(np.arange(0, 360, 30))
        near = is_land(la + 0.003 * np.cos(ring), lo + 0.004 * np.sin(ring)).any()  # within ~300 m of shore
        far = is_land(la + 0.027 * np.cos(ring), lo + 0.036 * np.sin(ring)).any()  # within ~3 km
        if far and not near:
            out.append((float(la), float(lo)))
    return out


def _track_bearing(time_iso: str, footprint: list[list[float]]) -> float:
    ring = np.asarray(footprint)
    turn = float(np.degrees(np.arctan2(ring[1, 1] - ring[0, 1], ring[1, 0] - ring[0, 0])))
    hour = int(time_iso[11:13])
    # ours: ascending passes (morning here) fly roughly north, descending ones south; turned like the footprint
    return (-10.0 + turn) % 360.0 if hour < 12 else (190.0 + turn) % 360.0


def render_sar(acq: dict, out: Path, seed: int, pixel_m: float = 10.0,
               site_latlon: tuple[float, float] | None = None) -> dict:
    """Write one radar scene (VV, VH) for an acquisition; returns the truth additions (wind, image positions)."""
    import rasterio

    rng = np.random.default_rng([seed, 6, zlib.crc32(acq["id"].encode())])
    transform, crs, w, h, fwd, inv, poly_xy = _grid(acq["footprint"]["coordinates"][0], pixel_m)
    wind = float(acq["wind_mps"]) if acq.get("wind_mps") is not None else _wind(seed, acq["id"])
    land = _land_grid(inv, transform, w, h, 2)
    inside = _footprint_mask(poly_xy, transform, w, h)
    track = _track_bearing(acq["time"], acq["footprint"]["coordinates"][0])
    look = (track + 90.0) % 360.0  # right-looking
    ships = []
    for s in acq["ships"]:
        x, y = fwd.transform(s["lon"], s["lat"])
        v = s.get("sog", 0.0) * KNOT_MPS
        v_r = v * np.cos(np.radians(s.get("heading", 0.0) - look))  # positive: moving away from the radar
        shift = -RANGE_OVER_VELOCITY_S * v_r
        xi = x + shift * np.sin(np.radians(track))
        yi = y + shift * np.cos(np.radians(track))
        lon_i, lat_i = inv.transform(xi, yi)
        ships.append((s, (xi - transform.c) / pixel_m, (transform.f - yi) / pixel_m, float(lat_i), float(lon_i)))
    fixed, fixed_ll = [], []
    if site_latlon is not None:
        for la, lo in _fixed_structures(acq["site"], *site_latlon):
            x, y = fwd.transform(lo, la)
            fixed.append(((x - transform.c) / pixel_m, (transform.f - y) / pixel_m))
            fixed_ll.append((la, lo))
    shape_tex = float(np.interp(wind, [2, 15], [30.0, 6.0]))  # rougher sea, spikier clutter
    bands = []
    for pol in ("VV", "VH"):
        sea = np.float32(10 ** (_sea_sigma0_db(wind, pol) / 10))
        mean = np.full((h, w), sea, np.float32)
        mean *= _texture(rng, h, w, 20, shape_tex)
        land_s0 = np.float32(10 ** ((-8.0 if pol == "VV" else -14.0) / 10))
        mean[land] = land_s0 * _texture(rng, h, w, 3, 1.5)[land]
        for s, cx, cy, _, _ in ships:
            _stamp(mean, cx, cy, float(s["length"]), float(s.get("beam") or s["length"] / 6.5),
                   float(s.get("heading", 0.0)), 10 ** (_ship_sigma0_db(float(s["length"]), pol) / 10), pixel_m)
        for cx, cy in fixed:
            _stamp(mean, cx, cy, 20.0, 20.0, 0.0, 10 ** ((8.0 if pol == "VV" else 2.0) / 10), pixel_m)
        img = mean * rng.gamma(ENL_IW_GRDH, 1.0 / ENL_IW_GRDH, size=(h, w)).astype(np.float32)
        dn = np.clip(np.sqrt(img) * CALIBRATION_A, 1, 65535).astype(np.uint16)
        dn[~inside] = 0
        bands.append(dn)
    path = out / f"{acq['id']}.tif"
    tmp = path.with_name(path.name + ".tmp")
    with rasterio.open(tmp, "w", driver="GTiff", width=w, height=h, count=2, dtype="uint16", crs=crs,
                       transform=transform, nodata=0, tiled=True, blockxsize=512, blockysize=512,
                       compress="deflate", predictor=2) as dst:
        for i, b in enumerate(bands, 1):
            dst.write(b, i)
        dst.update_tags(SHADOWFLEET_SENSOR="sar", SHADOWFLEET_ACQUIRED=acq["time"], SHADOWFLEET_SCALE="amplitude",
                        SHADOWFLEET_SCENE_ID=acq["id"], SHADOWFLEET_RANGE_OVER_VELOCITY_S=f"{RANGE_OVER_VELOCITY_S:.3f}",
                        SHADOWFLEET_TRACK_BEARING_DEG=f"{track:.2f}", POLARISATION_1="VV", POLARISATION_2="VH")
    tmp.replace(path)
    return {"wind_mps": wind, "file": path.name, "track_bearing_deg": round(track, 2),
            "image_positions": {str(s["mmsi"]): [round(la, 6), round(lo, 6)] for s, _, _, la, lo in ships},
            "fixed_structures": [[round(la, 6), round(lo, 6)] for la, lo in fixed_ll]}


def render_optical(acq: dict, out: Path, seed: int, pixel_m: float = 10.0) -> dict:
    """Write one optical scene as B02/B03/B04/B08 band files; returns the truth additions."""
    import rasterio

    rng = np.random.default_rng([seed, 7, zlib.crc32(acq["id"].encode())])
    transform, crs, w, h, fwd, inv, poly_xy = _grid(acq["footprint"]["coordinates"][0], pixel_m)
    land = _land_grid(inv, transform, w, h, 2)
    inside = _footprint_mask(poly_xy, transform, w, h)
    # reflectances (B02, B03, B04, B08): ours, typical of clear coastal water, vegetated land, painted hulls
    water = np.array([0.07, 0.05, 0.03, 0.02], np.float32)
    ground = np.array([0.08, 0.10, 0.12, 0.30], np.float32)
    hulls = {"grey": np.array([0.30, 0.30, 0.30, 0.28], np.float32),
             "red": np.array([0.10, 0.09, 0.30, 0.25], np.float32)}
    foam = np.array([0.10, 0.10, 0.10, 0.06], np.float32)
    cloud = np.array([0.60, 0.60, 0.60, 0.60], np.float32)
    tex = _texture(rng, h, w, 50, 40.0)
    cover = np.zeros((h, w), np.float32)
    if acq.get("cloudy"):
        cover[:] = np.clip(_texture(rng, h, w, 80, 2.0) * 1.6, 0, 1)  # most of the scene
    else:
        for _ in range(int(rng.integers(0, 3))):  # a few puffs
            _stamp(cover, rng.uniform(0, w), rng.uniform(0, h), rng.uniform(800, 2500), rng.uniform(500, 1500),
                   rng.uniform(0, 180), 1.0, pixel_m, mode="set")
    out_bands = []
    kinds = []
    for s in acq["ships"]:
        kinds.append("red" if (zlib.crc32(str(s["mmsi"]).encode()) % 3 == 0) else "grey")
    for bi in range(4):
        img = np.where(land, ground[bi], water[bi]).astype(np.float32) * tex
        for s, kind in zip(acq["ships"], kinds):
            x, y = fwd.transform(s["lon"], s["lat"])
            cx, cy = (x - transform.c) / pixel_m, (transform.f - y) / pixel_m
            L = float(s["length"])
            B = float(s.get("beam") or L / 6.5)
            hd = float(s.get("heading", 0.0))
            if s.get("sog", 0.0) > 1.0:  # a wake astern, longer when faster
                wl = min(20.0 * s["sog"] * 1.0, 600.0)
                back = np.radians(hd + 180.0)
                wx = cx + (L / 2 + wl / 2) / pixel_m * np.sin(back)
                wy = cy - (L / 2 + wl / 2) / pixel_m * np.cos(back)
                _stamp(img, wx, wy, wl, B * 1.5, hd, foam[bi] * 0.5, pixel_m)
            _stamp(img, cx, cy, L, B, hd, hulls[kind][bi], pixel_m, mode="set")
        img = img * (1 - cover) + cloud[bi] * cover
        img += rng.normal(0, 0.004, size=(h, w)).astype(np.float32)
        dn = np.clip(img * 10000, 1, 65535).astype(np.uint16)
        dn[~inside] = 0
        out_bands.append(dn)
    files = []
    for name, dn in zip(("B02", "B03", "B04", "B08"), out_bands):
        path = out / f"{acq['id']}_{name}.tif"
        tmp = path.with_name(path.name + ".tmp")
        with rasterio.open(tmp, "w", driver="GTiff", width=w, height=h, count=1, dtype="uint16", crs=crs,
                           transform=transform, nodata=0, tiled=True, blockxsize=512, blockysize=512,
                           compress="deflate", predictor=2) as dst:
            dst.write(dn, 1)
            dst.update_tags(SHADOWFLEET_SENSOR="optical", SHADOWFLEET_ACQUIRED=acq["time"],
                            SHADOWFLEET_SCENE_ID=acq["id"])
        tmp.replace(path)
        files.append(path.name)
    share = float((cover[inside & ~land] > 0.5).mean()) if (inside & ~land).any() else 0.0
    return {"file": files[2], "cloud_share": round(share, 3)}


def render(imagery: dict, out: str | Path, seed: int, sites: dict[str, tuple[float, float]] | None = None,
           pixel_m: float = 10.0, sensors: tuple[str, ...] = ("SAR", "optical")) -> dict:
    """Render every acquisition of an imagery.json document into ``out``; returns the document with each
    rendered acquisition's `render` facts added (file, wind, where each ship appears in the image). With
    ``sites``, radar scenes show fixed structures near them, listed in ``out``/structures.geojson."""
    import json

    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    if sites and "SAR" in sensors:
        # the fixed structures the radar scenes show, as the known-structures layer a port's analyst would keep
        (outdir / "structures.geojson").write_text(json.dumps(structures_geojson(sites), indent=1) + "\n",
                                                   encoding="utf-8")
    for acq in imagery["acquisitions"]:
        if acq["sensor"] not in sensors:
            continue
        if acq["sensor"] == "SAR":
            site = (sites or {}).get(acq["site"])
            acq["render"] = render_sar(acq, outdir, seed, pixel_m, site)
        else:
            acq["render"] = render_optical(acq, outdir, seed, pixel_m)
    return imagery


def structures_geojson(sites: dict[str, tuple[float, float]]) -> dict:
    """The renderer's fixed bright structures near each site as a known-structures layer (GeoJSON points), the
    way an analyst keeps a list of the platforms, buoys and jetty heads of a port."""
    feats = []
    for site, (lat, lon) in sorted(sites.items()):
        for i, (la, lo) in enumerate(_fixed_structures(site, lat, lon), 1):
            feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(lo, 6), round(la, 6)]},
                          "properties": {"id": f"{site}-S{i}", "kind": "structure", "name": f"{site} structure {i}"}})
    return {"type": "FeatureCollection", "features": feats}


# The shore test bed: scenes around real ports with ships placed where close-to-shore detection is hard.
# ours: zones by distance from the hull's centre to the shoreline: alongside a quay (the hull's side within
# 5-25 m of it), anchorages and harbour approaches (0.2-2 km), open water (beyond 2.2 km: xView3's close-to-shore
# line is 2 km, the margin keeps the zones apart on a 20 m grid)
SHORE_ZONES = {"berth": (5.0, 25.0), "approach": (200.0, 2000.0), "open": (2200.0, np.inf)}


def _local_grid(lat: float, lon: float, half_m: float, cell_m: float):
    n = int(2 * half_m / cell_m)
    off = (np.arange(n) + 0.5) * cell_m - half_m
    k_lat, k_lon = 1 / 111_195.0, 1 / (111_195.0 * np.cos(np.radians(lat)))
    lats = lat - off * k_lat  # row 0 is north
    lons = lon + off * k_lon
    return off, lats, lons, k_lat, k_lon


def shore_testbed(site: str, lat: float, lon: float, seed: int, wind_mps: float, time_iso: str,
                  footprint_km: float = 10.0, per_zone: tuple[int, int, int] = (12, 12, 10)) -> dict:
    """One radar acquisition (imagery.json form) of a ``footprint_km`` square around (lat, lon) with ships at
    berths alongside the shore, at anchorages and approaches, and in open water (``per_zone``, fewer where the
    footprint has no room), lengths 15-330 m log-uniform, at the given wind. Truth ships have no AIS."""
    from scipy import ndimage

    rng = np.random.default_rng([seed, 8, zlib.crc32(site.encode()), int(wind_mps * 10)])
    cell = 20.0
    half = footprint_km * 500.0
    off, lats, lons, k_lat, k_lon = _local_grid(lat, lon, half, cell)
    land = is_land(lats[:, None], lons[None, :])
    dist, (ir, ic) = ndimage.distance_transform_edt(~land, sampling=cell, return_indices=True)
    if not land.any():
        dist = np.full(land.shape, np.inf)
    rows, cols = np.indices(land.shape)
    # bearing from each water cell to its nearest land cell: a hull alongside lies across it
    to_land = np.degrees(np.arctan2(ic - cols, -(ir - rows))) % 360.0
    edge = (np.abs(off)[:, None] < half - 700.0) & (np.abs(off)[None, :] < half - 700.0)  # the CFAR ring's room
    ships: list[dict] = []
    mmsi = 990_000_000 + (seed % 1000) * 1000
    for zone, n in zip(SHORE_ZONES, per_zone):
        lo_m, hi_m = SHORE_ZONES[zone]
        tries = 0
        placed = 0
        while placed < n and tries < 60 * n:
            tries += 1
            length = float(np.exp(rng.uniform(np.log(15.0), np.log(330.0))))
            beam = length / 6.5
            want = (dist >= lo_m + (beam / 2 if zone == "berth" else length / 2)) & edge & ~land
            want &= dist <= (hi_m + beam / 2 if zone == "berth" else hi_m)
            cand = np.flatnonzero(want)
            if cand.size == 0:
                break
            k = int(rng.choice(cand))
            r, c = divmod(k, land.shape[1])
            if zone == "berth":
                heading = (to_land[r, c] + 90.0) % 180.0
                sog = 0.0
            else:
                heading = float(rng.uniform(0, 360))
                sog = float(rng.uniform(3, 12)) if rng.random() < (0.3 if zone == "approach" else 0.7) else 0.0
            y, x = -off[r] + rng.uniform(-cell / 2, cell / 2), off[c] + rng.uniform(-cell / 2, cell / 2)
            a = np.radians(heading)
            # the hull's ends and the middle of its sides must be on water
            ex = np.array([0, 1, -1, 0, 0]) * length / 2 * np.sin(a) + np.array([0, 0, 0, 1, -1]) * beam / 2 * np.cos(a)
            ey = np.array([0, 1, -1, 0, 0]) * length / 2 * np.cos(a) - np.array([0, 0, 0, 1, -1]) * beam / 2 * np.sin(a)
            pla, plo = lat + (y + ey) * k_lat, lon + (x + ex) * k_lon
            if is_land(pla, plo).any():
                continue
            if any(np.hypot(x - s["_x"], y - s["_y"]) < (length + s["length"]) / 2 + 40.0 for s in ships):
                continue
            mmsi += 1
            ships.append({"mmsi": mmsi, "name": f"{zone} {placed + 1}", "lat": round(float(pla[0]), 6),
                          "lon": round(float(plo[0]), 6), "length": round(length, 1), "beam": round(beam, 1),
                          "heading": round(heading, 1), "sog": round(sog, 2), "ais_on": False,
                          "ais_spoofed": False, "role": zone, "_x": x, "_y": y})
            placed += 1
    for s in ships:
        del s["_x"], s["_y"]
    ring = [[lon + dx * half * k_lon, lat + dy * half * k_lat] for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1))]
    return {"id": f"shore-{site}-{seed}-{wind_mps:g}", "sensor": "SAR", "site": site, "time": time_iso,
            "footprint": {"type": "Polygon", "coordinates": [ring]}, "cloudy": False, "wind_mps": wind_mps,
            "ships": ships}
