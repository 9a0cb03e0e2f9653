"""The vessel registry: one row per MMSI (`vessels`) and one vessel's profile (`vessel_profile`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.identity import country_of, flag_expr, flag_of, mmsi_kind, mmsi_kind_expr, mmsi_red_flag, red_flag_expr
from shadowfleet.output import utc_text
from shadowfleet.store import mark_first_copies
from shadowfleet.registry.identities import draught_history, identity_history, read_static
from shadowfleet.store import Store

UTC_TS = pl.Datetime("us", "UTC")

VESSEL_COLUMNS = (
    "mmsi", "flag", "mmsi_kind", "red_flag", "red_flag_severity", "name", "imo", "imo_valid", "callsign", "ship_type", "ship_category", "length",
    "beam", "draught", "destination", "ais_class", "first_seen", "last_seen", "n_positions", "n_static",
    "last_lat", "last_lon", "names_seen",
)


def position_summary(store: Store, mmsi: int | list[int] | None = None) -> pl.DataFrame:
    """Per MMSI: n_positions (multi-receiver copies merged), first/last position time, last lat/lon, AIS class."""
    lf = store.scan("positions").select("mmsi", "ts", "lat", "lon", "ais_class", "dup_key")
    if mmsi is not None:
        lf = lf.filter(pl.col("mmsi").is_in([mmsi] if isinstance(mmsi, int) else list(mmsi)))
    return (
        mark_first_copies(lf)
        .filter(pl.col("first_copy"))
        .group_by("mmsi")
        .agg(
            pl.len().cast(pl.Int64).alias("n_positions"),
            pl.col("ts").min().alias("first_pos"),
            pl.col("ts").max().alias("last_pos"),
            pl.col("lat").sort_by("ts").last().alias("last_lat"),
            pl.col("lon").sort_by("ts").last().alias("last_lon"),
            pl.col("ais_class").sort_by("ts").drop_nulls().last().alias("pos_class"),
        )
        .collect()
    )


def _static_summary(static: pl.DataFrame, history: pl.DataFrame) -> pl.DataFrame:
    latest = history.sort(["mmsi", "last_seen"]).group_by("mmsi").agg(
        pl.col("name", "imo", "imo_valid", "callsign", "ship_type", "ship_category", "length", "beam").last(),
    )
    names = (
        history.filter(pl.col("name").is_not_null())
        .sort(["mmsi", "first_seen"])
        .group_by("mmsi")
        .agg(pl.col("name").unique(maintain_order=True).alias("names_seen"))
    )
    last_fields = (
        static.sort(["mmsi", "ts"])
        .group_by("mmsi")
        .agg(
            pl.col("draught").drop_nulls().last(),
            pl.col("destination").drop_nulls().last(),
            pl.col("ais_class").drop_nulls().last().alias("static_class"),
            pl.col("ts").min().alias("first_static"),
            pl.col("ts").max().alias("last_static"),
            pl.len().cast(pl.Int64).alias("n_static"),
        )
    )
    return latest.join(names, on="mmsi", how="left").join(last_fields, on="mmsi", how="full", coalesce=True)


def vessels(store: Store, flag: str | None = None, name: str | None = None) -> pl.DataFrame:
    """One row per MMSI seen in positions or static reports, sorted by MMSI.

    ``flag``: ISO 3166 alpha-2 of the MID flag (e.g. "KP"). ``name``: case-insensitive part of any name the
    vessel has broadcast (not only the latest, since renaming is one of the tricks looked for).
    """
    flag_filter = None
    if flag is not None:
        flag_filter = flag.strip().upper()
        if len(flag_filter) != 2 or not flag_filter.isalpha():
            raise ShadowfleetError(f"--flag: expected a two-letter ISO 3166 country code such as KP, got {flag!r}")
    static = read_static(store)
    history = identity_history(static=static)
    stat = _static_summary(static, history)
    pos = position_summary(store)
    df = pos.join(stat, on="mmsi", how="full", coalesce=True)
    df = df.with_columns(
        flag_expr("mmsi"),
        mmsi_kind_expr("mmsi"),
        *red_flag_expr("mmsi"),
        pl.min_horizontal("first_pos", "first_static").alias("first_seen"),
        pl.max_horizontal("last_pos", "last_static").alias("last_seen"),
        pl.col("n_positions").fill_null(0),
        pl.col("n_static").fill_null(0),
        pl.coalesce("pos_class", "static_class").alias("ais_class"),
        pl.col("names_seen").fill_null(pl.lit([], dtype=pl.List(pl.Utf8))),
    )
    if flag_filter is not None:
        df = df.filter(pl.col("flag") == flag_filter)
    if name is not None and name.strip():
        needle = name.strip().upper()
        df = df.filter(pl.col("names_seen").list.eval(pl.element().str.to_uppercase().str.contains(needle, literal=True)).list.any())
    return df.select(VESSEL_COLUMNS).sort("mmsi")


@dataclasses.dataclass(frozen=True)
class VesselProfile:
    """Everything the store knows about one MMSI."""

    mmsi: int
    flag: str | None  # ISO alpha-2 from the MMSI's MID
    country: str | None
    mmsi_kind: str
    red_flag: tuple[str, str] | None  # (kind, severity) of the MMSI's own identity red flag (identity.mmsi_red_flag)
    identities: pl.DataFrame  # identity_history rows of this MMSI (stays, oldest first)
    draughts: pl.DataFrame  # draught_history rows (changes only)
    n_positions: int
    n_static: int
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    bbox: tuple[float, float, float, float] | None  # (min_lon, min_lat, max_lon, max_lat) of its positions
    destinations: list[str]  # distinct destinations broadcast, in order of first appearance

    @property
    def latest(self) -> dict[str, Any]:
        return self.identities.row(-1, named=True) if self.identities.height else {}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (times ISO 8601 UTC)."""

        def rows(df: pl.DataFrame) -> list[dict]:
            return json.loads(df.write_json()) if df.height else []

        return {
            "mmsi": self.mmsi, "flag": self.flag, "country": self.country, "mmsi_kind": self.mmsi_kind,
            "red_flag": self.red_flag[0] if self.red_flag else None,
            "red_flag_severity": self.red_flag[1] if self.red_flag else None,
            "n_positions": self.n_positions, "n_static": self.n_static,
            "first_seen": utc_text(self.first_seen, micro=True), "last_seen": utc_text(self.last_seen, micro=True),
            "bbox": list(self.bbox) if self.bbox else None, "destinations": self.destinations,
            "identities": rows(self.identities), "draughts": rows(self.draughts),
        }


def vessel_profile(store: Store, mmsi: int) -> VesselProfile:
    """The profile of one MMSI; a ShadowfleetError if the store has no report of it."""
    static = read_static(store, mmsi=mmsi)
    lf = store.scan("positions").select("mmsi", "ts", "lat", "lon", "dup_key").filter(pl.col("mmsi") == mmsi)
    pos = mark_first_copies(lf).filter(pl.col("first_copy")).collect()
    if static.height == 0 and pos.height == 0:
        raise ShadowfleetError(f"MMSI {mmsi}: no reports in store {store.root}")
    times = pl.concat([pos["ts"], static["ts"]]).drop_nulls()
    bbox = None
    if pos.height:
        b = pos.select(pl.col("lon").min().alias("w"), pl.col("lat").min().alias("s"), pl.col("lon").max().alias("e"),
                       pl.col("lat").max().alias("n")).row(0)
        bbox = tuple(float(x) for x in b) if None not in b else None
    dests = static.sort("ts")["destination"].drop_nulls().unique(maintain_order=True).to_list()
    return VesselProfile(
        mmsi=mmsi,
        flag=flag_of(mmsi),
        country=country_of(mmsi),
        mmsi_kind=mmsi_kind(mmsi),
        red_flag=mmsi_red_flag(mmsi),
        identities=identity_history(static=static),
        draughts=draught_history(static=static),
        n_positions=pos.height,
        n_static=static.height,
        first_seen=times.min() if times.len() else None,
        last_seen=times.max() if times.len() else None,
        bbox=bbox,
        destinations=dests,
    )
