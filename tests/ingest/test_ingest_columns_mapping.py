"""A user's --columns mapping wins over the format recognised from the header (no flavour-specific columns needed)."""

from shadowfleet.ingest import ingest
from shadowfleet.store import Store
from shared_data import shared_file


def test_columns_mapping_on_an_aisdb_csv_uses_only_the_mapped_columns(tmp_path):
    path = shared_file("ais/aisdb_test_data_20210701.csv")
    store = Store(tmp_path / "s")
    rep = ingest([path], store, fmt="csv", columns="mmsi=MMSI,ts=Time,lat=Latitude,lon=Longitude,sog=SOG")
    pos = store.read("positions")
    assert rep.accepted > 2000 and pos.height > 2000
    assert pos["sog"].drop_nulls().len() > 0
    assert store.read("static").height == 0  # nothing mapped to static fields
