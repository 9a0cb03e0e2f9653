"""Named defaults of the ingest stage (override in TOML under ``[ingest]``)."""

from __future__ import annotations

import dataclasses
import datetime as dt


@dataclasses.dataclass(frozen=True)
class IngestConfig:
    # MMSI is a 9-digit number (ITU-R M.585); 0 and anything shorter/longer is not a station identity.
    # The MID (first digits) is checked later by spoofing detection, not here (brief: issue 2).
    mmsi_min: int = 100_000_000
    mmsi_max: int = 999_999_999
    # Receive times before this are absurd for AIS archives. ours: AIS carriage became mandatory (SOLAS V/19)
    # from 2002–2004, and no real sample predates 2000.
    earliest_time: dt.datetime = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    # ours: a receiver clock may run ahead a little, more than a day ahead of now is wrong.
    max_future: dt.timedelta = dt.timedelta(days=1)
    # Lines per batch. ours: ~500k lines keeps a batch's working set around 200–300 MB, far below 1 GB.
    batch_lines: int = 500_000
    # Unix times in tag blocks/prefixes above this are milliseconds. ours: 1e11 s is the year 5138.
    unix_ms_threshold: float = 1e11


DEFAULTS = IngestConfig()

# ITU-R M.1371-5 "not available" sentinels.
LAT_NA = 91.0  # degrees
LON_NA = 181.0
SOG_NA_RAW = 1023  # 102.3 kn
COG_NA_RAW = 3600  # 360.0 degrees
HEADING_NA = 511
ROT_NA_RAW = -128
TYPE27_SOG_NA = 63  # knots, message 27
TYPE27_COG_NA = 511  # degrees, message 27
