"""Scenarios registered by name: each builds the fleet, its voyages and its evasion on a Context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from shadowfleet.sim.scenarios import nampo, spoofing, vostochny
from shadowfleet.sim.scenarios.common import Context, background


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    build: Callable[[Context, int], None]
    start: str  # ISO date
    days: float
    vessels: int  # background vessels
    sites: tuple[tuple[str, float, float], ...]  # imagery sites (name, lat, lon)
    bbox: tuple[float, float, float, float]  # lat0, lat1, lon0, lon1 of the places written out


def _baseline(ctx: Context, n: int) -> None:
    background(ctx, n, ["east", "west"])


SCENARIOS: dict[str, Scenario] = {}


def register(s: Scenario) -> None:
    SCENARIOS[s.name] = s


register(Scenario(
    "vostochny-2024-03",
    "March 2024: DPRK tankers load refined petroleum at a Vostochny oil berth with AIS off and unload at "
    "Chongjin/Rajin, among Russian Far East traffic",
    vostochny.build, "2024-03-01", 31, 220,
    (("Vostochny", 42.745, 133.05), ("Chongjin", 41.76, 129.83)), (41.0, 44.0, 129.0, 140.0)))
register(Scenario(
    "nampo-sts",
    "Yellow Sea / Korea Bay: foreign-flagged tankers load in China, go dark and transfer to DPRK tankers off Nampo "
    "(identity laundering, flag hopping); DPRK tankers discharge at Nampo",
    nampo.build, "2024-03-01", 30, 200,
    (("Nampo", 38.66, 125.2), ("Dalian", 38.93, 121.7)), (36.5, 41.0, 117.0, 127.0)))
register(Scenario(
    "baseline",
    "Background traffic only in the Sea of Japan and the Yellow Sea: no violations (false-positive rates)",
    _baseline, "2024-03-01", 14, 200,
    (("Vostochny", 42.745, 133.05), ("Dalian", 38.93, 121.7)), (34.0, 44.0, 117.0, 140.0)))
register(Scenario(
    "spoofing",
    "Background traffic with planted spoofing (spliced false stretches, circles, a track across land, positions "
    "beyond the hearing receiver) and honest traps (a 36 kn fast ferry, a satellite feed stamped 40 min late)",
    spoofing.build, "2024-03-01", 10, 120,
    (("Vostochny", 42.745, 133.05), ("Dalian", 38.93, 121.7)), (34.0, 44.0, 117.0, 140.0)))


def get(name: str) -> Scenario:
    from shadowfleet.errors import ShadowfleetError

    if name not in SCENARIOS:
        raise ShadowfleetError(f"unknown scenario {name!r}; choose one of: {', '.join(SCENARIOS)}")
    return SCENARIOS[name]
