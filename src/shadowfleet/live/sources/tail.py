"""``tail:PATH``: a log file another program keeps appending to. Read from where the last run stopped (the
offset is kept beside the spool); a file that shrinks or is replaced (log rotation) is read again from its start."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from shadowfleet.live.sources.base import Source

_POLL_S = 0.2
_READ = 1 << 20


class TailSource(Source):
    def __init__(self, address: str, path: str):
        super().__init__(address)
        self.path = Path(path)
        self.state_file: Path | None = None

    def start(self, spool, cfg, stop) -> None:
        self.state_file = spool.dir / "tail.json"
        super().start(spool, cfg, stop)

    def _state(self) -> tuple[int, int]:
        try:
            s = json.loads(self.state_file.read_text())
            return int(s["inode"]), int(s["offset"])
        except (OSError, ValueError, KeyError, TypeError):
            return -1, 0

    def receive(self, sink, cfg, stop: threading.Event) -> None:
        inode, offset = self._state()
        while not stop.is_set() and not self.path.exists():
            stop.wait(_POLL_S)
        with open(self.path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_ino != inode or st.st_size < offset:
                offset = 0
            fh.seek(offset)
            self.stats.connects += 1
            while not stop.is_set():
                data = fh.read(_READ)
                if data:
                    # whole lines only: the rest is read again next time, so the saved offset is a line start
                    cut = data.rfind(b"\n") + 1
                    if cut == 0 and len(data) < _READ:
                        fh.seek(offset)
                        stop.wait(_POLL_S)
                        continue
                    cut = cut or len(data)
                    sink(data[:cut])
                    offset += cut
                    fh.seek(offset)
                    self._save(st.st_ino, offset)
                    continue
                try:
                    now = os.stat(self.path)
                except FileNotFoundError:
                    return  # rotated away: wait for the new file
                if now.st_ino != st.st_ino or now.st_size < offset:
                    return
                stop.wait(_POLL_S)

    def _save(self, inode: int, offset: int) -> None:
        tmp = self.state_file.with_name(".tail.json.tmp")
        tmp.write_text(json.dumps({"inode": inode, "offset": offset}))
        os.replace(tmp, self.state_file)
