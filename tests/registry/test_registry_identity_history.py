"""Identity stays and draught changes per MMSI, from the static reports in a store."""

from __future__ import annotations

import polars as pl

from registry_store import CLASS_B, TANKER, h, store  # noqa: F401  (store is a fixture)
from shadowfleet.registry import draught_history, identity_history


def test_rename_with_same_imo_is_two_stays_and_padding_is_not_a_change(store):
    hist = identity_history(store).filter(pl.col("mmsi") == TANKER)
    assert hist["name"].to_list() == ["YU SON", "KUM UN SAN"]
    assert hist["imo"].to_list() == [8691702, 8691702]
    assert hist["imo_valid"].to_list() == [True, True]
    assert hist["first_seen"].to_list() == [h(0), h(48)]
    assert hist["last_seen"].to_list() == [h(30), h(49)]
    assert hist["n_reports"].to_list() == [3, 2]
    assert hist["flag"].to_list() == ["KP", "KP"]
    assert hist["ship_category"].to_list() == ["tanker", "tanker"]


def test_class_b_halves_make_one_identity(store):
    hist = identity_history(store).filter(pl.col("mmsi") == CLASS_B)
    assert hist.height == 1
    row = hist.row(0, named=True)
    assert (row["name"], row["callsign"], row["ship_type"], row["length"], row["beam"]) == ("MORYAK", "UBX7", 37, 12.0, 4.0)
    assert row["imo"] is None and row["imo_valid"] is False
    assert row["n_reports"] == 4
    assert row["ship_category"] == "pleasure"


def test_going_back_to_an_old_name_opens_a_new_stay(store):
    extra = pl.DataFrame([dict(mmsi=TANKER, ts=h(60), msg_type=5, imo=8691702, name="YU SON", callsign="HMYS",
                               ship_type=80, length=105.0, beam=16.0, draught=8.9, dup_key=99)])
    store.append("static", extra, batch="later")
    hist = identity_history(store).filter(pl.col("mmsi") == TANKER)
    assert hist["name"].to_list() == ["YU SON", "KUM UN SAN", "YU SON"]


def test_imo_that_fails_check_digit_is_flagged_not_dropped(store):
    store.append("static", pl.DataFrame([dict(mmsi=TANKER, ts=h(70), msg_type=5, imo=8691703, name="KUM UN SAN",
                                              callsign="HMYS", ship_type=80, length=105.0, beam=16.0, dup_key=98)]),
                 batch="bad-imo")
    last = identity_history(store).filter(pl.col("mmsi") == TANKER).row(-1, named=True)
    assert last["imo"] == 8691703 and last["imo_valid"] is False


def test_draught_history_keeps_changes_only_and_skips_not_available(store):
    d = draught_history(store).filter(pl.col("mmsi") == TANKER)
    assert d["draught"].to_list() == [5.2, 8.9] or [round(x, 1) for x in d["draught"].to_list()] == [5.2, 8.9]
    assert d["since"].to_list() == [h(0), h(30)]
    assert d["until"].to_list() == [h(2), h(48)]  # h(49) said 0 = not available
    assert d["previous"][0] is None
    assert abs(d["change_m"][1] - 3.7) < 1e-5
    assert draught_history(store).filter(pl.col("mmsi") == CLASS_B).height == 0  # class B sends no draught


def test_empty_store_gives_empty_frames_with_columns(tmp_path):
    from shadowfleet.store import Store

    s = Store(tmp_path / "empty")
    hist = identity_history(s)
    assert hist.height == 0 and "imo_valid" in hist.columns and "first_seen" in hist.columns
    assert draught_history(s).height == 0
