"""``ingest()``: AIS files of any supported format → the store, streamed in batches, counted, idempotent.

Decisions a user should know:

* **SOG 102.3 ("not available")** — the position is kept with ``sog`` = null and the condition is counted in the
  report under ``flagged["sog_not_available"]``, not rejected: the latitude/longitude of such a report are valid
  and a track needs them (a vessel hiding its speed is still somewhere). Same for COG 360 and heading 511.
* **Rejected** (a row in the store's ``rejects`` table and a count by reason): ``REJECT_REASONS`` below. Latitude
  91 / longitude 181 ("not available") and out-of-range positions are rejected, because a position report
  without a position carries nothing a track can use.
* **Duplicates** — the same report heard by several receivers within ``store.DEDUPE_WINDOW_S`` is merged inside
  each batch (``n_receivers`` summed); copies that fall in different batches or files are merged by
  ``Store.read``. ``accepted`` counts reports before merging, ``stored`` rows after.
* **Idempotence and interruption** — a file is identified by the sha256 of its bytes; its batches are written as
  ``<sha256[:16]>-<n>`` (atomic renames), and the file is logged as ingested only after its last batch. Running
  the same file again is a no-op; re-running an interrupted file first removes the batches it left, then writes
  them again (so a different ``batch_lines`` cannot double anything).
* **No time at all** (plain sentences): ``time_from`` is required — an ISO time assigned to every message of
  such a file, or ``"mtime"`` for the file's modification time. The relative order of messages is then lost; it is
  meant for small samples, not for track analysis. Without it the file is refused with a one-line error. In a
  file that has times, a sentence before the first known time is rejected as ``missing_timestamp``.
* **Skipped, not rejected** (counted in ``skipped``): blank and comment lines, other NMEA sentences of a receiver
  log (GNSS fixes give the clock, the rest is ignored), and CSV/JSON static rows that repeat the vessel's
  previous static data.
"""

from __future__ import annotations

import bz2
import dataclasses
import datetime as dt
import gzip
import hashlib
import io
import itertools
import re
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.ingest import tabular
from shadowfleet.ingest.config import DEFAULTS, LAT_NA, LON_NA, IngestConfig
from shadowfleet.ingest.decode import decode
from shadowfleet.ingest.nmea import NmeaParser
from shadowfleet.store import DEDUPE_WINDOW_S, Store

UTC_US = pl.Datetime("us", "UTC")
FORMATS = ("auto", "nmea", "csv", "jsonl")
DATA_TABLES = ("positions", "static", "base_stations", "aids")

REJECT_REASONS = (
    "bad_checksum",
    "malformed",
    "empty_payload",
    "truncated",
    "orphan_fragment",
    "unsupported_type",
    "invalid_mmsi",
    "position_not_available",
    "position_out_of_range",
    "missing_timestamp",
    "absurd_timestamp",
)
FLAGS = ("sog_not_available",)


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


# ---- inputs ----------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class _Input:
    name: str  # what the report and rejects call it
    opener: Callable[[], io.BufferedIOBase]  # decompressed bytes
    raw_opener: Callable[[], io.BufferedIOBase]  # the bytes the sha256 is taken of
    mtime: float


def _expand(paths: Iterable[str | Path]) -> list[_Input]:
    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and not any(x.startswith(".") for x in f.relative_to(p).parts))
        elif p.is_file():
            files = [p]
        else:
            raise ShadowfleetError(f"file not found: {p}")
        for f in files:
            out.extend(_inputs_of(f))
    return out


def _inputs_of(f: Path) -> list[_Input]:
    with open(f, "rb") as fh:
        magic = fh.read(4)
    mtime = f.stat().st_mtime
    if magic[:2] == b"\x1f\x8b":
        return [_Input(str(f), lambda: gzip.open(f, "rb"), lambda: open(f, "rb"), mtime)]
    if magic[:3] == b"BZh":
        return [_Input(str(f), lambda: bz2.open(f, "rb"), lambda: open(f, "rb"), mtime)]
    if magic == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(f) as z:
                members = [m for m in z.infolist() if not m.is_dir()]
        except zipfile.BadZipFile:
            raise ShadowfleetError(f"{f}: not a readable zip archive") from None

        def member(name):
            def op():
                z = zipfile.ZipFile(f)
                return z.open(name)
            return op
        return [_Input(f"{f}:{m.filename}", member(m.filename), member(m.filename), mtime) for m in members]
    return [_Input(str(f), lambda: open(f, "rb"), lambda: open(f, "rb"), mtime)]


def _sha256(inp: _Input) -> str:
    h = hashlib.sha256()
    with inp.raw_opener() as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_NMEA_HINT = re.compile(r"(^|[\s,;\\])[!$][A-Za-z-]{2}(VD[MO]|[A-Z]{3}),|^\\[a-z]+:")


def detect_format(head: list[str]) -> str:
    """nmea / jsonl / csv from the first lines of a (decompressed) file."""
    content = [ln.strip() for ln in head if ln.strip() and not ln.lstrip().startswith("#")]
    if not content:
        # DMA CSV's header starts with '#': a CSV after all.
        if any(ln.startswith("# Timestamp") for ln in head):
            return "csv"
        return "nmea"
    if content[0].startswith("{"):
        return "jsonl"
    if sum(bool(_NMEA_HINT.search(ln)) for ln in content[:200]) >= max(1, len(content[:200]) // 10):
        return "nmea"
    if head and head[0].startswith("# Timestamp"):
        return "csv"
    if "," in content[0] or ";" in content[0] or "\t" in content[0]:
        return "csv"
    raise ShadowfleetError("cannot tell the format (not NMEA, CSV or JSON lines); give --format")


# ---- validation shared by every format -----------------------------------------------------------------------
def _validate(table: str, df: pl.DataFrame, cfg: IngestConfig, now: dt.datetime) -> tuple[pl.DataFrame, pl.DataFrame]:
    ts = pl.col("ts")
    # Base stations use the 00MIDxxxx form (ITU-R M.585), i.e. below 100000000 as a number.
    lo = 1 if table == "base_stations" else cfg.mmsi_min
    reason = pl.when(ts.is_null()).then(pl.lit("missing_timestamp")).when(
        (ts < cfg.earliest_time) | (ts > now + dt.timedelta(days=cfg.max_future_days))).then(pl.lit("absurd_timestamp")).when(
        pl.col("mmsi").is_null() | ~pl.col("mmsi").is_between(lo, cfg.mmsi_max)).then(pl.lit("invalid_mmsi"))
    if table != "static":
        lat, lon = pl.col("lat"), pl.col("lon")
        reason = reason.when(lat.is_null() | lon.is_null() | (lat == LAT_NA) | (lon == LON_NA)).then(
            pl.lit("position_not_available")).when((lat.abs() > 90) | (lon.abs() > 180)).then(
            pl.lit("position_out_of_range"))
    df = df.with_columns(reason.otherwise(None).alias("__reason"))
    bad = df.filter(pl.col("__reason").is_not_null()).select(
        "line", pl.col("ts").cast(UTC_US), "raw", pl.col("__reason").alias("reason"))
    good = df.filter(pl.col("__reason").is_null()).drop("__reason")
    return good, bad


def merge_receivers(df: pl.DataFrame) -> pl.DataFrame:
    """One row per transmission: copies with the same dup_key within DEDUPE_WINDOW_S of the previous copy are
    merged into the first, n_receivers summed — the rule of store.mark_first_copies, done with one sort and
    NumPy reductions because most rows of a batch are unique."""
    if df.height < 2:
        return df
    dup = df["dup_key"].is_duplicated().to_numpy()
    if not dup.any():
        return df
    if not dup.all():  # only rows whose content repeats can merge: sort just those
        return pl.concat([df.filter(pl.Series(~dup)), merge_receivers(df.filter(pl.Series(dup)))])
    df = df.sort(["dup_key", "ts"], nulls_last=True)
    key = df["dup_key"].to_numpy()
    ts = df["ts"].dt.epoch("us").to_numpy()
    ts_null = df["ts"].is_null().to_numpy()
    same = np.zeros(df.height, bool)
    same[1:] = (key[1:] == key[:-1]) & ~ts_null[1:] & ~ts_null[:-1] & (ts[1:] - ts[:-1] <= DEDUPE_WINDOW_S * 1_000_000)
    same &= df["dup_key"].is_not_null().to_numpy()
    if not same.any():
        return df
    starts = np.flatnonzero(~same)
    counts = np.add.reduceat(df["n_receivers"].fill_null(1).to_numpy().astype(np.int64), starts)
    return df[starts].with_columns(pl.Series("n_receivers", counts, dtype=pl.Int32))


# ---- the run ---------------------------------------------------------------------------------------------------
def _batches(fh: io.TextIOBase, n: int) -> Iterator[list[str]]:
    while True:
        lines = list(itertools.islice(fh, n))
        if not lines:
            return
        yield lines


_READ_BLOCK = 1 << 23  # bytes per read: large reads, few Python calls


def _line_ends(buf: bytes) -> np.ndarray:
    """Index of the last byte of every line terminator in ``buf``: '\\n', or a '\\r' not followed by '\\n' (the
    universal newlines of io.TextIOWrapper(newline=""), which the text path reads with)."""
    a = np.frombuffer(buf, np.uint8)
    ends = np.flatnonzero(a == 10)
    if b"\r" in buf:  # memchr: most files have no carriage return at all
        cr = np.flatnonzero(a == 13)
        nxt = np.minimum(cr + 1, a.size - 1)
        lone = cr[(cr + 1 >= a.size) | (a[nxt] != 10)]
        if lone.size:
            ends = np.union1d(ends, lone)
    return ends


def _line_series(seg: bytes, ends: np.ndarray) -> pl.Series:
    """The lines of ``seg`` (terminators kept, as a text file iterator yields them) as one string column, built
    from the bytes without a Python string per line."""
    import pyarrow as pa

    if not seg.isascii():
        # invalid UTF-8 becomes U+FFFD as in the text path; decoding cannot move a terminator across a line
        seg = seg.decode("utf-8", errors="replace").encode("utf-8")
        ends = _line_ends(seg)
    stops = ends + 1
    if not stops.size or stops[-1] != len(seg):
        stops = np.append(stops, len(seg))  # last line without a terminator (end of file)
    offsets = np.concatenate([[0], stops]).astype(np.int64)
    arr = pa.LargeStringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(seg))
    return pl.Series("raw", arr)


def _nmea_batches(fh: io.BufferedIOBase, n: int) -> Iterator[pl.Series]:
    """Batches of ``n`` lines read as bytes in large blocks; line breaks found with NumPy, once per byte."""
    blocks: list[bytes] = []
    ends_of: list[np.ndarray] = []
    size = count = 0
    carry = b""
    while True:
        data = fh.read(_READ_BLOCK)
        eof = not data
        if carry:
            data, carry = carry + data, b""
        if not eof and data.endswith(b"\r"):
            data, carry = data[:-1], data[-1:]  # maybe the first half of '\r\n': decide with the next block
        if data:
            e = _line_ends(data) + size
            blocks.append(data)
            ends_of.append(e)
            size += len(data)
            count += e.size
        if count >= n or (eof and size):
            joined = b"".join(blocks)
            ends = np.concatenate(ends_of)
            start = cut = 0
            while ends.size - start >= n:
                stop = int(ends[start + n - 1]) + 1
                yield _line_series(joined[cut:stop], ends[start : start + n] - cut)
                start, cut = start + n, stop
            rest = joined[cut:]
            blocks, ends_of = ([rest], [ends[start:] - cut]) if rest else ([], [])
            size, count = len(rest), ends.size - start
            if eof and rest:
                yield _line_series(rest, ends_of[0])
        if eof:
            return


def _time_from(value, inp: _Input) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if str(value) == "mtime":
        return dt.datetime.fromtimestamp(inp.mtime, tz=dt.timezone.utc)
    try:
        t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ShadowfleetError(f"--time-from: not an ISO 8601 time or 'mtime': {value!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


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
    inputs = _expand(paths)  # a missing file is an error before any store is created
    st = store if isinstance(store, Store) else Store(store)
    report = IngestReport()
    if engine is not None and engine.name != "local":
        report.files.extend(_ingest_on(engine, inputs, st, fmt, source, time_from, mapping, n_lines, progress, config))
        return report
    for inp in inputs:
        report.files.append(_ingest_one(inp, st, fmt, source, time_from, mapping, n_lines, progress, config))
    return report


def _ingest_on(engine, inputs, st, fmt, source, time_from, mapping, n_lines, progress, cfg) -> list[FileReport]:
    """One task per new file on ``engine``: workers decode and write their own part files (atomic renames, names
    unique to the file's content); the client alone writes the catalog, once per task result. A file already
    ingested, or the same content twice in the list, is skipped here (a hash read is far cheaper than decoding),
    as one process would skip it."""
    known = set(st.ingest_log()["sha256"].to_list())
    shas = [_sha256(inp) for inp in inputs]
    todo = []
    for i, sha in enumerate(shas):
        if sha not in known:
            todo.append(i)
            known.add(sha)
    job = engine.share((st.root, fmt, source, time_from, mapping, n_lines, cfg))
    done = {}
    for i, rep in zip(todo, engine.results(engine.map(_ingest_task, [inputs[i] for i in todo], job))):
        src = source or Path(inputs[i].name.split(":")[-1]).name
        st.log_ingest(rep.sha256, inputs[i].name, src, rep.format, rep.n_accepted, rep.n_rejected)
        done[i] = rep
        if progress is not None:
            progress(rep, rep.lines)
    return [done.get(i) or FileReport(path=inp.name, sha256=sha, skipped_already_ingested=True)
            for i, (inp, sha) in enumerate(zip(inputs, shas))]


def _ingest_task(inp, job) -> FileReport:
    root, fmt, source, time_from, mapping, n_lines, cfg = job
    st = Store(root, create=False)
    return _ingest_one(inp, st, fmt, source, time_from, mapping, n_lines, None, cfg, known=frozenset())


class _AlreadyIngested(Exception):
    pass


def _ingest_one(inp, st, fmt, source, time_from, mapping, n_lines, progress, cfg,
                known: frozenset | None = None) -> FileReport:
    """One file into ``st``, logged in its catalog; with ``known`` (the shas already ingested) the catalog is
    neither read nor written: the caller logs the file."""
    t0 = time.perf_counter()
    rep = FileReport(path=inp.name, sha256="")
    # The sha256 (a full read of the file) is taken in a thread while the first NMEA batch is read and parsed;
    # nothing is written, and no error about the content is raised, before it is known whether the file was
    # ingested already (then the file is skipped, as before).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-sha256") as hasher:
        sha_f = hasher.submit(_sha256, inp)
        checked = []

        def ready() -> None:
            if checked:
                return
            sha = sha_f.result()
            rep.sha256 = sha
            if (sha in known) if known is not None else st.ingested(sha):
                raise _AlreadyIngested
            _drop_unfinished(st, sha)
            checked.append(sha)

        try:
            try:
                kind = _ingest_content(inp, st, fmt, source, time_from, mapping, n_lines, progress, cfg, rep, ready)
            except ShadowfleetError:
                ready()  # an already ingested file is skipped, whatever its content
                raise
        except _AlreadyIngested:  # a fresh report: nothing of the partly read content counts
            return FileReport(path=inp.name, sha256=rep.sha256, skipped_already_ingested=True)
    rep.seconds = time.perf_counter() - t0
    if known is None:
        src = source or Path(inp.name.split(":")[-1]).name
        st.log_ingest(rep.sha256, inp.name, src, kind, rep.n_accepted, rep.n_rejected)
    return rep


def _ingest_content(inp, st, fmt, source, time_from, mapping, n_lines, progress, cfg, rep, ready) -> str:
    src = source or Path(inp.name.split(":")[-1]).name
    now = dt.datetime.now(dt.timezone.utc)
    with inp.opener() as raw_fh:
        fh = io.TextIOWrapper(raw_fh, encoding="utf-8", errors="replace", newline="")
        try:
            head = list(itertools.islice(fh, 200))
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise ShadowfleetError(f"{inp.name}: cannot read ({exc})") from None
        kind = fmt if fmt != "auto" else _detect_or_fail(head, inp.name)
        rep.format = kind
        lines_iter = itertools.chain(head, fh)
        tf = _time_from(time_from, inp) if kind == "nmea" else None
        ctx = _Context(inp, st, src, "", rep, cfg, now, tf, tf is not None)

        def ready_ctx() -> None:
            ready()
            ctx.sha = rep.sha256

        try:
            if kind == "nmea":
                with inp.opener() as byte_fh:  # read again from the start, as bytes
                    _run_nmea(ctx, _nmea_batches(byte_fh, n_lines), progress, ready_ctx)
            else:
                ready_ctx()
                if kind == "csv":
                    _run_csv(ctx, lines_iter, n_lines, progress, mapping)
                else:
                    _run_jsonl(ctx, lines_iter, n_lines, progress)
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise ShadowfleetError(f"{inp.name}: cannot read ({exc})") from None
    return kind


def _drop_unfinished(st: Store, sha: str) -> None:
    """Remove batches (and temporary files) an interrupted ingest of this file left behind, so the re-run
    starts clean even with another batch size."""
    prefix = f"part-{sha[:16]}-"
    for table in DATA_TABLES + ("rejects",):
        base = st.root / table
        if not base.is_dir():
            continue
        for f in base.glob(f"day=*/*{prefix}*"):
            if f.name.startswith(prefix) or f.name.startswith("." + prefix):
                f.unlink(missing_ok=True)


def _detect_or_fail(head, name):
    try:
        return detect_format(head)
    except ShadowfleetError as exc:
        raise ShadowfleetError(f"{name}: {exc}") from None


@dataclasses.dataclass
class _Context:
    inp: _Input
    store: Store
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
            good, bad = _validate(table, df, self.cfg, self.now)
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
            good = merge_receivers(_store_cols(good, table))
            self.rep.stored[table] += self.store.append(table, good, batch=batch)
        rej = [r for r in all_rej if r.height]
        if rej:
            rj = pl.concat([r.select("line", pl.col("ts").cast(UTC_US), pl.col("raw").cast(pl.Utf8), "reason")
                            for r in rej])
            if lines is not None and rj["raw"].null_count():
                text = lines.gather((rj["line"] - first_line).clip(0, max(lines.len() - 1, 0)))
                rj = rj.with_columns(pl.coalesce(pl.col("raw"), text).alias("raw"))
            for reason, n in rj.group_by("reason").len().iter_rows():
                self.rep.rejected[reason] = self.rep.rejected.get(reason, 0) + n
            rj = rj.with_columns(pl.lit(self.source).alias("source"), pl.lit(self.inp.name).alias("file"))
            self.store.append("rejects", rj, batch=batch)
        self.rep.batches += 1


def _store_cols(df: pl.DataFrame, table: str) -> pl.DataFrame:
    from shadowfleet.store.schema import TABLES

    return df.select([c for c in TABLES[table] if c in df.columns])


def _run_nmea(ctx: _Context, chunks: Iterator[pl.Series], progress, ready: Callable[[], None] = lambda: None) -> None:
    """Parse batch n+1 while batch n is decoded, validated and written (one writer thread, batches written in
    order): polars, NumPy and the Parquet writer release the GIL, so the two overlap on a multi-core machine."""
    parser = NmeaParser(ctx.cfg.unix_ms_threshold, ctx.cfg.max_fragment_gap_lines)
    first = 1
    checked_time = False
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer") as writer:
        pending = None
        for chunk in _read_ahead(chunks):
            b = parser.parse(chunk, first)
            first += len(chunk)
            ctx.rep.lines += len(chunk)
            for k, v in b.skipped.items():
                if v:
                    ctx.rep.skipped[k] = ctx.rep.skipped.get(k, 0) + v
            ready()  # the sha256 is known and the file new: from here on batches may be written
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
            pending = writer.submit(_decode_and_write, ctx, b)
            if progress:
                progress(ctx.rep, first - 1)
        if pending is not None:
            pending.result()
    ready()  # a file without a line still gets its sha256 logged
    orphans = parser.finish()
    if orphans.height:
        ctx.write({}, [orphans])


def _read_ahead(chunks: Iterator[pl.Series]) -> Iterator[pl.Series]:
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


def _decode_and_write(ctx: _Context, b) -> None:
    d = decode(b.messages)
    b.messages = None
    tables = {"positions": d.positions, "static": d.static, "base_stations": d.base_stations, "aids": d.aids}
    ctx.write(tables, [b.rejects, d.rejects], b.lines, b.first_line)


def _chunked_after_header(lines: Iterator[str], n_lines: int):
    header = None
    header_line = 0
    for i, ln in enumerate(lines, start=1):
        if ln.strip() and not (ln.startswith("#") and not ln.startswith("# Timestamp")):
            header, header_line = ln, i
            break
    if header is None:
        return None, 0, iter(())
    return header, header_line, _batches(lines, n_lines)


def _run_csv(ctx: _Context, lines: Iterator[str], n_lines: int, progress, mapping) -> None:
    header, header_line, chunks = _chunked_after_header(lines, n_lines)
    if header is None:
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
    for chunk in chunks:
        df, broken = tabular.read_csv_chunk(header, chunk, first)
        first += len(chunk)
        ctx.rep.lines += len(chunk)
        canon = tabular.canonical_csv(df, flavour, mapping)
        tables, rej = _split(canon, ctx.rep)
        ctx.write(tables, [broken] + rej)
        if progress:
            progress(ctx.rep, first - 1)


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


def _run_jsonl(ctx: _Context, lines: Iterator[str], n_lines: int, progress) -> None:
    first = 1
    for chunk in _batches(lines, n_lines):
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
        ctx.write(tables, [bad] + rej)
        if progress:
            progress(ctx.rep, first - 1)
