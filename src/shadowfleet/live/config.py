"""Named defaults of live feeds and alerts, each with its source; TOML sections [live] and [live.webhook] override
them (alert rules have their own file, see rules.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shadowfleet.config import apply, load_overrides, section
from shadowfleet.errors import ShadowfleetError


@dataclass(frozen=True)
class WebhookConfig:
    timeout_s: float = 5.0  # ours: a receiver that has not answered in 5 s is treated as down for this try
    attempts: int = 6  # ours: with backoff 1, 2, 4, 8, 16 s an endpoint gets ~30 s to come back per alert
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    # RFC 2104 HMAC over "<timestamp>.<body>" with SHA-256, sent as "sha256=<hex>" (the scheme of GitHub/Stripe
    # webhooks); the secret comes from this environment variable, never from a file or the command line
    secret_env: str = "SHADOWFLEET_WEBHOOK_SECRET"


@dataclass(frozen=True)
class LiveConfig:
    # a micro-batch goes into the store after this long or this many lines, whichever first; ours: 1 s is a small
    # part of the alert latency target (p95 < 5 s, issue 11), 50,000 lines at 20,000 msg/s is 2.5 s of feed
    batch_interval_s: float = 1.0
    batch_max_lines: int = 50_000
    # NMEA 0183 / IEC 61162-1 limits a sentence to 82 characters; a tag block (NMEA 4.0) and a time prefix add
    # under 100 more, and an aisstream JSON message is ~1-2 kB. A longer line is garbage: dropped and counted.
    max_line_bytes: int = 8192
    # a TCP stream silent this long is treated as stalled and reconnected (ours: a shore receiver hears many
    # ships a minute; a satellite provider's stream sends keep-alives well within this)
    watchdog_s: float = 60.0
    reconnect_initial_s: float = 0.5  # ours: exponential backoff 0.5 s doubling ...
    reconnect_max_s: float = 30.0  # ... capped at 30 s
    # a spool segment file is closed and a new one started past this size (ours: a day of a busy receiver is
    # ~0.5-1 GB; 64 MB segments keep a segment quick to scan on restart)
    spool_segment_bytes: int = 64 * 1024 * 1024
    # incremental detection runs at most this often (ours: a full re-detection of a few days of data takes
    # seconds here, so alerts follow their data by one cycle)
    detect_interval_s: float = 1.0
    # Between full passes, an incremental cycle re-detects the vessels with new reports from detect_window_h -
    # detect_window_margin_h before the earliest new report (earlier where an event of theirs was going on then, or
    # a silence ends), reading their reports from detect_window_margin_h before that so that no event it replaces
    # is seen cut. ours: 36 h of scope covers the built-in rules' longest wait (an open gap is alerted at 6 h)
    # with room for a satellite-only ship's silence between passes (well under 12 h); 0 makes every cycle a full
    # pass.
    detect_window_h: float = 48.0
    detect_window_margin_h: float = 12.0
    # a full pass (detect over everything, events table rewritten, every alert reconciled) this often and at the
    # end; ours: the events table other readers see is at most 10 min behind
    full_detect_interval_s: float = 600.0
    webhook: WebhookConfig = field(default_factory=WebhookConfig)


DEFAULTS = LiveConfig()


def load_live_config(path: str | Path | None) -> LiveConfig:
    """Defaults with the TOML sections [live] and [live.webhook] applied (unknown keys are an error)."""
    overrides = load_overrides(path)
    cfg = apply(DEFAULTS, section(overrides, "live"), "live")
    hook = apply(DEFAULTS.webhook, section(overrides, "live.webhook"), "live.webhook")
    from dataclasses import replace

    cfg = replace(cfg, webhook=hook)
    for name in ("batch_interval_s", "watchdog_s", "reconnect_initial_s", "reconnect_max_s", "detect_interval_s",
                 "full_detect_interval_s"):
        if not getattr(cfg, name) > 0:
            raise ShadowfleetError(f"[live] {name} must be > 0")
    for name in ("batch_max_lines", "max_line_bytes", "spool_segment_bytes"):
        if getattr(cfg, name) < 1:
            raise ShadowfleetError(f"[live] {name} must be at least 1")
    if cfg.detect_window_h < 0 or cfg.detect_window_margin_h < 0 or (
            cfg.detect_window_h and cfg.detect_window_margin_h >= cfg.detect_window_h):
        raise ShadowfleetError("[live] detect_window_h and detect_window_margin_h must be >= 0, the margin shorter")
    if hook.attempts < 1 or not hook.timeout_s > 0:
        raise ShadowfleetError("[live.webhook] attempts must be at least 1 and timeout_s > 0")
    return cfg
