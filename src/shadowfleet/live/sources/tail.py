"""``tail:PATH``: a log file another program keeps appending to, read exactly once across restarts.

Each chunk read goes into the spool together with a mark of where it ends in the file (device, inode, the hash of
the file's first bytes, byte offset), in one write (spool.py), so a restart after a crash or ``kill -9`` resumes
exactly after the last chunk the spool holds. Rotation: a file renamed away is read to its end (also when that
happened while live was down and it still lies in the same folder), then the new file from its start; a file
truncated in place (copytruncate) is read again from its start.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from shadowfleet.live.sources.base import Source

_POLL_S = 0.2
_READ = 1 << 20
_HEAD = 64  # bytes hashed to tell a file from another that got the same inode number after a delete


class TailSource(Source):
    marked = True  # the spool carries this source's file position with every chunk

    def __init__(self, address: str, path: str):
        super().__init__(address)
        self.path = Path(path)
        self.spool = None

    def start(self, spool, cfg, stop) -> None:
        self.spool = spool
        super().start(spool, cfg, stop)

    def receive(self, sink, cfg, stop: threading.Event) -> None:
        mark = self.spool.mark or {}
        while not stop.is_set() and not self.path.exists():
            stop.wait(_POLL_S)
        if stop.is_set():
            return
        with open(self.path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if _same_file(fh, st, mark):
                offset = int(mark["offset"]) if st.st_size >= int(mark["offset"]) else 0  # shrunk: truncated
            else:
                if mark:
                    self._finish_rotated(mark, sink, stop)
                offset = 0
            self.stats.connects += 1
            self._follow(fh, st, offset, bool(mark.get("skip")) and offset > 0, sink, stop)

    def _follow(self, fh, st, offset: int, skip: bool, sink, stop: threading.Event, rotated: bool = False) -> None:
        """Read ``fh`` from ``offset`` in whole lines, each chunk passed to the spool with its mark; return when the
        path names another file (rotation) or, for a ``rotated`` file, at its end."""
        fh.seek(offset)
        head = b""
        while not stop.is_set():
            data = fh.read(_READ)
            if data:
                cut = data.rfind(b"\n") + 1
                if skip:  # resuming inside a line too long to keep: drop up to its end
                    nl = data.find(b"\n")
                    cut, data, skip = (nl + 1, b"", False) if nl >= 0 else (len(data), b"", True)
                elif cut == 0 and len(data) < _READ:  # an unfinished line: wait for its end
                    if rotated:
                        cut = len(data)  # a rotated file gets no more: its last line is whole
                    else:
                        fh.seek(offset)
                        stop.wait(_POLL_S)
                        continue
                elif cut == 0:  # a megabyte without a newline: the splitter drops it as oversize
                    skip = True
                    cut = len(data)
                else:
                    skip = False
                offset += cut
                if len(head) < min(_HEAD, offset):  # after the read: the file holds at least what the mark hashes
                    head = os.pread(fh.fileno(), _HEAD, 0)
                sink(data[:cut], {"dev": st.st_dev, "ino": st.st_ino, "head": _digest(head, offset),
                                  "offset": offset, "skip": skip})
                fh.seek(offset)
                continue
            if rotated:
                return
            try:
                now = os.stat(self.path)
            except FileNotFoundError:
                now = None
            if now is None or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
                if fh.read(1):  # written after the last read, before the rename: read on to the end first
                    fh.seek(offset)
                    continue
                return  # rotated away and finished: the caller opens the new file
            if now.st_size < offset:  # truncated in place
                offset = 0
                fh.seek(0)
                head = b""
                continue
            stop.wait(_POLL_S)

    def _finish_rotated(self, mark: dict, sink, stop: threading.Event) -> None:
        """The file of the last mark, renamed while live was down: read its rest if it lies beside PATH."""
        try:
            entries = list(os.scandir(self.path.parent))
        except OSError:
            return
        for e in entries:
            try:
                if e.inode() != int(mark.get("ino", -1)) or not e.is_file(follow_symlinks=False):
                    continue
                with open(e.path, "rb") as fh:
                    st = os.fstat(fh.fileno())
                    if _same_file(fh, st, mark) and st.st_size > int(mark["offset"]):
                        self._follow(fh, st, int(mark["offset"]), bool(mark.get("skip")), sink, stop, rotated=True)
                return
            except (OSError, ValueError, TypeError):
                continue


def _digest(head: bytes, offset: int) -> str:
    return hashlib.blake2b(head[:min(_HEAD, offset)], digest_size=8).hexdigest()


def _same_file(fh, st, mark: dict) -> bool:
    """Whether the open file is the one ``mark`` was taken on: same device and inode, same first bytes."""
    try:
        if (st.st_dev, st.st_ino) != (int(mark["dev"]), int(mark["ino"])):
            return False
        offset = int(mark["offset"])
        return _digest(os.pread(fh.fileno(), min(_HEAD, offset), 0), offset) == mark["head"]
    except (KeyError, ValueError, TypeError, OSError):
        return False
