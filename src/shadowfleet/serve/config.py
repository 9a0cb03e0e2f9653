"""Settings of `shadowfleet serve` (TOML section ``[serve]``), each with the reason for its default."""

from __future__ import annotations

from dataclasses import dataclass

from shadowfleet.config import apply, load_overrides, section

# Addresses that only this machine can reach: serving on them needs no token.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"  # OWASP ASVS 14.1: expose nothing beyond the machine unless asked (and then a token)
    port: int = 8000  # uvicorn's default
    page_default: int = 50  # GFW API v3 `limit` pages events by tens; 50 fills a screen of the event list
    page_max: int = 1000  # bounds one response (a page of 1,000 events is ~0.5 MB of JSON)
    export_max: int = 100_000  # rows in one CSV/GeoJSON export of a list (a year of events of a busy region)
    track_max_days: float = 366.0  # one request returns at most a year of one vessel's positions
    note_max_chars: int = 4000  # ours: a long paragraph; notes are evidence annotations, not documents
    author_max_chars: int = 80
    body_max_bytes: int = 16_384  # a note's JSON body: 4,000 characters of up to 4 UTF-8 bytes each
    search_max: int = 50  # vessels returned by one search
    nearby_km: float = 20.0  # ours: wide enough to show an STS partner approaching, narrow enough to stay readable
    nearby_hours: float = 12.0  # ours: around the event's time, as the report pads a case's tracks by 12 h
    # ours: a berth's uncertainty in the gazetteer is up to 3 km and a ship at anchor swings; 5 km keeps the
    # detections of the same call without taking in the next harbour
    case_detection_km: float = 5.0
    retry_s: float = 2.0  # how long a read waits for a table being replaced before answering 503
    alerts_poll_s: float = 1.0  # ours: `live` writes alerts once per detection cycle; a second's delay is unnoticed
    alerts_batch: int = 500  # alert messages read and sent per poll of the stream, so a resume from 0 stays bounded
    alerts_send_timeout_s: float = 30.0  # a stream client that reads nothing for this long is dropped


DEFAULTS = ServeConfig()


def load_config(path=None) -> ServeConfig:
    return apply(DEFAULTS, section(load_overrides(path), "serve"), "serve")
