"""Named defaults of the ingest stage (override in TOML under ``[ingest]``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from shadowfleet.config import load_section
from shadowfleet.errors import ShadowfleetError


@dataclasses.dataclass(frozen=True)
class IngestConfig:
    # MMSI is a 9-digit number (ITU-R M.585); 0 and anything shorter/longer is not a station identity.
    # The MID (first digits) is checked later by spoofing detection, not here.
    mmsi_min: int = 100_000_000
    mmsi_max: int = 999_999_999
    # Receive times before this are absurd for AIS archives. ours: AIS carriage became mandatory (SOLAS V/19)
    # from 2002–2004, and no real sample predates 2000.
    earliest_time: dt.datetime = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    # ours: a receiver clock may run ahead a little, more than a day ahead of now is wrong.
    max_future_days: float = 1.0
    # Lines per batch. ours: ~500k lines keeps a batch's working set around 200–300 MB, far below 1 GB.
    batch_lines: int = 500_000
    # A multi-sentence message still incomplete this many lines after its last fragment is orphaned. ours: the
    # fragments of one message arrive within a few lines in every real sample; this bounds memory on lossy feeds.
    max_fragment_gap_lines: int = 1000
    # Unix times in tag blocks/prefixes above this are milliseconds. ours: 1e11 s is the year 5138.
    unix_ms_threshold: float = 1e11
    # Limits that keep memory bounded whatever a file holds; longer input is rejected by reason
    # (docs/reference.md, "Size limits of AIS and NMEA"):
    # NMEA 0183: a sentence is at most 82 characters (the longest real ones are 80 plus CR LF); counted from
    # '!' to the checksum, without a tag block before it or a receive time some loggers append after it.
    max_sentence_chars: int = 82
    # NMEA 0183 AIVDM: the fragment count is one digit, 1-9.
    max_fragments: int = 9
    # ITU-R M.1371: a message occupies at most 5 slots, 1,008 data bits = 168 six-bit payload characters.
    max_payload_chars: int = 168
    # ours: any line (NMEA, CSV row, JSON line) longer than this is rejected unread: 40x the longest row in
    # the real samples (a 139-column Spire-style CSV row, 1,624 characters).
    max_line_bytes: int = 65_536
    # ours: a batch also ends at this many bytes, so that long lines cannot make a 500,000-line batch huge;
    # real batches (~100 bytes a line) never reach it.
    max_batch_bytes: int = 128 * 1024 * 1024


DEFAULTS = IngestConfig()


def load(path: str | Path | None) -> IngestConfig:
    """Defaults with the ``[ingest]`` section of a TOML file applied (unknown keys are an error)."""
    cfg = load_section(DEFAULTS, "ingest", path)
    if isinstance(cfg.earliest_time, dt.date) and not isinstance(cfg.earliest_time, dt.datetime):
        cfg = dataclasses.replace(cfg, earliest_time=dt.datetime.combine(cfg.earliest_time, dt.time(), dt.timezone.utc))
    if cfg.earliest_time.tzinfo is None:
        cfg = dataclasses.replace(cfg, earliest_time=cfg.earliest_time.replace(tzinfo=dt.timezone.utc))
    if cfg.batch_lines < 1:
        raise ShadowfleetError("[ingest] batch_lines must be at least 1")
    for key in ("max_sentence_chars", "max_fragments", "max_payload_chars", "max_line_bytes", "max_batch_bytes"):
        if getattr(cfg, key) < 1:
            raise ShadowfleetError(f"[ingest] {key} must be at least 1")
    return cfg

# ITU-R M.1371-5 "not available" sentinels.
LAT_NA = 91.0  # degrees
LON_NA = 181.0
SOG_NA_RAW = 1023  # 102.3 kn
COG_NA_RAW = 3600  # 360.0 degrees
ROT_NA_RAW = -128
TYPE27_SOG_NA = 63  # knots, message 27
