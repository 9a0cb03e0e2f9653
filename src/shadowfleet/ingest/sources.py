"""Where the bytes of an ingest come from: files and folders expanded, compressed files (gzip, bz2, zip members)
opened transparently, the sha256 that identifies a file, the format of its content, and `--time-from`."""

from __future__ import annotations

import bz2
import dataclasses
import datetime as dt
import gzip
import hashlib
import io
import re
import zipfile
from pathlib import Path
from typing import Callable, Iterable

from shadowfleet.errors import ShadowfleetError

FORMATS = ("auto", "nmea", "csv", "jsonl")


@dataclasses.dataclass
class Input:
    name: str  # what the report and rejects call it
    opener: Callable[[], io.BufferedIOBase]  # decompressed bytes: the content, which the sha256 is taken of
    mtime: float


def expand(paths: Iterable[str | Path]) -> list[Input]:
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
            out.extend(inputs_of(f))
    return out


def inputs_of(f: Path) -> list[Input]:
    with open(f, "rb") as fh:
        magic = fh.read(4)
    mtime = f.stat().st_mtime
    if magic[:2] == b"\x1f\x8b":
        return [Input(str(f), lambda: gzip.open(f, "rb"), mtime)]
    if magic[:3] == b"BZh":
        return [Input(str(f), lambda: bz2.open(f, "rb"), mtime)]
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
        return [Input(f"{f}:{m.filename}", member(m.filename), mtime) for m in members]
    return [Input(str(f), lambda: open(f, "rb"), mtime)]


def file_sha256(inp: Input) -> str:
    """Of the content, not the container: a file compressed after it was ingested is the same file."""
    h = hashlib.sha256()
    with inp.opener() as fh:
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


def time_from(value, inp: Input) -> dt.datetime | None:
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
