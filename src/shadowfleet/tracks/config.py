"""Named defaults of track preparation and segmentation, each with its source. TOML section: [tracks]."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shadowfleet import config as _config


@dataclass(frozen=True)
class TracksConfig:
    # GFW gpsdio-segment (max_knots) and docs/reference.md: faster implied speed between two points = not one ship
    max_speed_kn: float = 25.0
    # GFW gpsdio-segment (max_hours): a segment not extended for this long is closed
    max_gap_h: float = 24.0
    # ours: receive times of satellite AIS are late by up to minutes and positions jump by a GPS fix or two, so
    # the reachable distance is max_speed × (Δt + time_slack_h) + position_slack_nm (GFW pads time likewise)
    time_slack_h: float = 0.1
    position_slack_nm: float = 0.5
    # a point farther than max_speed_kn allows still continues a segment when the previous report's own SOG/COG
    # predict it (dead reckoning misses by at most position_slack_nm + this share of the distance, within
    # agree_max_h): high-speed craft (IMO HSC Code ferries at 30-45 kn) sail faster than GFW's 25 kn, and a report
    # whose broadcast motion agrees with its displacement is one ship moving, not a jump (ours)
    agree_share: float = 0.2
    agree_max_h: float = 1.0
    # ours: a point may be matched against this many latest points of a segment, so one bad fix does not cut it
    # (GFW keeps a lookback of recent points too)
    lookback: int = 3
    # ours: segments left with fewer points are noise (segment = null); GFW likewise drops tiny segments
    min_points: int = 3
    # ours: at most this many segments stay open per MMSI; the least recently extended is closed first
    max_open_segments: int = 16
    # GFW gpsdio-segment leaves type-27 long-range reports out of its segments (they are singletons in its
    # regression data); ITU-R M.1371: they carry positions rounded to 1/10 minute and no time stamp of their own.
    # False: type-27 rows get segment = null and never extend or open a segment, but one that fits an open
    # segment keeps it open past max_gap_h (ours: the ship was heard, as GFW keeps such segments whole)
    long_range_in_segments: bool = False
    # late feeds (tracks/late_feed.py, ours): a receiver whose reports of moving ships (SOG >= late_min_sog_kn) lie
    # within late_match_km of other receivers' reports of the same ship, a median of at least late_min_delay_min
    # later, with at least late_min_consistent of them within late_tolerance_s of that median (one constant delay,
    # not a ship sailing the same lane twice), over at least late_min_matches reports, runs late. 1 km: a ship at
    # 12 kn covers it in 2.7 min, so the delay is measured to a few minutes; 5 min is well above the seconds of
    # jitter of shore stations and the ~1 min of satellite store-and-forward stamps
    late_min_sog_kn: float = 3.0
    late_match_km: float = 1.0
    late_min_delay_min: float = 5.0
    late_tolerance_s: float = 300.0
    late_min_consistent: float = 0.6
    late_min_matches: int = 10
    late_max_points: int = 500  # ours: reports compared per ship and receiver (evenly spaced), to bound the work


def tracks_config(source: str | Path | dict[str, Any] | None = None) -> TracksConfig:
    """TracksConfig with the [tracks] section of a TOML file or parsed TOML dict applied (unknown keys are an
    error)."""
    return _config.load_section(TracksConfig(), "tracks", source)
