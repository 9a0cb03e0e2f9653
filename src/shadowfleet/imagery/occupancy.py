"""Berth occupancy: per place and scene, the ships an image saw there, each tied to its AIS identity (MMSI, name,
listed or not) or marked as broadcasting nothing. The timeline an investigator reads as "four tankers at the oil
berth on 8 March, none broadcasting".

Every stored scene whose footprint touches the place is a row of the timeline, even with no ship in it (an empty
berth is evidence too); a cloudy or unusable scene says so in ``scene_status``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json

import numpy as np
import polars as pl
import shapely
from shapely.geometry import shape

from shadowfleet.errors import ShadowfleetError
from shadowfleet.places import as_places
from shadowfleet.store.schema import MATCHES

OCCUPANCY_COLUMNS = {
    "place": pl.Utf8, "place_name": pl.Utf8, "scene_id": pl.Utf8, "acquired": pl.Datetime("us", "UTC"),
    "sensor": pl.Utf8, "scene_status": pl.Utf8, "coverage": pl.Float64, "ships": pl.Int64, "dark": pl.Int64,
    "detection_id": pl.Utf8, "lat": pl.Float64, "lon": pl.Float64, "length_m": pl.Float64,
    "detected_place": pl.Utf8, "broadcasting": pl.Boolean, "mmsi": pl.Int64, "name": pl.Utf8,
    "ais_length_m": pl.Float64, "listed": pl.Boolean, "lists": pl.Utf8, "nearest_ais_m": pl.Float64,
}


def near_ids(places, place_id: str, n: int = 5) -> list[str]:
    """Up to ``n`` gazetteer ids that look like ``place_id`` (case-insensitive), best first."""
    ids = places.ids
    upper = {i.upper(): i for i in ids}
    key = place_id.strip().upper()
    close = difflib.get_close_matches(key, list(upper), n=n, cutoff=0.5)
    prefix = [u for u in upper if key and (u.startswith(key) or key.startswith(u))]
    seen: list[str] = []
    for u in close + sorted(prefix, key=len):
        if upper[u] not in seen:
            seen.append(upper[u])
    return seen[:n]


def check_place(places, place_id: str) -> None:
    """A ShadowfleetError naming the nearest ids when ``place_id`` is not in the gazetteer."""
    if place_id in places:
        return
    near = near_ids(places, place_id)
    hint = f"; near ids: {', '.join(near)}" if near else f"; ids look like {', '.join(places.ids[:4])}"
    raise ShadowfleetError(f"unknown place id {place_id!r}{hint}")


def vessel_identities(store, mmsis=None) -> pl.DataFrame:
    """Per MMSI (all, or those of ``mmsis``): latest broadcast name, median broadcast length, listed or not and
    on which lists (screening)."""
    mmsis = None if mmsis is None else sorted({int(m) for m in mmsis if m is not None})
    static = store.read("static", columns=["mmsi", "ts", "name", "length"], mmsi=mmsis)
    names = (static.filter(pl.col("name").is_not_null() & (pl.col("name").str.strip_chars() != ""))
             .sort("ts").group_by("mmsi").agg(pl.col("name").last()))
    lengths = (static.filter(pl.col("length") > 0).group_by("mmsi")
               .agg(pl.col("length").cast(pl.Float64).median().alias("ais_length_m")))
    scr = store.read("screening", columns=["mmsi", "list_id", "list_name"], mmsi=mmsis)
    listed = (scr.filter(pl.col("mmsi").is_not_null() & pl.col("list_id").is_not_null())  # null list: risk only
              .group_by("mmsi").agg(pl.coalesce("list_name", "list_id").unique().sort().str.join("; ").alias("lists"))
              .with_columns(pl.lit(True).alias("listed")))
    ids = pl.concat([names.select("mmsi"), lengths.select("mmsi"), listed.select("mmsi")]).unique()
    return (ids.join(names, on="mmsi", how="left").join(lengths, on="mmsi", how="left")
            .join(listed, on="mmsi", how="left").with_columns(pl.col("listed").fill_null(False)))


def occupancy(store, place_id: str, start: dt.datetime | None = None, end: dt.datetime | None = None,
              places=None) -> pl.DataFrame:
    """The occupancy timeline of one place: one row per (scene, ship detected inside the place), and one row with
    no ship for a scene that covers the place and saw none there. Scenes acquired in [start, end) only.

    ``coverage`` is the share of the place's area inside the scene's footprint; ``broadcasting`` is whether the
    detection was matched to an AIS track (`imagery match`), null before matching ran; ``nearest_ais_m`` the
    distance to the matched track's expected position (or, for a dark ship, to the nearest refused one)."""
    from shadowfleet.imagery.main import read_detections, read_scenes

    gaz = as_places(places)
    check_place(gaz, place_id)
    geom = gaz.geometry(place_id)
    scenes = read_scenes(store)
    if scenes.height == 0:
        raise ShadowfleetError(f"no scenes in {store.root}: run `shadowfleet imagery detect SCENE... --store "
                               f"{store.root}` first")
    if start is not None:
        scenes = scenes.filter(pl.col("acquired") >= start)
    if end is not None:
        scenes = scenes.filter(pl.col("acquired") < end)
    footprints = np.array([footprint_shape(f) for f in scenes["footprint"].to_list()], dtype=object)
    place_area = shapely.area(geom)
    cover = np.zeros(len(footprints))
    if len(footprints):
        valid = np.array([f is not None for f in footprints])
        if valid.any():
            cover[valid] = shapely.area(shapely.intersection(footprints[valid], geom)) / max(place_area, 1e-30)
    scenes = scenes.with_columns(pl.Series("coverage", np.round(cover, 3))).filter(pl.col("coverage") > 0)
    row = gaz.row(place_id)
    empty = pl.DataFrame(schema=OCCUPANCY_COLUMNS)
    if scenes.height == 0:
        return empty
    det = read_detections(store).filter(pl.col("scene_id").is_in(scenes["scene_id"].implode()))
    det = det.filter(pl.Series(shapely.contains_xy(geom, det["lon"].to_numpy(), det["lat"].to_numpy())))
    matches = store.read("matches") if store.files("matches") else pl.DataFrame(schema=MATCHES)
    det = det.join(matches.select("detection_id", "mmsi", pl.col("distance_m").alias("nearest_ais_m"),
                                  pl.lit(True).alias("_matched_run")), on="detection_id", how="left")
    det = det.with_columns(
        pl.when(pl.col("_matched_run")).then(pl.col("mmsi").is_not_null()).otherwise(None).alias("broadcasting"),
        pl.col("place").alias("detected_place"))
    det = det.join(vessel_identities(store, det["mmsi"].drop_nulls().unique().to_list()), on="mmsi", how="left")
    per_scene = det.group_by("scene_id").agg(pl.len().cast(pl.Int64).alias("ships"),
                                             (pl.col("broadcasting") == False).sum().cast(pl.Int64)  # noqa: E712
                                             .alias("dark"))
    sc = (scenes.select("scene_id", "acquired", "sensor", pl.col("status").alias("scene_status"), "coverage")
          .join(per_scene, on="scene_id", how="left")
          .with_columns(pl.col("ships").fill_null(0), pl.col("dark").fill_null(0),
                        pl.lit(place_id).alias("place"), pl.lit(row["name"]).alias("place_name")))
    ships = det.select("scene_id", "detection_id", "lat", "lon", "length_m", "detected_place", "broadcasting",
                       "mmsi", "name", "ais_length_m", "listed", "lists", "nearest_ais_m")
    out = sc.join(ships, on="scene_id", how="left")
    return (out.select([pl.col(c).cast(t) for c, t in OCCUPANCY_COLUMNS.items()])
            .sort("acquired", "scene_id", "length_m", descending=[False, False, True], nulls_last=True))


def footprint_shape(text: str | None):
    """A scene's footprint (GeoJSON text) as a valid shapely geometry; None when absent or unreadable."""
    if not text:
        return None
    try:
        g = shape(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return g if g.is_valid and not g.is_empty else shapely.make_valid(g)


def summary_lines(occ: pl.DataFrame) -> list[str]:
    """One sentence per scene: "2024-03-08 20:49Z acq-0004 (sar): 4 ships at RUVYP-OIL, none broadcasting"."""
    from shadowfleet.output import utc_text

    lines = []
    for (sid,), g in occ.group_by(["scene_id"], maintain_order=True):
        r = g.row(0, named=True)
        when = (utc_text(r["acquired"]) or "")[:16].replace("T", " ") + "Z"
        head = f"{when} {sid} ({r['sensor']}, {round(100 * r['coverage'])} % of the place in view)"
        if r["scene_status"] not in (None, "ok"):
            lines.append(f"{head}: {r['scene_status']}, ships there cannot be counted")
            continue
        n, dark = r["ships"], r["dark"]
        if n == 0:
            lines.append(f"{head}: no ship at {r['place']}")
            continue
        known = g.filter(pl.col("broadcasting").is_not_null()).height
        if known == 0:
            tail = "not yet matched with AIS (run `shadowfleet imagery match`)"
        elif dark == n:
            tail = "none broadcasting" if n > 1 else "not broadcasting"
        elif dark == 0:
            tail = "all broadcasting" if n > 1 else "broadcasting"
        else:
            tail = f"{dark} not broadcasting"
        listed = int(g["listed"].fill_null(False).sum())
        lst = f", {listed} listed" if listed else ""
        lines.append(f"{head}: {n} ship{'s' if n != 1 else ''} at {r['place']}, {tail}{lst}")
    return lines
