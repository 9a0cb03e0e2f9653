"""``ingest()``: AIS files of any supported format → the store, streamed in batches, counted, idempotent.

Decisions a user should know:

* **SOG 102.3 ("not available")** — the position is kept with ``sog`` = null and the condition is counted in the
  report under ``flagged["sog_not_available"]``, not rejected: the latitude/longitude of such a report are valid
  and a track needs them (a vessel hiding its speed is still somewhere). Same for COG 360 and heading 511.
* **Rejected** (a row in the store's ``rejects`` table and a count by reason): ``validate.REJECT_REASONS``. Latitude
  91 / longitude 181 ("not available") and out-of-range positions are rejected, because a position report
  without a position carries nothing a track can use.
* **Duplicates** — the same report heard by several receivers within ``store.DEDUPE_WINDOW_S`` is merged inside
  each batch (``n_receivers`` summed); copies that fall in different batches or files are merged by
  ``Store.read``. ``accepted`` counts reports before merging, ``stored`` rows after.
* **Idempotence and interruption** — a file is identified by the sha256 of its content (decompressed: the same
  file gzipped later is the same file); its batches and its ingest-log row are one store commit, visible only
  once the last batch is written. Running the same file again, or twice at once, stores it once; a killed run
  leaves nothing visible, and its re-run starts clean.
* **No time at all** (plain sentences): ``time_from`` is required — an ISO time assigned to every message of
  such a file, or ``"mtime"`` for the file's modification time. The relative order of messages is then lost; it is
  meant for small samples, not for track analysis. Without it the file is refused with a one-line error. In a
  file that has times, a sentence before the first known time is rejected as ``missing_timestamp``.
* **Bounded memory** — a line, sentence, fragment group or message longer than the formats allow is rejected by
  reason (``line_too_long``, ``sentence_too_long``, ``too_many_fragments``, ``message_too_long``; limits in
  ``IngestConfig``), and an over-long line is never held whole (reader.py), so no input can exhaust memory.
* **Skipped, not rejected** (counted in ``skipped``): blank and comment lines, other NMEA sentences of a receiver
  log (GNSS fixes give the clock, the rest is ignored), and CSV/JSON static rows that repeat the vessel's
  previous static data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import time
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Iterator

import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.ingest import tabular
from shadowfleet.ingest.config import DEFAULTS, IngestConfig
from shadowfleet.ingest.decode import decode
from shadowfleet.ingest.reader import LineBatch, head_lines, line_batches
from shadowfleet.ingest.nmea import NmeaParser, ParsedBatch
from shadowfleet.ingest.sources import FORMATS, Input, detect_format, expand, file_sha256, time_from
from shadowfleet.ingest.validate import FLAGS, REJECT_REASONS, UTC_US, merge_receivers, store_columns, validate
from shadowfleet.store import AlreadyIngested, Store, Transaction

DATA_TABLES = ("positions", "static", "base_stations", "aids")
__all__ = ["DATA_TABLES", "FLAGS", "FORMATS", "REJECT_REASONS", "FileReport", "IngestReport", "detect_format",
           "ingest", "merge_receivers"]


@dataclasses.dataclass
class FileReport:
    path: str
    sha256: str
    format: str = ""
    skipped_already_ingested: bool = False
    lines: int = 0
    accepted: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(DATA_TABLES, 0))
    stored: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(DATA_TABLES, 0))
    rejected: dict[str, int] = dataclasses.field(default_factory=dict)
    skipped: dict[str, int] = dataclasses.field(default_factory=dict)
    flagged: dict[str, int] = dataclasses.field(default_factory=dict)
    batches: int = 0
    seconds: float = 0.0
    # each vessel's latest static data so far (CSV/JSONL), so batches don't repeat it; not part of the report
    last_static: pl.DataFrame | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def n_accepted(self) -> int:
        return sum(self.accepted.values())

    @property
    def n_rejected(self) -> int:
        return sum(self.rejected.values())


@dataclasses.dataclass
class IngestReport:
    files: list[FileReport] = dataclasses.field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(f.n_accepted for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.n_rejected for f in self.files)

    def rejected_by_reason(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.files:
            for k, v in f.rejected.items():
                out[k] = out.get(k, 0) + v
        return out

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame([
            {"path": f.path, "format": f.format, "skipped": f.skipped_already_ingested, "lines": f.lines,
             **{f"accepted_{t}": f.accepted.get(t, 0) for t in DATA_TABLES}, "rejected": f.n_rejected,
             "rejected_by_reason": ", ".join(f"{k}={v}" for k, v in sorted(f.rejected.items())),
             "seconds": round(f.seconds, 3)}
            for f in self.files
        ])


# ---- the run ---------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class IngestRun:
    """What every file of one ingest shares."""

    store: Store
    fmt: str
    source: str | None
    time_from: str | dt.datetime | None
    mapping: dict[str, str] | None
    n_lines: int
    progress: Callable[[FileReport, int], None] | None
    cfg: IngestConfig
    now: dt.datetime
    # the sha256 of the files already ingested, when the caller keeps the catalog (an engine's client): then the
    # catalog is not read here, and the caller commits each file
    known: frozenset | None = None


def ingest(
    paths: str | Path | Iterable[str | Path],
    store: Store | str | Path,
    fmt: str = "auto",
    source: str | None = None,
    time_from: str | dt.datetime | None = None,
    columns: str | dict[str, str] | None = None,
    batch_lines: int | None = None,
    progress: Callable[[FileReport, int], None] | None = None,
    config: IngestConfig = DEFAULTS,
    engine=None,
) -> IngestReport:
    """Ingest AIS files (NMEA, CSV, JSON lines; gzip/bz2/zip read transparently) into ``store``.

    ``progress(file_report, lines_done)`` is called after every batch. Returns an IngestReport: per file the format
    detected, reports accepted per table, rejected per reason, skipped line kinds, and whether the file was skipped
    because it was already ingested."""
    if fmt not in FORMATS:
        raise ShadowfleetError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    mapping = tabular.parse_columns(columns)
    n_lines = batch_lines or config.batch_lines
    if n_lines < 1:
        raise ShadowfleetError("batch_lines must be at least 1")
    inputs = expand(paths)  # a missing file is an error before any store is created
    st = store if isinstance(store, Store) else Store(store)
    run = IngestRun(st, fmt, source, time_from, mapping, n_lines, progress, config, dt.datetime.now(dt.timezone.utc))
    if engine is not None and engine.name != "local":
        return IngestReport(files=_ingest_on(engine, inputs, run))
    return IngestReport(files=[_ingest_file(run, inp) for inp in inputs])


def _ingest_on(engine, inputs: list[Input], run: IngestRun) -> list[FileReport]:
    """One task per new file on ``engine``: workers decode and write their own part files (names unique to the
    writer), invisible until the client commits each task's result (the file's rows in every table and its
    ingest-log row at once). A file already ingested, or the same content twice in the list, is skipped here (a
    hash read is far cheaper than decoding), as one process would skip it."""
    st = run.store
    known = set(st.ingest_log()["sha256"].to_list())
    shas = [file_sha256(inp) for inp in inputs]
    todo = []
    for i, sha in enumerate(shas):
        if sha not in known:
            todo.append(i)
            known.add(sha)
    # the store travels as its root plus this process's writer id: staged files stay ours until committed
    job = engine.share((st, run.fmt, run.source, run.time_from, run.mapping, run.n_lines, run.cfg))
    done = {}
    for i, (rep, tx) in zip(todo, engine.results(engine.map(_ingest_task, [inputs[i] for i in todo], job))):
        done[i] = _commit(rep, tx, inputs[i])
        if run.progress is not None:
            run.progress(done[i], done[i].lines)
    return [done.get(i) or FileReport(path=inp.name, sha256=sha, skipped_already_ingested=True)
            for i, (inp, sha) in enumerate(zip(inputs, shas))]


def _ingest_task(inp: Input, job) -> tuple[FileReport, Transaction | None]:
    st, fmt, source, time_from, mapping, n_lines, cfg = job
    run = IngestRun(st, fmt, source, time_from, mapping, n_lines, None, cfg, dt.datetime.now(dt.timezone.utc),
                    known=frozenset())
    return _stage_file(run, inp)


class _Admission:
    """Whether a file may be written: known once its sha256 is (taken in a thread while the first batch is read
    and parsed). Nothing is written, and no error about the content raised, before it is known whether the file
    was ingested already."""

    def __init__(self, run: IngestRun, sha: Future, rep: FileReport):
        self.run, self.sha, self.rep = run, sha, rep
        self.decided: bool | None = None

    def new_file(self) -> bool:
        if self.decided is None:
            sha = self.rep.sha256 = self.sha.result()
            known = self.run.known
            self.decided = sha not in known if known is not None else not self.run.store.ingested(sha)
        return self.decided


def _ingest_file(run: IngestRun, inp: Input) -> FileReport:
    """One file as one commit: its rows in every table and its ingest-log row become visible together, or not
    at all (a killed run leaves nothing visible; the next open of the store removes its files)."""
    return _commit(*_stage_file(run, inp), inp)


def _commit(rep: FileReport, tx: Transaction | None, inp: Input) -> FileReport:
    if tx is None:
        return rep
    try:
        tx.commit()
    except AlreadyIngested:  # another process committed the same content meanwhile: nothing of this run counts
        return FileReport(path=inp.name, sha256=rep.sha256, skipped_already_ingested=True)
    return rep


def _stage_file(run: IngestRun, inp: Input) -> tuple[FileReport, Transaction | None]:
    """The file written to a transaction of the store with its ingest-log row, not yet committed; no
    transaction when the file was ingested already."""
    t0 = time.perf_counter()
    rep = FileReport(path=inp.name, sha256="")
    tx = run.store.transaction()
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-sha256") as hasher:
            admit = _Admission(run, hasher.submit(file_sha256, inp), rep)
            try:
                kind = _ingest_content(run, inp, rep, admit, tx)
            except ShadowfleetError:
                if admit.new_file():
                    raise
                kind = None  # an already ingested file is skipped, whatever its content
        if kind is None:  # a fresh report: nothing of the partly read content counts
            tx.discard()
            return FileReport(path=inp.name, sha256=rep.sha256, skipped_already_ingested=True), None
        rep.seconds = time.perf_counter() - t0
        tx.log_ingest(rep.sha256, inp.name, _source_name(run, inp), kind, rep.n_accepted, rep.n_rejected)
    except BaseException:
        tx.discard()
        raise
    return rep, tx


def _source_name(run: IngestRun, inp: Input) -> str:
    return run.source or Path(inp.name.split(":")[-1]).name


def _ingest_content(run: IngestRun, inp: Input, rep: FileReport, admit: _Admission, tx: Transaction) -> str | None:
    """The file's format, or None when it turned out to be ingested already."""
    cfg = run.cfg
    try:
        with inp.opener() as fh:
            head = head_lines(fh, 200, cfg.max_line_bytes)
        kind = run.fmt if run.fmt != "auto" else _detect_or_fail(head, inp.name)
        rep.format = kind
        tf = time_from(run.time_from, inp) if kind == "nmea" else None
        ctx = _FileContext(inp, tx, _source_name(run, inp), "", rep, cfg, run.now, tf, tf is not None)
        with inp.opener() as fh:
            batches = line_batches(fh, run.n_lines, cfg.max_line_bytes, cfg.max_batch_bytes)
            if kind == "nmea":
                done = _run_nmea(ctx, batches, run.progress, admit)
            elif not admit.new_file():
                done = False
            else:
                ctx.sha = rep.sha256
                lines = _TextLines(batches)
                if kind == "csv":
                    _run_csv(ctx, lines, run.n_lines, run.progress, run.mapping)
                else:
                    _run_jsonl(ctx, lines, run.n_lines, run.progress)
                done = True
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ShadowfleetError(f"{inp.name}: cannot read ({exc})") from None
    return kind if done else None


def _detect_or_fail(head, name):
    try:
        return detect_format(head)
    except ShadowfleetError as exc:
        raise ShadowfleetError(f"{name}: {exc}") from None


@dataclasses.dataclass
class _FileContext:
    inp: Input
    store: Transaction  # the file's commit: batches appended to it become visible together
    source: str
    sha: str
    rep: FileReport
    cfg: IngestConfig
    now: dt.datetime
    time_from: dt.datetime | None
    time_from_given: bool

    def write(self, tables: dict[str, pl.DataFrame], rejects: list[pl.DataFrame], lines: pl.Series | None = None,
              first_line: int = 1) -> None:
        """Validate, merge multi-receiver copies, and append one batch of every table. ``lines`` (the batch's
        text) fills in the raw text of rejected rows that carry only their line number."""
        batch = f"{self.sha[:16]}-{self.rep.batches}"
        all_rej = [r for r in rejects if r.height]
        for table in DATA_TABLES:
            df = tables.get(table)
            if df is None or df.height == 0:
                continue
            if self.time_from is not None:
                df = df.with_columns(pl.col("ts").fill_null(self.time_from))
            good, bad = validate(table, df, self.cfg, self.now)
            all_rej.append(bad)
            if good.height == 0:
                continue
            self.rep.accepted[table] += good.height
            if table == "positions":
                na = int(good["sog"].is_null().sum()) if "sog" in good.columns else 0
                if na:
                    self.rep.flagged["sog_not_available"] = self.rep.flagged.get("sog_not_available", 0) + na
            good = good.with_columns(
                pl.lit(self.source).alias("source"), pl.lit(1, dtype=pl.Int32).alias("n_receivers"))
            if "receiver" not in good.columns:
                good = good.with_columns(pl.lit(None, dtype=pl.Utf8).alias("receiver"))
            good = merge_receivers(store_columns(good, table))
            self.rep.stored[table] += self.store.append(table, good, batch=batch)
        rej = [r for r in all_rej if r.height]
        if rej:
            rj = pl.concat([r.select("line", pl.col("ts").cast(UTC_US), pl.col("raw").cast(pl.Utf8), "reason")
                            for r in rej])
            if lines is not None and rj["raw"].null_count():
                text = lines.gather((rj["line"] - first_line).clip(0, max(lines.len() - 1, 0))).str.strip_chars_end()
                rj = rj.with_columns(pl.coalesce(pl.col("raw"), text).alias("raw"))
            for reason, n in rj.group_by("reason").len().iter_rows():
                self.rep.rejected[reason] = self.rep.rejected.get(reason, 0) + n
            rj = rj.with_columns(pl.lit(self.source).alias("source"), pl.lit(self.inp.name).alias("file"))
            self.store.append("rejects", rj, batch=batch)
        self.rep.batches += 1


# ---- NMEA ------------------------------------------------------------------------------------------------------
def _run_nmea(ctx: _FileContext, batches: Iterator[LineBatch], progress, admit: _Admission) -> bool:
    """Parse batch n+1 while batch n is decoded, validated and written (one writer thread, batches written in
    order): polars, NumPy and the Parquet writer release the GIL, so the two overlap on a multi-core machine.
    False when the file turned out to be ingested already."""
    parser = NmeaParser(ctx.cfg)
    first = 1
    checked_time = False
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer") as writer:
        pending = None
        for chunk in _read_ahead(batches):
            b = parser.parse(chunk.lines, first, chunk.too_long)
            too_long = chunk.rejects(first)
            first += len(chunk)
            ctx.rep.lines += len(chunk)
            for k, v in b.skipped.items():
                if v:
                    ctx.rep.skipped[k] = ctx.rep.skipped.get(k, 0) + v
            if not admit.new_file():  # from here on batches may be written
                return False
            ctx.sha = ctx.rep.sha256
            if not checked_time and b.messages.height:
                checked_time = True
                if b.timed > 0:
                    ctx.time_from = None  # the file has its own times: --time-from is only for files with none
                elif not ctx.time_from_given:
                    raise ShadowfleetError(
                        f"{ctx.inp.name}: the sentences carry no time (no tag block c:, $PGHP line, RMC fix or "
                        "time prefix); give --time-from ISO-TIME or --time-from mtime")
            if pending is not None:
                pending.result()  # at most one batch waiting: bounded memory, and errors surface here
            pending = writer.submit(_decode_and_write, ctx, b, too_long)
            if progress:
                progress(ctx.rep, first - 1)
        if pending is not None:
            pending.result()
    if not admit.new_file():  # a file without a line still gets its sha256 logged
        return False
    ctx.sha = ctx.rep.sha256
    orphans = parser.finish()
    if orphans.height:
        ctx.write({}, [orphans])
    return True


def _read_ahead(chunks: Iterator[LineBatch]) -> Iterator[LineBatch]:
    """The next batch is read (file reads, NumPy line breaks, Arrow column) in a thread while this one is
    parsed; one batch ahead at most, so memory stays bounded."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-reader") as reader:
        nxt = reader.submit(next, chunks, None)
        while True:
            chunk = nxt.result()
            if chunk is None:
                return
            nxt = reader.submit(next, chunks, None)
            yield chunk


def _decode_and_write(ctx: _FileContext, b: ParsedBatch, too_long: pl.DataFrame | None = None) -> None:
    d = decode(b.messages)
    b.messages = None
    tables = {"positions": d.positions, "static": d.static, "base_stations": d.base_stations, "aids": d.aids}
    rejects = [b.rejects, d.rejects] if too_long is None else [too_long, b.rejects, d.rejects]
    ctx.write(tables, rejects, b.lines, b.first_line)


# ---- CSV and JSON lines ----------------------------------------------------------------------------------------
class _TextLines:
    """The lines of a file one by one (as a text file yields them), with the over-long lines the reader emptied
    kept aside as rejects until the next write takes them."""

    def __init__(self, batches: Iterator[LineBatch]):
        self.batches = batches
        self.too_long: list[pl.DataFrame] = []

    def __iter__(self) -> Iterator[str]:
        first = 1
        for b in self.batches:
            if len(b.too_long):
                self.too_long.append(b.rejects(first))
            first += len(b)
            yield from b.lines.to_list()

    def take_rejects(self) -> list[pl.DataFrame]:
        out, self.too_long = self.too_long, []
        return out


def _chunks(lines: Iterator[str], n: int) -> Iterator[list[str]]:
    while True:
        chunk = list(itertools.islice(lines, n))
        if not chunk:
            return
        yield chunk


def _run_csv(ctx: _FileContext, text: _TextLines, n_lines: int, progress, mapping) -> None:
    lines = iter(text)
    header, header_line = None, 0
    for i, ln in enumerate(lines, start=1):
        if ln.strip() and not (ln.startswith("#") and not ln.startswith("# Timestamp")):
            header, header_line = ln, i
            break
    if header is None:
        if text.too_long:
            ctx.write({}, text.take_rejects())
        return
    names = [h.strip().strip('"') for h in header.rstrip("\r\n").split(",")]
    flavour = tabular.flavour_of(names)
    ctx.rep.format = f"csv:{flavour}" if not mapping else "csv:mapped"
    # the header is checked before any row, so a file with no header (its first row taken as one) or a header
    # alone is reported even when no data rows follow it
    empty_rows = pl.DataFrame(schema={**dict.fromkeys(names, pl.Utf8), "line": pl.Int64, "raw": pl.Utf8})
    tabular.canonical_csv(empty_rows, flavour, mapping)
    first = header_line + 1
    ctx.rep.lines = header_line
    for chunk in _chunks(lines, n_lines):
        df, broken = tabular.read_csv_chunk(header, chunk, first)
        first += len(chunk)
        ctx.rep.lines += len(chunk)
        canon = tabular.canonical_csv(df, flavour, mapping)
        tables, rej = _split(canon, ctx.rep)
        ctx.write(tables, [broken] + rej + text.take_rejects())
        if progress:
            progress(ctx.rep, first - 1)
    if text.too_long:
        ctx.write({}, text.take_rejects())


def _split(canon: pl.DataFrame, rep: FileReport) -> tuple[dict[str, pl.DataFrame], list[pl.DataFrame]]:
    rej = []
    if "msg_type" in canon.columns:
        mt = canon["msg_type"].cast(pl.Int64, strict=False)
        unsupported = mt.is_not_null() & (mt == -1)
        if unsupported.any():
            rej.append(canon.filter(unsupported).select(
                "line", pl.lit(None, dtype=UTC_US).alias("ts"), "raw", pl.lit("unsupported_type").alias("reason")))
            canon = canon.filter(~unsupported)
    tables, unchanged, rep.last_static = tabular.to_tables(canon, rep.last_static)
    if unchanged:
        rep.skipped["static_unchanged"] = rep.skipped.get("static_unchanged", 0) + unchanged
    return tables, rej


def _run_jsonl(ctx: _FileContext, text: _TextLines, n_lines: int, progress) -> None:
    first = 1
    for chunk in _chunks(iter(text), n_lines):
        df, bad = tabular.read_jsonl_chunk(chunk, first)
        first += len(chunk)
        ctx.rep.lines += len(chunk)
        tables = {}
        if df.height:
            canon = tabular.canonical_jsonl(df)
            if "msg_type" in canon.columns:
                canon = canon.with_columns(
                    pl.when(pl.col("msg_type").is_in([1, 2, 3, 4, 5, 18, 19, 21, 24, 27]) | pl.col("msg_type").is_null())
                    .then(pl.col("msg_type")).otherwise(-1).alias("msg_type"))
            tables, rej = _split(canon, ctx.rep)
        else:
            rej = []
        ctx.write(tables, [bad] + rej + text.take_rejects())
        if progress:
            progress(ctx.rep, first - 1)
