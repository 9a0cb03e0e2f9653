"""Tracks: sort and de-duplicate positions, then split each MMSI into physically possible tracks."""

from shadowfleet.tracks.config import TracksConfig, tracks_config
from shadowfleet.tracks.segment import pair_agreement, prepare, segment_all, segment_track

__all__ = ["TracksConfig", "tracks_config", "pair_agreement", "prepare", "segment_all", "segment_track"]
