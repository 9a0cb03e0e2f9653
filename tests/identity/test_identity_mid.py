"""Flag state and station kind from the MMSI (ITU-R M.585 structure, ITU MID table)."""

from __future__ import annotations

import random

import polars as pl
import pytest

from shadowfleet.identity import (
    MID_TABLE,
    country_of,
    flag_expr,
    flag_of,
    mid_expr,
    mid_of,
    mmsi_kind,
    mmsi_kind_expr,
)


@pytest.mark.parametrize(
    "mmsi, flag",
    [
        (445123000, "KP"),  # DPRK tankers of the 2024 Vostochny runs broadcast 445...
        (273456780, "RU"),
        (538004030, "MH"),  # FRIO in the DMA drift sample: Marshall Islands
        (477293900, "HK"),  # CSCL SUMMER in the GFW regression: Hong Kong, not CN
        (412331088, "CN"),
        (636012345, "LR"),
        (351000000, "PA"),
        (373999999, "PA"),
        (219000001, "DK"),
        (338123456, "US"),
        (775000001, "VE"),
        (201000001, "AL"),
    ],
)
def test_flag_of_ship_mmsi_comes_from_its_first_three_digits(mmsi, flag):
    assert flag_of(mmsi) == flag
    assert flag_of(str(mmsi)) == flag
    assert mmsi_kind(mmsi) == "ship"


def test_table_covers_201_to_775_with_iso_codes_and_names():
    assert min(MID_TABLE) == 201 and max(MID_TABLE) == 775
    assert len(MID_TABLE) > 280  # every allocated MID, not a sample
    for mid, (iso, name) in MID_TABLE.items():
        assert 201 <= mid <= 775
        assert len(iso) == 2 and iso.isupper() and name
    # unallocated MIDs in the middle of the range stay unallocated
    for hole in (217, 221, 260, 280, 302, 400, 444, 500, 600, 700):
        assert hole not in MID_TABLE
    assert country_of(445000001) == "Democratic People's Republic of Korea"


@pytest.mark.parametrize(
    "mmsi, kind, mid",
    [
        (2734500, "coast_station", 273),  # 00MIDxxxx, leading zeros lost in an integer
        ("002734500", "coast_station", 273),
        (27345000, "group", 273),  # 0MIDxxxxx
        (111273100, "sar_aircraft", 273),
        (992731234, "aton", 273),
        (982731234, "craft_associated", 273),
        (844512345, "handheld", 445),
        (970012345, "sart", None),
        (972000001, "mob", None),
        (974000001, "epirb", None),
        (217000000, "ship", None),  # ship format; MID 217 is not allocated (a red flag, still a vessel)
        (123456789, "test_number", None),
        (111111111, "test_number", None),
        (999999999, "test_number", None),
        (912345678, "net_buoy", None),  # 9xxxxxxxx outside 970/972/974/98/99: a fishing-net buoy
        (992171234, "invalid", None),  # AtoN with MID 217: not allocated
        (971000001, "invalid", None),
        (0, "invalid", None),
        (-5, "invalid", None),
        (1_000_000_000, "invalid", None),
        ("27345O000", "invalid", None),
        (None, "invalid", None),
        ("", "invalid", None),
    ],
)
def test_mmsi_kind_and_mid_position_by_station_kind(mmsi, kind, mid):
    assert mmsi_kind(mmsi) == kind
    assert mid_of(mmsi) == mid


def test_vectorised_variants_agree_with_scalar_on_every_kind_of_number():
    rng = random.Random(7)
    values = [rng.randint(0, 1_000_000_000) for _ in range(20_000)]
    # make sure each structural range is hit, not only ships
    values += [rng.randint(lo, hi) for lo, hi in [(1_000_000, 9_999_999), (10_000_000, 99_999_999),
                                                  (111_000_000, 111_999_999), (970_000_000, 999_999_999)]
               for _ in range(2_000)]
    values += [None, -1]
    df = pl.DataFrame({"mmsi": values}, schema={"mmsi": pl.Int64})
    got = df.select(mid_expr(), flag_expr(), mmsi_kind_expr())
    assert got.columns == ["mid", "flag", "mmsi_kind"]
    assert got["mid"].to_list() == [mid_of(v) for v in values]
    assert got["flag"].to_list() == [flag_of(v) for v in values]
    assert got["mmsi_kind"].to_list() == [mmsi_kind(v) for v in values]


def test_real_noaa_sample_is_mostly_us_ships(shared_data):
    df = pl.read_csv(shared_data / "ais/aisdb_test_data_noaa_20230101.csv", columns=["MMSI"])
    got = df.select(flag_expr("MMSI"), mmsi_kind_expr("MMSI"))
    ships = got.filter(pl.col("mmsi_kind") == "ship")
    assert ships.height > 0.95 * df.height
    assert (ships["flag"] == "US").mean() > 0.75
    assert ships["flag"].null_count() <= 0.01 * ships.height  # a few ship numbers with unallocated MIDs


def test_only_ship_format_numbers_are_vessels_and_an_unallocated_mid_is_a_red_flag():
    from shadowfleet.identity import is_vessel, is_vessel_expr, mmsi_red_flag, red_flag_expr

    cases = {445123456: (True, None), 217000000: (True, ("unallocated_mid", "medium")),
             992731234: (False, None), 111273100: (False, None), 844512345: (False, None),
             123456789: (False, None), 912345678: (False, None), 970012345: (False, None)}
    for mmsi, (vessel, flag) in cases.items():
        assert is_vessel(mmsi) is vessel and mmsi_red_flag(mmsi) == flag, mmsi
    df = pl.DataFrame({"mmsi": list(cases)}).with_columns(is_vessel_expr(), *red_flag_expr())
    assert df["is_vessel"].to_list() == [v for v, _ in cases.values()]
    assert df["red_flag"].to_list() == [f[0] if f else None for _, f in cases.values()]
    assert df["red_flag_severity"].to_list() == [f[1] if f else None for _, f in cases.values()]
