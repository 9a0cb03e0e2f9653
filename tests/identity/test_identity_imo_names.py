"""IMO check digit (scalar and vectorised), AIS ship-type categories, name normalisation."""

from __future__ import annotations

import random

import polars as pl
import pytest

from shadowfleet.identity import (
    clean_text,
    clean_text_expr,
    imo_valid,
    imo_valid_expr,
    ship_type_category,
    ship_type_category_expr,
)


@pytest.mark.parametrize("imo", [9596985, "9596985", "IMO 9596985", 7937317, 8691702])
def test_real_imo_numbers_pass_the_check_digit(imo):
    assert imo_valid(imo)


@pytest.mark.parametrize("imo", [9596984, 959698, 95969850, 0, "0000000", None, "IMO", "95969A5", True])
def test_wrong_check_digit_or_shape_fails(imo):
    assert not imo_valid(imo)


def test_vectorised_imo_check_agrees_with_scalar():
    rng = random.Random(3)
    xs = [rng.randint(0, 12_000_000) for _ in range(50_000)] + [9596985, None, -9596985]
    got = pl.DataFrame({"imo": xs}, schema={"imo": pl.Int64}).select(imo_valid_expr())["imo_valid"].to_list()
    assert got == [imo_valid(x) for x in xs]
    assert 0.05 < sum(got) / len(xs) < 0.15  # about one random 7-digit number in ten passes


def test_ofac_dprk_vessel_imos_pass_as_ofac_says(shared_data):
    df = pl.read_csv(shared_data / "sanctions/ofac_dprk_vessels.csv", infer_schema_length=0)
    with_imo = df.filter(pl.col("imo").is_not_null())
    got = with_imo.select(imo_valid_expr(pl.col("imo").cast(pl.Int64)))["imo_valid"]
    assert with_imo.height >= 100
    assert got.to_list() == (with_imo["imo_checksum_ok"] == "yes").to_list()


@pytest.mark.parametrize(
    "code, category",
    [(80, "tanker"), (84, "tanker"), (70, "cargo"), (79, "cargo"), (30, "fishing"), (52, "tug"), (60, "passenger"),
     (35, "military"), (0, "unknown"), (15, "unknown"), (38, "unknown"), (None, "unknown"), (255, "unknown")],
)
def test_ship_type_code_to_category(code, category):
    assert ship_type_category(code) == category
    got = pl.DataFrame({"ship_type": [code]}, schema={"ship_type": pl.Int16}).select(ship_type_category_expr())
    assert got["ship_category"][0] == category


@pytest.mark.parametrize(
    "raw, clean",
    [("CHON MA SAN@@@@@@@@@", "CHON MA SAN"), ("  YU  SON  ", "YU SON"), ("@@@@@@@@@@", None), ("", None),
     (None, None), ("FRIO@@@ @@", "FRIO")],
)
def test_broadcast_names_lose_padding_and_spaces(raw, clean):
    assert clean_text(raw) == clean
    got = pl.DataFrame({"name": [raw]}, schema={"name": pl.Utf8}).select(clean_text_expr())["name"][0]
    assert got == clean
