"""``replay``: play an NMEA file as a live TCP feed on this machine, at N x real time (for demos and tests).

It listens on a loopback address and streams to one client at a time, pacing lines by their receive time (tag
block ``c:`` or a unix-time prefix; a line without one goes with the previous line). When a client goes away it
waits for the next and carries on from the first line not yet sent. ``Faults`` adds the failures a real feed has
(disconnects, garbage lines, a stalled connection, a burst), for testing a client against them.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl

from shadowfleet.errors import ShadowfleetError

_CHUNK_LINES = 20_000
_GARBAGE = b"$$garbage \x01\x7f\xff not a sentence ,,,*ZZ\n"


@dataclasses.dataclass(frozen=True)
class Faults:
    disconnect_every: int = 0  # close the connection after every N lines sent (0: never)
    garbage_every: int = 0  # a garbage line after every N lines (0: never)
    stall_after: int = 0  # once, after N lines, send nothing for stall_s while keeping the connection open
    stall_s: float = 0.0
    burst_at: int = 0  # from this line on, burst_lines lines are sent at once, unpaced (0: no burst)
    burst_lines: int = 0


@dataclasses.dataclass
class ReplayReport:
    lines_sent: int = 0
    garbage_sent: int = 0
    connections: int = 0
    disconnects: int = 0
    stalls: int = 0
    seconds: float = 0.0


def loopback_address(to: str) -> tuple[str, int]:
    """(host, port) of ``tcp://HOST:PORT`` when HOST is a loopback address; anything else is refused."""
    if not to.startswith("tcp://"):
        raise ShadowfleetError(f"--to {to!r}: expected tcp://127.0.0.1:PORT")
    host, sep, port = to[6:].rstrip("/").rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ShadowfleetError(f"--to {to!r}: expected tcp://127.0.0.1:PORT with a port 1-65535")
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise ShadowfleetError(f"--to {to!r}: replay serves this machine only (127.0.0.1, ::1 or localhost)")
    return ("127.0.0.1" if host == "localhost" else host), int(port)


def replay(
    path: str | Path,
    to: str,
    speed: float = 60.0,
    faults: Faults = Faults(),
    stop: threading.Event | None = None,
    ready: threading.Event | None = None,
    client_wait_s: float | None = None,
) -> ReplayReport:
    """Serve ``path`` at ``to`` (tcp://127.0.0.1:PORT) at ``speed`` x real time (0: as fast as the client reads).
    Returns when the file has been sent, ``stop`` is set, or no client came for ``client_wait_s``. ``ready`` is
    set once the port listens."""
    host, port = loopback_address(to)
    p = Path(path)
    if not p.is_file():
        raise ShadowfleetError(f"file not found: {p}")
    if not speed >= 0:
        raise ShadowfleetError("--speed must be a number >= 0")
    stop = stop or threading.Event()
    rep = ReplayReport()
    t0 = time.monotonic()
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            srv.bind((host, port))
        except OSError as exc:
            raise ShadowfleetError(f"--to {to}: cannot listen ({exc.strerror})") from None
        srv.listen(1)
        srv.settimeout(0.2)
        if ready is not None:
            ready.set()
        feed = _Feed(srv, rep, stop, client_wait_s)
        clock = _Clock(speed)
        stalled = False
        with open(p, "rb") as fh:
            n = 0
            while not stop.is_set():
                lines = fh.readlines(_CHUNK_LINES * 100)
                if not lines:
                    break
                times = _times(lines)
                i = 0
                while i < len(lines) and not stop.is_set():
                    j = min(len(lines), i + 500)
                    # faults cut the group at their line numbers
                    for every in (faults.disconnect_every, faults.garbage_every):
                        if every:
                            j = min(j, i + (every - (n % every)))
                    if faults.stall_after and not stalled and n < faults.stall_after:
                        j = min(j, i + faults.stall_after - n)
                    in_burst = faults.burst_at and faults.burst_at <= n < faults.burst_at + faults.burst_lines
                    if faults.burst_at and n < faults.burst_at:
                        j = min(j, i + faults.burst_at - n)
                    if not in_burst:
                        j = clock.due(times, i, j, stop)
                    if not feed.send(b"".join(lines[i:j])):
                        break
                    sent = j - i
                    n += sent
                    rep.lines_sent += sent
                    i = j
                    if faults.garbage_every and n % faults.garbage_every == 0:
                        feed.send(_GARBAGE)
                        rep.garbage_sent += 1
                    if faults.stall_after and not stalled and n >= faults.stall_after:
                        stalled = True
                        rep.stalls += 1
                        stop.wait(faults.stall_s)
                    if faults.disconnect_every and n % faults.disconnect_every == 0:
                        feed.drop()
                else:
                    continue
                break
        feed.close()
    rep.seconds = time.monotonic() - t0
    return rep


class _Clock:
    """Paces lines: the first time seen plays at the first send, later ones at (t - t_first) / speed."""

    def __init__(self, speed: float):
        self.speed = speed
        self.t_first = None
        self.w_first = None

    def due(self, times: np.ndarray, i: int, j: int, stop: threading.Event) -> int:
        """Wait until line i is due; return the end of the run of lines due by then (at most j)."""
        if self.speed == 0:
            return j
        t = times[i:j]
        if np.isnan(t[0]):
            return j
        if self.t_first is None:
            self.t_first, self.w_first = t[0], time.monotonic()
        while not stop.is_set():
            now_data = self.t_first + (time.monotonic() - self.w_first) * self.speed
            k = int(np.searchsorted(np.nan_to_num(t, nan=-np.inf), now_data, side="right"))
            if k > 0:
                return i + k
            stop.wait(min(0.2, max(0.001, (t[0] - now_data) / self.speed)))
        return i + 1


class _Feed:
    """The one connected client; a failed send is retried on the next client, so nothing is skipped."""

    def __init__(self, srv, rep: ReplayReport, stop, client_wait_s):
        self.srv, self.rep, self.stop, self.wait_s = srv, rep, stop, client_wait_s
        self.conn = None

    def _accept(self) -> bool:
        t0 = time.monotonic()
        while not self.stop.is_set():
            if self.wait_s is not None and time.monotonic() - t0 > self.wait_s:
                return False
            try:
                self.conn, _ = self.srv.accept()
            except socket.timeout:
                continue
            self.rep.connections += 1
            return True
        return False

    def send(self, data: bytes) -> bool:
        while True:
            if self.conn is None and not self._accept():
                self.stop.set()
                return False
            try:
                self.conn.sendall(data)
                return True
            except OSError:
                self.drop()

    def drop(self) -> None:
        if self.conn is not None:
            try:
                self.conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.conn.close()
            self.conn = None
            self.rep.disconnects += 1

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            self.conn.close()
            self.conn = None


def _times(lines: list[bytes]) -> np.ndarray:
    """Receive time (unix s) of each line: tag block c: (s or ms), else a leading unix time, carried forward."""
    s = pl.Series("l", lines, dtype=pl.Binary).cast(pl.Utf8, strict=False)
    c = s.str.extract(r"^\\[^\\]*?c:(\d{9,13})", 1)
    pre = s.str.extract(r"^(\d{9,13})[\s,;]", 1)
    t = pl.coalesce(c, pre).cast(pl.Float64, strict=False)
    t = pl.select(pl.when(t > 1e11).then(t / 1000).otherwise(t)).to_series()
    return t.forward_fill().to_numpy().astype(float)
