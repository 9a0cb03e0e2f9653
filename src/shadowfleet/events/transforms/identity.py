"""Identity changes: name, IMO or call sign changing between consecutive type-5 reports of one MMSI; one IMO
broadcast by two MMSIs at overlapping times (identity laundering: UN Panel of Experts cases); and an IMO moving
from one MMSI to another (the ship took a new MMSI)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from shadowfleet.events.config import IdentityConfig
from shadowfleet.events.transforms.common import empty_events, to_events
from shadowfleet.events.transforms.positions import position_at
from shadowfleet.output import utc_expr

FIELDS = ("name", "imo", "callsign")


def _norm_text(col: str) -> pl.Expr:
    # '@' is AIS 6-bit padding; spaces are padding or typing variants ("KUM UN SAN 3" vs "KUMUNSAN3")
    v = pl.col(col).cast(pl.Utf8).str.replace_all(r"[@\s]", "").str.to_uppercase()
    return pl.when(v.str.len_chars() > 0).then(v).alias(col)


def _type5(static: pl.DataFrame) -> pl.DataFrame:
    s = static
    for c in FIELDS:
        if c not in s.columns:
            s = s.with_columns(pl.lit(None, pl.Utf8 if c != "imo" else pl.Int64).alias(c))
    return (
        s.filter(pl.col("msg_type") == 5)
        .sort(["mmsi", "ts"])
        .select(
            "mmsi", "ts", _norm_text("name"), _norm_text("callsign"),
            pl.when(pl.col("imo") > 0).then(pl.col("imo")).cast(pl.Int64).alias("imo"),
            *[_shown(c) for c in ("name", "callsign")],
        )
        .with_columns(pl.col("imo").alias("imo_shown"))
    )


def _shown(col: str) -> pl.Expr:
    """The value as a reader expects it in the details: '@' padding and outer spaces removed."""
    v = pl.col(col).cast(pl.Utf8).str.replace_all("@", "").str.strip_chars()
    return pl.when(v.str.len_chars() > 0).then(v).alias(f"{col}_shown")


def find_identity_changes(
    static: pl.DataFrame, positions: pl.DataFrame | None = None, cfg: IdentityConfig = IdentityConfig()
) -> pl.DataFrame:
    if static.height == 0:
        return empty_events()
    s = _type5(static)
    if s.height == 0:
        return empty_events()
    changes = _consecutive(s)
    shared = _shared_imo(s, cfg)
    # a shared IMO that began with this MMSI's own change of IMO is that change: one event, naming the other MMSI
    if shared.height and changes.height:
        # joined on the first report with the new identity (column ts), where the shared span begins
        folded = changes.join(
            shared.select("mmsi", pl.col("first").alias("ts"), "imo", "shared_with_mmsi"),
            left_on=["mmsi", "ts", "imo_after"], right_on=["mmsi", "ts", "imo"], how="left",
        )
        changes = folded.unique(["mmsi", "ts"], keep="first", maintain_order=True)
        shared = shared.join(
            changes.filter(pl.col("shared_with_mmsi").is_not_null()).select("mmsi", pl.col("ts").alias("first")),
            on=["mmsi", "first"], how="anti",
        )
    elif changes.height:
        changes = changes.with_columns(pl.lit(None, pl.Int64).alias("shared_with_mmsi"))
    parts = []
    if changes.height:
        changes = position_at(changes, positions, "end")
        parts.append(to_events(changes, "identity_change", ["reason", "changed"] + [
            f"{c}_{w}" for c in FIELDS for w in ("before", "after")]
            + ["previous_report", "first_new_report", "shared_with_mmsi"]))
    if shared.height:
        shared = position_at(shared, positions, "start")
        parts.append(to_events(shared, "identity_change", ["reason", "imo", "shared_with_mmsi"]))
    parts.append(_imo_moved(s, positions))
    return pl.concat(parts)


def _consecutive(s: pl.DataFrame) -> pl.DataFrame:
    """A field changes when its new value differs from the last value broadcast before (a missing value is no
    change: transponders often leave IMO or call sign empty)."""
    prev = {c: pl.col(c).forward_fill().shift(1).over("mmsi").alias(f"_{c}_prev") for c in FIELDS}
    shown = {c: pl.col(f"{c}_shown").forward_fill().shift(1).over("mmsi").alias(f"{c}_before") for c in FIELDS}
    s = s.with_columns(*prev.values(), *shown.values(), pl.col("ts").shift(1).over("mmsi").alias("start"))
    diff = {c: (pl.col(c).is_not_null() & pl.col(f"_{c}_prev").is_not_null() & (pl.col(c) != pl.col(f"_{c}_prev")))
            for c in FIELDS}
    s = s.with_columns([d.alias(f"_{c}_changed") for c, d in diff.items()]).filter(
        pl.any_horizontal([pl.col(f"_{c}_changed") for c in FIELDS])
    )
    # the moment of change lies between the last report with the old identity and the first with the new: the
    # event spans them (start = previous report, end = first new report), like a draught change
    return s.with_columns(
        pl.concat_list([pl.when(pl.col(f"_{c}_changed")).then(pl.lit(c)) for c in FIELDS]).list.drop_nulls()
        .alias("changed"),
        pl.lit("consecutive_reports").alias("reason"),
        utc_expr("start").alias("previous_report"),
        utc_expr("ts").alias("first_new_report"),
        pl.col("ts").alias("end"),
        *[pl.col(f"{c}_shown").alias(f"{c}_after") for c in FIELDS],
    )


def _shared_imo(s: pl.DataFrame, cfg: IdentityConfig) -> pl.DataFrame:
    """MMSIs broadcasting one IMO at overlapping times. The event goes to the MMSI that took the IMO while the
    other already broadcast it (the donor's identity did not change); to both when they began within
    ``taker_margin_h`` of each other (no telling who took it)."""
    spans = (
        s.filter(pl.col("imo").is_not_null())
        .group_by(["imo", "mmsi"])
        .agg(pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last"))
    )
    pairs = spans.join(spans, on="imo", suffix="_o").filter(pl.col("mmsi") != pl.col("mmsi_o"))
    pairs = pairs.with_columns(
        pl.max_horizontal("first", "first_o").alias("start"), pl.min_horizontal("last", "last_o").alias("end")
    ).filter(
        ((pl.col("end") - pl.col("start")) >= dt.timedelta(hours=cfg.shared_imo_min_overlap_h))
        & (pl.col("first") >= pl.col("first_o") - dt.timedelta(hours=cfg.taker_margin_h))
    )
    return pairs.with_columns(pl.lit("shared_imo").alias("reason"), pl.col("mmsi_o").alias("shared_with_mmsi"))


def _imo_moved(s: pl.DataFrame, positions) -> pl.DataFrame:
    """An IMO last broadcast by one MMSI and afterwards by another (never both at once): the ship changed its
    MMSI (re-flagging, or an identity swap). One event on the old MMSI, from its last report to the new MMSI's
    first; details name the new MMSI. An IMO moving on to several MMSIs gives one event per move."""
    spans = (
        s.filter(pl.col("imo").is_not_null())
        .group_by(["imo", "mmsi"])
        .agg(pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last"))
        .sort(["imo", "first"])
    )
    moved = spans.with_columns(
        pl.col("mmsi").shift(-1).over("imo").alias("new_mmsi"),
        pl.col("first").shift(-1).over("imo").alias("end"),
        # the new MMSI must start after every earlier MMSI of that IMO has stopped (else it is shared_imo)
        pl.col("last").cum_max().over("imo").alias("_seen_until"),
    ).filter(pl.col("new_mmsi").is_not_null() & (pl.col("end") > pl.col("_seen_until")))
    if moved.height == 0:
        return empty_events()
    # spans the old MMSI's last report to the new MMSI's first
    moved = moved.with_columns(
        pl.lit("imo_moved_to_new_mmsi").alias("reason"),
        pl.lit(["mmsi"]).alias("changed"),
        utc_expr("last").alias("previous_report"),
        utc_expr("end").alias("first_new_report"),
        pl.col("last").alias("start"),
    )
    moved = position_at(moved, positions, "start")
    return to_events(moved, "identity_change",
                     ["reason", "changed", "imo", "new_mmsi", "previous_report", "first_new_report"])
