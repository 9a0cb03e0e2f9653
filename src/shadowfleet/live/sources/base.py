"""What every source shares: counters, the receiving thread, reconnection with capped exponential backoff."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from shadowfleet.live.config import LiveConfig
from shadowfleet.live.sources.lines import LineSplitter


@dataclass
class SourceStats:
    connects: int = 0
    disconnects: int = 0
    stalls: int = 0  # connections dropped by the no-data watchdog
    lines: int = 0
    bytes: int = 0
    oversize: int = 0  # lines longer than [live] max_line_bytes, dropped
    nul_lines: int = 0  # lines starting with NUL (the spool's mark), dropped: never NMEA or JSON
    last_error: str = ""
    errors: dict = field(default_factory=dict)

    def error(self, exc: BaseException) -> None:
        kind = type(exc).__name__
        self.errors[kind] = self.errors.get(kind, 0) + 1
        self.last_error = f"{kind}: {exc}"[:200]


class Source:
    """A feed address; ``start`` runs ``receive`` in a daemon thread until ``stop`` is set."""

    fmt = "nmea"  # the spool's line format (see live.main: how a batch is decoded)
    marked = False  # whether the source passes its own position with each chunk (spool marks)

    def __init__(self, address: str):
        self.address = address
        self.stats = SourceStats()
        self.thread: threading.Thread | None = None

    @property
    def label(self) -> str:
        """The address as shown and stored (no secrets: those come from environment variables)."""
        return self.address

    def start(self, spool, cfg: LiveConfig, stop: threading.Event) -> None:
        self.thread = threading.Thread(target=self._run, args=(spool, cfg, stop), name=f"source {self.label}",
                                       daemon=True)
        self.thread.start()

    def _run(self, spool, cfg: LiveConfig, stop: threading.Event) -> None:
        delay = cfg.reconnect_initial_s
        while not stop.is_set():
            splitter = LineSplitter(cfg.max_line_bytes, stamp=self.fmt == "nmea")
            got = [False]

            def sink(data: bytes, mark: dict | None = None) -> None:
                lines = splitter.feed(data)
                self.stats.bytes += len(data)
                if b"\x00" in data and lines:  # rare: scanned for in C before any per-line look
                    kept = [ln for ln in lines if ln[:1] != b"\x00"]
                    self.stats.nul_lines += len(lines) - len(kept)
                    lines = kept
                if lines or mark is not None:
                    spool.append(lines, mark)
                    self.stats.lines += len(lines)
                    got[0] = True
                self.stats.oversize = splitter.oversize

            try:
                self.receive(sink, cfg, stop)
            except Exception as exc:  # any failure of the network or the peer: count it, back off, reconnect
                self.stats.error(exc)
            rest = splitter.flush()
            if rest:
                spool.append(rest)
                self.stats.lines += len(rest)
            self.stats.oversize = splitter.oversize
            if stop.is_set():
                break
            self.stats.disconnects += 1
            delay = cfg.reconnect_initial_s if got[0] else min(delay * 2, cfg.reconnect_max_s)
            stop.wait(delay)

    def receive(self, sink, cfg: LiveConfig, stop: threading.Event) -> None:
        """Connect, then pass received bytes to ``sink`` until the peer closes, the watchdog fires or ``stop``."""
        raise NotImplementedError
