"""AIS ingest: NMEA 0183 (tag blocks, DMA $PGHP, receiver logs, timestamp prefixes), CSV (NOAA, DMA, AISdb,
generic) and GFW-style JSON lines → the store's positions, static, base_stations, aids and rejects tables.

See pipeline.py for the decisions (what is rejected, what is kept and flagged, idempotence, bounded memory);
sources.py (files, compression, format), reader.py (line splitting), lines.py (lines in memory), nmea.py, decode.py, tabular.py (parsing),
validate.py (checks shared by every format) and pipeline.py (orchestration)."""

from shadowfleet.ingest.config import DEFAULTS, IngestConfig
from shadowfleet.ingest.pipeline import (
    FLAGS,
    FORMATS,
    REJECT_REASONS,
    FileReport,
    IngestReport,
    detect_format,
    ingest,
)

__all__ = [
    "ingest", "IngestReport", "FileReport", "IngestConfig", "DEFAULTS", "REJECT_REASONS", "FLAGS", "FORMATS",
    "detect_format",
]
