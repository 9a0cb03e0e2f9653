"""Tracks: sort and de-duplicate positions, move late feeds' stamps back, then split each MMSI into physically possible tracks."""

from shadowfleet.tracks.config import TracksConfig, tracks_config
from shadowfleet.tracks.late_feed import correct_late_feeds, delays_from_lags, feed_delays, feed_lags, retraces
from shadowfleet.tracks.segment import pair_agreement, prepare, segment_all, segment_track

__all__ = ["TracksConfig", "tracks_config", "correct_late_feeds", "delays_from_lags", "feed_delays", "feed_lags", "retraces", "pair_agreement", "prepare", "segment_all", "segment_track"]
