"""Capacity per vessel: user table → list tonnage → list GRT → AIS dimensions, with rejects counted."""

import polars as pl
import pytest

from shadowfleet.cases import read_vessel_table, vessel_particulars
from shadowfleet.errors import ShadowfleetError
from casekit import static


def _store(make_store, list_entries=None):
    statics = [
        static(445000001, "USER SHIP", 9000001, 100, 15, 6.0),
        static(445000002, "LISTED TONNAGE", 7389704, 90, 14, None),
        static(445000003, "LISTED GRT", 8106496, 80, 12, None),
        static(445000004, "DIMS ONLY", None, 100, 15, 6.0),
        static(445000005, "NOTHING", None, None, None, None),
    ]
    if list_entries is None:
        list_entries = [
            {"list_id": "ofac", "imo": "7389704", "mmsi": None, "tonnage": 3003.0, "grt": None},
            {"list_id": "ofac", "imo": "8106496", "mmsi": None, "tonnage": None, "grt": 962.0},
        ]
    return make_store([], statics, list_entries=list_entries)


def test_capacity_source_priority(make_store, tmp_path):
    st = _store(make_store)
    user = tmp_path / "v.csv"
    user.write_text("IMO,MMSI,name,dwt\n9000001,,USER SHIP,\"4,500\"\n")
    table, rejects = read_vessel_table(user)
    assert rejects == {}
    p = vessel_particulars(st, table).sort("mmsi")
    assert p["capacity_source"].to_list() == ["user", "list_tonnage", "list_grt", "ais_dimensions", None]
    assert p["dwt_central"][0] == 4500.0
    assert p["dwt_central"][1] == 3003.0
    assert p["dwt_low"][1] == pytest.approx(3003 * 0.9)
    assert p["dwt_central"][2] == pytest.approx(962 * 1.6)
    assert p["dwt_low"][2] == pytest.approx(962 * 1.5) and p["dwt_high"][2] == pytest.approx(962 * 1.7)
    assert p["dwt_central"][3] == pytest.approx(95 * 15 * 6 * 0.76 * 1.025 * 0.68)
    assert p["dwt_central"][4] is None
    # TPC comes from the dimensions whatever the capacity source
    assert p["tpc_central"][0] == pytest.approx(95 * 15 * 0.86 * 1.025 / 100)


def test_vessel_table_bad_rows_are_counted_not_lost(tmp_path):
    f = tmp_path / "v.csv"
    f.write_text("imo,mmsi,dwt\n9000001,,3000\n,,2000\n9000002,,lots\n,445000009,2500\n")
    table, rejects = read_vessel_table(f)
    assert table.height == 2
    assert rejects == {"no imo or mmsi": 1, "dwt missing or not a positive number": 1}


def test_vessel_table_without_dwt_column_is_a_user_error(tmp_path):
    f = tmp_path / "v.csv"
    f.write_text("imo,name\n9000001,X\n")
    with pytest.raises(ShadowfleetError, match="dwt"):
        read_vessel_table(f)
    with pytest.raises(ShadowfleetError, match="not found"):
        read_vessel_table(tmp_path / "missing.csv")


def test_capacity_from_the_real_ofac_sdn_snapshot_tonnage(make_store, shared_data):
    """OFAC's SDN lists HUA FU (IMO 9020003) with tonnage 10,030: it becomes the capacity when AIS has the IMO."""
    from shadowfleet.sanctions import load_list, save_list

    st = make_store([], [static(413000001, "HUA FU", 9020003, 140, 20, None)])
    save_list(st, load_list(shared_data / "sanctions/ofac_sdn_2021-07.csv", kind="ofac-sdn", version_date="2021-07-01"))
    p = vessel_particulars(st)
    r = p.row(0, named=True)
    assert r["capacity_source"] == "list_tonnage" and r["dwt_central"] == 10030.0


def test_published_particulars_of_named_vessels_are_used_before_dimensions(make_store):
    """RYE SONG GANG 1 (IMO 7389704) is 3,003 dwt and SAM MA 2 (IMO 8106496) 962 GT in reporting (docs/reference.md)."""
    from shadowfleet.cases.particulars import reference_vessels

    assert reference_vessels()["source"].null_count() == 0
    st = make_store([], [static(445000001, "RYE SONG GANG 1", 7389704, 87, 13, None),
                         static(445000002, "SAM MA 2", 8106496, 68, 10, None)])
    p = vessel_particulars(st).sort("mmsi")
    assert p["capacity_source"].to_list() == ["reference_dwt", "reference_gt"]
    assert p["dwt_central"][0] == 3003.0 and p["dwt_central"][1] == pytest.approx(962 * 1.6)
