"""What the cases stage needs to know of places: kind, country, name, reference point, and which port holds
which oil berth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from shadowfleet.errors import ShadowfleetError

PLACE_INFO_SCHEMA = {"id": pl.Utf8, "name": pl.Utf8, "kind": pl.Utf8, "country": pl.Utf8, "lat": pl.Float64, "lon": pl.Float64}


def resolve_places(places=None):
    """A ``shadowfleet.places.Places`` (with geometry) from a Places, a GeoJSON path or None (built-in), or None
    when only a table was given or the built-in gazetteer is unavailable."""
    if isinstance(places, pl.DataFrame):
        return None
    from shadowfleet.places import load_places

    if places is None:
        try:
            return load_places()
        except (ShadowfleetError, OSError):
            return None
    if isinstance(places, (str, Path)):
        return load_places(places)
    return places


def place_info(places=None) -> pl.DataFrame:
    """id, name, kind, country, lat, lon of every place.

    ``places``: a ``shadowfleet.places.Places``, a GeoJSON path, a DataFrame with those columns, or None for the
    built-in gazetteer. If no gazetteer is available, an empty table is returned and place ids are read by
    convention (see :func:`with_place_info`).
    """
    if isinstance(places, pl.DataFrame):
        df = places
    else:
        p = resolve_places(places)
        if p is None:
            return pl.DataFrame(schema=PLACE_INFO_SCHEMA)
        df = p.table
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


def ports_holding(berth_ids: list[str], info: pl.DataFrame, places_obj=None) -> pl.DataFrame:
    """port, berth: the port polygon that contains each berth's reference point (geometry when available), else
    the id convention of docs/CONTRACTS.md ('RUVYP-OIL' lies in 'RUVYP')."""
    rows = []
    ports = set(info.filter(pl.col("kind") == "port")["id"].to_list())
    sub = info.filter(pl.col("id").is_in(berth_ids))
    if places_obj is not None and sub.height:
        found = places_obj.locate(sub["lat"].to_numpy(), sub["lon"].to_numpy(), kinds=("port",))
        rows += [(p, b) for p, b in zip(found, sub["id"].to_list()) if p is not None]
    for b in berth_ids:
        head = b.split("-")[0]
        if head != b and head in ports:
            rows.append((head, b))
    return pl.DataFrame(rows, schema={"port": pl.Utf8, "berth": pl.Utf8}, orient="row").unique()


def waters_country(lat, lon, places_obj, km: float) -> pl.Series:
    """Country of the nearest place (any kind, EEZ included) within ``km`` of each point, else null."""
    n = len(lat)
    if places_obj is None or n == 0:
        return pl.Series("country", [None] * n, dtype=pl.Utf8)
    ids, _ = places_obj.within_km(np.asarray(lat, dtype=float), np.asarray(lon, dtype=float), km, kinds=None)
    found = pl.DataFrame({"id": pl.Series(list(ids), dtype=pl.Utf8)})
    table = places_obj.table.select("id", "country").unique("id")
    return found.join(table, on="id", how="left", maintain_order="left")["country"]
