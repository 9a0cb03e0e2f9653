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
    last_error: str = ""
    errors: dict = field(default_factory=dict)

    def error(self, exc: BaseException) -> None:
        kind = type(exc).__name__
        self.errors[kind] = self.errors.get(kind, 0) + 1
        self.last_error = f"{kind}: {exc}"[:200]


class Source:
    """A feed address; ``start`` runs ``receive`` in a daemon thread until ``stop`` is set."""

    fmt = "nmea"  # the spool's line format (see live.main: how a batch is decoded)

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

            def sink(data: bytes) -> None:
                lines = splitter.feed(data)
                self.stats.bytes += len(data)
                if lines:
                    spool.append(lines)
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
