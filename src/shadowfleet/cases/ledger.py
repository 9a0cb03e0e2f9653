"""The ledger of refined petroleum delivered to a capped country against the annual cap (UNSCR 2397 OP5).

Per month: estimated barrels delivered (low/central/high, by the month the discharge starts), supplier-reported
barrels (the 1718 Committee's published figures shipped in ``data/reported_deliveries.csv``, or the user's file),
running totals, and the date on which each cumulative estimate crosses the cap — interpolated within the case list
by discharge date (within the discharge that tips it over), not by month.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import polars as pl

from shadowfleet.cases.config import DEFAULTS, CasesConfig
from shadowfleet.cases.voyages import read_cases
from shadowfleet.errors import ShadowfleetError

REPORTED_SCHEMA = {"supplier": pl.Utf8, "period": pl.Utf8, "barrels": pl.Float64, "tonnes": pl.Float64,
                   "note": pl.Utf8, "source": pl.Utf8}
_PERIOD = r"^\d{4}(-\d{2}(-\d{2})?)?(/\d{4}(-\d{2}(-\d{2})?)?)?$"


def reported_deliveries(path: str | Path | None = None) -> pl.DataFrame:
    """Supplier-reported deliveries: supplier, period ('2024-01', '2023', '2023-03/2023-12'), barrels, tonnes,
    note, source, plus period_start / period_end dates. ``path`` None = the shipped 1718 Committee table."""
    if path is None:
        text = resources.files("shadowfleet.cases").joinpath("data", "reported_deliveries.csv").read_bytes()
        origin = "reported_deliveries.csv"
    else:
        p = Path(path)
        if not p.is_file():
            raise ShadowfleetError(f"reported deliveries file not found: {p}")
        text, origin = p.read_bytes(), str(p)
    try:
        raw = pl.read_csv(text, infer_schema=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise ShadowfleetError(f"{origin}: not a readable CSV: {str(exc).splitlines()[0]}") from None
    raw = raw.rename({c: c.strip().lower() for c in raw.columns})
    missing = [c for c in ("supplier", "period") if c not in raw.columns]
    if missing or not ({"barrels", "tonnes"} & set(raw.columns)):
        raise ShadowfleetError(f"{origin}: needs columns supplier, period and barrels (or tonnes); has {', '.join(raw.columns)}")
    for c in REPORTED_SCHEMA:
        if c not in raw.columns:
            raw = raw.with_columns(pl.lit(None, pl.Utf8).alias(c))
    df = raw.select(
        pl.col("supplier").str.strip_chars(),
        pl.col("period").str.strip_chars(),
        pl.col("barrels").str.replace_all(",", "").str.strip_chars().cast(pl.Float64, strict=False),
        pl.col("tonnes").str.replace_all(",", "").str.strip_chars().cast(pl.Float64, strict=False),
        "note", "source",
    )
    bad = df.filter(~pl.col("period").fill_null("").str.contains(_PERIOD))
    if bad.height:
        raise ShadowfleetError(f"{origin}: period {bad['period'][0]!r} is not YYYY, YYYY-MM, YYYY-MM-DD or a FROM/TO range")
    lo = pl.col("period").str.split("/").list.first()
    hi = pl.col("period").str.split("/").list.last()

    def start(e):  # first day of the period's first unit
        return pl.concat_str(e, pl.lit("-01-01")).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)

    def end(e):  # last day of the period's last unit
        n = e.str.len_chars()
        first = start(e)
        return (
            pl.when(n == 4).then(first.dt.offset_by("1y").dt.offset_by("-1d"))
            .when(n == 7).then(first.dt.month_end())
            .otherwise(first)
        )

    out = df.with_columns(start(lo).alias("period_start"), end(hi).alias("period_end"))
    # the pattern lets '2024-13' through; the calendar does not
    bad = out.filter(pl.col("period_start").is_null() | pl.col("period_end").is_null())
    if bad.height:
        raise ShadowfleetError(f"{origin}: period {bad['period'][0]!r} is not a calendar date")
    # a barrels/tonnes cell that is not a non-negative number would otherwise become a silent gap in the ledger
    for c in ("barrels", "tonnes"):
        text = raw[c].str.replace_all(",", "").str.strip_chars().replace("", None)
        wrong = text.is_not_null() & (df[c].is_null() | (df[c] < 0))
        if wrong.any():
            raise ShadowfleetError(f"{origin}: {c} {raw[c].filter(wrong)[0]!r} is not a non-negative number")
    return out


def cap_crossings(cases: pl.DataFrame, cap: float) -> dict[str, dt.datetime | None]:
    """When each cumulative estimate (low/central/high) reaches ``cap``: within the discharge that tips it over,
    at the fraction of that delivery needed to reach the cap."""
    out: dict[str, dt.datetime | None] = {}
    c = cases.sort("discharge_start").with_columns(
        pl.col("discharge_end").fill_null(pl.col("discharge_start")).alias("_end"))
    for end in ("low", "central", "high"):
        b = f"barrels_{end}"
        cum = c.with_columns(pl.col(b).fill_null(0.0).cum_sum().alias("_cum"))
        hit = cum.filter(pl.col("_cum") >= cap).head(1)
        if hit.height == 0:
            out[end] = None
            continue
        row = hit.row(0, named=True)
        before = row["_cum"] - (row[b] or 0.0)
        frac = 0.0 if not row[b] else (cap - before) / row[b]
        out[end] = row["discharge_start"] + (row["_end"] - row["discharge_start"]) * max(0.0, min(1.0, frac))
    return out


def cap_ledger(store, year: int, country: str = "KP", reported: str | Path | pl.DataFrame | None = None,
               cfg: CasesConfig = DEFAULTS, cases: pl.DataFrame | None = None) -> pl.DataFrame:
    """Month by month for ``year``: estimated barrels (low/central/high) delivered to ``country``, reported barrels,
    cumulative totals, the cap, share of the cap, and ``crossed_{low,central,high}`` = the date/time the cumulative
    estimate reaches the cap (set on the month it happens, null elsewhere)."""
    if not isinstance(year, int) or not 1900 < year < 2200:
        raise ShadowfleetError(f"--year must be a four-digit year, got {year!r}")
    if cases is None:
        cases = read_cases(store)
    cases = cases.filter(
        (pl.col("destination_country") == country)
        & pl.col("discharge_start").is_not_null()
        & (pl.col("discharge_start").dt.year() == year)
    )
    months = pl.DataFrame({"month": [f"{year}-{m:02d}" for m in range(1, 13)]})
    est = cases.group_by(pl.col("discharge_start").dt.strftime("%Y-%m").alias("month")).agg(
        pl.len().alias("cases"),
        *(pl.col(f"barrels_{e}").sum().alias(f"est_{e}") for e in ("low", "central", "high")),
    )
    rep = reported if isinstance(reported, pl.DataFrame) else reported_deliveries(reported)
    # Only single-month reports can be placed in a month; longer periods are listed by `reported_deliveries`.
    monthly = rep.filter(pl.col("period").str.contains(r"^\d{4}-\d{2}$") & pl.col("barrels").is_not_null()).group_by(
        pl.col("period").alias("month")).agg(pl.col("barrels").sum().alias("reported"),
                                             pl.col("supplier").unique().sort().str.join("+").alias("reported_by"))
    led = months.join(est, on="month", how="left").join(monthly, on="month", how="left").with_columns(
        pl.col("cases").fill_null(0).cast(pl.Int64),
        *(pl.col(f"est_{e}").fill_null(0.0) for e in ("low", "central", "high")),
    )
    led = led.with_columns(
        *(pl.col(f"est_{e}").cum_sum().alias(f"cum_{e}") for e in ("low", "central", "high")),
        pl.col("reported").fill_null(0.0).cum_sum().alias("cum_reported"),
        pl.lit(cfg.annual_cap_bbl).alias("cap"),
    ).with_columns((pl.col("cum_central") / pl.col("cap") * 100.0).alias("pct_cap_central"))
    cross = cap_crossings(cases, cfg.annual_cap_bbl)
    for e, t in cross.items():
        m = t.strftime("%Y-%m") if t else ""
        led = led.with_columns(
            pl.when(pl.col("month") == pl.lit(m)).then(pl.lit(t, dtype=pl.Datetime("us", "UTC"))).otherwise(None).alias(f"crossed_{e}"))
    return led
