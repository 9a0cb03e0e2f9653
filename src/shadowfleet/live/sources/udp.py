"""``udp://[HOST]:PORT``: NMEA datagrams as AIS-catcher and most receivers send them. An empty host listens on
127.0.0.1 only; give 0.0.0.0 to hear other machines."""

from __future__ import annotations

import socket
import threading

from shadowfleet.live.sources.base import Source


class UdpSource(Source):
    def __init__(self, address: str, host: str, port: int):
        super().__init__(address)
        self.host, self.port = host, port

    def receive(self, sink, cfg, stop: threading.Event) -> None:
        with socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.settimeout(0.5)
            self.stats.connects += 1
            while not stop.is_set():
                try:
                    data = sock.recv(65535)
                except socket.timeout:
                    continue
                # a datagram holds whole sentences; its last line may lack the newline
                sink(data if data.endswith(b"\n") else data + b"\n")
