"""Every sentence the simulator writes decodes with pyais (except the ones it damaged on purpose), and the
vectorised encoder round-trips its fields through pyais."""

from __future__ import annotations

import re

import numpy as np
import pyais
import pytest
from pyais.exceptions import InvalidNMEAChecksum

from shadowfleet.sim import nmea

TAG = re.compile(r"^\\(?P<tag>[^*]*)\*(?P<cs>[0-9A-F]{2})\\(?P<sentence>!AIVDM,.*)$")


def _checksum_ok(sentence: str) -> bool:
    body, cs = sentence[1:].split("*")
    return nmea.xor_str(body) == int(cs, 16)


def test_every_sentence_is_framed_and_all_but_the_damaged_decode(small_run):
    out, summary, truth = small_run
    lines = (out / "ais.nmea").read_text().splitlines()
    assert len(lines) == summary.lines == truth["totals"]["nmea_lines"]
    bad_checksum = 0
    types: dict[int, int] = {}
    decoded = 0
    pending: dict[str, str] = {}
    rng = np.random.default_rng(0)
    sample = set(rng.choice(len(lines), size=min(len(lines), 6000), replace=False).tolist())
    for i, line in enumerate(lines):
        m = TAG.match(line)
        assert m, line
        tag = m["tag"]
        assert nmea.xor_str(tag) == int(m["cs"], 16), line  # tag block checksum
        sentence = m["sentence"]
        if not _checksum_ok(sentence):
            bad_checksum += 1
            pending.pop(tag.split(",")[0], None)
            continue
        fields = dict(kv.split(":", 1) for kv in tag.split(","))
        if "g" in fields:
            part, total, gid = fields["g"].split("-")
            if part == "1":
                assert "s" in fields and "c" in fields
                pending[gid] = sentence
                continue
            first = pending.pop(gid, None)
            if first is None:
                continue  # first half damaged
            if i not in sample and len(types) >= 5:
                continue
            msg = pyais.decode(first, sentence)
        else:
            assert int(fields["c"]) > 1_600_000_000
            if i not in sample:
                continue
            msg = pyais.decode(sentence)
        types[msg.msg_type] = types.get(msg.msg_type, 0) + 1
        decoded += 1
    assert decoded >= 2000
    assert {1, 3, 5, 18, 24} <= set(types), types
    assert bad_checksum == summary.corrupt_lines > 0


def test_damaged_sentences_are_rejected_by_pyais(small_run):
    out, _, _ = small_run
    for line in (out / "ais.nmea").read_text().splitlines():
        sentence = line.split("\\")[2]
        if not _checksum_ok(sentence) and sentence.startswith("!AIVDM,1,1"):
            with pytest.raises(InvalidNMEAChecksum):
                pyais.decode(sentence, error_if_checksum_invalid=True)
            return
    pytest.fail("no damaged single-sentence message found")


def _frame(payload: str, fill: int = 0) -> str:
    body = f"AIVDM,1,1,,A,{payload},{fill}"
    return f"!{body}*{nmea.xor_str(body):02X}"


def test_position_encoder_round_trips_through_pyais():
    rng = np.random.default_rng(3)
    n = 500
    f = {
        "msgtype": rng.choice([1, 3], n), "mmsi": rng.integers(200_000_000, 775_999_999, n),
        "status": rng.choice([0, 1, 5, 7], n), "rot": rng.choice([0, -128], n),
        "sog": np.round(rng.uniform(0, 102.2, n), 1), "accuracy": rng.integers(0, 2, n),
        "lon": np.round(rng.uniform(-180, 180, n), 4), "lat": np.round(rng.uniform(-90, 90, n), 4),
        "cog": np.round(rng.uniform(0, 359.9, n), 1), "heading": rng.integers(0, 360, n),
        "second": rng.integers(0, 60, n), "radio": rng.integers(0, 1 << 19, n),
    }
    ch, fill = nmea.armour(nmea.position_bits(**f, class_b=False))
    assert fill == 0 and ch.shape == (n, 28)
    for i, payload in enumerate(nmea.payload_strings(ch)):
        m = pyais.decode(_frame(payload))
        assert m.msg_type == f["msgtype"][i] and m.mmsi == f["mmsi"][i] and m.status == f["status"][i]
        assert m.speed == pytest.approx(f["sog"][i], abs=0.051)
        assert m.lon == pytest.approx(f["lon"][i], abs=1e-4) and m.lat == pytest.approx(f["lat"][i], abs=1e-4)
        assert m.course == pytest.approx(f["cog"][i], abs=0.051)
        assert m.heading == f["heading"][i] and m.second == f["second"][i] and m.radio == f["radio"][i]
        # and the payload is the one pyais itself encodes from the same fields
        if i < 50:
            ref = pyais.encode_dict({"msg_type": int(f["msgtype"][i]), "mmsi": int(f["mmsi"][i]),
                                     "status": int(f["status"][i]), "turn": -128 if f["rot"][i] == -128 else 0,
                                     "speed": float(f["sog"][i]), "accuracy": int(f["accuracy"][i]),
                                     "lon": float(f["lon"][i]), "lat": float(f["lat"][i]),
                                     "course": float(f["cog"][i]), "heading": int(f["heading"][i]),
                                     "second": int(f["second"][i]), "radio": int(f["radio"][i]),
                                     "maneuver": 0})
            assert pyais.decode(*ref).asdict() == m.asdict()


def test_class_b_and_static_encoders_round_trip_through_pyais():
    mmsi = np.array([412345678, 445000111])
    ch, _ = nmea.armour(nmea.position_bits(None, mmsi, None, None, np.array([3.2, 0.0]), np.array([1, 0]),
                                           np.array([125.1234, 121.5]), np.array([38.5, 38.9]),
                                           np.array([200.5, 0.0]), np.array([511, 511]), np.array([7, 59]),
                                           np.array([0, 1]), class_b=True))
    m = pyais.decode(_frame(nmea.payload_strings(ch)[0]))
    assert (m.msg_type, m.mmsi, m.speed, m.lon, m.lat, m.course) == (18, 412345678, 3.2, 125.1234, 38.5, 200.5)

    ch, fill = nmea.armour(nmea.static_bits(
        mmsi, np.array([8691702, 0]), ["HMYS1", "UBAB3"], ["YU SON", "pacific star 7"], np.array([80, 70]),
        np.array([45, 100]), np.array([40, 90]), np.array([7, 15]), np.array([7, 15]), np.array([3, 0]),
        np.array([9, 0]), np.array([12, 24]), np.array([30, 60]), np.array([5.4, 0.0]), ["CHONGJIN", ""]))
    assert ch.shape[1] == 71 and fill == 2
    for i, p in enumerate(nmea.payload_strings(ch)):
        b1 = f"AIVDM,2,1,3,B,{p[:60]},0"
        b2 = f"AIVDM,2,2,3,B,{p[60:]},2"
        m = pyais.decode(f"!{b1}*{nmea.xor_str(b1):02X}", f"!{b2}*{nmea.xor_str(b2):02X}")
        assert m.mmsi == mmsi[i]
        assert m.shipname == ["YU SON", "PACIFIC STAR 7"][i]
        assert m.imo == [8691702, 0][i] and m.draught == [5.4, 0.0][i]
        assert m.destination == ["CHONGJIN", ""][i] and m.to_bow == [45, 100][i]
    ch, _ = nmea.armour(nmea.static_b_bits(mmsi, 0, name=["LUCKY STAR", "A"]))
    assert pyais.decode(_frame(nmea.payload_strings(ch)[0])).shipname == "LUCKY STAR"
    ch, _ = nmea.armour(nmea.static_b_bits(mmsi, 1, ship_type=np.array([30, 30]), callsign=["BOAB1", "X"],
                                           bow=np.array([10, 1]), stern=np.array([12, 1]), port=np.array([3, 1]),
                                           starboard=np.array([3, 1])))
    m = pyais.decode(_frame(nmea.payload_strings(ch)[0]))
    assert (m.partno, m.ship_type, m.callsign, m.to_bow, m.to_stern) == (1, 30, "BOAB1", 10, 12)
