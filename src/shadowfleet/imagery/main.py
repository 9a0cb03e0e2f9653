"""Ship detection in satellite scenes: the library functions behind `shadowfleet imagery ...`.

    detect(paths, store)          scenes → the store's `scenes` and `detections` tables
    detect_scene(scene)           one opened scene → (detections DataFrame, scene row)
    read_detections(store)        the stored detections (fixed objects flagged)
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.imagery.config import ImageryConfig, load_config
from shadowfleet.imagery.scene import Scene
from shadowfleet.imagery.transforms.cfar import ring_cfar
from shadowfleet.imagery.transforms.objects import objects
from shadowfleet.imagery.transforms.water import buffered, cloud_mask, land_mask, ndwi_water
from shadowfleet.places import PORT_KINDS, bearing_deg, haversine_km
from shadowfleet.places.coast import is_land
from shadowfleet.store.schema import DETECTIONS, SCENES, STRUCTURES

# place kinds a detection is named after (a ship at a berth, terminal, anchorage, port or STS area)
DETECTION_PLACE_KINDS: tuple[str, ...] = (*PORT_KINDS, "sts_area")

@dataclass
class DetectRun:
    scenes: int = 0
    detections: int = 0
    fixed: int = 0
    errors: list[str] = field(default_factory=list)
    per_scene: dict[str, int] = field(default_factory=dict)


def _windows(h: int, w: int, tile_h: int, tile_w: int):
    for r0 in range(0, h, tile_h):
        for c0 in range(0, w, tile_w):
            yield r0, c0, min(tile_h, h - r0), min(tile_w, w - c0)


def _tiling(scene: Scene, window_px: int) -> tuple[int, int]:
    """Full-width stripes for strip-organised files (each strip is decoded once), square tiles otherwise."""
    import rasterio

    band = next(iter(scene.bands.values()))
    with rasterio.open(band.path) as src:
        bh, bw = src.block_shapes[0]
    if bw >= scene.width:
        return max(256, min(scene.height, window_px * window_px // max(scene.width, 1))), scene.width
    return window_px, window_px


def _distance_to_shore(scene: Scene, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Km from each point to the nearest land, on a ~100 m grid over the scene's box grown by ~2 km."""
    from scipy import ndimage

    if lat.size == 0:
        return np.zeros(0)
    lon0, lat0, lon1, lat1 = scene.footprint().bounds
    margin = 0.02
    lat0, lat1, lon0, lon1 = lat0 - margin, lat1 + margin, lon0 - margin / np.cos(np.radians(lat1)), lon1 + margin
    coslat = np.cos(np.radians((lat0 + lat1) / 2))
    step = max(0.0009, (lat1 - lat0) / 2000, (lon1 - lon0) * coslat / 2000)  # ~100 m, at most 2000 cells a side
    la = np.arange(lat0, lat1 + step, step)
    lo = np.arange(lon0, lon1 + step / coslat, step / coslat)
    land = is_land(la[:, None], lo[None, :])
    if not land.any():
        # no land in the box: at least the margin away (a lower bound)
        far = haversine_km(lat, lon, np.clip(lat, lat0, lat1), np.full_like(lon, lon0))
        return np.maximum(far, margin * 111.195)
    d = ndimage.distance_transform_edt(~land, sampling=(step * 111.195, step * 111.195))
    ri = np.clip(np.round((lat - lat0) / step).astype(int), 0, la.size - 1)
    ci = np.clip(np.round((lon - lon0) / (step / coslat)).astype(int), 0, lo.size - 1)
    return d[ri, ci]


def detect_scene(scene: Scene, cfg: ImageryConfig | None = None, places=None,
                 progress: Callable[[float], None] | None = None) -> tuple[pl.DataFrame, dict]:
    """Detect ships in one scene, window by window: (detections, scene row)."""
    cfg = cfg or ImageryConfig()
    c = cfg.sar if scene.sensor == "sar" else cfg.optical
    px = scene.pixel_m
    halo = int(np.ceil((c.ring_outer_m + c.max_length_m / 2) / px)) + 2
    tile_h, tile_w = _tiling(scene, c.window_px)
    block_px = max(1, int(round(cfg.sar.block_m / px))) if scene.sensor == "sar" else max(1, int(round(50.0 / px)))
    parts = []
    water_px = cloud_px = valid_px = 0
    total = scene.height * scene.width
    done = 0
    from rasterio.windows import Window

    for r0, c0, h, w in _windows(scene.height, scene.width, tile_h, tile_w):
        R0, C0 = max(0, r0 - halo), max(0, c0 - halo)
        R1, C1 = min(scene.height, r0 + h + halo), min(scene.width, c0 + w + halo)
        win = Window(C0, R0, C1 - C0, R1 - R0)
        if scene.sensor == "sar":
            found, wpx, cpx, vpx = _sar_window(scene, win, c, block_px)
        else:
            found, wpx, cpx, vpx = _optical_window(scene, win, c, block_px)
        core = ((found["row"] >= r0 - R0) & (found["row"] < r0 - R0 + h)
                & (found["col"] >= c0 - C0) & (found["col"] < c0 - C0 + w))
        found = {k: v[core] for k, v in found.items()}
        found["row"] = found["row"] + R0
        found["col"] = found["col"] + C0
        parts.append(found)
        valid_px += vpx
        # count water and cloud in the core only
        water_px += wpx * (h * w) / max(1, win.width * win.height)
        cloud_px += cpx * (h * w) / max(1, win.width * win.height)
        done += h * w
        if progress:
            progress(done / total)
    if valid_px == 0:
        raise ShadowfleetError(f"{scene.source}: empty: every pixel is no-data")
    obj = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}
    det = _measure(scene, obj, c, places)
    cloud_share = float(cloud_px / water_px) if water_px and scene.sensor == "optical" else 0.0
    status = "ok"
    if water_px == 0:
        status = "no_water"
    elif scene.sensor == "optical" and cloud_share > cfg.optical.max_cloud_share:
        status = "cloudy"
        det = det.clear()
    return det, _scene_row(scene, det.height, cloud_share, status)


def _sar_window(scene: Scene, win, c, block_px: int):
    pols = [p for p in c.polarisations if p in scene.bands] or list(scene.bands)
    imgs = [scene.read(p, win) for p in pols]
    valid = np.isfinite(imgs[0])
    for im in imgs[1:]:
        valid &= np.isfinite(im)
    land = land_mask(scene.latlon, int(win.row_off), int(win.col_off), int(win.height), int(win.width),
                     scene.pixel_m, block_px)
    sea = valid & ~buffered(land, c.shore_buffer_m, scene.pixel_m)
    hits = [ring_cfar(im, sea, scene.pixel_m, c.ring_inner_m, c.ring_outer_m, c.k_sigma, c.block_m,
                      floor_rel=1.0 / np.sqrt(c.enl)) for im in imgs]
    # at least 2 pixels: at coarse pixel sizes speckle leaves one-pixel holes in a hull
    merge = max(2, int(round(c.merge_m / scene.pixel_m)))
    return objects(*_union(hits, sea.shape[1]), merge), int(sea.sum()), 0, int(valid.sum())


def _union(hits, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bright pixels of several bands as one set, each with its highest contrast."""
    rr = np.concatenate([h[0] for h in hits])
    cc = np.concatenate([h[1] for h in hits])
    sg = np.concatenate([h[2] for h in hits])
    if not rr.size:
        return rr, cc, sg
    key = rr.astype(np.int64) * width + cc
    order = np.lexsort((-sg, key))
    key, rr, cc, sg = key[order], rr[order], cc[order], sg[order]
    first = np.r_[True, key[1:] != key[:-1]]
    return rr[first], cc[first], sg[first]


def _optical_window(scene: Scene, win, c, block_px: int):
    r, g, b = (scene.read(k, win) for k in ("R", "G", "B"))
    valid = np.isfinite(r) & np.isfinite(g) & np.isfinite(b)
    if "A" in scene.bands:
        valid &= scene.read("A", win) > 0
    px = scene.pixel_m
    max_hole = int((c.max_length_m / px) * (c.max_length_m / px) / 4)
    if "N" in scene.bands:
        water = ndwi_water(g, scene.read("N", win), c.ndwi_water, max_hole)
        land = ~water
    else:
        land = land_mask(scene.latlon, int(win.row_off), int(win.col_off), int(win.height), int(win.width),
                         px, block_px)
    sea = valid & ~buffered(land, c.shore_buffer_m, px)
    clouds = cloud_mask(r, g, b, c.cloud_brightness, c.cloud_saturation,
                        int((c.cloud_min_m / px) ** 2), int(round(c.cloud_margin_m / px)))
    cloud_px = int((sea & clouds).sum())
    look = sea & ~clouds
    bands = [r, g, b] + ([scene.read("N", win)] if "N" in scene.bands else [])
    hits = [ring_cfar(im, look, px, c.ring_inner_m, c.ring_outer_m, c.k_sigma, px,
                      floor_abs=c.min_contrast / c.k_sigma) for im in bands]
    merge = int(round(c.merge_m / px))
    return objects(*_union(hits, look.shape[1]), merge), int(sea.sum()), cloud_px, int(valid.sum())


def _measure(scene: Scene, obj: dict, c, places) -> pl.DataFrame:
    if not obj or obj["row"].size == 0:
        return pl.DataFrame(schema=DETECTIONS)
    px = scene.pixel_m
    length = obj["length_px"] * px
    width = obj["width_px"] * px
    keep = (obj["n"] >= c.min_pixels) & (length <= c.max_length_m)
    obj = {k: v[keep] for k, v in obj.items()}
    length, width = length[keep], width[keep]
    lat, lon = scene.latlon(obj["row"], obj["col"])
    # the long axis in geographic terms: bearing between points half a length either side of the centroid
    a = np.radians(obj["axis_deg"])
    half = obj["length_px"] / 2
    la1, lo1 = scene.latlon(obj["row"] - half * np.cos(a), obj["col"] + half * np.sin(a))
    la0, lo0 = scene.latlon(obj["row"] + half * np.cos(a), obj["col"] - half * np.sin(a))
    heading = bearing_deg(la0, lo0, la1, lo1) % 180.0
    heading = np.where(length / np.maximum(width, 1e-9) >= c.min_elongation_heading, np.round(heading, 1), np.nan)
    place = np.full(lat.shape, None, dtype=object)
    if places is not None and lat.size:
        place = places.locate(lat, lon, kinds=DETECTION_PLACE_KINDS)
    shore = _distance_to_shore(scene, lat, lon)
    n = lat.size
    order = np.lexsort((lon, -lat))
    acquired = scene.acquired.astimezone(dt.timezone.utc).replace(tzinfo=None)
    df = pl.DataFrame({
        "detection_id": [f"{scene.scene_id}-{i + 1:05d}" for i in range(n)],
        "scene_id": [scene.scene_id] * n,
        "sensor": [scene.sensor] * n,
        "acquired": pl.Series([acquired] * n, dtype=pl.Datetime("us")).dt.replace_time_zone("UTC"),
        "lat": np.round(lat[order], 6), "lon": np.round(lon[order], 6),
        "length_m": np.round(length[order], 1), "width_m": np.round(width[order], 1),
        "heading_deg": pl.Series(heading[order]).fill_nan(None),
        "score": np.round(obj["peak"][order].astype(np.float64), 2),
        "n_pixels": obj["n"][order].astype(np.int64),
        "distance_to_shore_km": np.round(shore[order], 3),
        "place": pl.Series(place[order].tolist(), dtype=pl.Utf8),
        "azimuth_shift_m_per_mps": [scene.range_over_velocity_s] * n,
        "track_bearing_deg": [scene.track_bearing_deg] * n,
        "fixed": [False] * n,
    }, schema_overrides={"azimuth_shift_m_per_mps": pl.Float64, "track_bearing_deg": pl.Float64})
    return df.select([pl.col(k).cast(v) for k, v in DETECTIONS.items()])


def _scene_row(scene: Scene, n: int, cloud_share: float, status: str) -> dict:
    from shapely.geometry import mapping

    fp = mapping(scene.footprint())
    fp = {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in fp["coordinates"][0]]]}
    return {"scene_id": scene.scene_id, "sensor": scene.sensor,
            "acquired": scene.acquired.astimezone(dt.timezone.utc), "footprint": json.dumps(fp),
            "pixel_m": round(scene.pixel_m, 3), "width": scene.width, "height": scene.height,
            "bands": ",".join(scene.bands),
            # absolute: the report and the dashboard read it for chips from wherever they are run
            "source": str(Path(scene.source).absolute()), "cloud_share": round(cloud_share, 4),
            "status": status, "detections": n, "range_over_velocity_s": scene.range_over_velocity_s,
            "track_bearing_deg": scene.track_bearing_deg}


def flag_fixed(det: pl.DataFrame, scenes: pl.DataFrame, cfg: ImageryConfig | None = None) -> pl.DataFrame:
    """Mark detections at a spot that most scenes covering it show bright too: fixed structures, not ships."""
    import shapely

    cfg = cfg or ImageryConfig()
    p = cfg.persistence
    det = det.with_columns(pl.lit(False).alias("fixed"))
    if det.height == 0 or scenes.height < p.min_scenes:
        return det
    lat = det["lat"].to_numpy()
    lon = det["lon"].to_numpy()
    # distinct acquisition times, not scenes: overlapping tiles of one pass show the same ship twice
    sid = det["acquired"].dt.epoch("s").to_numpy()
    # neighbours within radius: a grid of ~radius cells, each point compared with its cell and the 8 around it
    cell = p.radius_m / 111_195.0
    coslat = np.cos(np.radians(np.nanmean(lat)))
    gy = np.floor(lat / cell).astype(np.int64)
    gx = np.floor(lon * coslat / cell).astype(np.int64)
    key = pl.DataFrame({"i": np.arange(lat.size), "gy": gy, "gx": gx})
    near = []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near.append(key.join(key.with_columns(pl.col("gy") + dy, pl.col("gx") + dx), on=["gy", "gx"],
                                 suffix="_o").select("i", "i_o"))
    pairs = pl.concat(near)
    i, j = pairs["i"].to_numpy(), pairs["i_o"].to_numpy()
    close = haversine_km(lat[i], lon[i], lat[j], lon[j]) * 1000 <= p.radius_m
    seen = (pl.DataFrame({"i": i[close], "s": sid[j[close]]}).group_by("i")
            .agg(pl.col("s").n_unique().alias("k"), (pl.col("s").max() - pl.col("s").min()).alias("span")))
    k = np.zeros(lat.size, dtype=np.int64)
    span = np.zeros(lat.size)
    k[seen["i"].to_numpy()] = seen["k"].to_numpy()
    span[seen["i"].to_numpy()] = seen["span"].to_numpy() / 86400.0
    usable = scenes.filter(pl.col("status") == "ok")
    polys = shapely.from_geojson(usable["footprint"].to_list())
    pts = shapely.points(lon, lat)
    tree = shapely.STRtree(polys)
    pi, si = tree.query(pts, predicate="intersects")
    times = usable["acquired"].dt.epoch("s").to_numpy()
    cov = pl.DataFrame({"i": pi, "t": times[si]}).group_by("i").agg(pl.col("t").n_unique().alias("c"))
    covering = np.zeros(lat.size, dtype=np.int64)
    covering[cov["i"].to_numpy()] = cov["c"].to_numpy()
    fixed = (k >= p.min_scenes) & (k >= p.min_share * np.maximum(covering, 1)) & (span >= p.min_span_days)
    return det.with_columns(pl.Series("fixed", fixed))


def flag_known(det: pl.DataFrame, structures: pl.DataFrame, radius_m: float) -> pl.DataFrame:
    """Mark detections within ``radius_m`` of a known structure (the `structures` table) as fixed."""
    import shapely

    if det.height == 0 or structures.height == 0:
        return det
    geoms = shapely.from_geojson(structures["geometry"].to_list())
    lat, lon = det["lat"].to_numpy(), det["lon"].to_numpy()
    # degrees of longitude shrink with latitude: compare in a local equirectangular frame around the detections
    k = np.cos(np.radians(np.nanmean(lat)))
    scaled = shapely.transform(geoms, lambda xy: xy * np.array([k, 1.0]))
    tree = shapely.STRtree(scaled)
    near, _ = tree.query(shapely.points(lon * k, lat), predicate="dwithin", distance=radius_m / 111_195.0)
    hit = np.zeros(det.height, bool)
    hit[near] = True
    return det.with_columns(pl.col("fixed") | pl.Series(hit))


def detect(paths: Iterable[str | Path], store, sensor: str = "auto", time: dt.datetime | None = None,
           config: str | Path | ImageryConfig | None = None, places: str | Path | None = None,
           on_error: Callable[[str], None] | None = None,
           progress: Callable[[str, float], None] | None = None,
           structures: str | Path | None = None) -> DetectRun:
    """Detect ships in each scene and store them (`scenes`, `detections`; a scene detected again replaces its
    rows). A scene that cannot be read is reported through ``on_error`` (or raised when None) and skipped.

    Fixed objects are set aside (`fixed`) two ways: near a known structure (``structures``, a GeoJSON layer, or
    `[imagery.structures] file`; stored in the `structures` table and applied on every later run until replaced),
    and by persistence across scenes of the same spot."""
    from shadowfleet.imagery.readers import open_scene
    from shadowfleet.imagery.readers.structures import read_structures
    from shadowfleet.places import load_places

    cfg = load_config(config)
    gaz = load_places(places)
    layer_file = structures or cfg.structures.file or None
    layer = read_structures(layer_file) if layer_file else None  # a bad layer stops before any scene is read
    run = DetectRun()
    new_det, new_scenes = [], []
    for path in paths:
        try:
            scene = open_scene(path, sensor=sensor, time=time)
            det, row = detect_scene(scene, cfg, gaz,
                                    progress=(lambda f, s=scene: progress(s.scene_id, f)) if progress else None)
        except ShadowfleetError as exc:
            if on_error is None:
                raise
            run.errors.append(str(exc))
            on_error(str(exc))
            continue
        new_det.append(det)
        new_scenes.append(row)
        run.per_scene[scene.scene_id] = det.height
    if not new_scenes:
        return run
    scenes_new = pl.DataFrame(new_scenes, schema=SCENES, orient="row")
    ids = scenes_new["scene_id"].to_list()
    old_scenes, old_det = _stored(store)
    scenes_all = pl.concat([old_scenes.filter(~pl.col("scene_id").is_in(ids)), scenes_new.unique("scene_id", keep="last")])
    det_all = pl.concat([old_det.filter(~pl.col("scene_id").is_in(ids)), *new_det])
    det_all = flag_fixed(det_all, scenes_all, cfg)
    if layer is None:
        layer = store.read("structures") if store.files("structures") else pl.DataFrame(schema=STRUCTURES)
    det_all = flag_known(det_all, layer, cfg.structures.radius_m)
    with store.transaction() as tx:  # scenes, their detections and the structures applied committed together
        tx.replace("scenes", scenes_all.sort("acquired", "scene_id"))
        tx.replace("detections", det_all.sort("acquired", "detection_id"))
        tx.replace("structures", layer)
    run.scenes = len(new_scenes)
    run.detections = int(det_all.filter(pl.col("scene_id").is_in(ids))["fixed"].not_().sum())
    run.fixed = int(det_all.filter(pl.col("scene_id").is_in(ids))["fixed"].sum())
    return run


def _stored(store) -> tuple[pl.DataFrame, pl.DataFrame]:
    scenes = store.read("scenes", dedupe=False) if store.files("scenes") else pl.DataFrame(schema=SCENES)
    det = store.read("detections", dedupe=False) if store.files("detections") else pl.DataFrame(schema=DETECTIONS)
    return (scenes.select([pl.col(k).cast(v) for k, v in SCENES.items()]),
            det.select([pl.col(k).cast(v) for k, v in DETECTIONS.items()]))


def read_detections(store, include_fixed: bool = False, scene: str | None = None) -> pl.DataFrame:
    """The stored detections (without fixed structures unless asked), sorted by time."""
    if not store.files("detections"):
        raise ShadowfleetError(f"no detections in {store.root}: run `shadowfleet imagery detect SCENE... "
                               f"--store {store.root}` first")
    det = _stored(store)[1]
    if not include_fixed:
        det = det.filter(~pl.col("fixed"))
    if scene is not None:
        det = det.filter(pl.col("scene_id") == scene)
    return det.sort("acquired", "detection_id")


def read_scenes(store) -> pl.DataFrame:
    return _stored(store)[0]
