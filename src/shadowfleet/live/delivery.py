"""Delivery of alert messages: JSON lines to a stream or file, and webhooks.

A webhook runs in its own thread and reads the store's ``alerts`` table from where it last succeeded (a cursor
file beside the spool), so a slow or failing endpoint never holds up ingest or detection, and a restart resumes
delivery where it stopped (at least once: a receiver de-duplicates by alert_id + version).

Signature: ``X-Shadowfleet-Signature: sha256=<hex>``, the HMAC-SHA256 (RFC 2104) of ``<timestamp>.<body>`` with
the shared secret, and ``X-Shadowfleet-Timestamp: <unix seconds>``; a receiver recomputes it and may refuse old
timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from shadowfleet.errors import ShadowfleetError
from shadowfleet.live.alerts import read_alerts, to_json_line, to_messages
from shadowfleet.live.config import WebhookConfig
from shadowfleet.live.spool import spool_key
from shadowfleet.store import Store

SIGNATURE_HEADER = "X-Shadowfleet-Signature"
TIMESTAMP_HEADER = "X-Shadowfleet-Timestamp"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    return "sha256=" + hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class JsonLines:
    """Alert messages as JSON lines to an open text stream (stdout) or a file (appended, flushed per message)."""

    def __init__(self, target: IO[str] | str | Path):
        if isinstance(target, (str, Path)):
            try:
                self.fh = open(target, "a", encoding="utf-8")
            except OSError as exc:
                raise ShadowfleetError(f"cannot write alerts to {target}: {exc.strerror}") from None
            self.own = True
        else:
            self.fh, self.own = target, False

    def write(self, messages: list[dict]) -> None:
        for m in messages:
            self.fh.write(to_json_line(m) + "\n")
        self.fh.flush()

    def close(self) -> None:
        if self.own:
            self.fh.close()


@dataclass
class WebhookStats:
    delivered: int = 0
    failed: int = 0  # messages given up after every attempt
    attempts: int = 0
    last_error: str = ""
    errors: dict = field(default_factory=dict)


class Webhook:
    """POSTs each alert message (JSON) to ``url`` in order, signed, with retries and backoff, in a thread."""

    def __init__(self, url: str, store: Store, state_dir: Path, cfg: WebhookConfig):
        if not url.startswith(("http://", "https://")):
            raise ShadowfleetError(f"--webhook {url!r}: expected an http:// or https:// address")
        secret = os.environ.get(cfg.secret_env, "")
        if not secret:
            raise ShadowfleetError(f"--webhook needs the signing secret in the environment variable {cfg.secret_env}")
        self.url, self.store, self.cfg = url, store, cfg
        self.secret = secret.encode("utf-8")
        self.cursor_file = Path(state_dir) / f"webhook-{spool_key(url)}.json"
        self.stats = WebhookStats()
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        try:
            self.seq = int(json.loads(self.cursor_file.read_text())["seq"])
        except (OSError, ValueError, KeyError, TypeError):
            self.seq = 0

    def start(self, stop: threading.Event) -> None:
        self.thread = threading.Thread(target=self._run, args=(stop,), name=f"webhook {self.url}", daemon=True)
        self.thread.start()

    def _run(self, stop: threading.Event) -> None:
        import httpx

        with httpx.Client(timeout=self.cfg.timeout_s, follow_redirects=False) as client:
            while True:
                pending = to_messages(read_alerts(self.store, self.seq))
                for msg in pending:
                    if not self._deliver(client, msg, stop):
                        return
                if stop.is_set() and not pending:
                    return
                self.wake.wait(1.0)
                self.wake.clear()

    def _deliver(self, client, msg: dict, stop: threading.Event) -> bool:
        body = json.dumps(msg, ensure_ascii=True, separators=(",", ":")).encode("ascii")
        delay = self.cfg.backoff_initial_s
        for attempt in range(1, self.cfg.attempts + 1):
            ts = str(int(time.time()))
            headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: ts,
                       SIGNATURE_HEADER: sign(self.secret, ts, body), "X-Shadowfleet-Alert-Id": msg["alert_id"]}
            self.stats.attempts += 1
            try:
                r = client.post(self.url, content=body, headers=headers)
                if 200 <= r.status_code < 300:
                    self.stats.delivered += 1
                    self._advance(msg["seq"])
                    return True
                err = f"HTTP {r.status_code}"
            except Exception as exc:  # network failures of any kind: retried, never raised into live
                err = f"{type(exc).__name__}: {exc}"[:200]
            self.stats.last_error = err
            self.stats.errors[err.split(":")[0]] = self.stats.errors.get(err.split(":")[0], 0) + 1
            if attempt < self.cfg.attempts:
                if stop.is_set():  # shutting down: retry without long waits (run_live bounds the drain)
                    time.sleep(min(delay, 1.0))
                else:
                    stop.wait(delay)
                delay = min(delay * 2, self.cfg.backoff_max_s)
        if stop.is_set():
            return False  # not given up: the cursor stays, the next run delivers it
        self.stats.failed += 1
        self._advance(msg["seq"])
        return True

    def _advance(self, seq: int) -> None:
        self.seq = seq
        tmp = self.cursor_file.with_name(f".{self.cursor_file.name}.tmp")
        tmp.write_text(json.dumps({"seq": seq}))
        os.replace(tmp, self.cursor_file)

    def join(self, timeout: float) -> None:
        self.wake.set()
        if self.thread is not None:
            self.thread.join(timeout)
