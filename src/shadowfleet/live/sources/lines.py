"""Bytes as they arrive → whole lines for the spool: bounded, and stamped with the receive time where the line
carries no time of its own."""

from __future__ import annotations

import time


class LineSplitter:
    """Cuts a byte stream into lines. A line longer than ``max_line_bytes`` is dropped (counted in
    ``oversize``) instead of being buffered without limit; ``stamp`` puts the receive time in front of NMEA lines
    that have no tag-block time, so a line means the same whenever (and in whichever batch) it is decoded."""

    def __init__(self, max_line_bytes: int, stamp: bool = True):
        self.max = max_line_bytes
        self.stamp = stamp
        self.buf = b""
        self.skipping = False  # inside an oversize line: drop until its end
        self.oversize = 0

    def feed(self, data: bytes) -> list[bytes]:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self.skipping:  # the rest of an oversize line: drop up to its end
            nl = data.find(b"\n")
            if nl < 0:
                return []
            data, self.skipping = data[nl + 1:], False
        parts = (self.buf + data).split(b"\n")
        self.buf = parts.pop()
        out = []
        for p in parts:
            if not p.strip():
                continue
            if len(p) > self.max:
                self.oversize += 1
                continue
            out.append(p)
        if len(self.buf) > self.max:
            self.oversize += 1
            self.buf = b""
            self.skipping = True
        return self.finish_lines(out)

    def finish_lines(self, lines: list[bytes]) -> list[bytes]:
        if not self.stamp:
            return [ln + b"\n" for ln in lines]
        now = str(int(time.time() * 1000)).encode()
        return [stamp_line(ln, now) for ln in lines]

    def flush(self) -> list[bytes]:
        """The unfinished last line at the end of a connection (a sender may omit the final newline)."""
        rest, self.buf = self.buf, b""
        if self.skipping or not rest.strip():
            self.skipping = False
            return []
        return self.finish_lines([rest])


def stamp_line(line: bytes, now_ms: bytes) -> bytes:
    """``line`` + newline, with ``now_ms`` in front when it is an NMEA line without a tag-block time (c:)."""
    first = line[:1]
    if first == b"\\":
        end = line.find(b"\\", 1)
        tag = line[1:end] if end > 0 else b""
        if tag.startswith(b"c:") or b",c:" in tag:
            return line + b"\n"
    elif first not in (b"!", b"$"):
        return line + b"\n"  # already time-prefixed, or not NMEA: stored as received
    return now_ms + b" " + line + b"\n"
