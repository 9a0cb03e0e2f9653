"""Matching tolerances of `evaluate`: when does a stored event count as finding a true one.

Override from TOML under ``[evaluate]``, e.g.::

    [evaluate]
    min_time_tolerance_s = 3600

How the truth is defined (docs/CONTRACTS.md, truth.json): the simulator computes its events from the true
trajectories with the same definitions as detection. ``visible`` = detectable from the AIS that was emitted and
received (inference included); ``inferred`` = AIS was off during the event, so only an inference (e.g. the dark
port call rule: a gap that starts and ends at the same place) can find it. Invisible events are counted apart and
left out of recall; a detection that matches one is not a false positive.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EvalConfig:
    # Time. A detection matches a true event when their intervals overlap, or when their starts are within
    # max(min_time_tolerance_s, time_tolerance_frac x true duration).
    # ours: 30 min = three 10-min resampling steps (the encounter grid, GFW pipe-encounters) and half the 1 h
    # minimum stop of a port call (docs/reference.md), so boundary jitter of a few reports never splits a match, while
    # two port calls of one vessel (separated by a voyage of hours) cannot be confused.
    min_time_tolerance_s: float = 1800.0
    # ours: a quarter of the true duration lets a long event (a 3-day dark port call) start a few hours off
    # (the first position after an AIS gap) and still match; a quarter keeps consecutive events apart.
    time_tolerance_frac: float = 0.25

    # Place. Compared only for these types, where the contract gives a place id (CONTRACTS.md: "place id for
    # port_call else null"). Same id, or one place inside the other (a berth inside its port: RUVYP-OIL in RUVYP):
    # a detection at port level still found the call; how many were exact is reported as `place_exact`.
    place_types: tuple[str, ...] = ("port_call",)

    # Vessel. ours: match on the vessel, not only the broadcast MMSI: the truth lists every MMSI a vessel used
    # (truth.json vessels[].identities), and detection can only know the MMSI on the air at the time.
    match_vessel_identities: bool = True

    # Cases vs truth voyages: the load overlaps the true load or starts within this tolerance of it; the discharge
    # starts between the true load and this long after the true discharge ended (the same trip: a dark discharge
    # is only seen when AIS returns). ours: a load is hours to days at a berth; 6 h absorbs a dark load whose inferred
    # interval is bounded by the positions around the AIS gap, and is far shorter than a round trip
    # (Vostochny-Chongjin 157 nm, docs/reference.md: about a day each way at 7 kn).
    case_time_tolerance_s: float = 6 * 3600.0
    # UNSCR 2397 OP5: the 500,000-bbl cap is on refined petroleum delivered to the DPRK, and the truth's
    # totals.barrels_delivered_by_month count voyages to it. Cases bound elsewhere (legitimate trade the truth does
    # not list) are neither false cases nor part of the monthly ledger; cases without a destination_country
    # column are all taken as claims.
    ledger_country: str = "KP"


DEFAULT = EvalConfig()
