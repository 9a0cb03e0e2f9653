"""The spool: every line a source receives is appended to a file on disk before anything decodes it.

Layout, one folder per source under ``STORE/live/spool/<key>/``::

    meta.json              the source (its address without any secret) and the line format
    00000001.spool ...     segments, lines as received (NMEA lines without a time get the receive time in front)
    cursor.json            {"segment", "offset"} committed so far, and "pending": the end of the batch being stored

Exactly-once into the store: before a batch is written the cursor records where it ends ("pending"); the batch's
name is derived from where it starts, so writing it again replaces it. After a crash or ``kill -9`` the restart
reads the pending batch again, to exactly the same end, writes it again under the same name, and then commits.
A line is therefore never lost (it was on disk before it was decoded) and never stored twice.

A source that reads from a position of its own (``tail:``) writes a *mark* after each chunk, in the same write as
the chunk's lines: a line starting with NUL (never part of NMEA or JSON) that says where in the source the chunk
ended. Batches end at a mark, and a restart cuts the last segment after its last mark and resumes the source from
there, so a chunk is either in the spool whole with its mark or not at all: the source is read exactly once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

# a non-final fragment of a multi-sentence AIS message: "!AIVDM,<total>,<number>," with number < total
_FRAGMENT = re.compile(rb"![A-Z]{2}VD[MO],([1-9]),([1-9]),")
_HELD_BACK_MAX = 9  # a message has at most 9 sentences (NMEA 0183 sentence count is one digit)
MARK = b"\x00mark "  # a spool line that records a source's own position (see the module text)


def spool_key(source: str) -> str:
    """A folder name for a source: readable, path-safe, unique (the address itself may hold anything)."""
    readable = re.sub(r"[^A-Za-z0-9]+", "_", source)[:48].strip("_")
    return f"{readable}-{hashlib.blake2b(source.encode('utf-8'), digest_size=5).hexdigest()}"


@dataclass(frozen=True)
class Position:
    segment: int
    offset: int


@dataclass
class Batch:
    start: Position
    end: Position
    lines: list[str]

    @property
    def name(self) -> str:
        return f"{self.start.segment}-{self.start.offset}"


class Spool:
    """One source's spool: ``append`` from the receiving thread, ``next_batch``/``commit`` from the committer."""

    def __init__(self, root: str | Path, source: str, fmt: str, segment_bytes: int = 64 << 20, marked: bool = False):
        self.dir = Path(root) / spool_key(source)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.source = source
        self.fmt = fmt
        self.segment_bytes = segment_bytes
        _write_json(self.dir / "meta.json", {"source": source, "format": fmt})
        self._lock = threading.Lock()
        self.marked = marked
        self.mark: dict | None = None  # the last mark written (a marked spool): where its source resumes
        cur = _read_json(self.dir / "cursor.json") or {}
        self.committed = Position(int(cur.get("segment", 1)), int(cur.get("offset", 0)))
        pend = cur.get("pending")
        self.pending = Position(int(pend[0]), int(pend[1])) if pend else None
        segments = self.segments()
        self._marked_end: Position | None = None  # a marked spool: the end of its last mark on disk
        if marked and segments:
            self.mark, self._marked_end = self._cut_after_last_mark(segments[-1])
        # a restart writes to a new segment, so a line cut by a kill ends the old one and is never glued to new data
        self._seg = (segments[-1] + 1) if segments else 1
        self._fh = None
        self.received_lines = 0
        # (segment, end offset, wall time) of recent appends, coalesced to one per 50 ms: when a batch's first line
        # arrived, for the batching deadline and the alert latency
        self._arrivals: list[list] = []

    # ---- writing (the source's thread) -----------------------------------------------------------------------
    def append(self, lines: list[bytes], mark: dict | None = None) -> None:
        """Append whole lines (each ending in b'\\n') and hand them to the OS before returning; ``mark`` (a marked
        spool): the source's position after these lines, written with them in one write."""
        if not lines and mark is None:
            return
        data = b"".join(lines)
        if mark is not None:
            data += MARK + json.dumps(mark, separators=(",", ":")).encode() + b"\n"
        with self._lock:
            if self._fh is None or self._fh.tell() >= self.segment_bytes:
                if self._fh is not None:
                    self._fh.close()
                    self._seg += 1
                self._fh = open(self.dir / f"{self._seg:08d}.spool", "ab", buffering=0)
            self._fh.write(data)  # unbuffered: in the kernel once this returns, so a kill -9 cannot lose it
            self.received_lines += len(lines)
            now, end = time.time(), self._fh.tell()
            if mark is not None:
                self.mark, self._marked_end = mark, Position(self._seg, end)
            if self._arrivals and self._arrivals[-1][0] == self._seg and now - self._arrivals[-1][2] < 0.05:
                self._arrivals[-1][1] = end
            else:
                self._arrivals.append([self._seg, end, now])

    def arrived_at(self, pos: "Position") -> float | None:
        """Wall time the line at ``pos`` was appended, or None if before this run."""
        with self._lock:
            for seg, end, t in self._arrivals:
                if (seg, end) > (pos.segment, pos.offset):
                    return t
        return None

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                os.fsync(self._fh.fileno())
                self._fh.close()
                self._fh = None

    # ---- reading and committing (the committer's thread) ------------------------------------------------------
    def segments(self) -> list[int]:
        return sorted(int(p.stem) for p in self.dir.glob("*.spool") if p.stem.isdigit())

    def next_batch(self, max_lines: int, final: bool = False) -> Batch | None:
        """The next lines after the committed position (at most ``max_lines``, within one segment), or None.

        A trailing non-final fragment of a multi-sentence message is left for the next batch (its other
        fragments are on their way) unless ``final``. After a restart the pending batch comes back whole."""
        pos = self.committed
        path = self.dir / f"{pos.segment:08d}.spool"
        later = [s for s in self.segments() if s > pos.segment]
        if not path.exists():
            if later:  # nothing was ever written to this segment: move on
                self._save(Position(later[0], 0), None)
                return self.next_batch(max_lines, final)
            return None
        size = path.stat().st_size
        if self.marked:  # only whole chunks, up to the last mark written (a write may be in progress after it)
            with self._lock:
                me = self._marked_end
            if me is None or me.segment < pos.segment:
                size = pos.offset
            elif me.segment == pos.segment:
                size = min(size, me.offset)
        closed = bool(later)  # a segment is finished once a later one exists
        with open(path, "rb") as fh:
            fh.seek(pos.offset)
            if self.pending is not None and self.pending.segment == pos.segment:
                data = fh.read(self.pending.offset - pos.offset)
                return self._batch(pos, data, closed_end=True)
            data = fh.read(min(size - pos.offset, max_lines * 512))
        if not data:
            if closed:
                self._save(Position(later[0], 0), None)
                return self.next_batch(max_lines, final)
            return None
        parts = data.split(b"\n")
        tail = parts.pop()  # after the last '\n': an unfinished line, or b""
        if len(parts) > max_lines:
            parts, tail = parts[:max_lines], b""
        elif tail and (closed or final) and len(data) == size - pos.offset:
            parts.append(tail)  # the end of a finished segment, even without its '\n' (a write cut by a kill)
            tail = b""
        if not final and parts:
            held, i, frags = 0, len(parts) - 1, 0
            while i >= 0 and frags < _HELD_BACK_MAX:
                if self.marked and parts[i].startswith(MARK):
                    i -= 1  # a mark between the fragments and the end is held back with them
                    continue
                m = _FRAGMENT.search(parts[i][:200])
                if not m or m.group(2) >= m.group(1):
                    break
                frags, i = frags + 1, i - 1
                held = len(parts) - 1 - i
            if held and held < len(parts):
                parts = parts[: len(parts) - held]
            elif held:
                parts = []
        if not parts:
            return None
        used = sum(len(p) + 1 for p in parts)
        if used > len(data):  # the last line had no '\n'
            used = len(data)
        return self._batch(pos, data[:used], closed_end=True)

    def _batch(self, pos: Position, data: bytes, closed_end: bool) -> Batch:
        text = data.decode("utf-8", errors="replace")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if self.marked:
            lines = [ln for ln in lines if not ln.startswith("\x00")]
        return Batch(pos, Position(pos.segment, pos.offset + len(data)), lines)

    def begin(self, batch: Batch) -> None:
        """Record where the batch ends before it is written to the store."""
        self._save(self.committed, batch.end)

    def commit(self, batch: Batch) -> None:
        self._save(batch.end, None)
        with self._lock:
            end = (batch.end.segment, batch.end.offset)
            self._arrivals = [a for a in self._arrivals if (a[0], a[1]) > end]

    def _save(self, committed: Position, pending: Position | None) -> None:
        self.committed, self.pending = committed, pending
        _write_json(self.dir / "cursor.json", {
            "segment": committed.segment, "offset": committed.offset,
            "pending": [pending.segment, pending.offset] if pending else None,
        })

    def _cut_after_last_mark(self, seg: int) -> tuple[dict | None, Position | None]:
        """Cut segment ``seg`` (the last of an earlier run) after its last mark: lines written after it came from a
        chunk whose mark never reached the disk (a kill during the write), so the source reads them again. Returns
        the last mark on disk and where it ends (None, None: no mark)."""
        for s in reversed([x for x in self.segments() if x <= seg]):
            path = self.dir / f"{s:08d}.spool"
            found = _last_mark(path)
            if s == seg:
                keep = found[0] if found else 0
                # never below what is committed or being committed (those batches ended at marks anyway)
                floor = max([p.offset for p in (self.committed, self.pending) if p is not None and p.segment == s],
                            default=0)
                if floor <= keep < path.stat().st_size:
                    with open(path, "rb+") as fh:
                        fh.truncate(keep)
                        os.fsync(fh.fileno())
            if found:
                try:
                    mark = json.loads(found[1])
                except ValueError:
                    mark = None
                return mark, Position(s, found[0])
        return None, None

    def backlog_bytes(self) -> int:
        """Bytes received but not yet committed (what a burst has queued on disk)."""
        total = 0
        for s in self.segments():
            if s < self.committed.segment:
                continue
            size = (self.dir / f"{s:08d}.spool").stat().st_size
            total += size - (self.committed.offset if s == self.committed.segment else 0)
        return total


def _last_mark(path: Path, block: int = 1 << 20) -> tuple[int, bytes] | None:
    """(end offset, payload) of the last whole mark line in a spool segment, read backwards block by block."""
    pos = path.stat().st_size
    carry = b""  # the start of the block after: a mark cut by a block edge is looked at again with what precedes it
    with open(path, "rb") as fh:
        while pos > 0:
            start = max(0, pos - block)
            fh.seek(start)
            data = fh.read(pos - start) + carry
            k = len(data)
            while (i := data.rfind(MARK, 0, k)) >= 0:
                if (i == 0 and start == 0) or (i > 0 and data[i - 1:i] == b"\n"):
                    nl = data.find(b"\n", i)
                    if nl >= 0:
                        return start + nl + 1, data[i + len(MARK):nl]
                k = i
            carry, pos = data[:4096], start
    return None


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(obj, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, OSError):
        return None
