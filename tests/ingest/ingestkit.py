"""Helpers for the ingest tests: real AIS sentences encoded with pyais, with tag blocks and checksums."""

from __future__ import annotations

from functools import reduce
from operator import xor

import pyais


def checksum(body: str) -> str:
    return f"{reduce(xor, body.encode(), 0):02X}"


def sentences(talker: str = "AI", seq_id: int = 0, **fields) -> list[str]:
    """NMEA sentences (as !AIVDM) for one AIS message, e.g. sentences(type=1, mmsi=..., lat=..., lon=...)."""
    out = pyais.encode_dict(fields, talker_id=talker, seq_id=seq_id)
    return [s.replace("VDO,", "VDM,", 1)[:-2] + checksum(s.replace("VDO,", "VDM,", 1)[1:-3]) for s in out]


def position(mmsi: int = 244660274, lat: float = 42.75, lon: float = 133.08, speed: float = 0.1, **kw) -> str:
    return sentences(type=1, mmsi=mmsi, lat=lat, lon=lon, speed=speed, course=90, heading=91, **kw)[0]


def tagged(sentence: str, unix: float | None = None, receiver: str | None = None, group: str | None = None) -> str:
    parts = []
    if group:
        parts.append(f"g:{group}")
    if receiver:
        parts.append(f"s:{receiver}")
    if unix is not None:
        parts.append(f"c:{int(unix)}")
    body = ",".join(parts)
    return f"\\{body}*{checksum(body)}\\{sentence}"


def pghp(year, month, day, hour, minute, second, ms) -> str:
    body = f"PGHP,1,{year},{month},{day},{hour},{minute},{second},{ms},219,,2190047,1,00"
    return f"${body}*{checksum(body)}"


def corrupt_checksum(sentence: str) -> str:
    cs = sentence[-2:]
    return sentence[:-2] + ("00" if cs != "00" else "01")


def reseal(sentence: str) -> str:
    """Recompute the checksum after editing a sentence by hand."""
    body = sentence[1 : sentence.rindex("*")]
    return f"{sentence[0]}{body}*{checksum(body)}"
