"""Bytes of an input file → batches of lines, with memory bounded whatever the input.

Lines are found with NumPy in large blocks (no Python call per line) and handed on as one Arrow string column per
batch. A batch ends after ``n_lines`` lines or ``max_batch_bytes`` bytes, whichever comes first. A line longer than
``max_line_bytes`` is never held whole: its first bytes are kept for the reject record, the rest is skipped up to
the next line break, and the line is replaced by an empty one so that line numbers stay true. A 200 MB file
without a line break, or a small .gz that expands to gigabytes of one line, thus costs one block of memory.
"""

from __future__ import annotations

import dataclasses
import io
from typing import Iterator

import numpy as np
import polars as pl

READ_BLOCK = 1 << 23  # bytes per read: large reads, few Python calls
REJECT_PREFIX = 200  # characters of an over-long line kept in the rejects table
# what an over-long line is replaced by: "\r\n" cannot join a '\r' before it or a '\n' after it into one line
_EMPTY = b"\r\n"


@dataclasses.dataclass
class LineBatch:
    lines: pl.Series  # "raw": the lines with their terminators, as a text file iterator yields them
    too_long: np.ndarray  # positions (0-based, in this batch) of lines that were over the limit and are now empty
    too_long_text: list[str]  # the first REJECT_PREFIX characters of each of them

    def __len__(self) -> int:
        return self.lines.len()

    def rejects(self, first_line: int) -> pl.DataFrame:
        """The over-long lines as rejects (line, ts, raw, reason)."""
        return pl.DataFrame({
            "line": pl.Series(self.too_long + first_line, dtype=pl.Int64),
            "ts": pl.Series([None] * len(self.too_long_text), dtype=pl.Datetime("us", "UTC")),
            "raw": pl.Series(self.too_long_text, dtype=pl.Utf8),
            "reason": pl.Series(["line_too_long"] * len(self.too_long_text), dtype=pl.Utf8),
        })


def line_ends(buf: bytes) -> np.ndarray:
    """Index of the last byte of every line terminator in ``buf``: '\\n', or a '\\r' not followed by '\\n' (the
    universal newlines of io.TextIOWrapper(newline=""))."""
    a = np.frombuffer(buf, np.uint8)
    ends = np.flatnonzero(a == 10)
    if b"\r" in buf:  # memchr: most files have no carriage return at all
        cr = np.flatnonzero(a == 13)
        nxt = np.minimum(cr + 1, a.size - 1)
        lone = cr[(cr + 1 >= a.size) | (a[nxt] != 10)]
        if lone.size:
            ends = np.union1d(ends, lone)
    return ends


def _text(b: bytes) -> str:
    return b[:REJECT_PREFIX].decode("utf-8", errors="replace") + "…"


@dataclasses.dataclass
class _Segment:
    data: bytes  # whole lines
    stops: np.ndarray  # exclusive end offset of each line in data
    too_long: list[int]  # line positions in this segment
    too_long_text: list[str]


def _cut_long(data: bytes, stops: np.ndarray, max_line: int) -> _Segment:
    """Lines of ``data`` longer than ``max_line`` replaced by an empty line (the terminator kept)."""
    starts = np.concatenate([[0], stops[:-1]]) if stops.size else stops
    long_ = np.flatnonzero(stops - starts > max_line)
    if not long_.size:
        return _Segment(data, stops, [], [])
    pieces, texts, at = [], [], 0
    new_len = stops - starts
    for i in long_.tolist():  # only the over-long lines, rare
        a, b = int(starts[i]), int(stops[i])
        body = data[a:b]
        pieces += [data[at:a], _EMPTY]
        texts.append(_text(body))
        new_len[i] = len(_EMPTY)
        at = b
    pieces.append(data[at:])
    return _Segment(b"".join(pieces), np.cumsum(new_len), long_.tolist(), texts)


def _segments(fh: io.BufferedIOBase, max_line: int) -> Iterator[_Segment]:
    """Whole lines block by block; an unterminated line is carried to the next block only while it is short."""
    carry = b""
    skipping: bytes | None = None  # the start of an over-long line whose end has not been read yet
    after_cr = False  # the over-long line ended with a '\r' at the end of a block: a '\n' next belongs to it
    while True:
        data = fh.read(READ_BLOCK)
        eof = not data
        if after_cr and data.startswith(b"\n"):
            data = data[1:]
        after_cr = False
        if skipping is not None and not eof:
            ends = line_ends(data)
            if not ends.size:
                continue  # still inside the over-long line: the block is dropped
            end = int(ends[0])
            after_cr = end == len(data) - 1 and data.endswith(b"\r")
            data = data[end + 1:]
            yield _Segment(_EMPTY, np.array([len(_EMPTY)]), [0], [_text(skipping)])
            skipping = None
            if not data:
                continue
        if skipping is not None and eof:
            yield _Segment(_EMPTY, np.array([len(_EMPTY)]), [0], [_text(skipping)])
            return
        if carry:
            data, carry = carry + data, b""
        if not eof and data.endswith(b"\r"):
            data, carry = data[:-1], data[-1:]  # maybe the first half of '\r\n': decide with the next block
        if not data:
            if eof:
                return
            continue
        ends = line_ends(data)
        stops = ends + 1
        done = int(stops[-1]) if stops.size else 0
        tail = data[done:]
        if eof and tail:
            stops = np.append(stops, len(data))  # last line without a terminator
        elif tail:
            data = data[:done]
            if len(tail) <= max_line:
                carry = tail + carry
            elif not carry:
                skipping = tail[:REJECT_PREFIX]
            else:  # the '\r' held back ends the over-long line
                data += _EMPTY
                stops = np.append(stops, len(data))
                carry, after_cr = b"", True
                seg = _cut_long(data[:done], stops[:-1], max_line)
                yield _Segment(seg.data + _EMPTY, np.append(seg.stops, len(seg.data) + len(_EMPTY)),
                               seg.too_long + [stops.size - 1], seg.too_long_text + [_text(tail)])
                continue
        if stops.size:
            yield _cut_long(data, stops, max_line)
        if eof:
            return


def _series(seg: bytes, stops: np.ndarray) -> pl.Series:
    """The lines of ``seg`` as one string column, built from the bytes without a Python string per line."""
    import pyarrow as pa

    if not seg.isascii():
        # invalid UTF-8 becomes U+FFFD as in a text file; decoding cannot move a terminator across a line
        seg = seg.decode("utf-8", errors="replace").encode("utf-8")
        stops = line_ends(seg) + 1
        if not stops.size or stops[-1] != len(seg):
            stops = np.append(stops, len(seg))  # last line without a terminator (end of file)
    offsets = np.concatenate([[0], stops]).astype(np.int64)
    arr = pa.LargeStringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(seg))
    return pl.Series("raw", arr)


def line_batches(fh: io.BufferedIOBase, n_lines: int, max_line_bytes: int, max_batch_bytes: int) -> Iterator[LineBatch]:
    """Batches of at most ``n_lines`` lines and about ``max_batch_bytes`` bytes (a batch always holds one line)."""
    datas: list[bytes] = []
    stops_of: list[np.ndarray] = []
    longs: list[int] = []
    long_texts: list[str] = []
    size = count = 0

    def flush(final: bool) -> Iterator[LineBatch]:
        nonlocal datas, stops_of, longs, long_texts, size, count
        joined = b"".join(datas)
        stops = np.concatenate(stops_of)
        long_at = np.asarray(longs, dtype=np.int64)
        texts = np.asarray(long_texts, dtype=object)
        start = cut = 0
        while stops.size > start:
            if not final and stops.size - start < n_lines and size - cut < max_batch_bytes:
                break
            k = min(n_lines, stops.size - start)
            # no more lines than fit in max_batch_bytes, but always one
            k = max(1, min(k, int(np.searchsorted(stops[start:start + k], cut + max_batch_bytes, side="right"))))
            stop = int(stops[start + k - 1])
            sel = (long_at >= start) & (long_at < start + k)
            yield LineBatch(_series(joined[cut:stop], stops[start:start + k] - cut), long_at[sel] - start,
                            texts[sel].tolist())
            start, cut = start + k, stop
        rest = long_at >= start
        datas = [joined[cut:]] if stops.size > start else []
        stops_of = [stops[start:] - cut] if stops.size > start else []
        longs, long_texts = (long_at[rest] - start).tolist(), texts[rest].tolist()
        size, count = len(joined) - cut, stops.size - start

    for seg in _segments(fh, max_line_bytes):
        longs += [count + i for i in seg.too_long]
        long_texts += seg.too_long_text
        datas.append(seg.data)
        stops_of.append(seg.stops + size)
        size += len(seg.data)
        count += seg.stops.size
        if count >= n_lines or size >= max_batch_bytes:
            yield from flush(final=False)
    if count:
        yield from flush(final=True)


def head_lines(fh: io.BufferedIOBase, n: int, max_line_bytes: int) -> list[str]:
    """The first ``n`` lines (for format detection), over-long ones empty."""
    for batch in line_batches(fh, n, max_line_bytes, max_line_bytes * n):
        return batch.lines.to_list()
    return []
