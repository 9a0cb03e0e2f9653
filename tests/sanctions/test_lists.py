"""Loading every list format: the real snapshots in ../shared/data/sanctions, and fixtures for the formats that
have no public sample here (UN 1718 vessels in OpenSanctions' tabular layout, FollowTheMoney JSON lines)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from shadowfleet.errors import ShadowfleetError
from shadowfleet.sanctions import detect_kind, list_entries, load_list, loaded_lists, save_list
from shadowfleet.store import Store
from clirunner import run_cli

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def sanctions_dir(shared_data):
    d = shared_data / "sanctions"
    if not d.is_dir():
        pytest.skip(f"shared sanctions data not found at {d}")
    return d


@pytest.fixture(scope="module")
def ofac_2021(sanctions_dir):
    return load_list(sanctions_dir / "ofac_sdn_2021-07.csv", version_date="2021-07-01")


def test_ofac_sdn_2021_counts_by_entity_type(ofac_2021):
    assert ofac_2021.kind == "ofac-sdn"
    # counted by hand: 8,976 rows; SDN_Type vessel 406, individual 4,620, aircraft 277, blank (entities) 3,673
    assert ofac_2021.n_entries == 8976
    c = ofac_2021.counts()
    assert c["vessel"] == 406 and c["person"] == 4620
    assert c["company"] + c["other"] == 3673 + 277


def test_ofac_dprk_vessels_match_the_extract_imo_by_imo(ofac_2021, sanctions_dir):
    e = ofac_2021.entries
    dprk = e.filter((pl.col("entity_type") == "vessel") & pl.col("programs").str.contains("DPRK"))
    assert dprk.height == 106
    extract = pl.read_csv(sanctions_dir / "ofac_dprk_vessels.csv", infer_schema_length=0)
    both = dprk.join(extract.rename({"ofac_ent_num": "entry_id"}), on="entry_id", how="full", suffix="_x")
    assert both.filter(pl.col("entry_id").is_null() | pl.col("entry_id_x").is_null()).height == 0
    differ = both.filter(pl.col("imo").cast(pl.Utf8).ne_missing(pl.col("imo_x").replace("", None)))
    # the extract leaves RYONG GUN BONG without IMO: its Remarks say "Vessel Registration Identification 8606173"
    # without the word IMO; we take it because its check digit holds
    assert differ.select("name", "imo").rows() == [("RYONG GUN BONG", 8606173)]
    assert both.filter(pl.col("flag_iso2") != pl.col("flag_iso2_x")).height == 0
    assert dprk.filter(pl.col("imo").is_not_null())["imo_valid"].all()


def test_ofac_remarks_give_mmsi_aliases_former_names_and_links(ofac_2021):
    e = ofac_2021.entries
    artavil = e.filter(pl.col("name") == "ARTAVIL").row(0, named=True)
    assert artavil["imo"] == 9187629 and artavil["mmsi"] == 572469210 and artavil["callsign"] == "T2EU4"
    assert json.loads(artavil["former_names"]) == ["ALPHA"]
    assert set(json.loads(artavil["former_flags"])) == {"MT", "TV", "TZ"}
    assert artavil["linked_to"] == "NATIONAL IRANIAN TANKER COMPANY"
    assert artavil["tonnage"] == 99144 and artavil["grt"] == 56068
    star = e.filter(pl.col("name") == "STAR 18").row(0, named=True)
    assert json.loads(star["former_names"]) == ["SAM 5", "THINH CUONG"]
    assert e.filter(pl.col("mmsi").is_not_null()).height == 51  # counted with grep "MMSI [0-9]{9}"
    # companies carry IMO company numbers, which are not ship IMOs
    assert e.filter((pl.col("entity_type") != "vessel") & pl.col("imo").is_not_null()).height == 0


def test_ofac_sdn_2019_snapshot_loads(sanctions_dir):
    v = load_list(sanctions_dir / "ofac_sdn_2019-01.csv", version_date="2019-01-01")
    assert v.n_entries == 7379 and v.counts()["vessel"] == 323


def test_ofac_has_no_date_so_the_file_mtime_is_used_and_said(tmp_path):
    p = tmp_path / "sdn.csv"
    p.write_text('1,"BIG SHIP","vessel","DPRK",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\x1a')
    os.utime(p, (1_600_000_000, 1_600_000_000))  # 2020-09-13
    v = load_list(p)
    assert v.kind == "ofac-sdn" and v.version_date == "2020-09-13" and v.version_date_from == "file modification time"
    assert load_list(p, version_date="2021-07-01").list_id == "OFAC SDN@2021-07-01"


def test_un_consolidated_xml_entities_and_individuals(sanctions_dir):
    v = load_list(sanctions_dir / "un_consolidated_2026-02-27.xml")
    assert v.kind == "un-xml" and v.version_date == "2026-02-27" and v.version_date_from == "file"
    c = v.counts()
    assert c.get("vessel", 0) == 0 and c["person"] == 730 and c["company"] + c["other"] == 273
    e = v.entries
    assert e.filter(pl.col("programs") == "DPRK").height == 155
    omm = e.filter(pl.col("entry_id") == "KPe.020").row(0, named=True)
    assert omm["entity_type"] == "company"
    assert "East Sea Shipping Company" in json.loads(omm["aliases"])
    # the extract of the 22 DPRK shipping companies are all there, as companies
    extract = pl.read_csv(sanctions_dir / "un_dprk_shipping_entities.csv")
    got = e.filter(pl.col("entry_id").is_in(extract["reference_number"].to_list()))
    assert got.height == 22 and set(got["entity_type"]) == {"company"}


def test_un_1718_vessels_fixture():
    v = load_list(FIXTURES / "un_1718_vessels.csv", version_date="2024-03-01")
    assert v.kind == "un-1718-vessels" and v.counts() == {"vessel": 6}
    e = v.entries
    yu = e.filter(pl.col("name") == "YU SON").row(0, named=True)
    assert yu["imo"] == 8691702 and yu["imo_valid"] and yu["flag_iso2"] == "KP" and yu["programs"] == "UN 1718"
    assert "designated: 2018-03-30" in yu["remarks"]
    ccg = e.filter(pl.col("name") == "CHONG CHON GANG").row(0, named=True)
    assert ccg["owner"] == "Ocean Maritime Management Company, Limited"
    assert json.loads(ccg["aliases"]) == ["CHONGCHONGANG"]


def test_opensanctions_ftm_vessels_and_companies():
    v = load_list(FIXTURES / "opensanctions_vessels.ftm.json", version_date="2024-03-01")
    assert v.kind == "opensanctions"
    # the Sanction record is not an entity to screen
    assert v.counts() == {"company": 2, "vessel": 2}
    a = v.entries.filter(pl.col("entry_id") == "ofac-15036").row(0, named=True)
    assert a["imo"] == 9187629 and a["mmsi"] == 572469210 and a["callsign"] == "T2EU4" and a["flag_iso2"] == "IR"
    assert a["owner"] == "NATIONAL IRANIAN TANKER COMPANY"  # owner reference resolved to the company's name
    assert json.loads(a["former_names"]) == ["ALPHA"] and a["grt"] == 56068


def test_russia_dprk_vessels_of_interest_load_as_a_simple_csv(sanctions_dir):
    v = load_list(sanctions_dir / "russia_dprk_2024_vessels_of_interest.csv", version_date="2024-11-22")
    assert v.kind == "csv" and v.counts() == {"vessel": 13}
    e = v.entries
    assert e.filter(pl.col("imo").is_not_null()).height == 6
    un_hung = e.filter(pl.col("name") == "UN HUNG").row(0, named=True)
    assert json.loads(un_hung["aliases"]) == ["Eunheung"]
    assert set(e["flag_iso2"]) == {"KP"}


@pytest.mark.parametrize(
    "name, content, line, message",
    [
        ("sdn.csv", '1,"A","vessel","DPRK",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n2,"B","vessel","DPRK"\n', 2,
         "expected 12"),
        ("sdn.csv", '1,"A","vessel","DPRK",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \nX,"B","vessel","DPRK",-0- ,-0- ,'
         '-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n', 2, "ent_num"),
        ("list.csv", "name,imo\nYU SON,8691702\nCHON MA SAN,86603\n", 3, "7 digits"),
        ("list.csv", "name,imo\nYU SON,8691702\n,8660313\n", 3, "name is empty"),
        ("v.csv", "vessel_name,imo_number\nYU SON,8691702,extra\n", 2, "expected 2 columns"),
        ("e.json", '{"id": "a", "schema": "Vessel", "properties": {"name": ["A"]}}\n{"id": "b", "schema": \n', 2,
         "not a JSON object"),
        ("e.json", '{"id": "a", "schema": "Vessel", "properties": {"name": "A"}}\n', 1, "list of values"),
        ("un.xml", '<?xml version="1.0"?>\n<CONSOLIDATED_LIST dateGenerated="2026-01-01">\n<ENTITIES>\n<ENTITY>\n'
         "<FIRST_NAME>X</FIRST_NAME>\n</ENTITIES>\n", 6, "not well-formed"),
    ],
)
def test_malformed_file_names_file_and_line_and_saves_nothing(tmp_path, name, content, line, message):
    store = Store(tmp_path / "store")
    good = tmp_path / "good.csv"
    good.write_text("name,imo\nYU SON,8691702\n")
    bad = tmp_path / name
    bad.write_text(content)
    with pytest.raises(ShadowfleetError) as err:
        versions = [load_list(p) for p in (good, bad)]
        save_list(store, *versions)
    assert f"{bad}:{line}:" in str(err.value) and message in str(err.value)
    assert list_entries(store).height == 0 and loaded_lists(store).height == 0


def test_unknown_format_asks_for_kind(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello\n")
    with pytest.raises(ShadowfleetError, match="--kind"):
        detect_kind(p, p.read_bytes())


def test_same_version_twice_replaces_and_versions_are_kept_apart(tmp_path):
    store = Store(tmp_path / "store")
    p = tmp_path / "watch.csv"
    p.write_text("name,imo\nYU SON,8691702\nCHON MA SAN,8660313\n")
    save_list(store, load_list(p, version_date="2024-01-01"))
    save_list(store, load_list(p, version_date="2024-01-01"))
    assert list_entries(store).height == 2
    p.write_text("name,imo\nYU SON,8691702\n")
    save_list(store, load_list(p, version_date="2024-06-01"))
    shown = loaded_lists(store)
    assert shown.select("list_id", "entries", "current").rows() == [
        ("csv:watch@2024-01-01", 2, False),
        ("csv:watch@2024-06-01", 1, True),
    ]
    assert list_entries(store).height == 3




def test_cli_lists_load_and_show(tmp_path):
    store = tmp_path / "store"
    r = run_cli("lists", "load", str(FIXTURES / "un_1718_vessels.csv"), "--date", "2024-03-01", "--store", str(store))
    assert r.returncode == 0, r.stderr
    assert "UN 1718 vessels@2024-03-01: 6 entries (6 vessel)" in r.stderr
    r = run_cli("lists", "show", "--store", str(store))
    assert r.returncode == 0 and "UN 1718" in r.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("name,imo\nX,12\n")
    r = run_cli("lists", "load", str(bad), "--store", str(store))
    assert r.returncode == 1 and r.stderr.strip() == f"error: {bad}:2: IMO number must have 7 digits, got '12'"
