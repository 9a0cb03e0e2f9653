"""``tcp://HOST:PORT``: raw NMEA over TCP (AIS-catcher, rtl-ais, a provider's stream, `shadowfleet replay`)."""

from __future__ import annotations

import os
import socket
import threading

from shadowfleet.live.sources.base import Source

_POLL_S = 0.5  # how often a blocked read looks at the stop flag


class TcpSource(Source):
    def __init__(self, address: str, host: str, port: int, send_env: str | None = None):
        super().__init__(address)
        self.host, self.port, self.send_env = host, port, send_env

    def receive(self, sink, cfg, stop: threading.Event) -> None:
        with socket.create_connection((self.host, self.port), timeout=min(cfg.watchdog_s, 10.0)) as sock:
            self.stats.connects += 1
            if self.send_env:
                first = os.environ.get(self.send_env, "")
                if first:
                    sock.sendall(first.rstrip("\r\n").encode("utf-8") + b"\r\n")
            sock.settimeout(_POLL_S)
            silent = 0.0
            while not stop.is_set():
                try:
                    data = sock.recv(1 << 16)
                except socket.timeout:
                    silent += _POLL_S
                    if silent >= cfg.watchdog_s:  # connected but silent: a stalled stream that never closes
                        self.stats.stalls += 1
                        return
                    continue
                if not data:
                    return
                silent = 0.0
                sink(data)
