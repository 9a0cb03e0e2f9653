"""What the dashboard and the API ask of a store, as library functions a notebook can call too.

Every filter is pushed into Polars over the store's Parquet (a vessel's track reads only the days asked for and
that vessel's rows); lists are sorted and paged here, so a response is bounded whatever the store holds.
Parameter names follow Global Fishing Watch's API v3 where they overlap (`start-date` inclusive, `end-date`
exclusive, `limit`/`offset` answered with `nextOffset`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

import numpy as np
import polars as pl

from shadowfleet.cases import DEFAULTS as CASES_DEFAULTS
from shadowfleet.cases import read_cases
from shadowfleet.cases.imagery import parse_imagery
from shadowfleet.cases.ledger import cap_ledger
from shadowfleet.errors import ShadowfleetError
from shadowfleet.events import EVENT_TYPES
from shadowfleet.events.config import GapConfig
from shadowfleet.identity import flag_expr
from shadowfleet.live import to_messages
from shadowfleet.output import json_records, utc_text
from shadowfleet.registry import track as registry_track
from shadowfleet.registry import vessel_profile
from shadowfleet.report.chips import case_chip, chip_caption, scene_sources
from shadowfleet.serve.config import DEFAULTS, ServeConfig
from shadowfleet.serve.snapshot import StoreView

UTC = dt.timezone.utc
EVENT_SORTS = ("start", "-start", "end", "-end", "type", "-type", "mmsi", "-mmsi", "duration", "-duration")
CASE_SORTS = ("discharge_start", "-discharge_start", "barrels_central", "-barrels_central", "confidence",
              "-confidence", "mmsi", "-mmsi")
# a dashed "gap" is drawn where a track falls silent for as long as an ais_gap event needs
GAP_H = GapConfig().min_gap_h


class BadParameter(ValueError):
    """A request parameter that cannot be used; ``name`` is the parameter as the client spelled it."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class NotFound(LookupError):
    pass


# ---- parameters ----------------------------------------------------------------------------------------------


def parse_time(value: str | None, name: str) -> dt.datetime | None:
    """ISO 8601 date or date-time; UTC when it names no offset."""
    if value is None or value == "":
        return None
    try:
        t = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadParameter(name, f"not an ISO 8601 date or date-time: {value[:40]!r}") from None
    return t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)


def parse_list(value: str | None, name: str, allowed: tuple[str, ...] | None = None, pattern: str | None = None,
               max_items: int = 200) -> list[str] | None:
    if value is None or not value.strip():
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if len(items) > max_items:
        raise BadParameter(name, f"at most {max_items} values")
    if allowed is not None:
        bad = [v for v in items if v not in allowed]
        if bad:
            raise BadParameter(name, f"unknown value {bad[0][:40]!r}; expected one of {', '.join(allowed)}")
    if pattern is not None:
        bad = [v for v in items if not re.fullmatch(pattern, v)]
        if bad:
            raise BadParameter(name, f"not a valid value: {bad[0][:40]!r}")
    return items


def parse_mmsis(value: str | None, name: str = "vessels") -> list[int] | None:
    items = parse_list(value, name, pattern=r"\d{1,9}")
    return [int(v) for v in items] if items else None


def parse_bbox(value: str | None, name: str = "bbox") -> tuple[float, float, float, float] | None:
    """``minLon,minLat,maxLon,maxLat`` in degrees (a box across the antimeridian has minLon > maxLon)."""
    if value is None or not value.strip():
        return None
    try:
        w, s, e, n = (float(v) for v in value.split(","))
    except ValueError:
        raise BadParameter(name, "expected minLon,minLat,maxLon,maxLat") from None
    if not all(math.isfinite(x) for x in (w, s, e, n)) or not (-180 <= w <= 180 and -180 <= e <= 180
                                                              and -90 <= s <= n <= 90):
        raise BadParameter(name, "longitudes in [-180, 180], latitudes in [-90, 90], minLat <= maxLat")
    return w, s, e, n


def parse_bool(value: str | None, name: str) -> bool | None:
    if value is None or value == "":
        return None
    v = value.strip().lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    raise BadParameter(name, f"expected true or false, got {value[:20]!r}")


def page_bounds(limit: int | None, offset: int | None, cfg: ServeConfig) -> tuple[int, int]:
    limit = min(cfg.page_default, cfg.page_max) if limit is None else limit
    offset = 0 if offset is None else offset
    if not 1 <= limit <= cfg.page_max:
        raise BadParameter("limit", f"between 1 and {cfg.page_max}")
    if offset < 0:
        raise BadParameter("offset", "0 or more")
    return limit, offset


# ---- shared frames ------------------------------------------------------------------------------------------


def vessel_names(view: StoreView) -> pl.DataFrame:
    """mmsi → the latest name broadcast (what a list shows next to an MMSI)."""

    def build() -> pl.DataFrame:
        return (
            view.store.scan("static").select("mmsi", "ts", "name")
            .filter(pl.col("name").is_not_null() & (pl.col("name") != ""))
            .group_by("mmsi").agg(pl.col("name").sort_by("ts").last())
            .collect()
        )

    return view.cached("names", ("static",), build)


def listed_mmsis(view: StoreView) -> pl.DataFrame:
    """mmsi → True for every vessel with a sanctions-list hit in `screening`."""

    def build() -> pl.DataFrame:
        if not view.store.files("screening"):
            return pl.DataFrame(schema={"mmsi": pl.Int64, "listed": pl.Boolean})
        return (
            view.store.scan("screening").filter(pl.col("list_id").is_not_null())
            .select(pl.col("mmsi").cast(pl.Int64)).unique().with_columns(pl.lit(True).alias("listed")).collect()
        )

    return view.cached("listed", ("screening",), build)


def events_frame(view: StoreView) -> pl.DataFrame:
    """Every stored event with the vessel's flag, latest name, listed or not, duration in hours."""

    def build() -> pl.DataFrame:
        if not view.store.files("events"):
            raise NotFound("no events in this store: run `shadowfleet detect` first")
        ev = view.store.scan("events").collect()
        ev = ev.with_columns(
            flag_expr("mmsi"),
            ((pl.col("end") - pl.col("start")).dt.total_seconds() / 3600.0).alias("duration_h"),
            pl.col("inferred").fill_null(False),
            # the place an encounter or gap names in its details counts as its place for filtering
            pl.coalesce(pl.col("place"), pl.col("details").str.json_path_match("$.place")).alias("place_any"),
        )
        ev = ev.join(vessel_names(view), on="mmsi", how="left")
        ev = ev.join(listed_mmsis(view), on="mmsi", how="left").with_columns(pl.col("listed").fill_null(False))
        return ev.sort(["start", "mmsi", "type"], nulls_last=True)

    return view.cached("events", ("events", "static", "screening"), build)


# ---- events -------------------------------------------------------------------------------------------------


def filter_events(
    view: StoreView,
    types: str | None = None,
    vessels: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    places: str | None = None,
    flags: str | None = None,
    bbox: str | None = None,
    inferred: str | None = None,
    listed: str | None = None,
    sort: str | None = None,
) -> pl.DataFrame:
    """The events matching every given filter (an event counts when it overlaps [start-date, end-date))."""
    type_list = parse_list(types, "types", allowed=EVENT_TYPES)
    mmsis = parse_mmsis(vessels)
    start = parse_time(start_date, "start-date")
    end = parse_time(end_date, "end-date")
    if start and end and end <= start:
        raise BadParameter("end-date", "must be after start-date")
    place_list = parse_list(places, "places", pattern=r"[A-Za-z0-9_.:\-]{1,64}")
    flag_list = parse_list(flags, "flags", pattern=r"[A-Za-z]{2}")
    box = parse_bbox(bbox)
    inf = parse_bool(inferred, "inferred")
    lst = parse_bool(listed, "listed")
    order = sort or "start"
    if order not in EVENT_SORTS:
        raise BadParameter("sort", f"one of {', '.join(EVENT_SORTS)}")

    conds: list[pl.Expr] = []
    if type_list:
        conds.append(pl.col("type").is_in(type_list))
    if mmsis:
        conds.append(pl.col("mmsi").is_in(mmsis) | pl.col("other_mmsi").is_in(mmsis))
    if start:
        conds.append(pl.coalesce("end", "start") >= start)
    if end:
        conds.append(pl.col("start") < end)
    if place_list:
        conds.append(pl.col("place_any").is_in(place_list))
    if flag_list:
        conds.append(pl.col("flag").is_in([f.upper() for f in flag_list]))
    if box:
        w, s, e, n = box
        lon_ok = pl.col("lon").is_between(w, e) if w <= e else (pl.col("lon") >= w) | (pl.col("lon") <= e)
        conds.append(pl.col("lat").is_between(s, n) & lon_ok)
    if inf is not None:
        conds.append(pl.col("inferred") == inf)
    if lst is not None:
        conds.append(pl.col("listed") == lst)
    ev = events_frame(view)
    if conds:
        ev = ev.filter(pl.all_horizontal(conds).fill_null(False))
    col, desc = order.lstrip("-"), order.startswith("-")
    col = "duration_h" if col == "duration" else col
    if order != "start":  # stored order is already by start
        ev = ev.sort([col, "event_id"], descending=[desc, False], nulls_last=True)
    return ev


def event_entries(ev: pl.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready events: times ISO 8601 UTC, details as an object."""
    if ev.height == 0:
        return []
    cols = ["event_id", "type", "mmsi", "name", "flag", "listed", "start", "end", "duration_h", "lat", "lon",
            "place", "other_mmsi", "inferred", "details"]
    rows = json_records(ev.select(cols))
    for r in rows:
        try:
            r["details"] = json.loads(r["details"]) if r["details"] else {}
        except ValueError:
            r["details"] = {"raw": r["details"]}
        if r["duration_h"] is not None:
            r["duration_h"] = round(r["duration_h"], 2)
    return rows


def events_page(view: StoreView, limit: int | None = None, offset: int | None = None,
                cfg: ServeConfig = DEFAULTS, **filters: str | None) -> dict[str, Any]:
    """One page of events: ``{total, offset, limit, nextOffset, entries}`` (nextOffset null on the last page)."""
    limit, offset = page_bounds(limit, offset, cfg)
    ev = filter_events(view, **filters)
    entries = event_entries(ev.slice(offset, limit))
    nxt = offset + limit if offset + limit < ev.height else None
    return {"total": ev.height, "offset": offset, "limit": limit, "nextOffset": nxt, "entries": entries}


def events_stats(view: StoreView, **filters: str | None) -> dict[str, Any]:
    """Counts of the filtered events: in all, by type, flag, place and month; vessels involved."""
    ev = filter_events(view, **filters)

    def counts(col: str | pl.Expr, name: str) -> list[dict]:
        df = ev.group_by(col).agg(pl.len().alias("count")).sort(["count", name], descending=[True, False])
        return df.rename({df.columns[0]: name}).to_dicts()

    return {
        "total": ev.height,
        "vessels": ev["mmsi"].n_unique(),
        "inferred": int(ev["inferred"].sum()),
        "listed_vessels": ev.filter(pl.col("listed"))["mmsi"].n_unique(),
        "start": _iso_value(ev["start"].min()), "end": _iso_value(ev["end"].max()),
        "by_type": counts("type", "type"),
        "by_flag": counts("flag", "flag"),
        "by_place": counts("place_any", "place_any"),
        "by_month": ev.group_by(pl.col("start").dt.strftime("%Y-%m").alias("month")).agg(pl.len().alias("count"))
        .sort("month").to_dicts(),
    }


def event_detail(view: StoreView, event_id: str) -> dict[str, Any]:
    ev = events_frame(view).filter(pl.col("event_id") == event_id)
    if ev.height == 0:
        raise NotFound(f"no event {event_id[:80]!r}")
    return event_entries(ev)[0]


# ---- vessels ------------------------------------------------------------------------------------------------


def search_vessels(view: StoreView, query: str, cfg: ServeConfig = DEFAULTS) -> dict[str, Any]:
    """Vessels whose MMSI, IMO, call sign or any name broadcast contains ``query`` (case-insensitive)."""
    q = (query or "").strip()
    if not q:
        raise BadParameter("query", "give part of a name, an MMSI, an IMO or a call sign")
    if len(q) > 64:
        raise BadParameter("query", "at most 64 characters")

    def build() -> pl.DataFrame:
        return (
            view.store.scan("static").select("mmsi", "ts", "name", "imo", "callsign")
            .group_by("mmsi").agg(
                pl.col("name").drop_nulls().unique(maintain_order=True).alias("names"),
                pl.col("name").sort_by("ts").drop_nulls().last().alias("name"),
                pl.col("imo").drop_nulls().last().alias("imo"),
                pl.col("callsign").drop_nulls().last().alias("callsign"),
                pl.col("ts").max().alias("last_static"),
            ).collect().with_columns(flag_expr("mmsi"))
        )

    idx = view.cached("search", ("static",), build)
    needle = q.upper()
    hit = (
        pl.col("mmsi").cast(pl.Utf8).str.contains(q, literal=True)
        | pl.col("imo").cast(pl.Utf8).str.contains(q, literal=True).fill_null(False)
        | pl.col("callsign").str.to_uppercase().str.contains(needle, literal=True).fill_null(False)
        | pl.col("names").list.eval(pl.element().str.to_uppercase().str.contains(needle, literal=True)).list.any()
    )
    found = idx.filter(hit).join(listed_mmsis(view), on="mmsi", how="left").with_columns(
        pl.col("listed").fill_null(False)).sort("mmsi")
    rows = json_records(found.head(cfg.search_max)) if found.height else []
    return {"total": found.height, "query": q, "entries": rows}


def vessel_detail(view: StoreView, mmsi: int) -> dict[str, Any]:
    """Identity and draught history, sanctions hits (with the list version), events and cases of one MMSI."""

    def profile():
        try:
            return vessel_profile(view.store, mmsi)
        except ShadowfleetError as exc:
            if "no reports" in str(exc):
                raise NotFound(f"no vessel with MMSI {mmsi} in this store") from None
            raise

    prof = view.retrying(profile).to_dict()
    prof["name"] = (prof["identities"][-1].get("name") if prof["identities"] else None)
    hits = []
    if view.store.files("screening"):
        scr = view.retrying(lambda: view.store.scan("screening").filter(
            (pl.col("mmsi") == mmsi) & pl.col("list_id").is_not_null()).collect())
        hits = json_records(scr) if scr.height else []
    prof["sanctions"] = hits
    prof["listed"] = bool(hits)
    try:
        ev = events_frame(view).filter((pl.col("mmsi") == mmsi) | (pl.col("other_mmsi") == mmsi))
        prof["events"] = event_entries(ev)
    except NotFound:
        prof["events"] = []
    cases = cases_frame(view, required=False)
    prof["cases"] = case_entries(cases.filter(pl.col("mmsi") == mmsi)) if cases is not None else []
    return prof


def vessel_track(view: StoreView, mmsi: int, start_date: str | None = None, end_date: str | None = None,
                 simplify: float | None = None, full: bool = False, cfg: ServeConfig = DEFAULTS) -> pl.DataFrame:
    """One vessel's positions in [start-date, end-date) (copies from several receivers merged), with segment ids.

    Without dates: the last 30 days it was heard. ``simplify`` (metres) keeps only the points a line drawn at that
    tolerance needs (Douglas-Peucker per segment), with their times. ``full``: every position column (for an
    export); otherwise the columns a map needs (mmsi, ts, lat, lon, sog, segment), read from the `segments` table
    detect wrote (sorted by vessel, so one vessel's rows are found without scanning everyone's) plus any
    positions newer than it."""
    start = parse_time(start_date, "start-date")
    end = parse_time(end_date, "end-date")
    if simplify is not None and not (0 <= simplify <= 100_000):
        raise BadParameter("simplify", "a tolerance in metres between 0 and 100000")
    if start and end and end <= start:
        raise BadParameter("end-date", "must be after start-date")
    if start is None or end is None:
        last = _last_heard(view, mmsi)
        if last is None:
            raise NotFound(f"no positions of MMSI {mmsi} in this store")
        end = end or last + dt.timedelta(microseconds=1)
        start = start or end - dt.timedelta(days=30)
    if (end - start).total_seconds() > cfg.track_max_days * 86400:
        raise BadParameter("end-date", f"a track request spans at most {cfg.track_max_days:g} days")
    last_us = end - dt.timedelta(microseconds=1)  # registry.track's end is inclusive; ours is exclusive

    def read() -> pl.DataFrame:
        covered = None if full else segments_end(view)
        if covered is None:
            return registry_track(view.store, mmsi, start, last_us)
        seg = (view.store.scan("segments").select(MAP_TRACK_COLUMNS)
               .filter((pl.col("mmsi") == mmsi) & (pl.col("ts") >= start) & (pl.col("ts") < end))
               .collect().with_columns(pl.col("segment").cast(pl.Utf8), pl.col("sog").cast(pl.Float32)))
        if end <= covered or not _heard_after(view, covered):
            return seg
        newer = registry_track(view.store, mmsi, max(start, covered + dt.timedelta(microseconds=1)), last_us)
        return pl.concat([seg, newer.select(MAP_TRACK_COLUMNS).with_columns(pl.col("sog").cast(pl.Float32))])

    tr = view.retrying(read).sort("ts")
    tr = tr.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null())
    if simplify:
        tr = _simplify(tr, simplify)
    return tr


MAP_TRACK_COLUMNS = ["mmsi", "ts", "lat", "lon", "sog", "segment"]


def _max_ts_from_footers(files) -> dt.datetime | None:
    """The latest ``ts`` from the Parquet files' row-group statistics (footers only), or None without them."""
    import pyarrow.parquet as pq

    best = None
    for f in files:
        meta = pq.ParquetFile(f).metadata
        col = meta.schema.names.index("ts") if "ts" in meta.schema.names else None
        if col is None:
            return None
        for g in range(meta.num_row_groups):
            st = meta.row_group(g).column(col).statistics
            if st is None or not st.has_min_max:
                return None
            hi = st.max if isinstance(st.max, dt.datetime) else None
            if hi is None:
                return None
            hi = hi if hi.tzinfo else hi.replace(tzinfo=UTC)
            best = hi if best is None or hi > best else best
    return best


def _heard_after(view: StoreView, t: dt.datetime) -> bool:
    """Whether the store holds any position later than ``t`` (only the day folders from ``t`` on are read)."""

    def build() -> bool:
        last = view.store.scan("positions", start=t).select(pl.col("ts").max()).collect().item()
        return last is not None and last > t

    return view.cached(f"heard_after:{t.isoformat()}", ("positions",), build)


def segments_end(view: StoreView) -> dt.datetime | None:
    """The last time the `segments` table covers (None without one)."""

    def build():
        files = view.store.files("segments")
        if not files:
            return None
        return _max_ts_from_footers(files) or view.store.scan("segments").select(pl.col("ts").max()).collect().item()

    return view.cached("segments_end", ("segments",), build)


def _last_heard(view: StoreView, mmsi: int) -> dt.datetime | None:
    def last():
        return view.store.scan("positions").filter(pl.col("mmsi") == mmsi).select(pl.col("ts").max()).collect().item()

    return view.retrying(last)


def _simplify(tr: pl.DataFrame, metres: float) -> pl.DataFrame:
    """Douglas-Peucker on each segment, keeping the original rows (and their times) that survive."""
    import numpy as np
    import shapely

    if tr.height < 3:
        return tr
    deg = metres / 111_320.0  # metres per degree of latitude; longitudes shrink with cos(lat): conservative
    keep = np.zeros(tr.height, dtype=bool)
    seg = tr["segment"].fill_null("").to_numpy()
    bounds = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1], True])
    lon, lat = tr["lon"].to_numpy(), tr["lat"].to_numpy()
    for a, b in zip(bounds[:-1], bounds[1:]):  # one iteration per segment, not per position
        keep[a] = keep[b - 1] = True
        if b - a < 3:
            keep[a:b] = True
            continue
        line = shapely.simplify(shapely.linestrings(lon[a:b], lat[a:b]), deg, preserve_topology=False)
        kept = shapely.get_coordinates(line)
        # simplify returns a subset of the input coordinates unchanged, so they are found again exactly
        keep[a:b] |= np.isin(lon[a:b] + 1j * lat[a:b], kept[:, 0] + 1j * kept[:, 1])
    return tr.filter(pl.Series(keep))


def nearby_tracks(view: StoreView, lat: float, lon: float, time: str, exclude: int | None = None,
                  cfg: ServeConfig = DEFAULTS) -> dict[str, Any]:
    """Other vessels heard within ``nearby_km`` of (lat, lon) within ``nearby_hours`` of ``time``: their tracks
    over that window, as GeoJSON lines (what else was there when it happened)."""
    t = parse_time(time, "time")
    if t is None:
        raise BadParameter("time", "required")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise BadParameter("lat", "a position in degrees")
    h = dt.timedelta(hours=cfg.nearby_hours)
    dlat = cfg.nearby_km / 111.32
    dlon = dlat / max(math.cos(math.radians(lat)), 0.05)

    def read() -> pl.DataFrame:
        lf = view.store.scan("positions", t - h, t + h).select("mmsi", "ts", "lat", "lon")
        near = lf.filter(pl.col("lat").is_between(lat - dlat, lat + dlat)
                         & pl.col("lon").is_between(lon - dlon, lon + dlon)).select("mmsi").unique()
        if exclude is not None:
            near = near.filter(pl.col("mmsi") != exclude)
        near_ids = near.collect()["mmsi"].head(50).to_list()
        return lf.filter(pl.col("mmsi").is_in(near_ids)).unique(["mmsi", "ts"]).sort(["mmsi", "ts"]).collect()

    pos = view.retrying(read)
    lines = pos.group_by("mmsi", maintain_order=True).agg("lon", "lat", pl.col("ts").first().alias("start"),
                                                         pl.col("ts").last().alias("end"))
    names = dict(vessel_names(view).iter_rows())
    feats = [
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [list(p) for p in zip(lo, la)]},
         "properties": {"mmsi": m, "name": names.get(m), "start": _iso_value(s), "end": _iso_value(e),
                        "kind": "nearby"}}
        for m, lo, la, s, e in lines.iter_rows() if len(lo) >= 1
    ]
    return {"type": "FeatureCollection", "features": feats}


# ---- cases, ledger, places, notes ---------------------------------------------------------------------------


def cases_frame(view: StoreView, required: bool = True) -> pl.DataFrame | None:
    def build() -> pl.DataFrame | None:
        if not view.store.files("cases"):
            return None
        return read_cases(view.store)

    df = view.cached("cases", ("cases",), build)
    if df is None and required:
        raise NotFound("no cases in this store: run `shadowfleet cases` first")
    return df


def case_entries(df: pl.DataFrame) -> list[dict[str, Any]]:
    if df.height == 0:
        return []
    rows = json_records(df)
    for r in rows:
        for k in ("reasons", "evidence", "list_hits", "imagery"):
            if isinstance(r.get(k), str):
                try:
                    r[k] = json.loads(r[k])
                except ValueError:
                    r[k] = [r[k]]
    return rows


def cases_page(view: StoreView, limit: int | None = None, offset: int | None = None, sort: str | None = None,
               vessels: str | None = None, cfg: ServeConfig = DEFAULTS) -> tuple[pl.DataFrame, dict[str, Any]]:
    limit, offset = page_bounds(limit, offset, cfg)
    order = sort or "-discharge_start"
    if order not in CASE_SORTS:
        raise BadParameter("sort", f"one of {', '.join(CASE_SORTS)}")
    df = cases_frame(view)
    mmsis = parse_mmsis(vessels)
    if mmsis:
        df = df.filter(pl.col("mmsi").is_in(mmsis))
    df = df.sort([order.lstrip("-"), "case_id"], descending=[order.startswith("-"), False], nulls_last=True)
    nxt = offset + limit if offset + limit < df.height else None
    return df, {"total": df.height, "offset": offset, "limit": limit, "nextOffset": nxt,
                "entries": case_entries(df.slice(offset, limit))}


def with_discharge_position(view: StoreView, cases: pl.DataFrame) -> pl.DataFrame:
    """Cases with ``lat``/``lon`` of the event their discharge starts with (where a map draws a case)."""
    try:
        ev = events_frame(view).select("mmsi", pl.col("start").alias("discharge_start"), "lat", "lon")
    except NotFound:
        return cases.with_columns(pl.lit(None, pl.Float64).alias("lat"), pl.lit(None, pl.Float64).alias("lon"))
    ev = ev.unique(["mmsi", "discharge_start"], keep="first")
    return cases.join(ev, on=["mmsi", "discharge_start"], how="left")


def case_detail(view: StoreView, case_id: str, cfg: ServeConfig = DEFAULTS) -> dict[str, Any]:
    """A case with its evidence chain (the events it rests on, in time order) and the analysts' notes."""
    df = cases_frame(view).filter(pl.col("case_id") == case_id)
    if df.height == 0:
        raise NotFound(f"no case {case_id[:80]!r}")
    case = case_entries(df)[0]
    ids = case.get("evidence") or []
    try:
        ev = events_frame(view).filter(pl.col("event_id").is_in([str(i) for i in ids]))
        case["evidence_events"] = event_entries(ev.sort("start"))
    except NotFound:
        case["evidence_events"] = []
    case["notes"] = notes_of(view, case_id)
    case["detections"] = case_detections(view, case, cfg)
    case["imagery"] = [x | {"chip": f"/cases/{case_id}/imagery/{x.get('detection_id')}.png", "caption": chip_caption(x)}
                       for x in case.get("imagery") or [] if isinstance(x, dict)]
    return case


def case_chip_png(view: StoreView, case_id: str, detection_id: str, places=None) -> bytes:
    """The image chip (PNG) of one satellite detection that corroborates a case (report/chips.py)."""
    df = cases_frame(view).filter(pl.col("case_id") == case_id)
    if df.height == 0:
        raise NotFound(f"no case {case_id[:80]!r}")
    row = df.row(0, named=True)
    items = [x for x in parse_imagery(row.get("imagery")) if x.get("detection_id") == detection_id]
    if not items:
        raise NotFound(f"case {case_id[:80]!r} has no corroborating detection {detection_id[:80]!r}")
    chip = view.retrying(lambda: case_chip(view.store, row["mmsi"], items[0], scene_sources(view.store), places))
    if chip.png is None:
        raise NotFound(chip.note)
    return chip.png


def case_detections(view: StoreView, case: dict[str, Any], cfg: ServeConfig = DEFAULTS) -> list[dict[str, Any]]:
    """Ships detected in satellite scenes near the case's evidence (within ``case_detection_km`` of an evidence
    event's position, from a day before the load to a day after the discharge): what imagery saw of it."""
    from shadowfleet.places import haversine_km

    events = [e for e in case.get("evidence_events", []) if e.get("lat") is not None and e.get("lon") is not None]
    if not events or not view.store.files("detections"):
        return []
    times = [parse_time(t, "time") for t in (case.get("load_start"), case.get("discharge_end"),
                                              case.get("discharge_start")) if t]
    if not times:
        return []
    lo, hi = min(times) - dt.timedelta(days=1), max(times) + dt.timedelta(days=1)
    det = detections_frame(view)
    if "acquired" not in det.columns or det.height == 0:
        return []
    det = det.filter(pl.col("acquired").is_between(lo, hi))
    if det.height == 0:
        return []
    lat, lon = det["lat"].to_numpy(), det["lon"].to_numpy()
    near = np.zeros(det.height, dtype=bool)
    for e in events:  # a handful of evidence events; each test is vectorised over the detections
        near |= haversine_km(lat, lon, e["lat"], e["lon"]) <= cfg.case_detection_km
    return json_records(det.filter(pl.Series(near)))



def ledger(view: StoreView, year: int | None = None, country: str | None = None) -> dict[str, Any]:
    """Monthly estimated barrels (low/central/high) against the UNSCR 2397 cap and the reported deliveries."""
    cases = cases_frame(view)
    if year is None:
        yrs = cases["discharge_start"].drop_nulls()
        year = yrs.max().year if yrs.len() else dt.datetime.now(UTC).year
    if not 1900 < year < 2200:
        raise BadParameter("year", "a four-digit year")
    ctry = (country or "KP").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", ctry):
        raise BadParameter("country", "an ISO 3166 alpha-2 code such as KP")
    led = view.retrying(lambda: cap_ledger(view.store, year, country=ctry, cases=cases))
    return {"year": year, "country": ctry, "cap": CASES_DEFAULTS.annual_cap_bbl,
            "months": json_records(led)}


def notes_of(view: StoreView, case_id: str) -> list[dict[str, Any]]:
    def read() -> pl.DataFrame:
        if not view.store.files("notes"):
            return pl.DataFrame()
        return view.store.scan("notes").filter(pl.col("case_id") == case_id).sort("ts").collect()

    df = view.retrying(read)
    return json_records(df.select("note_id", "ts", "author", "text")) if df.height else []


def add_note(view: StoreView, case_id: str, author: str, text: str, cfg: ServeConfig = DEFAULTS) -> dict[str, Any]:
    """Append an analyst's note to a case (the only write the server makes). Returns the stored note."""
    import uuid

    author = (author or "").strip()
    text = (text or "").strip()
    if not author:
        raise BadParameter("author", "required")
    if len(author) > cfg.author_max_chars:
        raise BadParameter("author", f"at most {cfg.author_max_chars} characters")
    if not text:
        raise BadParameter("text", "required")
    if len(text) > cfg.note_max_chars:
        raise BadParameter("text", f"at most {cfg.note_max_chars} characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in author + text):
        raise BadParameter("text" if any(ord(c) < 32 and c not in "\n\t" for c in text) else "author",
                           "control characters are not allowed")
    if cases_frame(view).filter(pl.col("case_id") == case_id).height == 0:
        raise NotFound(f"no case {case_id[:80]!r}")
    note_id = uuid.uuid4().hex
    row = pl.DataFrame({"note_id": [note_id], "ts": [dt.datetime.now(UTC)], "case_id": [case_id],
                        "author": [author], "text": [text]})
    view.store.append("notes", row, batch=f"note-{note_id}")
    return json_records(row.select("note_id", "ts", "case_id", "author", "text"))[0]


def detections_frame(view: StoreView) -> pl.DataFrame:
    def build() -> pl.DataFrame:
        df = view.store.scan("detections").collect()
        return df.sort(["acquired", "detection_id"], nulls_last=True) if "acquired" in df.columns else df

    return view.cached("detections", ("detections",), build)


def detections_page(view: StoreView, limit: int | None = None, offset: int | None = None,
                    cfg: ServeConfig = DEFAULTS) -> dict[str, Any]:
    """Ships detected in satellite scenes, when the store holds any (table `detections`)."""
    limit, offset = page_bounds(limit, offset, cfg)
    if not view.store.files("detections"):
        return {"total": 0, "offset": offset, "limit": limit, "nextOffset": None, "entries": []}
    df = detections_frame(view)
    nxt = offset + limit if offset + limit < df.height else None
    rows = df.slice(offset, limit)
    return {"total": df.height, "offset": offset, "limit": limit, "nextOffset": nxt,
            "entries": json_records(rows) if rows.height else []}


def alerts_page(view: StoreView, limit: int | None = None, offset: int | None = None,
                cfg: ServeConfig = DEFAULTS) -> dict[str, Any]:
    """The latest message of every alert `live` raised (table `alerts`), newest first."""
    limit, offset = page_bounds(limit, offset, cfg)

    def latest() -> pl.DataFrame:
        return (view.store.scan("alerts").sort("seq").unique("alert_id", keep="last")
                .sort("seq", descending=True).collect())

    df = view.cached("alerts-latest", ("alerts",), latest)
    nxt = offset + limit if offset + limit < df.height else None
    return {"total": df.height, "offset": offset, "limit": limit, "nextOffset": nxt,
            "entries": to_messages(df.slice(offset, limit))}


def alert_messages(view: StoreView, after_seq: int, limit: int) -> list[dict[str, Any]]:
    """At most ``limit`` alert messages written after ``after_seq``, oldest first, read from the store as it is now
    (not a pinned version: a stream follows what `live` appends)."""
    return view.retrying(lambda: to_messages(
        view.base.scan("alerts").filter(pl.col("seq") > after_seq).sort("seq").head(limit).collect()))


# ---- helpers ------------------------------------------------------------------------------------------------


def _iso_value(t) -> str | None:
    return utc_text(t) if isinstance(t, dt.datetime) else None


# ---- imagery: occupancy and tasking ----------------------------------------------------------------------------


def imagery_occupancy(view: StoreView, place: str, places, start_date: str | None = None,
                      end_date: str | None = None) -> pl.DataFrame:
    """The occupancy timeline of one place (imagery.occupancy); no rows before imagery has run."""
    from shadowfleet.imagery.occupancy import OCCUPANCY_COLUMNS, check_place, occupancy

    if not re.fullmatch(r"[A-Za-z0-9_.:\-]{1,64}", place or ""):
        raise BadParameter("place", "a gazetteer id such as RUVYP-OIL")
    try:
        check_place(places, place)
    except ShadowfleetError as exc:
        raise BadParameter("place", str(exc)) from None
    start, end = parse_time(start_date, "start-date"), parse_time(end_date, "end-date")
    if start and end and end <= start:
        raise BadParameter("end-date", "must be after start-date")
    if not view.store.files("scenes"):
        return pl.DataFrame(schema=OCCUPANCY_COLUMNS)
    return view.retrying(lambda: occupancy(view.store, place, start, end, places=places))


def imagery_plan(view: StoreView, places, start_date: str | None, end_date: str | None):
    """The ranked imagery questions of [start-date, end-date) (imagery.plan, without passes)."""
    from shadowfleet.imagery.plan import plan

    start, end = parse_time(start_date, "start-date"), parse_time(end_date, "end-date")
    if start is None:
        raise BadParameter("start-date", "required (ISO 8601 date or time)")
    if end is None:
        raise BadParameter("end-date", "required (ISO 8601 date or time)")
    for name, t in (("start-date", start), ("end-date", end)):
        if not 1900 < t.year < 2200:  # the plan pads the period by hours: year 1 or 9999 would overflow
            raise BadParameter(name, "a date between the years 1901 and 2199")
    if end <= start:
        raise BadParameter("end-date", "must be after start-date")
    if (end - start).days > 366:
        raise BadParameter("end-date", "at most 366 days after start-date")
    return view.retrying(lambda: plan(view.store, start, end, places=places))
