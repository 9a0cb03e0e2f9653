"""Alerts: what the rules say about the current events, turned into messages that say what changed.

Each (rule, event) that holds is one alert, id ``<rule>:<event_id>``. Comparing the alerts of this detection
cycle with the last message of each alert gives the messages to write: ``new`` the first time, ``revised`` when
what the alert says changed (the event closed, its start or place moved, a late report changed it), and
``retracted`` when it no longer holds (late data filled the gap, the event is gone). The ``alerts`` table is the
record: the last row per alert_id is its state, so a restart carries on without raising anything twice.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Iterator

import polars as pl

from shadowfleet.output import utc_text
from shadowfleet.store import Store
from shadowfleet.store.schema import ALERTS, UTC_TS

# What a revision is about; the reasons' wording ("8.2 h so far") changes every cycle and is not on the list.
_FINGERPRINT = ["severity", "event_type", "mmsi", "other_mmsi", "place", "start", "end", "open"]
STATUSES = ("new", "revised", "retracted")


class AlertBook:
    """The latest message of every alert, loaded from the store's ``alerts`` table at start."""

    def __init__(self, store: Store):
        self.store = store
        rows = read_alerts(store)
        self.seq = int(rows["seq"].max()) if rows.height else 0
        self.state = rows.sort("seq").unique("alert_id", keep="last") if rows.height else rows

    def diff(self, current: pl.DataFrame, latency_s: float | None, scope_start=None) -> pl.DataFrame:
        """The messages that bring the book to ``current`` (rows with the ALERTS columns but seq/ts/status/version),
        written to the store and returned in order. With ``scope_start``, only alerts about events starting at or
        after it are compared (a window cycle knows nothing of the others)."""
        now = dt.datetime.now(dt.timezone.utc)
        prev = self.state.filter(pl.col("status") != "retracted") if self.state.height else self.state
        cur = current
        if scope_start is not None:
            cur = cur.filter(pl.col("start") >= scope_start)
            current = cur
            prev = prev.filter(pl.col("start") >= scope_start) if prev.height else prev
        if prev.height == 0 and cur.height == 0:
            return pl.DataFrame(schema=ALERTS)
        known = self.state.select("alert_id", pl.col("version").alias("_v"), pl.col("status").alias("_s"),
                                  *[pl.col(c).alias(f"_{c}") for c in _FINGERPRINT]) if self.state.height else None
        if known is not None:
            cur = cur.join(known, on="alert_id", how="left")
            same = pl.all_horizontal([pl.col(c).eq_missing(pl.col(f"_{c}")) for c in _FINGERPRINT])
            status = (pl.when(pl.col("_v").is_null()).then(pl.lit("new"))
                      .when((pl.col("_s") == "retracted") | ~same).then(pl.lit("revised")).otherwise(None))
            cur = cur.with_columns(status.alias("status"), (pl.col("_v").fill_null(0) + 1).cast(pl.Int32).alias("version"))
            cur = cur.filter(pl.col("status").is_not_null()).drop([c for c in cur.columns if c.startswith("_")])
        else:
            cur = cur.with_columns(pl.lit("new").alias("status"), pl.lit(1, pl.Int32).alias("version"))
        gone = prev.join(current.select("alert_id"), on="alert_id", how="anti") if prev.height else prev
        gone = gone.with_columns(pl.lit("retracted").alias("status"), (pl.col("version") + 1).cast(pl.Int32),
                                 pl.lit('["the condition no longer holds on the data received so far"]').alias("reasons"))
        cur = cur.select([c for c in ALERTS if c in cur.columns])
        msgs = pl.concat([cur, gone.select(cur.columns)], how="vertical_relaxed") if gone.height else cur
        if msgs.height == 0:
            return pl.DataFrame(schema=ALERTS)
        msgs = msgs.sort(["start", "alert_id"], nulls_last=True).with_columns(
            (pl.int_range(pl.len()) + self.seq + 1).cast(pl.Int64).alias("seq"),
            pl.lit(now).cast(UTC_TS).alias("ts"),
            pl.lit(latency_s, pl.Float64).alias("latency_s"),
        )
        msgs = msgs.select([pl.col(c).cast(t) if c in msgs.columns else pl.lit(None, t).alias(c) for c, t in ALERTS.items()])
        self.store.append("alerts", msgs, batch=f"alerts-{self.seq + 1:012d}")
        self.seq += msgs.height
        self.state = pl.concat([self.state, msgs], how="vertical_relaxed").sort("seq").unique(
            "alert_id", keep="last") if self.state.height else msgs
        return msgs


def read_alerts(store: Store, after_seq: int = 0) -> pl.DataFrame:
    """Alert messages from the store's ``alerts`` table with seq > ``after_seq``, in the order they were written."""
    lf = store.scan("alerts").filter(pl.col("seq") > after_seq)
    return lf.collect().sort("seq")


def follow_alerts(store: Store, after_seq: int = 0, poll_s: float = 1.0, stop=None) -> Iterator[dict]:
    """Yield alert messages (dicts, times ISO 8601) as they are written to the store, oldest first, starting after
    ``after_seq``; polls every ``poll_s`` seconds until ``stop`` (a threading.Event) is set. For a dashboard's
    server-sent events: ``for alert in follow_alerts(store): send(alert)``."""
    seq = after_seq
    while stop is None or not stop.is_set():
        rows = read_alerts(store, seq)
        for msg in to_messages(rows):
            seq = msg["seq"]
            yield msg
        if stop is not None:
            stop.wait(poll_s)
        else:
            time.sleep(poll_s)


def to_messages(rows: pl.DataFrame) -> list[dict]:
    """Rows of the alerts table as JSON-ready dicts (event_ids and reasons as lists, times ISO 8601 with Z)."""
    out = []
    for r in rows.iter_rows(named=True):  # alert messages are few: one dict each is no hot path
        m = {k: (utc_text(v, micro=k == "ts") if isinstance(v, dt.datetime) else v) for k, v in r.items()}
        for k in ("event_ids", "reasons"):
            try:
                m[k] = json.loads(m[k]) if m[k] else []
            except ValueError:
                m[k] = [m[k]]
        out.append(m)
    return out


def to_json_line(msg: dict) -> str:
    # ensure_ascii: every control character and non-ASCII character escaped, so nothing from the data can act on a
    # terminal or a log viewer
    return json.dumps(msg, ensure_ascii=True, separators=(",", ":"))
