"""Column expressions shared by the detectors (vectorised; no per-row Python)."""

from __future__ import annotations

import polars as pl

from shadowfleet.places import geo as _geo

# one definition of the Earth and the nautical mile, in the places stage (upstream of events)
EARTH_RADIUS_KM = _geo.EARTH_RADIUS_KM  # IUGG mean radius
KM_PER_NM = _geo.KM_PER_NM

US_PER_H = 3_600_000_000


def haversine_km(lat1: pl.Expr, lon1: pl.Expr, lat2: pl.Expr, lon2: pl.Expr) -> pl.Expr:
    """Great-circle distance in km between two points given as column expressions in degrees."""
    p1, p2 = lat1.radians(), lat2.radians()
    dphi = p2 - p1
    dlmb = (lon2 - lon1).radians()
    a = (dphi / 2).sin() ** 2 + p1.cos() * p2.cos() * (dlmb / 2).sin() ** 2
    return 2 * EARTH_RADIUS_KM * a.sqrt().clip(0.0, 1.0).arcsin()


def hours(delta: pl.Expr) -> pl.Expr:
    """A duration expression in hours (float)."""
    return delta.dt.total_microseconds().cast(pl.Float64) / US_PER_H


def with_run_id(df: pl.DataFrame, breaks: pl.Expr, name: str = "run") -> pl.DataFrame:
    """Number consecutive rows into runs: a new run starts where ``breaks`` is true (or null, e.g. the first row)."""
    return df.with_columns(breaks.fill_null(True).cast(pl.UInt32).cum_sum().alias(name))


def changed(col: str, by: str = "mmsi") -> pl.Expr:
    """True where ``col`` differs from the previous row (nulls compare equal), or a new ``by`` group starts."""
    c = pl.col(col)
    return c.ne_missing(c.shift(1)) | pl.col(by).ne_missing(pl.col(by).shift(1))


def ensure_sorted(track: pl.DataFrame) -> pl.DataFrame:
    """Kernels accept one vessel's track or many; either way rows must be in (mmsi, ts) order."""
    return track.sort(["mmsi", "ts"], maintain_order=True)


EVENT_COLUMNS = ["type", "mmsi", "start", "end", "lat", "lon", "place", "other_mmsi", "inferred", "details"]
UTC_US = pl.Datetime("us", "UTC")


def to_events(df: pl.DataFrame, event_type: str, details: list[str]) -> pl.DataFrame:
    """Shape a kernel's result into event rows; ``details`` columns become one JSON object per row."""
    cols = {
        "type": pl.lit(event_type, pl.Utf8),
        "mmsi": pl.col("mmsi").cast(pl.Int64),
        "start": pl.col("start").cast(UTC_US),
        "end": pl.col("end").cast(UTC_US),
        "lat": pl.col("lat").cast(pl.Float64),
        "lon": pl.col("lon").cast(pl.Float64),
        "place": pl.col("place").cast(pl.Utf8) if "place" in df.columns else pl.lit(None, pl.Utf8),
        "other_mmsi": pl.col("other_mmsi").cast(pl.Int64) if "other_mmsi" in df.columns else pl.lit(None, pl.Int64),
        "inferred": pl.col("inferred").cast(pl.Boolean) if "inferred" in df.columns else pl.lit(False),
        "details": pl.struct(details).struct.json_encode() if details else pl.lit("{}"),
    }
    if df.height == 0:
        return empty_events()
    return df.select([e.alias(k) for k, e in cols.items()])


def empty_events() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "type": pl.Utf8, "mmsi": pl.Int64, "start": UTC_US, "end": UTC_US, "lat": pl.Float64,
            "lon": pl.Float64, "place": pl.Utf8, "other_mmsi": pl.Int64, "inferred": pl.Boolean,
            "details": pl.Utf8,
        }
    )
