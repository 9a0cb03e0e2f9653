"""`shadowfleet live` end to end on loopback: a replay server with disconnects, garbage, a stall and a burst;
kill -9 mid-stream and a restart; then the store equals a file ingest of the received lines, the events equal
batch detection, each alert is raised once, and a local webhook receiver got every message, signed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest

from shadowfleet.errors import ShadowfleetError
from shadowfleet.events import detect
from shadowfleet.ingest import ingest
from shadowfleet.live import DEFAULT_RULES, SIGNATURE_HEADER, TIMESTAMP_HEADER, read_alerts, spool_lines, verify
from shadowfleet.live.detection import run_cycle
from shadowfleet.live.replay import Faults, loopback_address, replay
from shadowfleet.places import load_places
from shadowfleet.sanctions import load_list, save_list
from shadowfleet.store import Store
from tests.live.conftest import insert_by_time, type5_lines

SRC = Path(__file__).resolve().parents[2] / "src"
SECRET = "test-secret-not-real"
WATCHLIST = SRC / "shadowfleet" / "sanctions" / "data" / "dprk_tankers_2024_watchlist.csv"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("to", ["tcp://8.8.8.8:5000", "tcp://example.com:5000", "udp://127.0.0.1:5000",
                                "tcp://127.0.0.1:0", "tcp://127.0.0.1:99999"])
def test_replay_serves_this_machine_only(to):
    with pytest.raises(ShadowfleetError):
        loopback_address(to)


class _Receiver(BaseHTTPRequestHandler):
    got: list = []
    bad: list = []
    calls = [0]

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.calls[0] += 1
        if self.calls[0] == 1:  # the first try fails: the sender must retry
            self.send_response(500)
            self.end_headers()
            return
        ok = verify(SECRET.encode(), self.headers[TIMESTAMP_HEADER], body, self.headers[SIGNATURE_HEADER])
        (self.got if ok else self.bad).append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def _live_cmd(port, store, places, hook, alerts_out, config):
    return [sys.executable, "-m", "shadowfleet", "live", "--source", f"tcp://127.0.0.1:{port}", "--store", str(store),
            "--places", str(places), "--webhook", hook, "--alerts-out", str(alerts_out), "--config", str(config),
            "--until-idle", "8", "--quiet"]


@pytest.mark.slow
def test_live_survives_a_hostile_feed_and_kill_9_and_ends_equal_to_batch(feed_file, tmp_path):
    feed, places = feed_file
    store_dir = tmp_path / "live-store"
    st = Store(store_dir)
    save_list(st, load_list(WATCHLIST, kind="csv", version_date="2024-11-22"))
    cfg = tmp_path / "live.toml"
    cfg.write_text("[live]\nwatchdog_s = 1.0\nbatch_max_lines = 30000\n[live.webhook]\nbackoff_initial_s = 0.2\n")
    port = _free_port()
    stop = threading.Event()
    ready = threading.Event()
    faults = Faults(disconnect_every=60_000, garbage_every=7_000, stall_after=150_000, stall_s=3.0,
                    burst_at=100_000, burst_lines=30_000)
    rep = {}
    server = threading.Thread(target=lambda: rep.update(r=replay(feed, f"tcp://127.0.0.1:{port}", speed=20_000,
                                                                 faults=faults, stop=stop, ready=ready)), daemon=True)
    server.start()
    assert ready.wait(10)
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{http.server_address[1]}/alerts"
    env = {**os.environ, "PYTHONPATH": str(SRC), "SHADOWFLEET_WEBHOOK_SECRET": SECRET}
    cmd = _live_cmd(port, store_dir, places, hook, tmp_path / "alerts.jsonl", cfg)
    try:
        first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # kill -9 once a batch is stored and the feed is mid-stream
        t0 = time.monotonic()
        while time.monotonic() - t0 < 120:
            cursors = list((store_dir / "live" / "spool").glob("*/cursor.json"))
            if cursors and json.loads(cursors[0].read_text())["offset"] > 0:
                break
            time.sleep(0.05)
        else:
            pytest.fail("no batch stored within 120 s")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=400)
        assert second.returncode == 0, second.stderr
    finally:
        stop.set()
        server.join(10)
        http.shutdown()
    r = rep["r"]
    assert r.disconnects >= 2 and r.garbage_sent >= 20 and r.stalls == 1

    # the store holds exactly the received lines, once: compare with a file ingest of the spool
    spooled = spool_lines(st)
    assert len(spooled) == 1
    (source, files), = spooled.items()
    check = Store(tmp_path / "file-store")
    for f in files:
        ingest(f, check, source=source)
    for table in ("positions", "static"):
        # copies of one report heard at the same second merge into one row; which receiver's name that row keeps
        # is the store's tie-break (order-dependent), so the receiver column is left out of the comparison
        a, b = st.read(table).drop("receiver"), check.read(table).drop("receiver")
        assert a.height > 10_000 if table == "positions" else a.height > 100
        assert a.equals(b), table
    assert st.read("rejects").height == check.read("rejects").height
    assert st.read("rejects")["reason"].value_counts().sort("reason").equals(
        check.read("rejects")["reason"].value_counts().sort("reason"))

    # events equal batch detection on the same data
    pl_places = load_places(places)
    batch = detect(check, places=pl_places).sort("event_id")
    assert st.read("events").sort("event_id").equals(batch)

    # each alert raised once; the final state is what the rules say of the final data
    msgs = read_alerts(st)
    news = msgs.filter(pl.col("status") == "new")["alert_id"]
    assert news.is_unique().all() and news.len() >= 2
    final = msgs.sort("seq").unique("alert_id", keep="last").filter(pl.col("status") != "retracted")
    save_list(check, load_list(WATCHLIST, kind="csv", version_date="2024-11-22"))
    expected = run_cycle(check, DEFAULT_RULES, pl_places, None).alerts
    assert sorted(final["alert_id"]) == sorted(expected["alert_id"])
    assert "dark-near-supplier-terminal:ais_gap-445118410-1709725576" in set(final["alert_id"])

    # the webhook got every message, signed, in order of writing
    got = sorted((m["seq"], m["alert_id"], m["status"]) for m in _Receiver.got)
    assert not _Receiver.bad
    assert got == sorted(zip(msgs["seq"], msgs["alert_id"], msgs["status"]))


@pytest.mark.slow
def test_a_tanker_loading_dark_at_a_supplier_terminal_is_alerted_once_from_a_replayed_feed(feed_file, tmp_path):
    """replay -> live -> alert: the KP tanker dark beside Vostochny 6-7 March broadcasts 3.1 m before its gap and
    8.4 m after it; the built-in rule "loaded-dark-near-supplier-terminal" raises one alert, never retracted."""
    import io

    from shadowfleet.live import run_live

    feed, places = feed_file
    check = Store(tmp_path / "ident")
    ingest(feed, check, source="x")
    mmsi, gap_id = 445118410, "ais_gap-445118410-1709725576"
    ident = check.read("static").filter((pl.col("mmsi") == mmsi) & (pl.col("msg_type") == 5)).row(0, named=True)
    gap = detect(check, places=load_places(places)).filter(pl.col("event_id") == gap_id).row(0, named=True)
    start, end = int(gap["start"].timestamp()), int(gap["end"].timestamp())
    extra = {start - 300: type5_lines(ident, start - 300, 3.1, 9001), end + 300: type5_lines(ident, end + 300, 8.4, 9002)}
    out = insert_by_time(feed.read_text().splitlines(keepends=True), extra)
    fed = tmp_path / "fed.nmea"
    fed.write_text("".join(out))

    port = _free_port()
    stop, ready, rep = threading.Event(), threading.Event(), {}
    server = threading.Thread(target=lambda: rep.update(r=replay(fed, f"tcp://127.0.0.1:{port}", speed=0, stop=stop,
                                                                 ready=ready)), daemon=True)
    server.start()
    assert ready.wait(10)
    st = Store(tmp_path / "live")
    try:
        run_live([f"tcp://127.0.0.1:{port}"], st, places=load_places(places), alerts_out=io.StringIO(),
                 until_idle_s=4.0, max_seconds=300)
    finally:
        stop.set()
        server.join(10)
    msgs = read_alerts(st).filter(pl.col("alert_id") == f"loaded-dark-near-supplier-terminal:{gap_id}")
    assert msgs["status"].to_list()[:1] == ["new"] and msgs["status"].to_list().count("new") == 1
    assert "retracted" not in msgs["status"].to_list()
    assert "type-5 draught 3.1 m before, 8.4 m after" in msgs["reasons"][-1]
    assert st.read("events").filter(pl.col("type") == "identity_change").filter(pl.col("mmsi") == mmsi).height == 0
