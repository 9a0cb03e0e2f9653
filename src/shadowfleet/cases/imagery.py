"""What satellite imagery says about each voyage: ships the imagery stage detected (tables `detections` and
`matches`) at the places and times of the voyage's load, discharge or ship-to-ship transfer.

- A *dark* detection (no AIS track explains it) at a berth or terminal of the load (or discharge) place, taken
  while the vessel's AIS was off there (inside its AIS gap or inferred port call), of a length consistent with
  its AIS length, corroborates the dark visit.
- A dark detection in the destination's STS area, alongside another detected ship (within the encounter
  distance), while the vessel's AIS was off during its transfer, corroborates the transfer.
- A detection matched to the vessel itself (AIS on) at the place and time of its load, discharge or transfer
  confirms the call.

Each detection corroborates at most one visit of one vessel per role (one-to-one per scene, the closest
lengths first), so that two tankers dark at one berth do not both claim one hull.
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from shadowfleet.cases.config import CasesConfig
from shadowfleet.imagery.match import PART
from shadowfleet.places import Places
from shadowfleet.places.geo import haversine_km

# one row per (voyage, detection) that corroborates it
EVIDENCE_SCHEMA = {
    "_v": pl.UInt32, "role": pl.Utf8, "matched": pl.Boolean, "ambiguous": pl.Boolean, "detection_id": pl.Utf8, "scene_id": pl.Utf8,
    "sensor": pl.Utf8, "acquired": pl.Datetime("us", "UTC"), "lat": pl.Float64, "lon": pl.Float64,
    "length_m": pl.Float64, "ais_length_m": pl.Float64, "place": pl.Utf8, "distance_m": pl.Float64,
    "distance_to": pl.Utf8, "event_id": pl.Utf8,
}
ROLES = ("load", "discharge", "sts")


_SEEN = {"detection_id": pl.Utf8, "scene_id": pl.Utf8, "sensor": pl.Utf8, "acquired": pl.Datetime("us", "UTC"),
         "lat": pl.Float64, "lon": pl.Float64, "length_m": pl.Float64, "place": pl.Utf8, "mmsi": pl.Int64}
# matches.reason of a detection that a track could explain as well as another, or could have reached
AMBIGUOUS = "ambiguous"


def seen_ships(store, ev: pl.DataFrame) -> pl.DataFrame:
    """The ships the scenes show, one row per hull: the dark ones from the `dark_detection` events (a hull split in
    pieces is one, at its merged position and length; detections that are ambiguous between tracks are not dark),
    the others from `detections` with the MMSI `matches` tied them to (null: ambiguous). Fixed structures left out."""
    if not store.files("detections"):
        return pl.DataFrame(schema=_SEEN | {"dark": pl.Boolean, "ambiguous": pl.Boolean})
    js = lambda path: pl.col("details").str.json_path_match(path)  # noqa: E731
    dark = ev.filter(pl.col("type") == "dark_detection").select(
        js("$.detection_id").alias("detection_id"), js("$.scene_id").alias("scene_id"), js("$.sensor").alias("sensor"),
        pl.col("start").alias("acquired"), "lat", "lon", js("$.length_m").cast(pl.Float64, strict=False).alias("length_m"),
        "place", pl.lit(None, pl.Int64).alias("mmsi"), pl.lit(True).alias("dark"), pl.lit(False).alias("ambiguous"))
    det = store.read("detections").filter(~pl.col("fixed").fill_null(False))
    if store.files("matches"):
        m = store.read("matches").select("detection_id", pl.col("mmsi").cast(pl.Int64), "reason").unique("detection_id")
        det = det.join(m, on="detection_id", how="left").filter(
            ~pl.col("reason").fill_null("").str.starts_with(PART))
    else:
        det = det.with_columns(pl.lit(None, pl.Int64).alias("mmsi"), pl.lit(None, pl.Utf8).alias("reason"))
    det = det.filter(~pl.col("detection_id").is_in(dark["detection_id"].to_list()))
    rest = det.select(*[pl.col(c).cast(t) for c, t in _SEEN.items()], pl.lit(False).alias("dark"),
                      (pl.col("mmsi").is_null() & pl.col("reason").fill_null("").str.starts_with(AMBIGUOUS)).alias("ambiguous"))
    return pl.concat([dark.select(*[pl.col(c).cast(t) for c, t in _SEEN.items()], "dark", "ambiguous"), rest])


def _dark_intervals(ev: pl.DataFrame) -> pl.DataFrame:
    """mmsi, _ds, _de, _slat, _slon: when each vessel's AIS was off (its AIS gaps and inferred port calls), and
    where it went silent (the event's position)."""
    off = (pl.col("type") == "ais_gap") | ((pl.col("type") == "port_call") & pl.col("inferred").fill_null(False))
    return ev.filter(off & pl.col("mmsi").is_not_null()).select(
        "mmsi", pl.col("start").alias("_ds"), pl.col("end").alias("_de"), pl.col("lat").cast(pl.Float64).alias("_slat"),
        pl.col("lon").cast(pl.Float64).alias("_slon"))


def _visits(v: pl.DataFrame, ev: pl.DataFrame, places: Places, load_terminals: list[str]) -> pl.DataFrame:
    """_v, mmsi, role, _ws, _we, _places (list: where a detection of this visit may lie), _pos_lat/_pos_lon (the
    visit's AIS position, for the distance)."""
    parent = places.parent_ports()
    inside: dict[str, list[str]] = {}
    for berth, port in parent.items():
        inside.setdefault(port, []).append(berth)
    held = pl.DataFrame({"_p": list(inside), "_held": list(inside.values())},
                        schema={"_p": pl.Utf8, "_held": pl.List(pl.Utf8)})

    def with_held(df: pl.DataFrame, col: str) -> pl.DataFrame:
        return df.join(held.rename({"_p": col}), on=col, how="left")

    pos = ev.select(pl.col("event_id"), pl.col("lat").alias("_pos_lat"), pl.col("lon").alias("_pos_lon")).unique("event_id")
    load = v.select(
        "_v", "mmsi", pl.lit("load").alias("role"), pl.col("load_start").alias("_ws"), pl.col("load_end").alias("_we"),
        "load_place", pl.col("load_events").list.first().alias("event_id"),
        pl.concat_list(pl.col("load_site"), pl.col("load_place"),
                       pl.col("load_reachable").fill_null("").str.split(", ")).alias("_own"))
    load = with_held(load, "load_place").with_columns(
        # a berth of the load port is a place of the load only when it can load petroleum
        pl.concat_list("_own", pl.col("_held").fill_null([]).list.set_intersection(load_terminals)).alias("_places"))
    dis = v.filter(pl.col("discharge_start").is_not_null()).select(
        "_v", "mmsi", pl.when(pl.col("discharge_kind") == "sts").then(pl.lit("sts")).otherwise(pl.lit("discharge")).alias("role"),
        pl.coalesce("discharge_dark_from", "discharge_start").alias("_ws"),
        pl.coalesce("discharge_end", "discharge_start").alias("_we"), "discharge_place",
        pl.col("discharge_event").alias("event_id"), pl.concat_list(pl.col("discharge_place")).alias("_own"),
        "discharge_other_mmsi")
    dis = with_held(dis, "discharge_place").with_columns(
        pl.concat_list("_own", pl.col("_held").fill_null([])).alias("_places"))
    dis = dis.with_columns(pl.col("_we").alias("_call_end"))
    dis = _stay_end(dis, ev, parent)
    cols = ["_v", "mmsi", "role", "_ws", "_we", "_call_end", "event_id", "_places"]
    out = pl.concat([load.with_columns(pl.col("_we").alias("_call_end")).select(cols).with_columns(pl.lit(None, pl.Int64).alias("_partner")),
                     dis.select(*cols, pl.col("discharge_other_mmsi").cast(pl.Int64).alias("_partner"))])
    out = out.with_columns(pl.col("_places").list.drop_nulls().list.filter(pl.element() != "").list.unique())
    return out.join(pos, on="event_id", how="left").drop("event_id")


def _stay_end(dis: pl.DataFrame, ev: pl.DataFrame, parent: dict[str, str]) -> pl.DataFrame:
    """A ship often stays on at the discharge port after the call AIS shows, silent between calls there: its
    visit runs until its next port call at another port (or, with none, the end of the last call there)."""
    port = pl.col("place").replace_strict(parent, default=pl.col("place"))
    calls = ev.filter((pl.col("type") == "port_call") & pl.col("place").is_not_null()).select(
        "mmsi", port.alias("_cport"), pl.col("start").alias("_cs"), pl.col("end").alias("_ce"))
    here = pl.col("discharge_place").replace_strict(parent, default=pl.col("discharge_place"))
    after = dis.filter(pl.col("role") == "discharge").select("_v", "mmsi", "_we", here.alias("_port")).join(
        calls, on="mmsi").filter(pl.col("_cs") > pl.col("_we"))
    leave = after.filter(pl.col("_cport") != pl.col("_port")).group_by("_v").agg(pl.col("_cs").min().alias("_leave"))
    last = after.join(leave, on="_v", how="left").filter(
        (pl.col("_cport") == pl.col("_port")) & (pl.col("_leave").is_null() | (pl.col("_cs") < pl.col("_leave"))))
    last = last.group_by("_v").agg(pl.col("_ce").max().alias("_last"))
    return dis.join(leave, on="_v", how="left").join(last, on="_v", how="left").with_columns(
        pl.when(pl.col("role") == "discharge").then(pl.coalesce("_leave", pl.max_horizontal("_we", "_last")))
        .otherwise(pl.col("_we")).alias("_we")).drop("_leave", "_last")


def _stayed_elsewhere(off: pl.DataFrame, track, cfg: CasesConfig) -> pl.Series:
    """A silence that began and ended on one spot (a moored ship nobody heard: its last report before and first
    after lie within imagery_stayed_m) puts the ship there, not at a detection farther away."""
    if off.height == 0:
        return pl.Series([], dtype=pl.Boolean)
    pos = track(off["mmsi"].unique().to_list(), off["_ds"].min(), off["_de"].max())
    if pos.height == 0:
        return pl.Series([False] * off.height)
    pos = pos.sort("ts")
    o = off.with_row_index("_r")
    before = o.sort("_ds").join_asof(pos.rename({"ts": "_t0", "lat": "_blat", "lon": "_blon"}), left_on="_ds",
                                     right_on="_t0", by="mmsi", strategy="backward", check_sortedness=False)
    after = o.sort("_de").join_asof(pos.rename({"ts": "_t1", "lat": "_alat", "lon": "_alon"}), left_on="_de",
                                    right_on="_t1", by="mmsi", strategy="forward", check_sortedness=False)
    both = before.select("_r", "_blat", "_blon").join(after.select("_r", "_alat", "_alon"), on="_r").sort("_r")
    f = lambda df, c: df[c].cast(pl.Float64).to_numpy()  # noqa: E731
    span = haversine_km(f(both, "_blat"), f(both, "_blon"), f(both, "_alat"), f(both, "_alon")) * 1000
    away = haversine_km(f(off, "lat"), f(off, "lon"), f(both, "_blat"), f(both, "_blon")) * 1000
    return pl.Series((span <= cfg.imagery_stayed_m) & (away > cfg.imagery_stayed_radius_m))  # NaN compares False


def imagery_evidence(v: pl.DataFrame, ev: pl.DataFrame, seen: pl.DataFrame, cfg: CasesConfig, places: Places,
                     info: pl.DataFrame, load_terminals: list[str], alongside_km: float, track=None) -> pl.DataFrame:
    """The corroborating detections of the voyages ``v`` (columns _v, mmsi, length, load_*, discharge_*), one row
    per (voyage, detection), EVIDENCE_SCHEMA. ``track(mmsis, start, end)`` gives those vessels' AIS positions
    (mmsi, ts, lat, lon) around their silences (None: no positions)."""
    empty = pl.DataFrame(schema=EVIDENCE_SCHEMA)
    if seen.height == 0 or v.height == 0:
        return empty
    kinds = dict(zip(info["id"].to_list(), info["kind"].to_list()))
    seen = seen.with_columns(pl.col("place").replace_strict(kinds, default=None).alias("_kind"))
    visits = _visits(v, ev, places, load_terminals).join(v.select("_v", pl.col("length").alias("ais_length_m")), on="_v")
    cand = visits.join_where(seen.rename({"mmsi": "_det_mmsi"}), pl.col("acquired") >= pl.col("_ws"),
                             pl.col("acquired") <= pl.col("_we"))
    if cand.height == 0:
        return empty
    # the ship's AIS was off when the image was taken
    dark = _dark_intervals(ev)
    off = cand.select("_v", "role", "detection_id", "mmsi", "acquired", "lat", "lon").join(dark, on="mmsi").filter(
        (pl.col("acquired") >= pl.col("_ds")) & (pl.col("acquired") <= pl.col("_de")))
    keys = ["_v", "role", "detection_id"]
    if track is not None:
        off = off.join(off.filter(_stayed_elsewhere(off, track, cfg)).select(keys).unique(), on=keys, how="anti")
    off = off.sort(
        "_ds", descending=True).group_by(["_v", "role", "detection_id"]).first().select(
        "_v", "role", "detection_id", "_slat", "_slon").with_columns(pl.lit(True).alias("_off"))
    cand = cand.join(off, on=["_v", "role", "detection_id"], how="left").with_columns(pl.col("_off").fill_null(False))
    # a dark ship is measured from where its AIS went silent (the latest silence covering the image)
    silent = pl.col("_off") & ~(pl.col("_det_mmsi") == pl.col("mmsi")).fill_null(False)
    cand = cand.with_columns(pl.when(silent).then(pl.coalesce("_slat", "_pos_lat")).otherwise(pl.col("_pos_lat")).alias("_pos_lat"),
                             pl.when(silent).then(pl.coalesce("_slon", "_pos_lon")).otherwise(pl.col("_pos_lon")).alias("_pos_lon"))
    ratio = pl.col("length_m") / pl.col("ais_length_m")
    length_ok = (pl.col("ais_length_m").is_null() | pl.col("length_m").is_null()
                 | ratio.is_between(cfg.imagery_length_ratio_min, cfg.imagery_length_ratio_max))
    at_place = pl.col("_places").list.contains(pl.col("place")).fill_null(False)
    berth = pl.col("_kind").is_in(list(cfg.imagery_place_kinds)).fill_null(False)
    sts_area = (pl.col("place") == pl.col("_places").list.first()) | (pl.col("_kind") == "sts_area")
    own = pl.col("_det_mmsi") == pl.col("mmsi")
    dark_visit = (pl.col("dark") | (pl.col("ambiguous") & cfg.imagery_ambiguous)) & pl.col("_off") & length_ok & (
        ((pl.col("role") != "sts") & at_place & berth) | ((pl.col("role") == "sts") & sts_area.fill_null(False)))
    # the vessel's own image confirms the call AIS showed (not the silent days after it)
    matched_visit = own.fill_null(False) & (pl.col("acquired") <= pl.col("_call_end")) & (at_place | ((pl.col("role") == "sts") & sts_area.fill_null(False)))
    cand = cand.filter(dark_visit | matched_visit).with_columns(own.fill_null(False).alias("matched"))
    if cand.height == 0:
        return empty
    # a transfer needs a second ship alongside: another detection of the scene within the encounter distance
    sts = cand.filter(pl.col("role") == "sts")
    if sts.height:
        others = seen.select(pl.col("detection_id").alias("_o"), "scene_id", pl.col("lat").alias("_olat"),
                             pl.col("lon").alias("_olon"), pl.col("mmsi").alias("_omm"), pl.col("dark").alias("_odark"))
        pairs = sts.select("_v", "detection_id", "scene_id", "lat", "lon", "_partner").join(others, on="scene_id").filter(
            pl.col("_o") != pl.col("detection_id"))
        km = haversine_km(pairs["lat"].to_numpy(), pairs["lon"].to_numpy(), pairs["_olat"].to_numpy(),
                          pairs["_olon"].to_numpy()) if pairs.height else np.zeros(0)
        pairs = pairs.with_columns(pl.Series("_km", km, dtype=pl.Float64)).filter(pl.col("_km") <= alongside_km)
        # the partner itself when it was matched, else the nearest ship alongside
        best = pairs.sort([(pl.col("_omm") == pl.col("_partner")).fill_null(False), "_km"], descending=[True, False]) \
            .group_by(["_v", "detection_id"], maintain_order=True).first().select(
            "_v", "detection_id", (pl.col("_km") * 1000).alias("_along_m"),
            pl.when(pl.col("_omm").is_not_null()).then(pl.format("MMSI {}", pl.col("_omm")))
            .when(pl.col("_odark")).then(pl.lit("an unbroadcasting ship"))
            .otherwise(pl.lit("a ship AIS cannot tell apart")).alias("_along"))
        cand = cand.join(best, on=["_v", "detection_id"], how="left").filter(
            (pl.col("role") != "sts") | pl.col("_along_m").is_not_null())
    else:
        cand = cand.with_columns(pl.lit(None, pl.Float64).alias("_along_m"), pl.lit(None, pl.Utf8).alias("_along"))
    from_pos = haversine_km(cand["lat"].to_numpy(), cand["lon"].to_numpy(), cand["_pos_lat"].cast(pl.Float64).to_numpy(),
                            cand["_pos_lon"].cast(pl.Float64).to_numpy()) * 1000
    cand = _one_to_one(cand.with_columns(pl.Series("_from_pos", from_pos, dtype=pl.Float64)), cfg)
    if cand.height == 0:
        return empty
    dist = pl.when(pl.col("role") == "sts").then(pl.col("_along_m")).otherwise(pl.col("_from_pos"))
    to = pl.when(pl.col("role") == "sts").then(pl.format("alongside {}", pl.col("_along"))).otherwise(
        pl.when(pl.col("matched")).then(pl.lit("from its AIS position of the call"))
        .otherwise(pl.lit("from where its AIS went silent")))
    eid = pl.when(pl.col("dark")).then(pl.format("dark_detection-{}", pl.col("detection_id"))).otherwise(None)
    return cand.with_columns(dist.round(0).alias("distance_m"), to.alias("distance_to"), eid.alias("event_id")).select(
        [pl.col(c).cast(t) for c, t in EVIDENCE_SCHEMA.items()]).sort(["_v", "acquired"])


def _one_to_one(cand: pl.DataFrame, cfg: CasesConfig) -> pl.DataFrame:
    """Each dark detection for at most one (voyage, role), each (voyage, role, scene) at most one dark detection:
    the assignment of least total cost, scene by scene: the length disagreement (|log ratio|), plus the distance
    from where its AIS went silent over ``imagery_assign_km``, plus 1 for a detection the matcher left
    ambiguous (a sure dark one first). Matched ones stay as they are (the matcher tied them one-to-one)."""
    from scipy.optimize import linear_sum_assignment

    matched, dark = cand.filter(pl.col("matched")), cand.filter(~pl.col("matched"))
    if dark.height == 0:
        return cand
    cost = ((pl.col("length_m") / pl.col("ais_length_m")).log().abs().fill_null(np.log(2.0)).fill_nan(np.log(2.0))
            + (pl.col("_from_pos") / 1000 / cfg.imagery_assign_km).fill_null(0.0).fill_nan(0.0)
            + pl.col("ambiguous").cast(pl.Float64))
    dark = dark.with_columns(cost.alias("_cost"), pl.format("{}|{}", pl.col("_v"), pl.col("role")).alias("_visit"))
    keep = []
    for (_,), g in dark.group_by(["scene_id"], maintain_order=True):  # a handful of scenes per voyage set
        rows, cols = g["_visit"].unique(maintain_order=True).to_list(), g["detection_id"].unique(maintain_order=True).to_list()
        ri, ci = {r: i for i, r in enumerate(rows)}, {c: i for i, c in enumerate(cols)}
        c = np.full((len(rows), len(cols)), 1e6)
        c[[ri[x] for x in g["_visit"]], [ci[x] for x in g["detection_id"]]] = g["_cost"].to_numpy()
        r, k = linear_sum_assignment(c)
        ok = c[r, k] < 1e6
        keep += [(rows[a], cols[b]) for a, b in zip(r[ok], k[ok])]
    kept = pl.DataFrame(keep, schema={"_visit": pl.Utf8, "detection_id": pl.Utf8}, orient="row")
    dark = dark.join(kept, on=["_visit", "detection_id"], how="semi").drop("_cost", "_visit")
    return pl.concat([matched, dark.select(matched.columns)])


def evidence_columns(v: pl.DataFrame, img: pl.DataFrame) -> pl.DataFrame:
    """Per voyage: imagery (JSON list of the corroborating detections), _img_<role>_dark / _img_matched (the
    reason sentences, null when none) and _img_events (the dark_detection event ids, for the evidence)."""
    if img.height == 0:
        return v.with_columns(pl.lit("[]").alias("imagery"), *[pl.lit(None, pl.Utf8).alias(f"_img_{r}_dark") for r in ROLES],
                              *[pl.lit(None, pl.Boolean).alias(f"_img_{r}_sure") for r in ROLES],
                              pl.lit(None, pl.Utf8).alias("_img_matched"), pl.lit([], pl.List(pl.Utf8)).alias("_img_events"))
    when = pl.col("acquired").dt.strftime("%Y-%m-%d %H:%M")
    length = pl.when(pl.col("length_m").is_null()).then(pl.lit("?")).otherwise(pl.col("length_m").round(0).cast(pl.Int64).cast(pl.Utf8))
    ais = pl.when(pl.col("ais_length_m").is_null()).then(pl.lit("its length unknown in AIS")).otherwise(
        pl.format("its AIS length {} m", pl.col("ais_length_m").round(0).cast(pl.Int64)))
    far = pl.when(pl.col("distance_m") < 1000).then(pl.format("{} m", pl.col("distance_m").round(0).cast(pl.Int64))) \
        .otherwise(pl.format("{} km", (pl.col("distance_m") / 1000).round(1)))
    sentence = pl.format(
        "{} scene {} at {} UTC: {} ({} m, {}) at {}, {} {}",
        pl.col("sensor").str.to_uppercase(), pl.col("scene_id"), when,
        pl.when(pl.col("matched")).then(pl.format("detection {} matched to this vessel's AIS", pl.col("detection_id")))
        .when(pl.col("ambiguous")).then(pl.format(
            "ship {} that no AIS track is sure to explain (the matcher found it ambiguous)", pl.col("detection_id")))
        .otherwise(pl.format("unbroadcasting ship {}", pl.col("detection_id"))),
        length, ais, pl.col("place").fill_null("sea"), far.fill_null("?"), pl.col("distance_to"))
    img = img.with_columns(sentence.alias("_s"))
    rec = img.select("_v", pl.struct(
        "role", "matched", "ambiguous", "detection_id", "scene_id", "sensor",
        when.alias("acquired"), "lat", "lon", "length_m", "ais_length_m", "place", "distance_m", "distance_to",
        "event_id").struct.json_encode().alias("_j"))
    js = rec.group_by("_v").agg((pl.lit("[") + pl.col("_j").str.join(",") + pl.lit("]")).alias("imagery"))
    per = [img.filter((pl.col("role") == r) & ~pl.col("matched")).group_by("_v").agg(
        pl.col("_s").str.join("; ").alias(f"_img_{r}_dark"), (~pl.col("ambiguous")).any().alias(f"_img_{r}_sure"))
        for r in ROLES]
    mat = img.filter(pl.col("matched")).group_by("_v").agg(pl.col("_s").str.join("; ").alias("_img_matched"))
    evs = img.filter(pl.col("event_id").is_not_null()).group_by("_v").agg(pl.col("event_id").alias("_img_events"))
    out = v.join(js, on="_v", how="left")
    for p in (*per, mat, evs):
        out = out.join(p, on="_v", how="left")
    return out.with_columns(pl.col("imagery").fill_null("[]"),
                            pl.col("_img_events").fill_null(pl.lit([], pl.List(pl.Utf8))))


def parse_imagery(text: str | None) -> list[dict]:
    """The `imagery` column of a case as a list of dicts (empty for none or unreadable text)."""
    try:
        out = json.loads(text or "[]")
    except ValueError:
        return []
    return [x for x in out if isinstance(x, dict)] if isinstance(out, list) else []
