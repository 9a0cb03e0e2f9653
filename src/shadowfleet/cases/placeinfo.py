"""What the cases stage reads of places, all answered by the places stage's `Places`: kind, country and name of
the places events name, and which port holds which berth."""

from __future__ import annotations

import polars as pl

from shadowfleet.places import Places

PLACE_INFO_SCHEMA = {"id": pl.Utf8, "name": pl.Utf8, "kind": pl.Utf8, "country": pl.Utf8, "lat": pl.Float64,
                     "lon": pl.Float64}


def place_info(places: Places) -> pl.DataFrame:
    """id, name, kind, country, lat, lon of every place."""
    return places.table.select([pl.col(c).cast(t) for c, t in PLACE_INFO_SCHEMA.items()])


def with_place_info(df: pl.DataFrame, info: pl.DataFrame, col: str = "place", prefix: str = "place_") -> pl.DataFrame:
    """Join kind/country/name of ``col`` onto ``df``. A place id missing from the gazetteer (events detected with
    another one) gets its country from the UN/LOCODE form of the id: two-letter country, then three characters
    ('RUVYP-OIL' → RU)."""
    sel = info.select(
        pl.col("id").alias(col),
        pl.col("kind").alias(f"{prefix}kind"),
        pl.col("country").alias(f"{prefix}country"),
        pl.col("name").alias(f"{prefix}name"),
    )
    out = df.join(sel, on=col, how="left")
    by_code = pl.col(col).str.extract(r"^([A-Z]{2})[A-Z0-9]{3}(?:-|$)", 1)
    return out.with_columns(pl.coalesce(pl.col(f"{prefix}country"), by_code).alias(f"{prefix}country"))


def ports_holding(place_ids: list[str], places: Places) -> pl.DataFrame:
    """port, berth: the port holding each of ``place_ids`` that lies in one (`Places.parent_ports`)."""
    parent = places.parent_ports()
    rows = [(parent[b], b) for b in dict.fromkeys(place_ids) if b in parent]
    return pl.DataFrame(rows, schema={"port": pl.Utf8, "berth": pl.Utf8}, orient="row")
