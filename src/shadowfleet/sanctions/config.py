"""Named defaults of sanctions screening, each with its source. Override in TOML under ``[sanctions.screening]``."""

from __future__ import annotations

from dataclasses import dataclass

from shadowfleet.config import load_section

# Names borne by many unrelated ships worldwide: a name match alone on one of these says nothing.
# ours: names of OFAC-listed Russian tankers (docs/reference.md, Aug 2018 designations) that are also common ship names,
# plus generic names frequent in any AIS registry.
COMMON_VESSEL_NAMES = (
    "NEPTUN", "NEPTUNE", "PATRIOT", "BELLA", "BOGATYR", "PARTIZAN", "SEVASTOPOL", "VITYAZ",
    "STAR", "OCEAN", "SEA", "LUCKY", "GLORY", "VICTORY", "HOPE", "PROGRESS", "ATLANTIC", "PACIFIC",
    "PHOENIX", "ORION", "ATLAS", "TITAN", "MARIA", "ANNA", "ELENA", "DIANA", "JUPITER", "MERCURY",
)


@dataclass(frozen=True)
class ScreeningConfig:
    # ours: ratio (0-100) of rapidfuzz on normalised, space-free names; 90 lets one letter of romanisation differ
    # in a 10+ letter name ("CHONGCHONKANG" vs "CHONGCHONGANG") but not a different word.
    name_min_similarity: float = 90.0
    # ours: names shorter than this (letters only, normalised) are too unspecific to match on (e.g. "SEA 1").
    name_min_letters: int = 4
    # ours: a name broadcast by at least this many distinct MMSIs in the registry is treated as common.
    common_name_min_mmsis: int = 3
    # ours: corroborations (flag, type, DPRK MID 445) a name-only hit needs (one more if the vessel broadcasts
    # another valid IMO); a common name never matches on its name alone.
    name_min_corroborations: int = 1
    # ours: hits scoring below this are not reported (a call sign alone scores 35 and is dropped).
    min_report_score: float = 50.0
    # ours: an owner or linked company is the listed DPRK company when their normalised names agree this much.
    owner_min_similarity: float = 95.0
    # Hit scores (0-100), ours: an IMO is the hull's lifetime number (IMO Res. A.1117(30)), the strongest key;
    # an MMSI can be reassigned; a call sign is reused across registries; a name needs corroboration.
    score_imo_same_name: float = 100.0
    score_imo_no_name: float = 95.0
    score_imo_other_name: float = 90.0  # and laundering_suspected
    score_mmsi_same_name: float = 90.0
    score_mmsi_other_name: float = 60.0  # + per corroboration, up to score_mmsi_other_name_max
    score_mmsi_per_corroboration: float = 10.0
    score_mmsi_other_name_max: float = 80.0
    score_callsign_same_name: float = 85.0
    score_callsign_alone: float = 35.0  # below min_report_score: a call sign alone is not reported
    score_callsign_same_flag: float = 20.0
    score_callsign_same_type: float = 10.0
    score_callsign_dprk_link: float = 20.0
    score_name_per_similarity: float = 0.5  # × similarity (0-100)
    score_name_per_corroboration: float = 15.0
    score_name_imo_conflict: float = -25.0
    score_name_max: float = 95.0  # a name hit never reaches an IMO hit
    # Maritime Identification Digits of the DPRK (ITU MID table; docs/reference.md "Identity and flags").
    dprk_mid: int = 445
    # Risk points (0-100 scale, summed and capped): ours, documented in docs/sanctions.md.
    risk_per_hit_score: float = 0.5  # a current-list hit adds half its score (≤ 50)
    risk_laundering: float = 20.0
    risk_dprk_mid: float = 30.0  # UNSCR 2375 OP11 bans STS with DPRK-flagged ships
    risk_dprk_owner: float = 15.0
    risk_past_designation: float = 15.0
    risk_identity_change: float = 5.0  # per kind of identity change (name, IMO, call sign), up to 3 kinds


def screening_config(toml_path=None) -> ScreeningConfig:
    """Defaults with the ``[sanctions.screening]`` section of a TOML file applied."""
    return load_section(ScreeningConfig(), "sanctions.screening", toml_path)
