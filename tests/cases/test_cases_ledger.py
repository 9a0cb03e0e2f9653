"""The 500,000-barrel ledger: monthly estimates by discharge month, reported deliveries, cap-crossing date."""

import datetime as dt

import polars as pl
import pytest

from shadowfleet.cases.ledger import cap_crossings, cap_ledger, reported_deliveries
from shadowfleet.errors import ShadowfleetError

UTC = dt.timezone.utc


def _cases(rows):
    """rows: (discharge_start, discharge_end, barrels_low, central, high[, country])."""
    return pl.DataFrame(
        {
            "discharge_start": [r[0] for r in rows],
            "discharge_end": [r[1] for r in rows],
            "barrels_low": [r[2] for r in rows],
            "barrels_central": [r[3] for r in rows],
            "barrels_high": [r[4] for r in rows],
            "destination_country": [r[5] if len(r) > 5 else "KP" for r in rows],
        },
        schema_overrides={"discharge_start": pl.Datetime("us", "UTC"), "discharge_end": pl.Datetime("us", "UTC")},
    )


def d(m, day, h=0):
    return dt.datetime(2024, m, day, h, tzinfo=UTC)


def test_shipped_reported_table_has_russia_january_2024_and_every_row_sourced():
    rep = reported_deliveries()
    jan = rep.filter((pl.col("supplier") == "RU") & (pl.col("period") == "2024-01"))
    assert jan["barrels"].to_list() == [15279.0]
    assert rep["source"].null_count() == 0 and rep["source"].str.len_chars().min() > 5
    assert rep.filter(pl.col("period") == "2023-03/2023-12")["period_end"][0] == dt.date(2023, 12, 31)


def test_monthly_estimates_by_discharge_month_and_running_totals():
    cases = _cases([
        (d(3, 9), d(3, 10), 10_000, 20_000, 30_000),
        (d(3, 20), d(3, 21), 10_000, 25_000, 30_000),
        (d(4, 2), d(4, 3), 1_000, 2_000, 3_000),
        (d(4, 5), d(4, 6), 1_000, 99_000, 3_000, "CN"),  # delivered elsewhere: not in the KP ledger
        (dt.datetime(2023, 12, 30, tzinfo=UTC), d(1, 1), 5, 5, 5),  # other year (by discharge start)
    ])
    led = cap_ledger(None, 2024, "KP", cases=cases)
    assert led.height == 12
    mar = led.filter(pl.col("month") == "2024-03").row(0, named=True)
    assert (mar["cases"], mar["est_low"], mar["est_central"], mar["est_high"]) == (2, 20_000, 45_000, 60_000)
    apr = led.filter(pl.col("month") == "2024-04").row(0, named=True)
    assert apr["est_central"] == 2_000 and apr["cum_central"] == 47_000
    assert led.filter(pl.col("month") == "2024-01")["reported"][0] == 15279
    assert led.filter(pl.col("month") == "2024-03")["reported"][0] is None  # nothing reported: not zero
    assert led["cum_reported"][-1] == 15279
    assert led["pct_cap_central"][-1] == pytest.approx(47_000 / 500_000 * 100)
    assert led["crossed_central"].null_count() == 12


def test_cap_crossing_is_interpolated_within_the_tipping_delivery():
    cases = _cases([
        (d(5, 1), d(5, 2), 100_000, 300_000, 400_000),
        (d(6, 10), d(6, 12), 100_000, 400_000, 400_000),  # central reaches 500k half-way through: 11 June 00:00
    ])
    x = cap_crossings(cases, 500_000)
    assert x["central"] == d(6, 11)
    assert x["high"] == d(6, 10, 12)  # 400k + 100k of 400k → a quarter of the 48 h window
    assert x["low"] is None
    led = cap_ledger(None, 2024, cases=cases)
    assert led.filter(pl.col("crossed_central").is_not_null())["month"].to_list() == ["2024-06"]


def test_user_reported_file_replaces_the_reference_table(tmp_path):
    f = tmp_path / "rep.csv"
    f.write_text("supplier,period,barrels,source\nRU,2024-03,\"12,000\",my source\nCN,2024-03,1000,x\n")
    led = cap_ledger(None, 2024, cases=_cases([]), reported=f)
    assert led.filter(pl.col("month") == "2024-03")["reported"][0] == 13_000
    assert led.filter(pl.col("month") == "2024-01")["reported"][0] is None
    assert led.filter(pl.col("month") == "2024-03")["reported_by"][0] == "CN+RU"


def test_bad_reported_file_and_year_are_user_errors(tmp_path):
    f = tmp_path / "rep.csv"
    f.write_text("supplier,period,barrels\nRU,March 2024,100\n")
    with pytest.raises(ShadowfleetError, match="period"):
        reported_deliveries(f)
    g = tmp_path / "rep2.csv"
    g.write_text("who,when\nRU,2024\n")
    with pytest.raises(ShadowfleetError, match="needs columns"):
        reported_deliveries(g)
    with pytest.raises(ShadowfleetError, match="year"):
        cap_ledger(None, 24, cases=_cases([]))
