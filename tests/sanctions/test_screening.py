"""Screening precision on a constructed registry of true positives, look-alike names and common names."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from clirunner import run_cli
from shadowfleet.errors import ShadowfleetError
from shadowfleet.sanctions import ScreeningConfig, load_list, save_list
from shadowfleet.sanctions.screen import screen
from shadowfleet.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
T0 = dt.datetime(2024, 3, 7, tzinfo=dt.timezone.utc)

# (mmsi, name as broadcast, IMO, call sign, AIS ship type, days after T0)
REGISTRY = [
    # true positives
    (445000001, "YU SON", 8691702, None, 80, 0),  # IMO and name of a listed tanker
    (445000003, "PAEKYANGSAN 1", None, None, 80, 0),  # spacing variant, DPRK MID
    (445000005, "RYE SONG KANG 1@@@", None, None, 80, 0),  # romanisation variant (G/K) and '@' padding
    (445000007, "KUM UN SAN NO.3", None, None, 80, 0),  # "NO." before the number
    (572469210, "ARTAVIL", None, None, 80, 0),  # listed MMSI (OFAC remarks)
    (511000001, "OCEAN DREAM", None, None, 80, 0),  # Palau-flagged tanker renamed to a listed name
    (511000001, "SAM MA 2", None, None, 80, 5),
    (445000009, "PAEK MA GANG", None, None, 70, 0),  # McCune-Reischauer vs listed BAEK MA KANG (P/B, G/K)
    # identity laundering: a listed IMO under another name
    (445000002, "SHIP A", 8691702, None, 80, 0),
    # look-alikes that must not match
    (445000004, "KUM UN SAN 2", None, None, 80, 0),  # listed: KUM UN SAN 3 and KUM UN SAN (other numbers)
    (445000006, "SAM MA 3", None, None, 80, 0),  # listed: SAM MA 2
    (538000001, "CHON MA SAN", None, None, 70, 0),  # listed name, but Marshall Islands cargo ship: no corroboration
    (445000008, "TIGER", 8691703, None, 80, 0),  # one digit off a listed IMO: fails the check digit
    (211000001, "SEAGULL", None, "CL2685", 70, 0),  # a listed call sign (HERMANN, Cuba) alone
    # common names
    (273000001, "NEPTUN", 9074729, None, 80, 0),  # listed name, same flag and type, but its own valid IMO
    (273000002, "NEPTUN", None, None, 70, 0),  # listed name and flag, other type
    (273000003, "PATRIOT", None, None, 0, 0),  # listed name and flag only
    (636000001, "PATRIOT", None, None, 80, 0),  # Liberian tanker PATRIOT
]


def _static():
    return pl.DataFrame(
        {
            "mmsi": [r[0] for r in REGISTRY],
            "ts": [T0 + dt.timedelta(days=r[5]) for r in REGISTRY],
            "msg_type": [5] * len(REGISTRY),
            "name": [r[1] for r in REGISTRY],
            "imo": [r[2] for r in REGISTRY],
            "callsign": [r[3] for r in REGISTRY],
            "ship_type": [r[4] for r in REGISTRY],
        }
    )


@pytest.fixture(scope="module")
def screened(tmp_path_factory, shared_data):
    sd = shared_data / "sanctions"
    if not sd.is_dir():
        pytest.skip("shared sanctions data not found")
    store = Store(tmp_path_factory.mktemp("screen") / "store")
    save_list(
        store,
        load_list(sd / "ofac_sdn_2021-07.csv", version_date="2021-07-01"),
        load_list(sd / "russia_dprk_2024_vessels_of_interest.csv", version_date="2024-11-22"),
        load_list(FIXTURES / "un_1718_vessels.csv", version_date="2024-03-01"),
    )
    store.append("static", _static(), batch="registry")
    return store, screen(store)


def _hits(df, mmsi):
    return df.filter((pl.col("mmsi") == mmsi) & pl.col("match_on").is_not_null())


def test_true_positives_are_found_with_the_right_entry(screened):
    _, df = screened
    expected = {
        445000001: ("YU SON", "imo"),
        445000003: ("PAEK YANG SAN 1", "name"),
        445000005: ("RYE SONG GANG 1", "name"),
        445000007: ("KUM UN SAN 3", "name"),
        572469210: ("ARTAVIL", "mmsi"),
        511000001: ("SAM MA 2", "name"),
        445000002: ("YU SON", "imo"),
        445000009: ("BAEK MA KANG", "name"),
    }
    for mmsi, (entry, on) in expected.items():
        h = _hits(df, mmsi)
        assert h.height > 0, mmsi
        assert set(h["entry_name"]) == {entry}, (mmsi, h["entry_name"].to_list())
        assert on in set(h["match_on"]), (mmsi, h["match_on"].to_list())


def test_look_alikes_and_common_names_alone_do_not_match(screened):
    _, df = screened
    for mmsi in (445000004, 445000006, 538000001, 445000008, 211000001, 273000001, 273000002, 273000003, 636000001):
        assert _hits(df, mmsi).height == 0, (mmsi, _hits(df, mmsi).select("entry_name", "explanation").rows())


def test_precision_and_recall_on_the_constructed_registry(screened):
    _, df = screened
    positives = {445000001, 445000003, 445000005, 445000007, 572469210, 511000001, 445000002, 445000009}
    flagged = set(df.filter(pl.col("match_on").is_not_null())["mmsi"].to_list())
    assert flagged == positives  # precision 1.0, recall 1.0 here


def test_name_hit_needs_corroboration_from_the_list_entry(screened):
    _, df = screened
    # SAM MA 2 under Palau flag: only the UN 1718 entry gives a type (Oil Tanker) to corroborate; OFAC gives none
    h = _hits(df, 511000001)
    assert h["list_id"].to_list() == ["UN 1718 vessels@2024-03-01"]
    assert "corroborated by type tanker" in h["explanation"][0]


def test_imo_under_another_name_is_flagged_as_possible_laundering(screened):
    _, df = screened
    ship_a = _hits(df, 445000002)
    assert ship_a["laundering_suspected"].all()
    ofac = ship_a.filter(pl.col("list_id") == "OFAC SDN@2021-07-01").row(0, named=True)
    assert ofac["explanation"].startswith("IMO 8691702 broadcast by MMSI 445000002 (as 'SHIP A'")
    assert "listed by OFAC SDN 2021-07-01 as YU SON [DPRK4]" in ofac["explanation"]
    assert "broadcast name SHIP A differs: possible identity laundering" in ofac["explanation"]
    assert ofac["score"] == 90
    yu = _hits(df, 445000001)
    assert not yu["laundering_suspected"].any() and set(yu["score"]) == {100.0}


def test_every_hit_names_its_list_version(screened):
    store, df = screened
    hits = df.filter(pl.col("match_on").is_not_null())
    versions = dict(pl.read_parquet(store.files("list_entries")).select("list_id", "version_date").unique().iter_rows())
    assert hits.height > 0
    for r in hits.iter_rows(named=True):
        assert versions[r["list_id"]] == r["version_date"]
        assert r["version_date"] in r["explanation"]
        assert 0 < r["score"] <= 100


def test_risk_reasons_per_vessel(screened):
    _, df = screened
    risk = {m: (r, {x["reason"] for x in json.loads(j)}) for m, r, j in df.select("mmsi", "risk", "risk_reasons").unique().rows()}
    assert risk[445000002][1] == {"list_hit", "laundering_suspected", "dprk_owner", "dprk_mid"}
    assert risk[445000002][0] == 100  # capped
    assert risk[511000001][1] == {"list_hit", "identity_change"}
    # a DPRK MID without a list hit still carries risk, on a row without a list
    row = df.filter(pl.col("mmsi") == 445000004).row(0, named=True)
    assert row["list_id"] is None and row["risk"] == 30 and "MID 445" in row["explanation"]
    assert 273000001 not in risk  # nothing to say about it


def test_screening_table_is_written(screened):
    store, df = screened
    back = pl.read_parquet(store.files("screening"))
    assert back.height == df.height
    assert {"mmsi", "list_id", "version_date", "entry_id", "entry_name", "match_on", "score", "explanation",
            "laundering_suspected", "risk", "risk_reasons"} <= set(back.columns)


def test_past_designation_raises_risk(tmp_path):
    store = Store(tmp_path / "store")
    p = tmp_path / "watch.csv"
    p.write_text("name,imo,flag\nCHON MA SAN,8660313,KP\nYU SON,8691702,KP\n")
    save_list(store, load_list(p, version_date="2023-01-01"))
    p.write_text("name,imo,flag\nYU SON,8691702,KP\n")  # CHON MA SAN delisted
    save_list(store, load_list(p, version_date="2024-01-01"))
    store.append("static", pl.DataFrame({"mmsi": [352000001], "ts": [T0], "msg_type": [5], "name": ["CHON MA SAN"],
                                         "imo": [8660313], "ship_type": [80]}), batch="b")
    df = screen(store)
    assert df["list_id"].to_list() == ["csv:watch@2023-01-01"] and not df["current_version"][0]
    reasons = {x["reason"] for x in json.loads(df["risk_reasons"][0])}
    assert reasons == {"past_designation"}


def test_a_stricter_config_drops_weaker_hits(screened):
    store, df = screened
    strict = screen(store, ScreeningConfig(min_report_score=70))
    weak = df.filter(pl.col("match_on").is_not_null() & (pl.col("score") < 70))
    assert weak.height > 0
    assert strict.filter(pl.col("match_on").is_not_null())["score"].min() >= 70
    screen(store)  # leave the module's store as it was


def test_screen_without_lists_is_a_clear_error(tmp_path):
    store = Store(tmp_path / "store")
    with pytest.raises(ShadowfleetError, match="no sanctions lists"):
        screen(store)


def test_cli_screen(screened):
    store, _ = screened
    r = run_cli("screen", "--store", store.root)
    assert r.returncode == 0, r.stderr
    assert "445000002" in r.stdout and "list hits" in r.stderr


def test_toml_overrides_screening_defaults_and_rejects_unknown_keys(tmp_path):
    from shadowfleet.sanctions import screening_config

    p = tmp_path / "cfg.toml"
    p.write_text("[sanctions.screening]\nname_min_similarity = 95\n")
    assert screening_config(p).name_min_similarity == 95 and screening_config(None) == ScreeningConfig()
    p.write_text("[sanctions.screening]\nname_similarity = 95\n")
    with pytest.raises(ShadowfleetError, match="name_similarity"):
        screening_config(p)


def test_store_without_static_reports_gives_an_empty_screening(tmp_path):
    store = Store(tmp_path / "store")
    save_list(store, load_list(FIXTURES / "un_1718_vessels.csv", version_date="2024-03-01"))
    df = screen(store)
    assert df.height == 0 and "explanation" in df.columns


def test_real_danish_traffic_gives_no_hit_until_a_listed_tanker_appears(tmp_path, shared_data):
    """1,500 real vessels (DMA sample, 2013) against the real OFAC and UN lists: nothing to report; then one static
    report of YU SON with its IMO is added and exactly that vessel is found."""
    ais = shared_data / "ais" / "dma_aisabnormal_ais-sample_20131112.txt.gz"
    if not ais.exists():
        pytest.skip("DMA AIS sample not found")
    store_dir = tmp_path / "store"
    r = run_cli("ingest", ais, "--store", store_dir, "-q")
    assert r.returncode == 0, r.stderr
    store = Store(store_dir, create=False)
    sd = shared_data / "sanctions"
    save_list(store, load_list(sd / "ofac_sdn_2021-07.csv", version_date="2021-07-01"),
              load_list(sd / "un_consolidated_2026-02-27.xml"))
    df = screen(store)
    assert df.filter(pl.col("match_on").is_not_null()).height == 0
    store.append("static", pl.DataFrame({"mmsi": [445111222], "ts": [T0], "msg_type": [5], "name": ["YU SON"],
                                         "imo": [8691702], "ship_type": [80]}), batch="yu-son")
    hits = screen(store).filter(pl.col("match_on").is_not_null())
    assert hits.select("mmsi", "entry_name", "match_on", "score").rows() == [(445111222, "YU SON", "imo", 100.0)]
