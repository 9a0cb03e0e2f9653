"""Voyages and cases: each vessel's events chained load → transit → discharge, with tonnes, barrels, confidence.

A *load* is a port call (seen or inferred) at an oil terminal or berth in a supplier country. Its *discharge* is
the vessel's first of, before its next load and within ``max_voyage_days``:
  - a port call in the destination country (the DPRK),
  - an encounter with a DPRK-flagged (MID 445) or listed vessel (a ship-to-ship transfer, UNSCR 2375 OP11),
  - a draught drop ≥ 0.5 m at sea.
A load with a discharge is a *case*. Everything is done with table joins (as-of joins by vessel and time), no
Python loop per event.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from shadowfleet.cases.config import DEFAULTS, CasesConfig
from shadowfleet.cases.imagery import evidence_columns, imagery_evidence, seen_ships
from shadowfleet.cases.particulars import vessel_particulars
from shadowfleet.cases.placeinfo import place_info, ports_holding, with_place_info
from shadowfleet.cases.products import barrels_per_tonne
from shadowfleet.engine import bucket_of, n_partitions
from shadowfleet.errors import ShadowfleetError
from shadowfleet.identity import flag_expr
from shadowfleet.places import Places, as_places
from shadowfleet.places.geo import haversine_km
from shadowfleet.store import TABLES, UTC_TS, conform

CASES_SCHEMA = TABLES["cases"]  # docs/CONTRACTS.md "Cases"; declared in the store's schema registry

_H = dt.timedelta(hours=1)


def _draught_delta() -> pl.Expr:
    """Signed draught change (m) out of a draught_change event's details JSON, whatever the key names."""
    def num(path: str) -> pl.Expr:
        return pl.col("details").str.json_path_match(path).cast(pl.Float64, strict=False)

    pairs = [("$.from", "$.to"), ("$.before", "$.after"), ("$.draught_before", "$.draught_after"),
             ("$.old", "$.new"), ("$.from_m", "$.to_m")]
    return pl.coalesce(
        num("$.delta_m"), num("$.delta"), num("$.change_m"), num("$.change"),
        *[num(b) - num(a) for a, b in pairs],
    )


def read_events(store) -> pl.DataFrame:
    if not store.files("events"):
        raise ShadowfleetError("no events in the store: run `shadowfleet detect` first")
    ev = store.read("events")
    # Encounters involve two vessels; make sure each vessel sees its own copy (mmsi = itself).
    enc = ev.filter((pl.col("type") == "encounter") & pl.col("other_mmsi").is_not_null())
    mirrored = enc.with_columns(pl.col("other_mmsi").alias("mmsi"), pl.col("mmsi").alias("other_mmsi"))
    ev = pl.concat([ev, mirrored.select(ev.columns)])
    # one row per vessel, type and start (an encounter stored both ways); events of no vessel (dark detections in
    # satellite scenes: many per scene, all at its time) are kept whole
    vessel = ev.filter(pl.col("mmsi").is_not_null()).unique(["type", "mmsi", "other_mmsi", "start"], keep="first",
                                                            maintain_order=True)
    return pl.concat([vessel, ev.filter(pl.col("mmsi").is_null())]).sort(["mmsi", "start"])


def listed_vessels(store, cfg: CasesConfig = DEFAULTS) -> pl.DataFrame:
    """mmsi, listed (bool), list_hits (JSON text) from the `screening` table (empty when not screened)."""
    schema = {"mmsi": pl.Int64, "listed": pl.Boolean, "list_hits": pl.Utf8}
    if not store.files("screening"):
        return pl.DataFrame(schema=schema)
    sc = conform(store.read("screening"), "screening")
    strong = pl.col("match_on").is_in(["imo", "mmsi", "callsign"]) | (pl.col("score").cast(pl.Float64) >= cfg.listed_min_score)
    sc = sc.filter(strong & pl.col("mmsi").is_not_null())
    hit = pl.struct(
        pl.col("list_id").cast(pl.Utf8), pl.col("entry_id").cast(pl.Utf8), pl.col("entry_name").cast(pl.Utf8),
        pl.col("match_on").cast(pl.Utf8), pl.col("score").cast(pl.Float64),
        pl.col("laundering_suspected").cast(pl.Boolean),
    ).struct.json_encode()
    return (
        sc.with_columns(hit.alias("hit"))
        .group_by("mmsi")
        .agg(pl.lit(True).alias("listed"), (pl.lit("[") + pl.col("hit").str.join(",") + pl.lit("]")).alias("list_hits"))
        .with_columns(pl.col("mmsi").cast(pl.Int64))
        .select(list(schema))
    )


def _json_list(col: str) -> pl.Expr:
    """A list[str] column as JSON text (the strings here are ids and our own reason sentences)."""
    esc = pl.element().str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True)
    return (
        pl.lit("[") + pl.col(col).list.eval(pl.lit('"') + esc + pl.lit('"')).list.join(",") + pl.lit("]")
    ).fill_null("[]")


def _load_place_expr(cfg: CasesConfig, id_col: str, name_col: str, kind_col: str, country_col: str) -> pl.Expr:
    """True where a place is a petroleum load terminal: a berth/terminal in a supplier country or an oil-tagged
    place outside the destination country, unless tagged as dry cargo."""
    label = pl.concat_str(pl.col(id_col).fill_null(""), pl.lit(" "), pl.col(name_col).fill_null("")).str.to_uppercase()
    dry = pl.any_horizontal([label.str.contains(t.upper(), literal=True) for t in cfg.dry_cargo_tags]) if cfg.dry_cargo_tags else pl.lit(False)
    oil = label.str.contains(cfg.oil_terminal_tag.upper(), literal=True)
    kind = pl.col(kind_col).fill_null("")
    country = pl.col(country_col).fill_null("")
    return (
        pl.col(id_col).is_not_null()
        & ~dry
        & (
            (kind.is_in(list(cfg.load_place_kinds)) & country.is_in(list(cfg.supplier_countries)))
            | (oil & (country != cfg.destination_country) & ~kind.is_in(list(cfg.non_port_kinds)))
        )
    )


def _loads(ev: pl.DataFrame, cfg: CasesConfig, info: pl.DataFrame, places: Places, tankers: pl.DataFrame) -> pl.DataFrame:
    calls = ev.filter(pl.col("type") == "port_call")
    berth_level = calls.filter(_load_place_expr(cfg, "place", "place_name", "place_kind", "place_country")).with_columns(
        pl.lit(False).alias("_port_level"))
    parts = [berth_level]
    if cfg.dark_port_loads and info.height:
        terminals = info.filter(_load_place_expr(cfg, "id", "name", "kind", "country"))["id"].to_list()
        holding = ports_holding(terminals, places)
        if holding.height:
            oil_ports = holding.group_by("port").agg(
                pl.col("berth").sort().str.join(", ").alias("_berths"), pl.len().alias("_n_berths"))
            port_level = (
                calls.filter(pl.col("inferred").fill_null(False) & pl.col("place_country").is_in(list(cfg.supplier_countries)))
                .join(oil_ports, left_on="place", right_on="port", how="inner")
                .join(tankers, on="mmsi", how="left")
                .filter(pl.col("_tanker").fill_null(True))
                # the load site: the port's only oil terminal when it has one, else the port itself
                .with_columns(pl.when(pl.col("_n_berths") == 1).then(pl.col("_berths")).otherwise(pl.col("place")).alias("_site"))
                .drop("_berths", "_n_berths", "_tanker")
                .with_columns(pl.lit(True).alias("_port_level"))
            )
            parts.append(port_level.select(berth_level.columns + ["_site"]))
    parts[0] = parts[0].with_columns(pl.col("place").alias("_site"))
    loads = pl.concat(parts).sort(["mmsi", "start"])
    if cfg.dark_gap_loads and info.height:
        term = info.filter(_load_place_expr(cfg, "id", "name", "kind", "country"))
        gap_loads = _dark_gap_loads(ev, cfg, term, tankers, loads)
        if gap_loads.height:
            loads = pl.concat([loads.with_columns(pl.lit(None, pl.Utf8).alias("_reachable")),
                               gap_loads.select(loads.columns + ["_reachable"])]).sort(["mmsi", "start"])
    if "_reachable" not in loads.columns:
        loads = loads.with_columns(pl.lit(None, pl.Utf8).alias("_reachable"))
    if loads.height == 0:
        return pl.DataFrame(schema={"mmsi": pl.Int64, "load_start": UTC_TS, "load_end": UTC_TS, "load_place": pl.Utf8,
                                    "load_site": pl.Utf8, "load_reachable": pl.Utf8,
                                    "load_country": pl.Utf8, "load_inferred": pl.Boolean, "load_port_level": pl.Boolean,
                                    "load_events": pl.List(pl.Utf8)})
    loads = loads.with_columns(pl.col("place").is_null().alias("_in_gap"))
    # One stay at one place can show up as several port calls (seen and inferred over one gap): merge them. A
    # berth call and a dark call at the port holding it merge too (the berth id is kept).
    prev_end = pl.col("end").cum_max().shift(1).over("mmsi")
    new_stay = (
        (pl.col("mmsi") != pl.col("mmsi").shift(1))
        | pl.col("_in_gap") | pl.col("_in_gap").shift(1)
        | ((pl.col("place") != pl.col("place").shift(1)) & ~(pl.col("_port_level") | pl.col("_port_level").shift(1)))
        | ((pl.col("start") - prev_end) > _H * cfg.load_merge_gap_h)
    ).fill_null(True)
    loads = loads.with_columns(new_stay.cum_sum().alias("_stay"))
    return loads.group_by("_stay", maintain_order=True).agg(
        pl.col("mmsi").first(),
        pl.col("start").min().alias("load_start"),
        pl.col("end").max().alias("load_end"),
        pl.col("place").sort_by("_port_level").first().alias("load_place"),
        pl.col("_site").sort_by("_port_level").first().alias("load_site"),
        pl.col("place_country").first().alias("load_country"),
        pl.col("inferred").fill_null(False).all().alias("load_inferred"),
        pl.col("_port_level").all().alias("load_port_level"),
        pl.col("_reachable").first().alias("load_reachable"),
        pl.col("event_id").alias("load_events"),
    ).drop("_stay")


def _terminals_near(lat, lon, term: pl.DataFrame, km: float) -> tuple[np.ndarray, pl.Series]:
    """(distance to the nearest load terminal in km, NaN if unknown; the terminals within ``km``, nearest first,
    as 'A, B' text) for each position."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    n, m = lat.size, term.height
    if m == 0 or n == 0:
        return np.full(n, np.nan), pl.Series("near", [""] * n, dtype=pl.Utf8)
    d = haversine_km(lat[:, None], lon[:, None], term["lat"].to_numpy()[None, :], term["lon"].to_numpy()[None, :])
    d = np.where(np.isfinite(d), d, np.inf)
    nearest = d.min(axis=1)
    pairs = pl.DataFrame({"row": np.repeat(np.arange(n), m), "id": np.tile(np.asarray(term["id"].to_list()), n),
                          "km": d.ravel()})
    near = (
        pairs.filter(pl.col("km") <= km).sort(["row", "km"]).group_by("row", maintain_order=True)
        .agg(pl.col("id").str.join(", "))
    )
    text = pl.DataFrame({"row": np.arange(n)}).join(near, on="row", how="left", maintain_order="left")["id"].fill_null("")
    return np.where(np.isfinite(nearest), nearest, np.nan), text


def _dark_gap_loads(ev: pl.DataFrame, cfg: CasesConfig, term: pl.DataFrame, tankers: pl.DataFrame,
                    loads: pl.DataFrame) -> pl.DataFrame:
    """Loads no port call shows. A tanker's long AIS gap (≥ dark_gap_min_h) from which a load terminal was
    reachable, and either its draught rose across the gap, or the gap began and ended within dark_gap_near_km of
    a load terminal (transponder off on the approach, as at Vostochny in 2024); or a long loitering, or spliced
    false stretch (spoofing), that close to a terminal (a position broadcast offshore while the ship was elsewhere). The place stays unknown (null);
    the terminals are kept for the reasons, and their country when they all lie in one."""
    if term.height == 0:
        return loads.clear()
    terminals = dict(zip(term["id"].to_list(), term["country"].to_list()))
    long_enough = (pl.col("end") - pl.col("start")) >= _H * cfg.dark_gap_min_h
    # a spliced false stretch (spoofing) is that offshore position too, read from the spoofing event itself
    # (a loitering may or may not be reported at the same spot)
    spliced = (pl.col("type") == "spoofing") & pl.col("details").str.contains('"kind":"spliced_track"', literal=True)
    offshore = (pl.col("type") == "loitering") | spliced
    cand = ev.filter((pl.col("type").is_in(["ais_gap", "loitering"]) | spliced) & long_enough)
    if cand.height == 0:
        return loads.clear()
    end_lat = pl.col("details").str.json_path_match("$.end_position.lat").cast(pl.Float64, strict=False)
    end_lon = pl.col("details").str.json_path_match("$.end_position.lon").cast(pl.Float64, strict=False)
    cand = cand.with_columns(pl.coalesce(end_lat, "lat").alias("_lat1"), pl.coalesce(end_lon, "lon").alias("_lon1"))
    f64, r = pl.Float64, cfg.dark_gap_near_km
    km0, near0 = _terminals_near(cand["lat"].cast(f64).to_numpy(), cand["lon"].cast(f64).to_numpy(), term, r)
    km1, _ = _terminals_near(cand["_lat1"].cast(f64).to_numpy(), cand["_lon1"].cast(f64).to_numpy(), term, r)
    near = (np.nan_to_num(km0, nan=np.inf) <= r) & (np.nan_to_num(km1, nan=np.inf) <= r)
    cand = cand.with_columns(pl.Series("_near", near), near0.alias("_near_ids"))

    reach = pl.col("details").str.json_path_match("$.reachable_places").fill_null("")
    found = [reach.str.contains(f'"{t}"', literal=True) for t in terminals]
    reachable = pl.concat_list([pl.when(f).then(pl.lit(t)) for f, t in zip(found, terminals)]).list.drop_nulls()
    cand = cand.with_columns(
        pl.when(offshore).then(pl.col("_near_ids"))
        .otherwise(reachable.list.join(", ")).alias("_reachable"))
    cand = cand.filter(pl.col("_reachable") != "")

    rises = ev.filter((pl.col("type") == "draught_change") & (pl.col("delta_m") >= cfg.draught_rise_min_m)).select(
        "mmsi", pl.col("start").alias("_rs"), pl.col("end").alias("_re"))
    risen = cand.join(rises, on="mmsi").filter(
        (pl.col("type") == "ais_gap") & (pl.col("_rs") <= pl.col("end")) & (pl.col("_re") >= pl.col("start"))
    )["event_id"].unique()
    hit = (
        cand.filter(pl.col("event_id").is_in(risen.to_list()) | pl.col("_near"))
        .join(tankers, on="mmsi", how="left").filter(pl.col("_tanker").fill_null(True)).drop("_tanker")
    )
    country = {t: c for t, c in terminals.items()}
    hit = hit.with_columns(
        pl.col("_reachable").str.split(", ").list.eval(pl.element().replace_strict(country, default=None))
        .list.drop_nulls().list.unique().alias("_countries"))
    hit = hit.with_columns(
        pl.when(pl.col("_countries").list.len() == 1).then(pl.col("_countries").list.first()).otherwise(None)
        .alias("place_country"),
        pl.lit(None, pl.Utf8).alias("_site"),  # which terminal is not knowable: the reasons list them
        pl.lit(False).alias("_port_level"), pl.lit(True).alias("inferred"), pl.lit(None, pl.Utf8).alias("place"),
    ).drop("_countries")
    if hit.height == 0 or loads.height == 0:
        return hit
    # A gap or loitering that overlaps, or just precedes, a load found at a terminal is its approach: drop it.
    known = loads.select("mmsi", pl.col("start").alias("_ls"), pl.col("end").alias("_le"))
    dup = hit.join(known, on="mmsi").filter(
        (pl.col("_ls") <= pl.col("end") + _H * cfg.load_merge_gap_h) & (pl.col("_le") >= pl.col("start"))
    )["event_id"]
    return hit.filter(~pl.col("event_id").is_in(dup.to_list()))


def _supplier_port_loads(ev: pl.DataFrame, cfg: CasesConfig, tankers: pl.DataFrame) -> pl.DataFrame:
    """Possible loads at supplier-country ports with no oil berth mapped: every port call (seen or inferred) of a
    non-DPRK tanker (AIS ship type 80–89, or unknown) at a `port` of a supplier country. ``next_load_start`` is the
    start of the ship's next port call anywhere, so that the chaining keeps only calls whose next thing is the
    discharge; the caller keeps them only when that discharge is an STS with a DPRK-flagged/listed vessel."""
    calls = ev.filter(pl.col("type") == "port_call").sort(["mmsi", "start"]).with_columns(
        pl.col("start").shift(-1).over("mmsi").alias("next_load_start"))
    sp = (
        calls.filter((pl.col("place_kind") == "port") & pl.col("place_country").is_in(list(cfg.supplier_countries))
                     & (flag_expr(pl.col("mmsi")) != cfg.destination_country).fill_null(True))
        .join(tankers, on="mmsi", how="left").filter(pl.col("_tanker").fill_null(True))
    )
    return sp.select(
        "mmsi", pl.col("start").alias("load_start"), pl.col("end").alias("load_end"), pl.col("place").alias("load_place"),
        pl.col("place").alias("load_site"), pl.lit(None, pl.Utf8).alias("load_reachable"),
        pl.col("place_country").alias("load_country"), pl.col("inferred").fill_null(False).alias("load_inferred"),
        pl.lit(False).alias("load_port_level"), pl.concat_list(pl.col("event_id")).alias("load_events"),
        "next_load_start", pl.lit(True).alias("load_supplier_port"),
    )


def _discharges(ev: pl.DataFrame, listed: pl.DataFrame, cfg: CasesConfig, places: Places, info=None) -> pl.DataFrame:
    dest = cfg.destination_country
    listed_ids = listed.filter(pl.col("listed"))["mmsi"].to_list()
    other_flag = flag_expr(pl.col("other_mmsi"))
    # Where each draught drop happened: the waters of which country (null = none near, or no position).
    is_drop = (pl.col("type") == "draught_change") & (pl.col("delta_m") <= -cfg.draught_drop_m)
    drops_at = ev.filter(is_drop & pl.col("lat").is_not_null() & pl.col("lon").is_not_null()).select("event_id", "lat", "lon")
    drops_at = drops_at.with_columns(
        pl.Series("_waters", places.country_near(drops_at["lat"].to_numpy(), drops_at["lon"].to_numpy(),
                                                  cfg.drop_near_km), dtype=pl.Utf8))
    ev = ev.join(drops_at.select("event_id", "_waters").unique("event_id"), on="event_id", how="left")
    drop_home = (
        (pl.col("_waters") == dest) | (flag_expr(pl.col("mmsi")) == dest) | pl.col("mmsi").is_in(listed_ids)
    ).fill_null(False)
    port = (
        (pl.col("type") == "port_call")
        & (pl.col("place_country") == dest)
        & ~pl.col("place_kind").fill_null("").is_in(list(cfg.non_port_kinds))
    )
    sts = (
        (pl.col("type") == "encounter")
        & pl.col("other_mmsi").is_not_null()
        & ((other_flag == dest) | pl.col("other_mmsi").is_in(listed_ids))
    )
    drop = is_drop & drop_home
    kind = pl.when(port).then(pl.lit("port_call")).when(sts).then(pl.lit("sts")).when(drop).then(pl.lit("draught_drop"))
    d = ev.with_columns(kind.alias("discharge_kind")).filter(pl.col("discharge_kind").is_not_null())

    # A draught drop inside a port call elsewhere (not the destination) is a legitimate discharge, not ours.
    calls = ev.filter((pl.col("type") == "port_call") & (pl.col("place_country").fill_null("") != dest)).select(
        "mmsi", pl.col("start").alias("_cs"), pl.col("end").alias("_ce"))
    drops = d.filter(pl.col("discharge_kind") == "draught_drop")
    if drops.height and calls.height:
        in_port = drops.join(calls, on="mmsi").filter(
            (pl.col("start") >= pl.col("_cs")) & (pl.col("start") <= pl.col("_ce"))
        ).select("event_id").unique()
        d = d.filter(~pl.col("event_id").is_in(in_port["event_id"].to_list()))
    d = d.with_columns(pl.lit(False).alias("discharge_sts_dark"))
    out = d.select(
        "mmsi", "discharge_kind",
        pl.col("start").alias("discharge_start"), pl.col("end").alias("discharge_end"),
        pl.when(pl.col("discharge_kind") == "draught_drop").then(None).otherwise(pl.col("place")).alias("discharge_place"),
        pl.when(pl.col("discharge_kind") == "sts").then(pl.col("other_mmsi")).otherwise(None).cast(pl.Int64).alias(
            "discharge_other_mmsi"),
        pl.col("event_id").alias("discharge_event"),
        pl.col("delta_m").alias("discharge_delta_m"),
        pl.when(pl.col("discharge_kind") == "port_call").then(pl.col("place_country"))
        .when(pl.col("discharge_kind") == "sts").then(other_flag)
        .when(pl.col("discharge_kind") == "draught_drop").then(pl.lit(dest)).otherwise(None).alias("discharge_country"),
        "discharge_sts_dark",
    )
    if cfg.dark_sts and info is not None and info.height:
        dark = _dark_sts(ev, listed_ids, cfg, info)
        if dark.height:
            out = pl.concat([out, dark.select(out.columns)])
    return out


def _dark_sts(ev: pl.DataFrame, listed_ids: list, cfg: CasesConfig, info: pl.DataFrame) -> pl.DataFrame:
    """Ship-to-ship transfers done with AIS off (nampo-sts: the supplier goes dark 40–90 km before the area).
    A non-DPRK ship's AIS gap from which a destination-country STS area was reachable, overlapping by at least
    ``dark_sts_min_overlap_h`` the wait there of a DPRK-flagged or listed vessel (its loitering at the area, or
    its own AIS gap beginning or ending next to it or from which the area was reachable). The partner with the
    longest overlap is taken."""
    dest = cfg.destination_country
    areas = info.filter((pl.col("kind") == "sts_area") & (pl.col("country") == dest))["id"].to_list()
    if not areas:
        return pl.DataFrame()
    js = lambda path: pl.col("details").str.json_path_match(path)  # noqa: E731
    reach = js("$.reachable_places").fill_null("")
    gaps = ev.filter((pl.col("type") == "ais_gap") & (flag_expr(pl.col("mmsi")) != dest).fill_null(True)
                     & ~pl.col("mmsi").is_in(listed_ids))
    gaps = gaps.with_columns(
        pl.concat_list([pl.when(reach.str.contains(f'"{a}"', literal=True)).then(pl.lit(a)) for a in areas])
        .list.drop_nulls().alias("_area")).explode("_area").filter(pl.col("_area").is_not_null())
    partner = (flag_expr(pl.col("mmsi")) == dest).fill_null(False) | pl.col("mmsi").is_in(listed_ids)
    at_area = pl.coalesce(js("$.sts_area"), pl.col("place"))
    waits = pl.concat([
        ev.filter(partner & (pl.col("type") == "loitering")).select("mmsi", "start", "end", at_area.alias("_area")),
        ev.filter(partner & (pl.col("type") == "ais_gap")).select("mmsi", "start", "end", js("$.nearest_place_start").alias("_area")),
        ev.filter(partner & (pl.col("type") == "ais_gap")).select("mmsi", "start", "end", js("$.nearest_place_end").alias("_area")),
        # the partner may go dark too, from its home port (nampo-sts: Nampo is ~30 km from the area)
        ev.filter(partner & (pl.col("type") == "ais_gap")).with_columns(
            pl.concat_list([pl.when(reach.str.contains(f'"{a}"', literal=True)).then(pl.lit(a)) for a in areas])
            .list.drop_nulls().alias("_area")).explode("_area").select("mmsi", "start", "end", "_area"),
    ]).filter(pl.col("_area").is_in(areas)).select(
        pl.col("mmsi").alias("_partner"), pl.col("start").alias("_ws"), pl.col("end").alias("_we"), "_area")
    if gaps.height == 0 or waits.height == 0:
        return pl.DataFrame()
    overlap = pl.min_horizontal("end", "_we") - pl.max_horizontal("start", "_ws")
    hit = (
        gaps.join(waits, on="_area").filter((pl.col("_partner") != pl.col("mmsi")) & (overlap >= _H * cfg.dark_sts_min_overlap_h))
        .with_columns(overlap.alias("_ov")).sort("_ov", descending=True).group_by("event_id", maintain_order=True).first()
    )
    return hit.select(
        "mmsi", pl.lit("sts").alias("discharge_kind"),
        pl.col("start").alias("discharge_start"), pl.col("end").alias("discharge_end"),
        pl.col("_area").alias("discharge_place"), pl.col("_partner").cast(pl.Int64).alias("discharge_other_mmsi"),
        pl.col("event_id").alias("discharge_event"), pl.lit(None, pl.Float64).alias("discharge_delta_m"),
        flag_expr(pl.col("_partner")).alias("discharge_country"), pl.lit(True).alias("discharge_sts_dark"),
    ).sort(["mmsi", "discharge_start"])


def _dark_arrivals(v: pl.DataFrame, ev: pl.DataFrame, cfg: CasesConfig) -> pl.DataFrame:
    """A discharge port call that the ship reached with its transponder off: when an AIS gap after the load ends
    at most ``dark_arrival_h`` before the port call and the port was reachable in it, the discharge may have
    begun in the dark, so its start moves back to the gap's start (``discharge_dark_from`` keeps the gap)."""
    reach = pl.col("details").str.json_path_match("$.reachable_places").fill_null("")
    gaps = ev.filter(pl.col("type") == "ais_gap").select(
        "mmsi", pl.col("start").alias("_gs"), pl.col("end").alias("_ge"), reach.alias("_reach"))
    cand = (
        v.filter(pl.col("discharge_kind") == "port_call").select("_v", "mmsi", "load_end", "discharge_start", "discharge_place")
        .join(gaps, on="mmsi")
        .filter((pl.col("_gs") >= pl.col("load_end")) & (pl.col("_ge") <= pl.col("discharge_start"))
                & (pl.col("_ge") >= pl.col("discharge_start") - _H * cfg.dark_arrival_h)
                & pl.col("_reach").str.contains(pl.concat_str(pl.lit('"'), pl.col("discharge_place"), pl.lit('"'))))
        .sort("_gs").group_by("_v").first().select("_v", pl.col("_gs").alias("discharge_dark_from"))
    )
    v = v.join(cand, on="_v", how="left")
    return v.with_columns(pl.coalesce("discharge_dark_from", "discharge_start").alias("discharge_start"))


def voyages(store, vessels=None, cfg: CasesConfig = DEFAULTS, places: Places | None = None,
            bucket: tuple[int, int] | None = None) -> pl.DataFrame:
    """Every load with its discharge (null columns when none was found), with tonnes, barrels and confidence.

    ``vessels``: a user vessel table (CSV path or the frame of ``read_vessel_table``); ``places``: the gazetteer
    (default: the built-in one). ``bucket`` (k, n): only the voyages of loading vessels
    whose MMSI falls in partition k of n (every event stays visible: a discharge may involve another ship).
    """
    ev = read_events(store)
    places = as_places(places)
    info = place_info(places)
    ev = with_place_info(ev, info).with_columns(
        pl.when(pl.col("type") == "draught_change").then(_draught_delta()).otherwise(None).alias("delta_m"))
    listed = listed_vessels(store, cfg)
    part = vessel_particulars(store, vessels, cfg, mmsis=ev["mmsi"].unique().to_list())
    lo, hi = cfg.tanker_ship_types
    tankers = part.select("mmsi", pl.when(pl.col("ship_type").is_null()).then(None)
                          .otherwise(pl.col("ship_type").is_between(lo, hi)).alias("_tanker"))

    loads = _loads(ev, cfg, info, places, tankers)
    loads = loads.sort(["mmsi", "load_start"]).with_columns(
        pl.col("load_start").shift(-1).over("mmsi").alias("next_load_start"), pl.lit(False).alias("load_supplier_port"))
    dis = _discharges(ev, listed, cfg, places, info)
    if cfg.supplier_port_loads:
        sp = _supplier_port_loads(ev, cfg, tankers)
        if sp.height:
            loads = pl.concat([loads, sp.select(loads.columns)])
    if bucket is not None:
        loads = loads.filter(bucket_of("mmsi", bucket[1]) == bucket[0])
    if loads.height == 0:
        return pl.DataFrame(schema=CASES_SCHEMA)

    v = _chain(loads, dis, cfg)
    v = _dark_arrivals(v, ev, cfg)
    v = _draught_evidence(v, ev, cfg)
    v = _transit_evidence(v, ev)

    # Who the vessel is and what it can carry.
    partner = part.select(pl.col("mmsi").alias("discharge_other_mmsi"),
                          *[pl.col(f"dwt_{e}").alias(f"partner_dwt_{e}") for e in ("low", "central", "high")])
    v = v.join(part, on="mmsi", how="left").join(listed, on="mmsi", how="left").join(
        partner, on="discharge_other_mmsi", how="left").with_columns(
        flag_expr(pl.col("mmsi")).alias("flag"), pl.col("listed").fill_null(False))
    v = _imagery(v, ev, store, cfg, places, info)
    return _cargo_and_confidence(v, cfg)


def _imagery(v: pl.DataFrame, ev: pl.DataFrame, store, cfg: CasesConfig, places: Places, info: pl.DataFrame) -> pl.DataFrame:
    """The detections of satellite scenes that corroborate each voyage (cases/imagery.py)."""
    from shadowfleet.definitions import EventsConfig

    terminals = info.filter(_load_place_expr(cfg, "id", "name", "kind", "country"))["id"].to_list()
    alongside = cfg.imagery_alongside_km or EventsConfig().encounter.max_distance_km
    def track(mmsis, start, end) -> pl.DataFrame:
        if not store.files("positions"):
            return pl.DataFrame(schema={"mmsi": pl.Int64, "ts": UTC_TS, "lat": pl.Float64, "lon": pl.Float64})
        pad = _H * 6  # the reports just before and after each silence
        return (store.scan("positions", start - pad, end + pad).filter(pl.col("mmsi").is_in(mmsis))
                .select(pl.col("mmsi").cast(pl.Int64), "ts", pl.col("lat").cast(pl.Float64), pl.col("lon").cast(pl.Float64))
                .collect())

    img = imagery_evidence(v, ev, seen_ships(store, ev), cfg, places, info, terminals, alongside, track)
    return evidence_columns(v, img)


def _chain(loads: pl.DataFrame, dis: pl.DataFrame, cfg: CasesConfig) -> pl.DataFrame:
    """Each load with the first discharge after it (none when too late or after the next load); supplier-port loads
    kept only when an STS with a DPRK-flagged/listed vessel comes next. Rows numbered by _v."""
    # The first discharge after the load ends (as-of join forward, per vessel).
    v = loads.sort("load_end").join_asof(
        dis.sort("discharge_start"), left_on="load_end", right_on="discharge_start", by="mmsi", strategy="forward",
        check_sortedness=False,
    )
    too_late = (
        (pl.col("discharge_start") >= pl.col("next_load_start")).fill_null(False)
        | ((pl.col("discharge_start") - pl.col("load_end")) > _H * 24 * cfg.max_voyage_days).fill_null(False)
    )
    dis_cols = [c for c in dis.columns if c != "mmsi"]
    v = v.with_columns([pl.when(too_late).then(None).otherwise(pl.col(c)).alias(c) for c in dis_cols])
    # A supplier-port call is a load only when an STS with a DPRK-flagged/listed vessel comes next, and only for a
    # transfer no load at an oil terminal already leads to (one delivery, one case).
    claimed = v.filter(~pl.col("load_supplier_port") & pl.col("discharge_event").is_not_null()).select(
        "mmsi", "discharge_event").unique()
    v = v.filter(~pl.col("load_supplier_port") | ((pl.col("discharge_kind") == "sts") & (pl.col("discharge_country") == cfg.destination_country)))
    v = v.join(claimed.with_columns(pl.lit(True).alias("_claimed")), on=["mmsi", "discharge_event"], how="left").filter(
        ~(pl.col("load_supplier_port") & pl.col("_claimed").fill_null(False))).drop("_claimed")
    # Several calls before one transfer (only the last passes the next-call test, but be safe): keep the last.
    v = v.sort("load_start")
    v = pl.concat([v.filter(~pl.col("load_supplier_port")),
                   v.filter(pl.col("load_supplier_port")).unique(["mmsi", "discharge_event"], keep="last", maintain_order=True)])
    return v.sort(["mmsi", "load_start"]).with_row_index("_v")


def _draught_evidence(v: pl.DataFrame, ev: pl.DataFrame, cfg: CasesConfig) -> pl.DataFrame:
    """rise_m/rise_event near the load and drop_m/drop_event near the discharge."""
    # Draught evidence: the largest rise near the load, and the largest drop near the discharge.
    # A draught_change spans the last report of the old draught to the first of the new one (which, with the
    # transponder off at the berth, straddles the load): it counts when that span overlaps the window.
    dc = ev.filter((pl.col("type") == "draught_change") & pl.col("delta_m").is_not_null()).select(
        "mmsi", pl.col("start").alias("_ds"), pl.col("end").fill_null(pl.col("start")).alias("_dend"), "delta_m",
        pl.col("event_id").alias("_de"))
    win_end = pl.min_horizontal(pl.col("load_end") + _H * cfg.draught_after_load_h,
                                pl.col("discharge_start").fill_null(pl.col("load_end") + _H * cfg.draught_after_load_h))
    rises = (
        v.select("_v", "mmsi", "load_start", "load_end", "discharge_start").join(dc, on="mmsi")
        .filter((pl.col("delta_m") >= cfg.draught_rise_min_m)
                & (pl.col("_dend") >= pl.col("load_start") - _H * cfg.draught_before_load_h) & (pl.col("_ds") <= win_end))
        .sort("delta_m", descending=True).group_by("_v").first()
        .select("_v", pl.col("delta_m").alias("rise_m"), pl.col("_de").alias("rise_event"))
    )
    drops = (
        v.filter(pl.col("discharge_start").is_not_null()).select("_v", "mmsi", "discharge_start", "discharge_end")
        .join(dc, on="mmsi")
        .filter((pl.col("delta_m") <= -cfg.draught_drop_m)
                & (pl.col("_dend") >= pl.col("discharge_start") - _H * cfg.draught_before_load_h)
                & (pl.col("_ds") <= pl.col("discharge_end") + _H * cfg.draught_after_load_h))
        .sort("delta_m").group_by("_v").first()
        .select("_v", (-pl.col("delta_m")).alias("drop_m"), pl.col("_de").alias("drop_event"))
    )
    v = v.join(rises, on="_v", how="left").join(drops, on="_v", how="left")

    return v


def _transit_evidence(v: pl.DataFrame, ev: pl.DataFrame) -> pl.DataFrame:
    """_transit: every other event of the vessel between load start and discharge end."""
    # Transit evidence: every other event of the vessel between load start and discharge end.
    transit = (
        v.filter(pl.col("discharge_start").is_not_null())
        .select("_v", "mmsi", "load_start", pl.col("discharge_end").fill_null(pl.col("discharge_start")).alias("_until"))
        .join(ev.select("mmsi", "event_id", "start"), on="mmsi")
        .filter((pl.col("start") >= pl.col("load_start")) & (pl.col("start") <= pl.col("_until")))
        .sort("start").group_by("_v").agg(pl.col("event_id").alias("_transit"))
    )
    v = v.join(transit, on="_v", how="left")
    return v


def _cargo_and_confidence(v: pl.DataFrame, cfg: CasesConfig) -> pl.DataFrame:
    """Tonnes, barrels, confidence with its reasons, evidence and case id of every voyage, in the cases schema."""
    v = _confidence(_barrels(_tonnes(v, cfg), cfg), cfg)
    v = v.with_columns(
        pl.format("case-{}-{}", pl.col("mmsi"), pl.col("load_start").dt.epoch("s")).alias("case_id"),
        _json_list("_reasons").alias("reasons"),
        _json_list("_evidence").alias("evidence"),
        pl.col("list_hits").fill_null("[]"),
        pl.col("discharge_country").alias("destination_country"),
    )
    return v.select([pl.col(c).cast(t) for c, t in CASES_SCHEMA.items()]).sort(["load_start", "mmsi"])


def _tonnes(v: pl.DataFrame, cfg: CasesConfig) -> pl.DataFrame:
    """tonnes_low/central/high and tonnes_method: from the draught change × TPC, else capacity × load factor, else
    the fleet prior; an STS cargo without a draught is capped by what the receiving ship can carry."""
    res = cfg.draught_resolution_m
    # At a ship-to-ship transfer the supplier may hand over part of its cargo only: what left it (the drop at the
    # transfer) is the delivery, so the drop comes first there; elsewhere the rise at the load.
    sts = (pl.col("discharge_kind") == "sts").fill_null(False)
    draught_m = pl.when(sts).then(pl.coalesce(pl.col("drop_m"), pl.col("rise_m"))).otherwise(
        pl.coalesce(pl.col("rise_m"), pl.col("drop_m")))
    drop_first = sts & pl.col("drop_m").is_not_null()
    has_tpc = pl.col("tpc_central").is_not_null()
    use_draught = draught_m.is_not_null() & has_tpc
    use_capacity = ~use_draught & pl.col("dwt_central").is_not_null()
    method = (
        pl.when(use_draught & pl.col("rise_m").is_not_null() & ~drop_first).then(pl.lit("draught_rise"))
        .when(use_draught).then(pl.lit("draught_drop"))
        .when(use_capacity).then(pl.lit("capacity"))
        .otherwise(pl.lit("fleet_prior"))
    )

    def tonnes(end: str, d_off: float, lf: float, prior: float) -> pl.Expr:
        return (
            pl.when(use_draught).then(((draught_m + d_off).clip(lower_bound=0.0)) * 100.0 * pl.col(f"tpc_{end}"))
            .when(use_capacity).then(pl.col(f"dwt_{end}") * lf)
            .otherwise(pl.lit(prior))
            .alias(f"tonnes_{end}")
        )

    v = v.with_columns(
        method.alias("tonnes_method"),
        draught_m.alias("draught_change_m"),
        tonnes("low", -res, cfg.load_factor_low, cfg.unknown_tonnes_low),
        tonnes("central", 0.0, cfg.load_factor_central, cfg.unknown_tonnes_central),
        tonnes("high", res, cfg.load_factor_high, cfg.unknown_tonnes_high),
    )
    # Without a draught, an STS cargo is at most what the receiving ship can carry (its capacity × load factor).
    cap_by_partner = sts & ~use_draught & pl.col("partner_dwt_central").is_not_null()
    v = v.with_columns([
        pl.when(cap_by_partner).then(pl.min_horizontal(pl.col(f"tonnes_{end}"), pl.col(f"partner_dwt_{end}") * lf))
        .otherwise(pl.col(f"tonnes_{end}")).alias(f"tonnes_{end}")
        for end, lf in (("low", cfg.load_factor_low), ("central", cfg.load_factor_central), ("high", cfg.load_factor_high))
    ]).with_columns(pl.when(cap_by_partner & (pl.col("tonnes_central") < pl.col("dwt_central").fill_null(float("inf")) * cfg.load_factor_central))
                    .then(pl.lit("receiver_capacity")).otherwise(pl.col("tonnes_method")).alias("tonnes_method"))
    return v


def _barrels(v: pl.DataFrame, cfg: CasesConfig) -> pl.DataFrame:
    """product and barrels_low/central/high."""
    # Product: not observable from AIS. A DPRK tanker at a Russian oil berth is taken to load diesel (reporting
    # on the 2024 runs), with the unknown-product range kept as low–high; elsewhere the unknown-product row.
    assumed = (pl.col("flag") == cfg.destination_country) & (pl.col("load_country") == "RU")
    v = v.with_columns(pl.when(assumed).then(pl.lit("refined_assumed_diesel")).otherwise(pl.lit("unknown")).alias("product"))
    fac = {p: barrels_per_tonne(p) for p in ("refined_assumed_diesel", "unknown")}
    for i, end in enumerate(("low", "central", "high")):
        f = pl.when(pl.col("product") == "refined_assumed_diesel").then(fac["refined_assumed_diesel"][i]).otherwise(fac["unknown"][i])
        v = v.with_columns((pl.col(f"tonnes_{end}") * f).alias(f"barrels_{end}"))
    return v


def _confidence(v: pl.DataFrame, cfg: CasesConfig) -> pl.DataFrame:
    """confidence (additive weights, each with the sentence that explains it), _reasons and _evidence."""
    parts = [
        (~pl.col("load_inferred") & ~pl.col("load_supplier_port"), cfg.w_load_seen,
         pl.format("load seen in AIS at {}", pl.col("load_place"))),
        (pl.col("load_supplier_port"), cfg.w_load_supplier_port,
         pl.format("possible load: {}port call at {}, a port in {} with no oil berth mapped, and the next thing the "
                   "ship did was a ship-to-ship transfer with a DPRK-flagged or listed vessel",
                   pl.when(pl.col("load_inferred")).then(pl.lit("dark ")).otherwise(pl.lit("")),
                   pl.col("load_place"), pl.col("load_country"))),
        (pl.col("load_reachable").is_not_null(), cfg.w_load_dark_gap,
         pl.format("load not seen: a long AIS gap or offshore loitering near load terminal(s) {} (draught rise or "
                   "switch-off close to the terminal)", pl.col("load_reachable"))),
        (pl.col("load_inferred") & ~pl.col("load_port_level") & pl.col("load_reachable").is_null(), cfg.w_load_inferred,
         pl.format("load inferred from an AIS gap at {} (transponder off)", pl.col("load_place"))),
        (pl.col("load_inferred") & pl.col("load_port_level"), cfg.w_load_inferred,
         pl.format("dark call at port {} (transponder off), which holds oil terminal {}; the berth itself is not "
                   "resolvable from AIS", pl.col("load_place"), pl.col("load_site"))),
        (pl.col("discharge_kind") == "port_call", cfg.w_discharge_port,
         pl.format("port call at {} in {}", pl.col("discharge_place"), pl.col("discharge_country"))),
        (pl.col("discharge_dark_from").is_not_null(), 0.0,
         pl.format("arrived dark: AIS off from {} until the port call", pl.col("discharge_dark_from").dt.strftime("%Y-%m-%d %H:%M"))),
        ((pl.col("discharge_kind") == "sts") & ~pl.col("discharge_sts_dark").fill_null(False), cfg.w_discharge_sts,
         pl.format("ship-to-ship encounter with MMSI {} ({}-flagged or listed)", pl.col("discharge_other_mmsi"),
                   pl.col("discharge_country").fill_null("?"))),
        ((pl.col("discharge_kind") == "sts") & pl.col("discharge_sts_dark").fill_null(False), cfg.w_discharge_sts_dark,
         pl.format("dark ship-to-ship transfer: AIS off from {} while MMSI {} ({}-flagged or listed) waited at {}, "
                   "reachable in the gap", pl.col("discharge_start").dt.strftime("%Y-%m-%d %H:%M"),
                   pl.col("discharge_other_mmsi"), pl.col("discharge_country").fill_null("?"), pl.col("discharge_place"))),
        (pl.col("discharge_kind") == "draught_drop", cfg.w_discharge_draught,
         pl.format("draught fell {} m at sea", pl.col("discharge_delta_m").abs().round(1))),
        (pl.col("flag") == cfg.destination_country, cfg.w_flag_dprk,
         pl.format("vessel flagged {} by its MMSI", pl.col("flag"))),
        (pl.col("listed"), cfg.w_listed, pl.lit("vessel on a sanctions list (screening)")),
        (pl.col("rise_m").is_not_null(), cfg.w_draught_evidence,
         pl.format("draught rose {} m after the load", pl.col("rise_m").round(1))),
        *[(pl.col(f"_img_{role}_dark").is_not_null() & (pl.col(f"_img_{role}_sure") == sure),
           w * (1.0 if sure else cfg.imagery_ambiguous_factor),
           pl.format(f"imagery corroborates the {what}: {{}}", pl.col(f"_img_{role}_dark")))
          for role, what, w in (("load", "dark load", cfg.w_imagery_dark_load),
                                ("discharge", "dark discharge", cfg.w_imagery_dark_discharge),
                                ("sts", "transfer", cfg.w_imagery_dark_sts)) for sure in (True, False)],
        (pl.col("_img_matched").is_not_null(), cfg.w_imagery_matched,
         pl.format("imagery confirms the call: {}", pl.col("_img_matched"))),
    ]
    score = pl.sum_horizontal([pl.when(c.fill_null(False)).then(w).otherwise(0.0) for c, w, _ in parts])
    reasons = pl.concat_list([pl.when(c.fill_null(False)).then(s).otherwise(None) for c, _, s in parts]).list.drop_nulls()
    tonnage_note = (
        pl.when(pl.col("tonnes_method") == "draught_rise").then(pl.lit("tonnes from the draught rise × TPC"))
        .when(pl.col("tonnes_method") == "draught_drop").then(pl.lit("tonnes from the draught drop × TPC"))
        .when(pl.col("tonnes_method") == "receiver_capacity").then(pl.format(
            "tonnes capped at what the receiving ship MMSI {} can carry (its capacity × load factor)", pl.col("discharge_other_mmsi")))
        .when(pl.col("tonnes_method") == "capacity").then(pl.format("tonnes from capacity ({}) × load factor", pl.col("capacity_source")))
        .otherwise(pl.lit("tonnes from the DPRK tanker fleet prior (hull unknown)"))
    )
    v = v.with_columns(
        score.clip(0.0, 1.0).round(3).alias("confidence"),
        pl.concat_list(reasons, pl.concat_list(tonnage_note)).alias("_reasons"),
        pl.concat_list(
            pl.col("load_events"),
            pl.col("_transit").fill_null(pl.lit([], pl.List(pl.Utf8))),
            pl.concat_list(pl.col("discharge_event")).list.drop_nulls(),
            pl.concat_list(pl.col("rise_event")).list.drop_nulls(),
            pl.concat_list(pl.col("drop_event")).list.drop_nulls(),
            pl.col("_img_events"),
        ).list.unique(maintain_order=True).alias("_evidence"),
    )
    return v


def build_cases(store, vessels=None, cfg: CasesConfig = DEFAULTS, places: Places | None = None, write: bool = True,
                engine=None) -> pl.DataFrame:
    """The cases (loads with a discharge) of the store's events; written to the store's `cases` table (and every
    load, with or without a discharge, to `voyages`, which the report counts loads from). ``engine``
    (shadowfleet.engine.open_engine): the voyages of each bucket of loading vessels as one task."""
    if engine is None or engine.name == "local":
        v = voyages(store, vessels, cfg, places)
    else:
        n = n_partitions(engine)
        job = engine.share((Path(store.root), vessels, cfg, places, n))
        v = pl.concat(list(engine.results(engine.map(_voyages_task, range(n), job))))
        v = v.sort(["load_start", "mmsi"])
    cases = v.filter(pl.col("discharge_kind").is_not_null())
    if write:
        with store.transaction() as tx:  # the report counts loads from one and cases from the other: one commit
            tx.replace("voyages", v)
            tx.replace("cases", cases)
    return cases


def _voyages_task(k: int, job: tuple) -> pl.DataFrame:
    root, vessels, cfg, places, n = job
    from shadowfleet.store import Store

    return voyages(Store(root, create=False), vessels, cfg, places, bucket=(k, n))


def read_cases(store) -> pl.DataFrame:
    if not store.files("cases"):
        raise ShadowfleetError("no cases in the store: run `shadowfleet cases` first")
    return conform(store.read("cases"), "cases")
