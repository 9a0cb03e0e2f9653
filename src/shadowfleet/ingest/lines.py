"""``ingest_lines()``: lines already in memory (a live feed's micro-batch) → the store as one batch, through the
same parsing, decoding, validation and receiver merging as file ingest.

The batch is one store commit (all its tables at once), named by the caller: writing a batch again under the same
name replaces it (Store.append), which is what lets a live feed replay its spool after a crash without storing a
line twice. One call is one self-contained batch: a multi-sentence message must not straddle two calls (its
fragments would be rejected as orphans), and time and receiver context does not carry over from the previous
call.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.ingest import tabular
from shadowfleet.ingest.config import DEFAULTS, IngestConfig
from shadowfleet.ingest.nmea import NmeaParser
from shadowfleet.ingest.pipeline import FileReport, _decode_and_write, _FileContext, _split
from shadowfleet.ingest.sources import Input
from shadowfleet.store import Store

LINE_FORMATS = ("nmea", "jsonl")


def ingest_lines(
    lines: list[str] | pl.Series,
    store: Store,
    batch: str,
    source: str,
    fmt: str = "nmea",
    config: IngestConfig = DEFAULTS,
) -> FileReport:
    """Ingest ``lines`` (NMEA sentences, or JSON lines with GFW-normalised names) into ``store`` as the batch
    ``batch``; returns the counts (accepted per table, rejected per reason, skipped) like a file's report.
    Rejected lines go to the ``rejects`` table with ``file`` = ``source``."""
    if fmt not in LINE_FORMATS:
        raise ShadowfleetError(f"line format must be one of {', '.join(LINE_FORMATS)}, not {fmt!r}")
    # the store names a batch's files after the first 16 characters of the context's key
    key = hashlib.blake2b(batch.encode("utf-8"), digest_size=8).hexdigest()
    rep = FileReport(path=source, sha256=key, format=fmt)
    inp = Input(source, _no_file, 0.0)
    with store.transaction() as tx:  # every table of the batch visible at once
        _ingest_batch(lines, fmt, _FileContext(inp, tx, source, key, rep, config, dt.datetime.now(dt.timezone.utc),
                                               None, False))
    return rep


def _ingest_batch(lines: list[str] | pl.Series, fmt: str, ctx: _FileContext) -> None:
    rep, config = ctx.rep, ctx.cfg
    if isinstance(lines, pl.Series):
        series = lines.cast(pl.Utf8).alias("raw")
    else:
        series = pl.Series("raw", lines, dtype=pl.Utf8)
    rep.lines = series.len()
    if fmt == "nmea":
        parser = NmeaParser(config)
        b = parser.parse(series, 1)
        for k, v in b.skipped.items():
            if v:
                rep.skipped[k] = rep.skipped.get(k, 0) + v
        orphans = parser.finish()
        if orphans.height:
            b.rejects = pl.concat([b.rejects, orphans.select(b.rejects.columns)], how="vertical_relaxed")
        _decode_and_write(ctx, b)
    else:
        df, bad = tabular.read_jsonl_chunk(series.to_list(), 1)
        tables, rej = ({}, []) if df.height == 0 else _split(tabular.canonical_jsonl(df), rep)
        ctx.write(tables, [bad] + rej)


def _no_file():
    raise ShadowfleetError("lines in memory have no file to open")
