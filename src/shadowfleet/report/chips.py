"""Image chips: a small PNG cut from a satellite scene around one detection (a windowed read of the scene file),
contrast stretched, with the case vessel's AIS track near the acquisition time, the berth/terminal/STS-area
polygons, the detection, a scale bar and a north arrow drawn over it. Used inline by the HTML report (data: URI)
and served by the dashboard."""

from __future__ import annotations

import base64
import datetime as dt
import io
from dataclasses import dataclass

import numpy as np
import polars as pl

from shadowfleet.places import Places, as_places

# ours: 3 km square: a berth (a few hundred metres), the ship and its neighbours alongside, and the approach
CHIP_M = 3000.0
CHIP_PX = 256  # output side in pixels
# ours: the AIS track drawn is the vessel's positions this close to the acquisition (arrival and departure of a
# dark call show as the ends of the line)
TRACK_WINDOW = dt.timedelta(hours=12)
SILENCE_REACH = dt.timedelta(days=3)  # ours: the longest dark call the chips reach across for its two ends
# 2-98 % stretch: the usual percentile clip for display (it keeps a bright hull from flattening the sea)
STRETCH_PERCENTILES = (2.0, 98.0)
PLACE_KINDS = ("berth", "terminal", "anchorage", "sts_area")
_SCALE_STEPS_M = (100, 200, 250, 500, 1000, 2000, 5000)
_N_COLOURS = 64  # ours: a stretched radar or optical chip reads fine in 64 levels, and the report stays small
_OVERLAY = {"detection": (255, 40, 40), "berth": (255, 200, 0), "area": (120, 200, 255), "track": (0, 230, 230),
            "white": (255, 255, 255), "black": (0, 0, 0)}


@dataclass
class Chip:
    png: bytes | None  # None when the scene could not be read
    note: str  # why there is no image, or ""

    def data_uri(self) -> str | None:
        return None if self.png is None else "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


class _LocalGrid:
    """lat/lon → (row, col) of a scene near one point: an affine fit to the scene's own pixel → lat/lon mapping
    on a small grid around it (exact for map-projected files over a few km, and for tie-point grids too)."""

    def __init__(self, scene, lat: float, lon: float):
        h, w = scene.height, scene.width
        rr, cc = np.meshgrid(np.linspace(0, h - 1, 33), np.linspace(0, w - 1, 33), indexing="ij")
        la, lo = scene.latlon(rr.ravel(), cc.ravel())
        k = int(np.nanargmin((la - lat) ** 2 + ((lo - lon) * np.cos(np.radians(lat))) ** 2))
        r0, c0 = rr.ravel()[k], cc.ravel()[k]
        span = max(h, w) / 32 + 2
        r, c = np.meshgrid(np.linspace(r0 - span, r0 + span, 5), np.linspace(c0 - span, c0 + span, 5), indexing="ij")
        la, lo = scene.latlon(r.ravel(), c.ravel())
        a = np.column_stack([la, lo, np.ones(la.size)])
        self.coef, *_ = np.linalg.lstsq(a, np.column_stack([r.ravel(), c.ravel()]), rcond=None)

    def pixel(self, lat, lon) -> tuple[np.ndarray, np.ndarray]:
        lat, lon = np.atleast_1d(np.asarray(lat, float)), np.atleast_1d(np.asarray(lon, float))
        rc = np.column_stack([lat, lon, np.ones(lat.size)]) @ self.coef
        return rc[:, 0], rc[:, 1]


def _read_window(scene, bands: list[str], r0: int, c0: int, n: int) -> np.ndarray:
    """(len(bands), n, n) float32, NaN outside the scene."""
    from rasterio.windows import Window

    out = np.full((len(bands), n, n), np.nan, dtype=np.float32)
    rs, cs = max(r0, 0), max(c0, 0)
    re_, ce = min(r0 + n, scene.height), min(c0 + n, scene.width)
    if re_ <= rs or ce <= cs:
        return out
    win = Window(cs, rs, ce - cs, re_ - rs)
    for i, b in enumerate(bands):
        out[i, rs - r0:re_ - r0, cs - c0:ce - c0] = scene.read(b, win)
    return out


def _stretch(x: np.ndarray) -> np.ndarray:
    ok = np.isfinite(x)
    if not ok.any():
        return np.zeros(x.shape, dtype=np.uint8)
    lo, hi = np.percentile(x[ok], STRETCH_PERCENTILES)
    y = np.clip((x - lo) / max(hi - lo, 1e-12), 0, 1)
    return np.where(ok, y * 255, 0).astype(np.uint8)


def _image(scene, grid: _LocalGrid, lat: float, lon: float) -> tuple[np.ndarray, float, float, float]:
    """RGB uint8 (CHIP_PX square), its top-left (row, col) in the scene and pixels of the scene per output pixel."""
    n = int(np.clip(round(CHIP_M / max(scene.pixel_m, 0.1)), 16, 1024))
    r, c = grid.pixel(lat, lon)
    r0, c0 = int(round(r[0])) - n // 2, int(round(c[0])) - n // 2
    if scene.sensor == "sar":
        band = "VV" if "VV" in scene.bands else next(iter(scene.bands))
        x = _read_window(scene, [band], r0, c0, n)[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            grey = _stretch(10 * np.log10(np.where(x > 0, x, np.nan)))  # radar is shown in dB
        rgb = np.repeat(grey[..., None], 3, axis=2)
    else:
        names = [b for b in ("B04", "B03", "B02") if b in scene.bands] or [b for b in ("R", "G", "B") if b in scene.bands]
        names = names if len(names) == 3 else [next(iter(scene.bands))] * 3
        rgb = np.stack([_stretch(a) for a in _read_window(scene, names, r0, c0, n)], axis=2)
    return rgb, float(r0), float(c0), n / CHIP_PX


def _nice_scale(metres_per_px: float) -> int:
    target = metres_per_px * CHIP_PX / 4
    return min(_SCALE_STEPS_M, key=lambda s: abs(s - target))


def render_chip(source: str, lat: float, lon: float, track: pl.DataFrame | None = None,
                places: Places | None = None, sensor: str = "auto") -> Chip:
    """A chip of the scene file ``source`` centred on (lat, lon), with ``track`` (lat, lon columns) and the
    berths, terminals, anchorages and STS areas of ``places`` drawn over it."""
    from PIL import Image, ImageDraw

    from shadowfleet.errors import ShadowfleetError
    from shadowfleet.imagery import open_scene

    try:
        scene = open_scene(source, sensor=sensor)
        grid = _LocalGrid(scene, lat, lon)
        rgb, r0, c0, k = _image(scene, grid, lat, lon)
    except (ShadowfleetError, OSError, ValueError, KeyError) as exc:
        what = "not found (moved or deleted?)" if isinstance(exc, ShadowfleetError) and "no such file" in str(exc) \
            else f"unreadable ({str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__})"
        return Chip(None, f"no image chip: scene file {source} {what}")
    except Exception as exc:  # rasterio's own errors (RasterioIOError and kin) derive from Exception only
        return Chip(None, f"no image chip: scene file {source} unreadable ({type(exc).__name__})")

    # the picture in 200 colours, then the overlay colours appended to its palette: a small PNG whose thin
    # coloured lines survive (an adaptive palette of the finished image would drop them)
    img = Image.fromarray(rgb).resize((CHIP_PX, CHIP_PX), Image.BILINEAR).quantize(colors=_N_COLOURS)
    img.putpalette(img.getpalette()[:3 * _N_COLOURS] + [v for c in _OVERLAY.values() for v in c])
    ink = {name: _N_COLOURS + i for i, name in enumerate(_OVERLAY)}
    draw = ImageDraw.Draw(img)

    def xy(la, lo):
        r, c = grid.pixel(la, lo)
        return list(zip(((c - c0) / k).tolist(), ((r - r0) / k).tolist()))

    places = as_places(places)
    if len(places.geometries):
        import shapely
        from shapely.geometry import box

        d_lat = CHIP_M / 111_195.0
        d_lon = d_lat / max(np.cos(np.radians(lat)), 0.05)
        view = box(lon - d_lon, lat - d_lat, lon + d_lon, lat + d_lat)
        kinds = places.table["kind"].to_numpy()
        for g, kind in zip(places.geometries, kinds):
            if kind not in PLACE_KINDS or not shapely.intersects(g, view):
                continue
            for poly in getattr(g, "geoms", [g]):
                ring = np.asarray(poly.exterior.coords)
                draw.line(xy(ring[:, 1], ring[:, 0]), fill=ink["berth"] if kind in ("berth", "terminal") else ink["area"],
                          width=2)
    if track is not None and track.height:
        pts = xy(track["lat"].to_numpy(), track["lon"].to_numpy())
        if len(pts) > 1:
            draw.line(pts, fill=ink["track"], width=2)
        for x, y in pts:
            draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=ink["track"])
    (cx, cy), = xy(lat, lon)
    draw.ellipse([cx - 9, cy - 9, cx + 9, cy + 9], outline=ink["detection"], width=2)

    # scale bar (bottom left) and north arrow (top right): north from the scene's own geometry
    m_per_px = CHIP_M / CHIP_PX
    bar = _nice_scale(m_per_px)
    px = bar / m_per_px
    draw.rectangle([8, CHIP_PX - 22, 14 + px, CHIP_PX - 6], fill=ink["black"])
    draw.line([11, CHIP_PX - 10, 11 + px, CHIP_PX - 10], fill=ink["white"], width=3)
    draw.text((12, CHIP_PX - 21), f"{bar:g} m" if bar < 1000 else f"{bar / 1000:g} km", fill=ink["white"])
    (nx, ny), (sx, sy) = xy(lat + 0.01, lon)[0], xy(lat, lon)[0]
    v = np.array([nx - sx, ny - sy])
    v = v / (np.linalg.norm(v) or 1.0)
    base = np.array([CHIP_PX - 20, 34])
    tip = base + v * 18
    tail = base - v * 10
    draw.line([tuple(tail), tuple(tip)], fill=ink["white"], width=3)
    side = np.array([-v[1], v[0]]) * 5
    draw.polygon([tuple(tip), tuple(tip - v * 8 + side), tuple(tip - v * 8 - side)], fill=ink["white"])
    draw.text(tuple(base - v * 14 + np.array([-16, -6])), "N", fill=ink["white"])

    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return Chip(buf.getvalue(), "")


def track_near(store, mmsi: int, t: dt.datetime, window: dt.timedelta = TRACK_WINDOW) -> pl.DataFrame:
    """lat, lon of the vessel's AIS positions within ``window`` of ``t``, and the last report before and the first
    after (within SILENCE_REACH) when the ship was silent around ``t``: the line then runs from where its AIS went
    quiet to where it came back."""
    if not store.files("positions"):
        return pl.DataFrame(schema={"lat": pl.Float64, "lon": pl.Float64})
    pos = (store.scan("positions", t - SILENCE_REACH, t + SILENCE_REACH).filter(pl.col("mmsi") == mmsi)
           .select("ts", "lat", "lon").collect().filter(pl.col("lat").is_between(-90, 90)).sort("ts"))
    near = pos.filter(pl.col("ts").is_between(t - window, t + window))
    before, after = pos.filter(pl.col("ts") < t).tail(1), pos.filter(pl.col("ts") > t).head(1)
    return pl.concat([before, near, after]).unique("ts", maintain_order=True).sort("ts").select("lat", "lon")


def scene_sources(store) -> dict[str, tuple[str, str]]:
    """{scene_id: (source file, sensor)} of the stored scenes."""
    if not store.files("scenes"):
        return {}
    sc = store.read("scenes").select("scene_id", "source", "sensor")
    return {r["scene_id"]: (r["source"], r["sensor"]) for r in sc.iter_rows(named=True)}


def case_chip(store, case_mmsi: int, item: dict, sources: dict[str, tuple[str, str]], places: Places | None = None) -> Chip:
    """The chip of one corroborating detection of a case (an element of its `imagery` list)."""
    src = sources.get(item.get("scene_id"))
    if src is None or not src[0]:
        return Chip(None, f"no image chip: scene {item.get('scene_id')} is not in the store's scenes")
    try:
        t = dt.datetime.strptime(str(item["acquired"]), "%Y-%m-%d %H:%M").replace(tzinfo=dt.timezone.utc)
        lat, lon = float(item["lat"]), float(item["lon"])
    except (KeyError, TypeError, ValueError):
        return Chip(None, "no image chip: the detection's time or position is unreadable")
    return render_chip(src[0], lat, lon, track_near(store, case_mmsi, t), places, sensor=src[1] or "auto")


def chip_caption(item: dict) -> str:
    """scene, time, sensor, detection length, matched or dark."""
    length = item.get("length_m")
    return (f"scene {item.get('scene_id')}, {item.get('acquired')} UTC, {str(item.get('sensor') or '?').upper()}; "
            f"detection {item.get('detection_id')}, {'?' if length is None else f'{length:.0f}'} m; "
            + ("matched to this vessel's AIS" if item.get("matched") else "dark (no AIS track explains it)")
            + f"; {item.get('role')} at {item.get('place') or 'sea'}")
