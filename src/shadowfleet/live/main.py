"""``run_live``: sources → spool → micro-batches into the store → detection cycles → alert messages → delivery.

Threads: one per source (receive, append to its spool), one per webhook (deliver from the alerts table), and the
caller's thread, which commits micro-batches and runs detection cycles in turn. Memory is bounded by one batch:
a burst waits on disk in the spool, never in a queue.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from shadowfleet.errors import ShadowfleetError
from shadowfleet.ingest.lines import ingest_lines
from shadowfleet.live.alerts import AlertBook, to_messages
from shadowfleet.live.config import DEFAULTS, LiveConfig
from shadowfleet.live.delivery import JsonLines, Webhook
from shadowfleet.live.detection import LiveState, load_detectors, run_cycle
from shadowfleet.live.rules import DEFAULT_RULES, Rule
from shadowfleet.live.sources import Source, parse_source
from shadowfleet.live.spool import Spool
from shadowfleet.store import Store

LIVE_DIR = "live"  # STORE/live: spools, webhook cursors


@dataclasses.dataclass
class LiveReport:
    batches: int = 0
    lines: int = 0
    accepted: int = 0
    rejected: dict = dataclasses.field(default_factory=dict)
    cycles: int = 0
    full_cycles: int = 0  # of which full passes (the others: incremental cycles)
    events_changed: dict = dataclasses.field(default_factory=dict)  # by incremental cycles: opened, revised, retracted
    alerts: dict = dataclasses.field(default_factory=dict)  # messages written by status
    # per detection cycle: from the oldest line it was the first to cover arriving to its alerts being written
    latencies_s: list = dataclasses.field(default_factory=list)  # incremental cycles
    full_latencies_s: list = dataclasses.field(default_factory=list)  # full passes
    sources: dict = dataclasses.field(default_factory=dict)  # address → SourceStats
    webhooks: dict = dataclasses.field(default_factory=dict)  # url → WebhookStats


def run_live(
    sources: Iterable[str | Source],
    store: Store | str | Path,
    rules: tuple[Rule, ...] = DEFAULT_RULES,
    places=None,
    events_config=None,
    alerts_out=None,
    webhooks: Iterable[str] = (),
    config: LiveConfig = DEFAULTS,
    send_env: str | None = None,
    stop: threading.Event | None = None,
    until_idle_s: float | None = None,
    max_seconds: float | None = None,
    on_alerts: Callable[[list[dict]], None] | None = None,
    on_batch: Callable[[LiveReport], None] | None = None,
) -> LiveReport:
    """Run until ``stop`` is set (or no line arrived for ``until_idle_s``, or ``max_seconds`` passed), then store
    what is left, run a last detection cycle and return the counts.

    ``sources``: addresses (tcp://, udp://, ws://, wss://, tail:PATH) or Source objects; ``places``: a GeoJSON path,
    a shadowfleet.places.Places or None (built-in gazetteer); ``alerts_out``: a text stream, a path, or None
    (stdout); ``webhooks``: URLs (the signing secret comes from [live.webhook] secret_env)."""
    from shadowfleet.places import Places, load_places

    srcs = [s if isinstance(s, Source) else parse_source(s, send_env) for s in sources]
    if not srcs:
        raise ShadowfleetError("give at least one --source")
    labels = [s.label for s in srcs]
    if len(set(labels)) != len(labels):
        raise ShadowfleetError("the same --source is given twice")
    st = store if isinstance(store, Store) else Store(store)
    pl_places = places if isinstance(places, Places) else load_places(places)
    live_dir = st.root / LIVE_DIR
    live_dir.mkdir(exist_ok=True)
    hooks = [Webhook(u, st, live_dir, config.webhook) for u in webhooks]
    out = JsonLines(alerts_out if alerts_out is not None else sys.stdout)
    stop = stop or threading.Event()
    report = LiveReport()
    book = AlertBook(st)
    spools = [Spool(live_dir / "spool", s.label, s.fmt, config.spool_segment_bytes, marked=s.marked) for s in srcs]

    for s, sp in zip(srcs, spools):
        s.start(sp, config, stop)
        report.sources[s.label] = s.stats
    hooks_stop = threading.Event()  # set after the last detection cycle, so its alerts are delivered too
    for h in hooks:
        h.start(hooks_stop)
        report.webhooks[h.url] = h.stats

    t_start = time.monotonic()
    last_line_at = time.monotonic()
    last_lines = 0
    detector = _Detector(st, book, rules, pl_places, events_config, out, hooks, report, on_alerts, config)
    if any(sp.committed.offset or sp.segments() for sp in spools):
        detector.notify(None)  # a restart checks the alerts against the stored data once
    detector.start()
    try:
        while True:
            received = sum(sp.received_lines for sp in spools)
            if received != last_lines:
                last_lines, last_line_at = received, time.monotonic()
            stopping = stop.is_set() or (until_idle_s is not None and time.monotonic() - last_line_at >= until_idle_s) \
                or (max_seconds is not None and time.monotonic() - t_start >= max_seconds) or detector.error is not None
            if stopping:
                stop.set()
                for s in srcs:
                    if s.thread is not None:
                        s.thread.join(5.0)
                for sp in spools:
                    sp.close()
            committed = _commit_all(st, spools, config, report, final=stopping)
            if committed is not None:
                detector.notify(committed if committed > 0 else None)
                if on_batch:
                    on_batch(report)
            if stopping:
                break
            if committed is None:
                stop.wait(min(0.1, config.batch_interval_s))
        detector.finish()
    finally:
        stop.set()
        detector.finish()
        hooks_stop.set()
        for h in hooks:
            h.join(timeout=10.0)
        out.close()
    if detector.error is not None:
        raise detector.error
    return report


class _Detector(threading.Thread):
    """Detection cycles in their own thread, so micro-batches keep going into the store while a cycle runs (a
    cycle's cost grows with the data held). A cycle starts when new data was stored, at most every interval."""

    def __init__(self, st, book, rules, places, events_config, out, hooks, report, on_alerts, cfg: LiveConfig):
        super().__init__(name="live detection", daemon=True)
        self.args = (st, book, rules, places, events_config, out, hooks, report, on_alerts, LiveState())
        self.interval_s = cfg.detect_interval_s
        self.cfg = cfg
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.dirty = False
        self.oldest: float | None = None  # arrival of the oldest line stored since the last cycle began
        self.closing = False
        self.error: BaseException | None = None

    def notify(self, arrived: float | None) -> None:
        with self.lock:
            self.dirty = True
            if arrived is not None and (self.oldest is None or arrived < self.oldest):
                self.oldest = arrived
        self.wake.set()

    def finish(self) -> None:
        """Run a last cycle over everything stored (if anything is new), then stop."""
        if self.is_alive():
            with self.lock:
                self.closing = True
            self.wake.set()
            self.join()

    def run(self) -> None:
        last = 0.0
        last_full = time.monotonic()
        behind = False  # data was stored since the last full pass: the end needs one
        try:
            load_detectors()  # while the sources connect and the first batch is stored
            while True:
                self.wake.wait(0.2)
                self.wake.clear()
                with self.lock:
                    closing, dirty = self.closing, self.dirty
                if dirty and not closing and time.monotonic() - last < self.interval_s:
                    time.sleep(self.interval_s - (time.monotonic() - last))
                    with self.lock:
                        closing = self.closing
                if dirty or (closing and behind):
                    with self.lock:
                        self.dirty, oldest, self.oldest = False, self.oldest, None
                    last = time.monotonic()
                    full = closing or not self.cfg.detect_window_h or \
                        last - last_full >= self.cfg.full_detect_interval_s
                    if full:
                        last_full = last
                    behind = not full
                    window = None if full else (self.cfg.detect_window_h, self.cfg.detect_window_margin_h)
                    _cycle(*self.args, oldest, window)
                if closing:
                    with self.lock:
                        if not self.dirty and not behind:
                            return
        except BaseException as exc:  # surfaced by run_live in the caller's thread
            self.error = exc


def _commit_all(st: Store, spools: list[Spool], cfg: LiveConfig, report: LiveReport, final: bool) -> float | None:
    """Store every batch that is due: a full one at once, a partial one once it has waited batch_interval_s
    (or now, when stopping). Returns the wall time the oldest stored line arrived, or None if nothing was due."""
    oldest = None
    stored = False
    for sp in spools:
        while True:
            b = sp.next_batch(cfg.batch_max_lines, final=final)
            if b is None:
                break
            full = len(b.lines) >= cfg.batch_max_lines
            waited = sp.arrived_at(b.start)  # None: received before this run (a restart's backlog)
            if not (full or final or sp.pending is not None or waited is None
                    or time.time() - waited >= cfg.batch_interval_s):
                break
            sp.begin(b)
            fmt = "nmea" if sp.fmt == "nmea" else "jsonl"
            lines = b.lines
            if sp.fmt == "aisstream":
                from shadowfleet.live.aisstream import to_gfw_lines

                lines = to_gfw_lines(lines)
            try:
                rep = ingest_lines(lines, st, batch=f"live-{sp.dir.name}-{b.name}", source=sp.source, fmt=fmt)
            except ShadowfleetError:
                # JSON lines without a single MMSI and time field: counted, kept in the spool, not stored
                report.rejected["unreadable_batch"] = report.rejected.get("unreadable_batch", 0) + len(lines)
                sp.commit(b)
                continue
            sp.commit(b)
            stored = True
            report.batches += 1
            report.lines += len(b.lines)
            report.accepted += rep.n_accepted
            for k, v in rep.rejected.items():
                report.rejected[k] = report.rejected.get(k, 0) + v
            if waited is not None:
                oldest = waited if oldest is None else min(oldest, waited)
            if not full:
                break
    if stored and oldest is None:
        return 0.0  # something was stored, of unknown arrival
    return oldest


def _cycle(st, book, rules, places, events_config, out, hooks, report, on_alerts, state, oldest_pending,
           window) -> None:
    window_h, margin_h = window or (None, 0.0)
    res = run_cycle(st, rules, places, events_config, window_h=window_h, margin_h=margin_h, state=state)
    for k, v in res.changes.items():
        report.events_changed[k] = report.events_changed.get(k, 0) + v
    report.cycles += 1
    report.full_cycles += res.full
    latency = (time.time() - oldest_pending) if oldest_pending is not None else None
    if latency is not None:
        (report.full_latencies_s if res.full else report.latencies_s).append(latency)
    msgs = book.diff(res.alerts, latency)
    if msgs.height:
        for s, n in msgs.group_by("status").len().iter_rows():
            report.alerts[s] = report.alerts.get(s, 0) + n
        messages = to_messages(msgs)
        out.write(messages)
        for h in hooks:
            h.wake.set()
        if on_alerts:
            on_alerts(messages)


def spool_lines(store: Store | str | Path) -> dict[str, list[Path]]:
    """The spool segment files of a live store by source address (the raw lines received, for audit or re-ingest)."""
    import json

    root = Path(store.root if isinstance(store, Store) else store) / LIVE_DIR / "spool"
    out = {}
    for d in sorted(p for p in root.glob("*") if p.is_dir()):
        try:
            src = json.loads((d / "meta.json").read_text())["source"]
        except (OSError, ValueError, KeyError):
            continue
        out[src] = sorted(d.glob("*.spool"))
    return out

