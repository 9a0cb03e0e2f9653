"""What the cases stage needs to know of a place: its kind, country, name and reference point."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from shadowfleet.errors import ShadowfleetError

PLACE_INFO_SCHEMA = {"id": pl.Utf8, "name": pl.Utf8, "kind": pl.Utf8, "country": pl.Utf8, "lat": pl.Float64, "lon": pl.Float64}


def place_info(places=None) -> pl.DataFrame:
    """id, name, kind, country, lat, lon of every place.

    ``places``: a ``shadowfleet.places.Places``, a GeoJSON path, a DataFrame with those columns, or None for the
    built-in gazetteer. If the built-in gazetteer is not available, an empty table is returned and place ids are
    read by convention (see :func:`with_place_info`).
    """
    if isinstance(places, pl.DataFrame):
        df = places
    else:
        from shadowfleet.places import load_places

        if places is None:
            try:
                places = load_places()
            except (ShadowfleetError, OSError):
                return pl.DataFrame(schema=PLACE_INFO_SCHEMA)
        elif isinstance(places, (str, Path)):
            places = load_places(places)
        df = places.table
    for c, t in PLACE_INFO_SCHEMA.items():
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, t).alias(c))
    return df.select([pl.col(c).cast(t) for c, t in PLACE_INFO_SCHEMA.items()])


def with_place_info(df: pl.DataFrame, info: pl.DataFrame, col: str = "place", prefix: str = "place_") -> pl.DataFrame:
    """Join kind/country/name of ``col`` onto ``df``. A place id missing from the gazetteer gets its country from
    the UN/LOCODE convention of docs/CONTRACTS.md (two-letter country, then three characters: 'RUVYP-OIL' → RU)."""
    sel = info.select(
        pl.col("id").alias(col),
        pl.col("kind").alias(f"{prefix}kind"),
        pl.col("country").alias(f"{prefix}country"),
        pl.col("name").alias(f"{prefix}name"),
    )
    out = df.join(sel, on=col, how="left")
    by_code = pl.col(col).str.extract(r"^([A-Z]{2})[A-Z0-9]{3}(?:-|$)", 1)
    return out.with_columns(pl.coalesce(pl.col(f"{prefix}country"), by_code).alias(f"{prefix}country"))
