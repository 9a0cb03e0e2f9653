"""Everything shadowfleet hands to a person or another program, defined once.

- output formats as enums (the `--format` choices of every command);
- one UTC time formatter (ISO 8601 ending in Z), for Python values and for polars columns;
- CSV with OWASP's formula-injection guard, so that a ship named ``=HYPERLINK(...)`` stays text in a spreadsheet;
- KML 2.2 for Google Earth, escaped;
- terminal text with control characters removed and rich markup off, so that a name like ``[/]`` or an escape
  sequence in a file name prints as itself;
- one writer for "standard output or ``--out``": atomic (temporary file then rename) over a regular file or a new
  path, a plain stream to anything else (``/dev/null``, a fifo); a symlink is followed, never replaced.

AIS and sanctions files are written by people with an interest in hiding; every writer goes through this module so
that none can forget a guard.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import errno
import json
import os
import re
import stat
import sys
import tempfile
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Sequence

import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shadowfleet.errors import ShadowfleetError

# ---- formats ---------------------------------------------------------------------------------------------------


class ListingFormat(str, enum.Enum):
    """Commands that list rows: a table for a person, CSV for a spreadsheet, JSON lines or JSON for a program."""

    table = "table"
    csv = "csv"
    jsonl = "jsonl"
    json = "json"


class EventFormat(str, enum.Enum):
    table = "table"
    csv = "csv"
    jsonl = "jsonl"
    geojson = "geojson"
    kml = "kml"


class CaseFormat(str, enum.Enum):
    jsonl = "jsonl"
    csv = "csv"
    table = "table"


class TrackFormat(str, enum.Enum):
    csv = "csv"
    jsonl = "jsonl"
    geojson = "geojson"
    kml = "kml"


class SummaryFormat(str, enum.Enum):
    """Commands that print one summary (stats, cap): tables for a person or one JSON document."""

    table = "table"
    json = "json"


class ProfileFormat(str, enum.Enum):
    text = "text"
    json = "json"


# ---- UTC times -------------------------------------------------------------------------------------------------

_SECONDS = "%Y-%m-%dT%H:%M:%SZ"
_MICRO = "%Y-%m-%dT%H:%M:%S.%fZ"
_MICRO_POLARS = "%Y-%m-%dT%H:%M:%S%.6fZ"


def utc_text(t: dt.datetime | None, micro: bool = False) -> str | None:
    """ISO 8601 in UTC ending in Z (a naive time is taken as UTC); None stays None."""
    if t is None:
        return None
    if t.tzinfo is not None:
        t = t.astimezone(dt.timezone.utc)
    return t.strftime(_MICRO if micro else _SECONDS)


def utc_expr(name: str, dtype: pl.DataType | None = None, micro: bool = False) -> pl.Expr:
    """The polars counterpart of :func:`utc_text` for the Datetime column ``name`` (naive = UTC)."""
    col = pl.col(name)
    col = col.dt.replace_time_zone("UTC") if dtype is not None and not getattr(dtype, "time_zone", None) else col
    return col.dt.convert_time_zone("UTC").dt.strftime(_MICRO_POLARS if micro else _SECONDS).alias(name)


def flat(df: pl.DataFrame, micro: bool = False) -> pl.DataFrame:
    """Every column as something a flat file holds: times as UTC text, lists joined with '|', structs as JSON."""
    exprs = []
    for name, dtype in df.schema.items():
        if isinstance(dtype, pl.Datetime):
            exprs.append(utc_expr(name, dtype, micro))
        elif isinstance(dtype, pl.List):
            exprs.append(pl.col(name).cast(pl.List(pl.Utf8)).list.join("|"))
        elif isinstance(dtype, pl.Struct):
            exprs.append(pl.col(name).struct.json_encode())
    return df.with_columns(exprs) if exprs else df


# ---- CSV -------------------------------------------------------------------------------------------------------

# OWASP "CSV Injection": a cell beginning with one of these is run as a formula by spreadsheet programs.
# Prefixing a single quote makes it text and keeps it readable.
_FORMULA_START = r"^[=+\-@\t\r]"


# escape sequences and other controls that would act on a terminal showing the file (tab, CR, LF are CSV's own)
_CSV_CONTROL = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"


def csv_guard(df: pl.DataFrame) -> pl.DataFrame:
    """Text cells that a spreadsheet would run as a formula prefixed with a single quote (OWASP's rule), and
    terminal control characters removed."""
    exprs = []
    for name, dtype in df.schema.items():
        if dtype == pl.Utf8:
            col = pl.col(name).str.replace_all(_CSV_CONTROL, "")
            exprs.append(pl.when(col.str.contains(_FORMULA_START)).then(pl.lit("'") + col).otherwise(col).alias(name))
    return df.with_columns(exprs) if exprs else df


def csv_text(df: pl.DataFrame, micro: bool = False) -> str:
    """The frame as CSV: flattened (see :func:`flat`) and guarded against formula injection."""
    return csv_guard(flat(df, micro)).write_csv()


def jsonl_text(df: pl.DataFrame, micro: bool = False) -> str:
    """One JSON object per row (times as UTC text); empty text for no rows."""
    if df.height == 0:
        return ""
    times = [utc_expr(n, t, micro) for n, t in df.schema.items() if isinstance(t, pl.Datetime)]
    return (df.with_columns(times) if times else df).write_ndjson()


def json_records(df: pl.DataFrame, micro: bool = False) -> list[dict]:
    text = jsonl_text(df, micro)
    return [json.loads(line) for line in text.splitlines()]


# ---- KML 2.2 ---------------------------------------------------------------------------------------------------

KML_NS = "http://www.opengis.net/kml/2.2"
# characters XML 1.0 does not allow at all (a raw AIS name may hold any byte): removed, not escaped
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: Any) -> str:
    """Text safe inside an XML element: forbidden characters removed, & < > escaped."""
    s = _NOT_XML.sub("", "" if value is None else str(value))
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def kml_placemark(name: str, geometry: str, begin: str | None = None, end: str | None = None,
                  data: dict[str, Any] | None = None) -> str:
    """One Placemark; ``geometry`` from :func:`kml_point` or :func:`kml_line`, times as UTC text."""
    if begin and end and begin != end:
        when = f"<TimeSpan><begin>{xml_text(begin)}</begin><end>{xml_text(end)}</end></TimeSpan>"
    elif begin:
        when = f"<TimeStamp><when>{xml_text(begin)}</when></TimeStamp>"
    else:
        when = ""
    extended = ""
    if data:
        extended = "<ExtendedData>" + "".join(
            f'<Data name="{xml_text(k)}"><value>{xml_text(v)}</value></Data>' for k, v in data.items() if v is not None
        ) + "</ExtendedData>"
    return f"<Placemark><name>{xml_text(name)}</name>{when}{extended}{geometry}</Placemark>"


def kml_point(lon: float, lat: float) -> str:
    return f"<Point><coordinates>{lon:.6f},{lat:.6f}</coordinates></Point>"


def kml_line(lons: Sequence[float], lats: Sequence[float]) -> str:
    coords = " ".join(f"{lo:.6f},{la:.6f}" for lo, la in zip(lons, lats))
    return f"<LineString><tessellate>1</tessellate><coordinates>{coords}</coordinates></LineString>"


def kml_document(name: str, folders: Iterable[tuple[str, Iterable[str]]]) -> Iterator[str]:
    """A KML 2.2 document, piece by piece: folders of placemarks, each folder (title, placemarks)."""
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="{KML_NS}"><Document><name>{xml_text(name)}</name>\n'
    for title, placemarks in folders:
        yield f"<Folder><name>{xml_text(title)}</name>\n"
        for p in placemarks:
            yield p + "\n"
        yield "</Folder>\n"
    yield "</Document></kml>\n"


# ---- terminal --------------------------------------------------------------------------------------------------

# C0 and C1 control characters (escape sequences start with one) and the bidirectional overrides that can make
# printed text read differently from what it is
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_NEWLINE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(value: Any, one_line: bool = False) -> str:
    """Text safe to print on a terminal: control characters and direction overrides removed (tabs and, when
    ``one_line``, newlines become spaces). Rich markup is off in :class:`Terminal`, so brackets stay as typed."""
    s = "" if value is None else str(value)
    s = s.replace("\t", " ")
    if one_line:
        return _CONTROL_OR_NEWLINE.sub(lambda m: " " if m.group() in "\r\n" else "", s)
    return _CONTROL.sub("", s)


class Terminal(Console):
    """A rich Console whose text is never read as markup and never carries control characters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("markup", False)
        kwargs.setdefault("highlight", False)
        kwargs.setdefault("emoji", False)
        super().__init__(*args, **kwargs)

    def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
        kwargs["markup"] = False
        kwargs.setdefault("highlight", False)
        super().print(*(printable(o) if isinstance(o, str) else o for o in objects), **kwargs)

    def status(self, status: Any, *args: Any, **kwargs: Any):  # type: ignore[override]
        return super().status(Text(printable(status, one_line=True)), *args, **kwargs)


def cell(value: Any) -> Text:
    """A table cell that prints exactly its text (no markup, no control characters, one line)."""
    if value is None:
        return Text("")
    if isinstance(value, dt.datetime):
        return Text(utc_text(value) or "")
    return Text(printable(value, one_line=True))


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None,
          right: Iterable[str] = (), **kwargs: Any) -> Table:
    """A rich table whose every cell and heading is :func:`cell` text; ``right`` names right-aligned columns."""
    right = set(right)
    t = Table(title=None if title is None else cell(title), **kwargs)
    for c in columns:
        t.add_column(cell(c), justify="right" if c in right else "left")
    for row in rows:
        t.add_row(*(cell(v) for v in row))
    return t


def frame_table(df: pl.DataFrame, title: str | None = None, columns: Sequence[str] | None = None, **kwargs: Any) -> Table:
    """A table of a frame's columns (all, or ``columns``), numbers right-aligned, times as UTC text."""
    df = df.select(columns) if columns else df
    shown = flat(df)
    right = [n for n, t in df.schema.items() if t.is_numeric()]
    return table(df.columns, shown.iter_rows(), title=title, right=right, **kwargs)


def table_text(t: Table, width: int) -> str:
    """A table rendered as plain text (for a file or a pipe), ``width`` columns wide."""
    import io

    buf = Terminal(record=True, width=width, file=io.StringIO())
    buf.print(t)
    return buf.export_text()


# ---- standard output or --out ----------------------------------------------------------------------------------


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# errors of writing itself (as opposed to errors of the work done while the stream is open)
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG}


def _cannot_write(option: str, given: Path, exc: OSError) -> ShadowfleetError:
    return ShadowfleetError(f"{option}: cannot write {given}: {(exc.strerror or str(exc)).lower()}")


@contextlib.contextmanager
def output_stream(path: Path | str | None, option: str = "--out") -> Iterator[IO[str]]:
    """A text stream to ``path``, or to standard output when it is None.

    Over a regular file or a new path the text goes to a temporary file beside it, renamed into place only when
    complete (a reader never sees half a file, a failure leaves the old one); a symlink is followed and its target
    written; anything else (a device such as /dev/null, a fifo) is written as a stream, never replaced.
    """
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    given = Path(path)
    target = Path(os.path.realpath(given))
    try:
        st: os.stat_result | None = target.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _cannot_write(option, given, exc) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise ShadowfleetError(f"{option}: is a directory: {given}")
    if st is not None and not stat.S_ISREG(st.st_mode):
        try:
            fh = open(target, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise _cannot_write(option, given, exc) from None
        try:
            with fh:
                yield fh
        except OSError as exc:
            if exc.errno in _WRITE_ERRNOS:
                raise _cannot_write(option, given, exc) from None
            raise
        return
    if not target.parent.is_dir():
        raise ShadowfleetError(f"{option}: directory does not exist: {given.parent}")
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise _cannot_write(option, given, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        try:
            os.chmod(tmp, stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask())
            os.replace(tmp, target)
        except OSError as exc:
            raise _cannot_write(option, given, exc) from None
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
            raise _cannot_write(option, given, exc) from None
        raise


def write_output(text: str | Iterable[str], path: Path | str | None, option: str = "--out") -> None:
    """Write ``text`` (or pieces of it) to ``path`` or standard output, through :func:`output_stream`."""
    with output_stream(path, option) as fh:
        if isinstance(text, str):
            fh.write(text)
        else:
            for piece in text:
                fh.write(piece)
