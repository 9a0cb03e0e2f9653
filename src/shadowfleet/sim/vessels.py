"""The simulated fleet: identities (MMSI with the flag's MID, IMO with a valid check digit, names, call signs)
and dimensions derived from deadweight."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shadowfleet.identity import imo_valid

# Flag -> MIDs (ITU Table of Maritime Identification Digits; docs/reference.md "Identity and flags").
FLAG_MIDS: dict[str, tuple[int, ...]] = {
    "RU": (273,), "KP": (445,), "PA": (351, 352, 353, 354, 355, 356, 357, 370, 371, 372, 373),
    "LR": (636,), "MH": (538,), "HK": (477,), "CN": (412, 413, 414), "KR": (440, 441), "JP": (431, 432),
    "SL": (667,), "TG": (671,), "KH": (514, 515), "MN": (457,), "FJ": (520,), "SG": (563, 564, 565),
}
# ITU call-sign prefixes (Radio Regulations Appendix 42), one series per flag; suffix made up.
CALLSIGN_PREFIX: dict[str, str] = {
    "RU": "UB", "KP": "HM", "PA": "3E", "LR": "A8", "MH": "V7", "HK": "VR", "CN": "BO", "KR": "DS", "JP": "JD",
    "SL": "9L", "TG": "5V", "KH": "XU", "MN": "JV", "FJ": "3D", "SG": "9V",
}
# AIS ship-type codes (ITU-R M.1371 Table 53).
SHIP_TYPE_CODE = {"tanker": 80, "cargo": 70, "container": 71, "bulk": 70, "fishing": 30, "tug": 52}

_WORDS_A = ("PACIFIC", "EASTERN", "GOLDEN", "OCEAN", "NORTH", "SEA", "BLUE", "GREAT", "SILVER", "BRIGHT", "PRIMORYE",
            "AMUR", "ZOLOTOY", "VOSTOK", "DALNY", "SAKHALIN", "HAN", "JIN", "HUA", "TIAN", "KOREA", "DONG", "HAI",
            "NIPPON", "SHIN", "MARU", "STAR", "GLORY", "LUCKY", "FORTUNE")
_WORDS_B = ("STAR", "PIONEER", "SPIRIT", "WAVE", "BRIDGE", "TRADER", "CARRIER", "EXPRESS", "HARMONY", "VOYAGER",
            "PRIDE", "HOPE", "LINK", "DAWN", "GLORY", "ROSE", "HORIZON", "PEARL", "BREEZE", "LEADER")


@dataclass
class Vessel:
    """One simulated ship. Times in the interval lists are unix seconds."""

    mmsi: int
    imo: int | None
    name: str
    callsign: str
    flag: str
    type: str
    role: str
    length: float
    beam: float
    dwt: float
    ship_type: int
    cls: str = "A"  # AIS transponder class
    speed_kn: float = 10.0
    ballast_draught: float = 3.0
    # filled by the scenario
    identities: list[dict] = field(default_factory=list)  # from, to, mmsi, name, imo, callsign, flag, ship_type
    off: list[tuple[float, float]] = field(default_factory=list)  # transponder off
    spoof: list[tuple[float, float, float, float]] = field(default_factory=list)  # a, b, fake lat, fake lon
    # false tracks broadcast instead of the true position (sim/falsetrack.py): dicts with a, b (unix s), kind
    # ("line" or "circle"), lat, lon (start or centre), north_kn, east_kn (line), radius_km, period_s (circle), label
    false_tracks: list[dict] = field(default_factory=list)
    draught: list[tuple[float, float]] = field(default_factory=list)  # (from, broadcast draught m; 0 = n/a)
    destination: list[tuple[float, str]] = field(default_factory=list)  # (from, destination text)
    track: object = None  # routes.Track
    params: dict = field(default_factory=dict)  # scenario-specific behaviour (e.g. draught_mode)
    stops: list = field(default_factory=list)  # routes.Stop


def imo_with_check(first6: int) -> int:
    """Seven-digit IMO number whose last digit is the check digit of the first six (IMO Res. A.1117(30))."""
    d = [int(c) for c in f"{first6:06d}"]
    check = sum(x * w for x, w in zip(d, range(7, 1, -1))) % 10
    imo = first6 * 10 + check
    assert imo_valid(imo)
    return imo


def dims_from_dwt(dwt: float, kind: str, rng: np.random.Generator) -> tuple[float, float]:
    """Length and beam (m) from deadweight: ours, L ~ k * dwt^(1/3) fitted by eye to small tankers (3,000 dwt ->
    ~85 m x 14 m), bulkers (60,000 dwt -> ~225 m x 32 m) and container ships; beam ~ L / 6.2 +/- 5%."""
    k = {"tanker": 5.9, "bulk": 5.7, "cargo": 5.9, "container": 7.2, "fishing": 6.5, "tug": 5.0}.get(kind, 6.0)
    length = k * dwt ** (1 / 3) * rng.uniform(0.95, 1.05)
    beam = length / rng.uniform(5.6, 6.6)
    return round(float(length), 1), round(float(beam), 1)


class IdentityFactory:
    """Made-up identities, unique within one run and never equal to a reserved (real) IMO or MMSI."""

    def __init__(self, rng: np.random.Generator, reserved_imos: set[int] = frozenset()):
        self.rng = rng
        self.used_mmsi: set[int] = set()
        self.used_imo: set[int] = set(reserved_imos)
        self.used_names: set[str] = set()

    def mmsi(self, flag: str) -> int:
        mids = FLAG_MIDS[flag]
        while True:
            m = int(mids[int(self.rng.integers(len(mids)))]) * 1_000_000 + int(self.rng.integers(100_000, 1_000_000))
            if m not in self.used_mmsi:
                self.used_mmsi.add(m)
                return m

    def imo(self) -> int:
        while True:
            # ours: made-up numbers in the 92xxxxx-97xxxxx block used for ships built 1990-2015
            imo = imo_with_check(int(self.rng.integers(920_000, 980_000)))
            if imo not in self.used_imo:
                self.used_imo.add(imo)
                return imo

    def name(self) -> str:
        while True:
            a = _WORDS_A[int(self.rng.integers(len(_WORDS_A)))]
            b = _WORDS_B[int(self.rng.integers(len(_WORDS_B)))]
            n = f"{a} {b}" if self.rng.random() < 0.5 else f"{a} {b} {int(self.rng.integers(1, 30))}"
            if n not in self.used_names and a != b:
                self.used_names.add(n)
                return n

    def callsign(self, flag: str) -> str:
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        tail = "".join(letters[int(i)] for i in self.rng.integers(0, 26, 2)) + str(int(self.rng.integers(1, 10)))
        return (CALLSIGN_PREFIX.get(flag, "XX") + tail)[:7]


def tpc_tonnes_per_cm(length: float, beam: float, cwp: float, rho: float) -> float:
    """Tonnes per centimetre immersion: water-plane area (L x B x Cwp) x density / 100."""
    return length * beam * cwp * rho / 100.0
