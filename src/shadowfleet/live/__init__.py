"""Live AIS feeds and real-time alerts: sources (TCP, UDP, websocket, a growing file) → a spool on disk → micro-
batches into the store through the ingest stage → detection cycles through the events stage → alert rules →
alert messages (new / revised / retracted) as JSON lines, in the store's ``alerts`` table and to webhooks.
``replay`` plays a file as a live feed on localhost."""

from shadowfleet.live.alerts import AlertBook, follow_alerts, read_alerts, to_messages
from shadowfleet.live.config import DEFAULTS, LiveConfig, WebhookConfig, load_live_config
from shadowfleet.live.delivery import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify
from shadowfleet.live.main import LiveReport, run_live, spool_lines
from shadowfleet.live.rules import DEFAULT_RULES, Rule, load_rules, match_rules
from shadowfleet.live.sources import parse_source

__all__ = [
    "AlertBook", "DEFAULTS", "DEFAULT_RULES", "LiveConfig", "LiveReport", "Rule", "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER", "WebhookConfig", "follow_alerts", "load_live_config", "load_rules", "match_rules",
    "parse_source", "read_alerts", "run_live", "sign", "spool_lines", "to_messages", "verify",
]
