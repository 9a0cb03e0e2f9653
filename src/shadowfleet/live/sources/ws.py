"""``ws://`` / ``wss://``: JSON messages over a websocket, aisstream.io style: after connecting, the client sends
a subscription message (API key and bounding boxes, from an environment variable), then receives one JSON object
per message. Each message is spooled as one line; live.aisstream turns a batch of them into the rows ingest
reads."""

from __future__ import annotations

import os
import threading

from shadowfleet.live.sources.base import Source

_MAX_MESSAGE = 1 << 20  # ours: an aisstream message is 1-2 kB; anything near 1 MB is not AIS


class WebSocketSource(Source):
    fmt = "aisstream"

    def __init__(self, address: str, send_env: str | None = None):
        super().__init__(address)
        self.send_env = send_env

    def receive(self, sink, cfg, stop: threading.Event) -> None:
        from websockets.sync.client import connect

        with connect(self.address, open_timeout=min(cfg.watchdog_s, 10.0), close_timeout=2,
                     max_size=_MAX_MESSAGE) as ws:
            self.stats.connects += 1
            if self.send_env and os.environ.get(self.send_env):
                ws.send(os.environ[self.send_env])
            silent = 0.0
            while not stop.is_set():
                try:
                    msg = ws.recv(timeout=0.5)
                except TimeoutError:
                    silent += 0.5
                    if silent >= cfg.watchdog_s:
                        self.stats.stalls += 1
                        return
                    continue
                silent = 0.0
                data = msg.encode("utf-8") if isinstance(msg, str) else bytes(msg)
                # JSON text has no raw line breaks inside strings, so they are only whitespace: one line a message
                sink(data.replace(b"\r", b" ").replace(b"\n", b" ") + b"\n")
