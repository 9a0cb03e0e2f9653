"""Named defaults of track preparation and segmentation, each with its source. TOML section: [tracks]."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shadowfleet import config as _config


@dataclass(frozen=True)
class TracksConfig:
    # GFW gpsdio-segment (max_knots) and REFERENCE.md: faster implied speed between two points = not one ship
    max_speed_kn: float = 25.0
    # GFW gpsdio-segment (max_hours): a segment not extended for this long is closed
    max_gap_h: float = 24.0
    # ours: receive times of satellite AIS are late by up to minutes and positions jump by a GPS fix or two, so
    # the reachable distance is max_speed × (Δt + time_slack_h) + position_slack_nm (GFW pads time likewise)
    time_slack_h: float = 0.1
    position_slack_nm: float = 0.5
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


def tracks_config(overrides: dict[str, Any] | None = None) -> TracksConfig:
    """TracksConfig with the [tracks] section of a loaded TOML config applied (unknown keys are an error)."""
    return _config.apply(TracksConfig(), _config.section(overrides or {}, "tracks"), "tracks")
