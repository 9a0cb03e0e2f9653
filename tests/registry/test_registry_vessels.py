"""The vessel list and one vessel's profile."""

from __future__ import annotations

import json

import polars as pl
import pytest

from registry_store import BAD_MID, CLASS_B, RU_SHIP, TANKER, h, store  # noqa: F401  (fixture)
from shadowfleet.errors import ShadowfleetError
from shadowfleet.registry import vessel_profile, vessels


def test_one_row_per_mmsi_from_positions_or_static(store):
    v = vessels(store)
    assert v["mmsi"].to_list() == sorted([TANKER, CLASS_B, RU_SHIP, BAD_MID])
    assert v["mmsi"].is_unique().all()


def test_latest_identity_counts_and_flag(store):
    row = vessels(store).filter(pl.col("mmsi") == TANKER).row(0, named=True)
    assert row["flag"] == "KP" and row["mmsi_kind"] == "ship"
    assert row["name"] == "KUM UN SAN" and row["names_seen"] == ["YU SON", "KUM UN SAN"]
    assert row["imo"] == 8691702 and row["imo_valid"] is True
    assert row["ship_category"] == "tanker"
    assert abs(row["draught"] - 8.9) < 1e-5  # last available, not the 0 of the last report
    assert row["destination"] == "CHONGJIN"
    assert row["n_positions"] == 6  # two copies from a second receiver merged
    assert row["first_seen"] == h(0) and row["last_seen"] == h(49)


def test_vessel_without_static_and_an_unallocated_mid_is_a_ship_with_a_red_flag(store):
    v = vessels(store)
    ru = v.filter(pl.col("mmsi") == RU_SHIP).row(0, named=True)
    assert ru["flag"] == "RU" and ru["name"] is None and ru["names_seen"] == [] and ru["n_static"] == 0
    bad = v.filter(pl.col("mmsi") == BAD_MID).row(0, named=True)
    assert bad["flag"] is None and bad["mmsi_kind"] == "ship"
    assert (bad["red_flag"], bad["red_flag_severity"]) == ("unallocated_mid", "medium")
    assert ru["red_flag"] is None and ru["red_flag_severity"] is None


def test_filter_by_flag_and_by_any_name_ever_broadcast(store):
    assert vessels(store, flag="kp")["mmsi"].to_list() == [TANKER]
    assert vessels(store, flag="RU")["mmsi"].to_list() == [CLASS_B, RU_SHIP]
    assert vessels(store, name="yu son")["mmsi"].to_list() == [TANKER]  # a former name still finds it
    assert vessels(store, name="MORY")["mmsi"].to_list() == [CLASS_B]
    assert vessels(store, flag="RU", name="yu").height == 0


@pytest.mark.parametrize("bad", ["KPR", "4", "K"])
def test_malformed_flag_is_a_user_error(store, bad):
    with pytest.raises(ShadowfleetError, match="--flag"):
        vessels(store, flag=bad)


def test_profile_has_history_draughts_span_and_bbox(store):
    p = vessel_profile(store, TANKER)
    assert p.flag == "KP" and p.country == "Democratic People's Republic of Korea"
    assert p.identities["name"].to_list() == ["YU SON", "KUM UN SAN"]
    assert p.draughts.height == 2
    assert p.n_positions == 6 and p.n_static == 5
    assert p.first_seen == h(0) and p.last_seen == h(49)
    assert p.bbox == pytest.approx((133.07, 42.74, 133.17, 42.79))
    assert p.destinations == ["VOSTOCHNY", "CHONGJIN"]
    assert p.latest["name"] == "KUM UN SAN"
    d = json.loads(json.dumps(p.to_dict()))
    assert d["identities"][0]["name"] == "YU SON" and d["first_seen"].startswith("2024-03-07T06:00:00")


def test_profile_of_mmsi_not_in_store_is_a_user_error(store):
    with pytest.raises(ShadowfleetError, match="no reports"):
        vessel_profile(store, 445999999)
