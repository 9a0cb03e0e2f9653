"""Identity history per MMSI from the `static` table: what each vessel said it was, and when.

A static report carries only some identity fields: type 5 all of them, type 19 name/type/dimensions, type 24
part A the name and part B call sign/type/dimensions (ITU-R M.1371-5, messages 5, 19, 24). A field that a report
does not carry keeps its last known value, so a class B vessel's two halves make one identity rather than two.
Consecutive reports with the same identity form one interval [first_seen, last_seen]; a vessel that goes back
to an earlier identity (A -> B -> A) has a new interval for each stay.
"""

from __future__ import annotations

import polars as pl

from shadowfleet.identity import clean_text_expr, flag_expr, imo_valid_expr, ship_type_category_expr
from shadowfleet.store import Store, empty

IDENTITY_FIELDS = ("name", "imo", "callsign", "ship_type", "length", "beam")

# Which identity fields each static message carries (ITU-R M.1371-5). Rows without a message type (decoded
# CSV/JSON rows) are taken as carrying every field.
_CARRIES: dict[tuple[int, str | None], set[str]] = {
    (5, None): set(IDENTITY_FIELDS),
    (19, None): {"name", "ship_type", "length", "beam"},
    (24, "A"): {"name"},
    (24, "B"): {"callsign", "ship_type", "length", "beam"},
}


def read_static(store: Store, mmsi: int | list[int] | None = None) -> pl.DataFrame:
    """Static reports, duplicates merged, text fields normalised, unavailable values as null."""
    df = store.read("static", mmsi=mmsi)
    if df.height == 0:
        return empty("static")
    return normalise_static(df)


def normalise_static(df: pl.DataFrame) -> pl.DataFrame:
    zero_is_null = lambda c: pl.when(pl.col(c) > 0).then(pl.col(c)).otherwise(None)  # noqa: E731
    return df.with_columns(
        clean_text_expr("name"),
        clean_text_expr("callsign"),
        clean_text_expr("destination"),
        # 0 means "not available" for IMO, ship type, dimensions and draught (ITU-R M.1371-5, message 5)
        zero_is_null("imo").alias("imo"),
        zero_is_null("ship_type").alias("ship_type"),
        zero_is_null("length").alias("length"),
        zero_is_null("beam").alias("beam"),
        zero_is_null("draught").alias("draught"),
    )


def _carried(field: str) -> pl.Expr:
    """True where the row's message type carries ``field``."""
    expr = pl.col("msg_type").is_null() | ~pl.col("msg_type").is_in([5, 19, 24])
    for (mtype, part), fields in _CARRIES.items():
        if field in fields:
            cond = pl.col("msg_type") == mtype
            if part is not None:
                cond = cond & (pl.col("part") == part)
            expr = expr | cond
    return expr.fill_null(False)


def identity_states(static: pl.DataFrame) -> pl.DataFrame:
    """Each static report with the vessel's full identity at that moment (fields not carried carried over)."""
    df = static.sort(["mmsi", "ts"])
    filled = []
    for f in IDENTITY_FIELDS:
        # null where not carried, so fill picks the last value that a message actually carried
        kept = pl.when(_carried(f)).then(pl.col(f)).otherwise(None)
        # type 24 B before its A: take the next known value for the leading rows of an MMSI
        filled.append(kept.forward_fill().backward_fill().over("mmsi").alias(f))
    return df.with_columns(filled)


def identity_history(store: Store | None = None, static: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per stay in an identity: mmsi, name, imo, imo_valid, callsign, ship_type, ship_category, length,
    beam, flag (from the MMSI), first_seen, last_seen, n_reports — sorted by mmsi then first_seen.

    Give a ``store`` (reads its `static` table) or an already read ``static`` frame.
    """
    if static is None:
        if store is None:
            raise ValueError("identity_history needs a store or a static frame")
        static = read_static(store)
    cols = ["mmsi", *IDENTITY_FIELDS, "first_seen", "last_seen", "n_reports"]
    if static.height == 0:
        return _decorate(
            pl.DataFrame(schema={**{c: empty("static").schema[c] for c in ["mmsi", *IDENTITY_FIELDS]},
                                 "first_seen": empty("static").schema["ts"], "last_seen": empty("static").schema["ts"],
                                 "n_reports": pl.UInt32})
        )
    df = identity_states(static)
    changed = pl.lit(False)
    for f in IDENTITY_FIELDS:
        changed = changed | pl.col(f).ne_missing(pl.col(f).shift(1).over("mmsi"))
    new_stay = (pl.col("mmsi") != pl.col("mmsi").shift(1)).fill_null(True) | changed
    df = df.with_columns(new_stay.cum_sum().alias("__stay"))
    stays = (
        df.group_by("__stay", maintain_order=True)
        .agg(
            pl.col("mmsi").first(),
            *[pl.col(f).first() for f in IDENTITY_FIELDS],
            pl.col("ts").min().alias("first_seen"),
            pl.col("ts").max().alias("last_seen"),
            pl.len().alias("n_reports"),
        )
        .select(cols)
    )
    return _decorate(stays.sort(["mmsi", "first_seen"]))


def _decorate(stays: pl.DataFrame) -> pl.DataFrame:
    out = stays.with_columns(
        imo_valid_expr("imo"),
        ship_type_category_expr("ship_type"),
        flag_expr("mmsi"),
    )
    return out.select(
        "mmsi", "name", "imo", "imo_valid", "callsign", "ship_type", "ship_category", "length", "beam", "flag",
        "first_seen", "last_seen", "n_reports",
    )


def draught_history(store: Store | None = None, static: pl.DataFrame | None = None) -> pl.DataFrame:
    """Changes of reported draught: mmsi, since (first report of the value), until (last), draught, previous,
    change_m (null for a vessel's first value). Only type 5 carries draught; null (0 = n/a) reports are skipped.
    """
    if static is None:
        if store is None:
            raise ValueError("draught_history needs a store or a static frame")
        static = read_static(store)
    schema = {"mmsi": pl.Int64, "since": empty("static").schema["ts"], "until": empty("static").schema["ts"],
              "draught": pl.Float32, "previous": pl.Float32, "change_m": pl.Float32}
    df = static.filter(pl.col("draught").is_not_null()).select("mmsi", "ts", "draught").sort(["mmsi", "ts"])
    if df.height == 0:
        return pl.DataFrame(schema=schema)
    new_value = (pl.col("mmsi") != pl.col("mmsi").shift(1)).fill_null(True) | (
        pl.col("draught") != pl.col("draught").shift(1)
    ).fill_null(True)
    runs = (
        df.with_columns(new_value.cum_sum().alias("__run"))
        .group_by("__run", maintain_order=True)
        .agg(pl.col("mmsi").first(), pl.col("ts").min().alias("since"), pl.col("ts").max().alias("until"),
             pl.col("draught").first())
        .drop("__run")
    )
    runs = runs.with_columns(pl.col("draught").shift(1).over("mmsi").alias("previous"))
    return runs.with_columns((pl.col("draught") - pl.col("previous")).alias("change_m")).select(list(schema))
