"""A small real store on disk, written through the Store API the way ingest writes it."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from shadowfleet.store import Store

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 3, 7, 6, 0, tzinfo=UTC)

TANKER = 445000001  # DPRK flag by MID
CLASS_B = 273000001  # Russian class B, identity in two halves (type 24 A and B)
RU_SHIP = 273456780  # positions only, never sent static
BAD_MID = 217000001  # MID 217 is not allocated


def h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def static_rows() -> pl.DataFrame:
    rows = [
        # the tanker: loaded between 02:00 and 30:00 (draught 5.2 -> 8.9), renamed at 48:00, IMO unchanged
        dict(mmsi=TANKER, ts=h(0), msg_type=5, imo=8691702, name="YU SON@@@@@@@@", callsign="HMYS", ship_type=80,
             length=105.0, beam=16.0, draught=5.2, destination="VOSTOCHNY@@", ais_class="A", dup_key=1),
        dict(mmsi=TANKER, ts=h(2), msg_type=5, imo=8691702, name="YU SON", callsign="HMYS", ship_type=80,
             length=105.0, beam=16.0, draught=5.2, destination="VOSTOCHNY", ais_class="A", dup_key=2),
        dict(mmsi=TANKER, ts=h(30), msg_type=5, imo=8691702, name="YU SON", callsign="HMYS", ship_type=80,
             length=105.0, beam=16.0, draught=8.9, destination="CHONGJIN", ais_class="A", dup_key=3),
        dict(mmsi=TANKER, ts=h(48), msg_type=5, imo=8691702, name="  KUM  UN SAN ", callsign="HMYS", ship_type=80,
             length=105.0, beam=16.0, draught=8.9, destination="CHONGJIN", ais_class="A", dup_key=4),
        dict(mmsi=TANKER, ts=h(49), msg_type=5, imo=8691702, name="KUM UN SAN", callsign="HMYS", ship_type=80,
             length=105.0, beam=16.0, draught=0.0, destination=None, ais_class="A", dup_key=5),
        # class B: part B first, then part A, then both again
        dict(mmsi=CLASS_B, ts=h(1), msg_type=24, part="B", callsign="UBX7", ship_type=37, length=12.0, beam=4.0,
             ais_class="B", dup_key=10),
        dict(mmsi=CLASS_B, ts=h(1.01), msg_type=24, part="A", name="MORYAK@@@@", ais_class="B", dup_key=11),
        dict(mmsi=CLASS_B, ts=h(7), msg_type=24, part="A", name="MORYAK", ais_class="B", dup_key=12),
        dict(mmsi=CLASS_B, ts=h(7.01), msg_type=24, part="B", callsign="UBX7", ship_type=37, length=12.0,
             beam=4.0, ais_class="B", dup_key=13),
    ]
    return pl.DataFrame(rows, infer_schema_length=None).with_columns(pl.lit("fixture").alias("source"))


def position_rows() -> pl.DataFrame:
    rows = []
    key = 100
    for mmsi, n, lat0, lon0 in [(TANKER, 6, 42.74, 133.07), (RU_SHIP, 4, 42.80, 132.90), (BAD_MID, 2, 40.0, 130.0)]:
        for i in range(n):
            key += 1
            rows.append(dict(mmsi=mmsi, ts=h(i), lat=lat0 + 0.01 * i, lon=lon0 + 0.02 * i, sog=0.1 * i,
                             msg_type=1, ais_class="A", receiver="r1", n_receivers=1, dup_key=key, source="fixture"))
    # the tanker's first two reports heard again by a second receiver 2 s later: the same transmissions
    for i in range(2):
        rows.append({**rows[i], "ts": h(i) + dt.timedelta(seconds=2), "receiver": "r2"})
    return pl.DataFrame(rows)


def build_store(root) -> Store:
    s = Store(root)
    s.append("static", static_rows(), batch="fixture")
    s.append("positions", position_rows(), batch="fixture")
    s.append("rejects", pl.DataFrame({"ts": [h(0), None, h(1)], "reason": ["bad_checksum", "no_time", "bad_checksum"],
                                      "source": ["fixture"] * 3, "line": [3, 9, 12], "raw": ["!AIVDM,x", "y", "z"]}),
             batch="fixture")
    return s


@pytest.fixture
def store(tmp_path) -> Store:
    return build_store(tmp_path / "store")
