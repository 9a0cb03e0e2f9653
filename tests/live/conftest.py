"""Shared by the live tests: a simulated March feed (NMEA as receivers log it) and AIS messages encoded for a test
(ITU-R M.1371 bit layouts, through the simulator's encoder)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from shadowfleet.sim.nmea import armour, position_bits, static_bits, xor_str


@pytest.fixture(scope="session")
def feed_file(tmp_path_factory) -> tuple[Path, Path]:
    """Four days of the March scenario around the first dark calls at Vostochny (6-10 March, seed 2024)."""
    from shadowfleet.sim import simulate

    d = tmp_path_factory.mktemp("sim")
    simulate("vostochny-2024-03", out=d, seed=2024, days=10)
    lo, hi = 1709683200, 1710028800  # 2024-03-06 .. 2024-03-10 UTC
    keep, out = False, []
    for ln in (d / "ais.nmea").read_text().splitlines(keepends=True):
        m = re.search(r"c:(\d+)", ln)
        if m:
            keep = lo <= int(m.group(1)) < hi
        if keep:
            out.append(ln)
    (d / "feed.nmea").write_text("".join(out))
    return d / "feed.nmea", d / "places.geojson"


def _one(v) -> np.ndarray:
    return np.array([v], dtype=np.int64)


def _tagged(tag: str, sentence: str) -> str:
    return f"\\{tag}*{xor_str(tag):02X}\\!{sentence}*{xor_str(sentence):02X}\n"


def type5_lines(ident: dict, ts: int, draught: float, group: int) -> list[str]:
    """A two-sentence type-5 message of the vessel ``ident`` (a static row: mmsi, imo, callsign, name, ship_type,
    length, beam) broadcasting ``draught``, heard at ``ts`` (unix s)."""
    half, beam = int(ident["length"] // 2), int(ident["beam"])
    bits = static_bits(_one(ident["mmsi"]), _one(ident["imo"]), [ident["callsign"]], [ident["name"]],
                       _one(ident["ship_type"]), _one(half), _one(int(ident["length"]) - half), _one(beam // 2),
                       _one(beam - beam // 2), _one(0), _one(0), _one(24), _one(60), np.array([draught]), [""])
    chars, fill = armour(bits)
    payload = chars[0].tobytes().decode()
    out = []
    for part, (text, f) in enumerate(((payload[:60], 0), (payload[60:], fill)), start=1):
        tag = f"g:{part}-2-{group}" + (f",s:RU-NAKHODKA,c:{ts}" if part == 1 else "")
        out.append(_tagged(tag, f"AIVDM,2,{part},{group % 10},A,{text},{f}"))
    return out


def position_line(mmsi: int, ts: int, lat: float, lon: float, sog: float = 0.0) -> str:
    """A type-1 position report heard at ``ts`` (unix s) by a shore station."""
    bits = position_bits(_one(1), _one(mmsi), _one(5 if sog < 0.5 else 0), _one(0), np.array([sog]), _one(0),
                         np.array([lon]), np.array([lat]), np.array([0.0]), _one(511), _one(ts % 60), _one(0),
                         class_b=False)
    chars, fill = armour(bits)
    return _tagged(f"s:RU-NAKHODKA,c:{ts}", f"AIVDM,1,1,,A,{chars[0].tobytes().decode()},{fill}")


def insert_by_time(lines: list[str], extra: dict[int, list[str]]) -> list[str]:
    """``lines`` (a feed in time order) with the messages of ``extra`` (time -> lines) each put before the first
    line heard at or after its time."""
    out, extra = [], dict(extra)
    for ln in lines:
        m = re.search(r"c:(\d+)", ln)
        for t in sorted(t for t in extra if m and int(m.group(1)) >= t):
            out += extra.pop(t)
        out.append(ln)
    for t in sorted(extra):
        out += extra[t]
    return out
