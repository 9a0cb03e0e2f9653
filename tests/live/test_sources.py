"""Each kind of source on loopback, through run_live: UDP datagrams, a growing file, an aisstream-style websocket,
a TCP login line from the environment, a stalled TCP stream; several sources at once store a report once."""

from __future__ import annotations

import io
import json
import socket
import threading
import time

import polars as pl
import pytest

from shadowfleet.errors import ShadowfleetError
from shadowfleet.live import LiveConfig, follow_alerts, parse_source, run_live
from shadowfleet.store import Store

# Ten consecutive position reports of one ship (tag-block times), the kind a shore receiver logs.
LINES = [
    "\\s:RU-NAKHODKA,c:1709251203*13\\!AIVDM,1,1,,B,177S`o1000aPbQtHN?>mNWL607PN,0*2F",
    "\\s:SAT-1,c:1709251203*6E\\!AIVDM,1,1,,A,16;>V4E000a>g:HD3hEEVTJ61jO9,0*35",
    "\\s:JP-NIIGATA,c:1709251204*59\\!AIVDM,1,1,,A,144wE15000atJRbEem;JCp<80Gf=,0*59",
]
FAST = LiveConfig(batch_interval_s=0.2, watchdog_s=1.0, reconnect_initial_s=0.1, detect_interval_s=0.2)


def _free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _await_udp_listener(*ports: int, limit_s: float = 30.0) -> None:
    """Wait until live has bound every port: datagrams sent before that are lost, however loaded the machine."""
    deadline = time.monotonic() + limit_s
    for port in ports:
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    break
            time.sleep(0.05)


def _run(sources, store, **kw):
    out = io.StringIO()
    rep = run_live(sources, store, alerts_out=out, config=kw.pop("config", FAST), until_idle_s=kw.pop("idle", 2.0),
                   max_seconds=60, **kw)
    return rep, out.getvalue()


def test_udp_datagrams_are_stored(tmp_path):
    port = _free_port(socket.SOCK_DGRAM)
    st = Store(tmp_path)

    def send():
        _await_udp_listener(port)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for ln in LINES:
                s.sendto(ln.encode() + b"\r\n", ("127.0.0.1", port))

    threading.Thread(target=send, daemon=True).start()
    rep, _ = _run([f"udp://:{port}"], st)
    assert rep.lines == 3 and st.read("positions").height == 3


def test_a_growing_file_is_followed_and_a_restart_resumes_after_what_was_read(tmp_path):
    log = tmp_path / "receiver.log"
    log.write_text(LINES[0] + "\n")
    st = Store(tmp_path / "store")

    def grow():
        time.sleep(0.5)
        with open(log, "a") as fh:
            fh.write(LINES[1] + "\n")
            fh.flush()

    threading.Thread(target=grow, daemon=True).start()
    rep, _ = _run([f"tail:{log}"], st)
    assert rep.lines == 2
    with open(log, "a") as fh:
        fh.write(LINES[2] + "\n")
    rep, _ = _run([f"tail:{log}"], st, idle=1.0)
    assert rep.lines == 1  # only the new line: the first two are not read twice
    assert st.read("positions", dedupe=False)["n_receivers"].sum() == 3


def test_an_aisstream_websocket_gets_its_subscription_and_its_messages_are_stored(tmp_path, monkeypatch):
    from websockets.sync.server import serve

    got = []
    msg = {"MessageType": "PositionReport",
           "MetaData": {"MMSI": 273111222, "latitude": 42.7, "longitude": 133.0,
                        "time_utc": "2024-03-07 12:00:01.5 +0000 UTC"},
           "Message": {"PositionReport": {"Sog": 0.1, "Cog": 12.0, "TrueHeading": 90, "NavigationalStatus": 1,
                                          "MessageID": 1, "Latitude": 42.7, "Longitude": 133.0}}}

    def handler(ws):
        got.append(ws.recv(timeout=5))
        if len(got) == 1:  # the first connection gets the messages; a reconnection gets nothing new
            ws.send(json.dumps(msg))
            ws.send("{not json")
        time.sleep(3)

    port = _free_port()
    server = serve(handler, "127.0.0.1", port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AISSTREAM_SUB", '{"APIKey": "k", "BoundingBoxes": [[[40, 130], [45, 135]]]}')
    st = Store(tmp_path)
    try:
        rep, _ = _run([f"ws://127.0.0.1:{port}"], st, send_env="AISSTREAM_SUB")
    finally:
        server.shutdown()
    assert json.loads(got[0])["APIKey"] == "k"
    pos = st.read("positions")
    assert pos["mmsi"].to_list() == [273111222] and pos["sog"].to_list() == [pytest.approx(0.1)]
    assert rep.rejected == {"malformed": 1}


def _tcp_server(port, script, login):
    """Accepts connections and runs ``script(conn, n)`` for the n-th one; records the first line each sends."""
    srv = socket.create_server(("127.0.0.1", port))
    srv.settimeout(10)

    def run():
        for n in range(3):
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    login.append(conn.recv(100))
                except OSError:
                    login.append(b"")
                script(conn, n)
        srv.close()

    threading.Thread(target=run, daemon=True).start()


def test_tcp_sends_the_login_line_and_a_stalled_stream_is_dropped_and_reconnected(tmp_path, monkeypatch):
    port = _free_port()
    login = []

    def script(conn, n):
        if n == 0:
            conn.sendall((LINES[0] + "\r\n").encode())
            time.sleep(1.6)  # connected but silent: the watchdog (1 s) must reconnect
        elif n == 1:
            conn.sendall("".join(ln + "\r\n" for ln in LINES[1:]).encode())

    _tcp_server(port, script, login)
    monkeypatch.setenv("FEED_LOGIN", "user secret")
    st = Store(tmp_path)
    rep, _ = _run([f"tcp://127.0.0.1:{port}"], st, send_env="FEED_LOGIN", idle=3.0)
    s = rep.sources[f"tcp://127.0.0.1:{port}"]
    assert s.stalls >= 1 and s.connects >= 2
    assert login[0] == b"user secret\r\n"
    assert st.read("positions").height == 3


def test_the_same_report_from_two_sources_is_stored_once(tmp_path):
    a, b = _free_port(socket.SOCK_DGRAM), _free_port(socket.SOCK_DGRAM)

    def send():
        _await_udp_listener(a, b)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for port in (a, b):
                s.sendto(LINES[0].encode() + b"\n", ("127.0.0.1", port))

    threading.Thread(target=send, daemon=True).start()
    st = Store(tmp_path)
    rep, _ = _run([f"udp://127.0.0.1:{a}", f"udp://127.0.0.1:{b}"], st)
    pos = st.read("positions")
    assert rep.lines == 2 and pos.height == 1 and pos["n_receivers"].to_list() == [2]


@pytest.mark.parametrize("address", ["http://x:1", "tcp://host", "tcp://:5", "udp://x:70000", "tail:", "ftp://a"])
def test_a_bad_source_address_is_one_clear_error(address):
    with pytest.raises(ShadowfleetError, match="--source"):
        parse_source(address)


def test_follow_alerts_yields_new_messages_in_order(tmp_path):
    from shadowfleet.store.schema import ALERTS

    st = Store(tmp_path)
    row = {c: None for c in ALERTS}
    import datetime as dt

    now = dt.datetime(2024, 3, 7, tzinfo=dt.timezone.utc)
    rows = [{**row, "seq": i, "ts": now, "alert_id": f"r:e{i}", "status": "new", "version": 1,
             "event_ids": f'["e{i}"]', "reasons": '["because"]'} for i in (1, 2, 3)]
    st.append("alerts", pl.DataFrame(rows, schema=ALERTS), batch="t")
    stop = threading.Event()
    got = []
    for m in follow_alerts(st, after_seq=1, poll_s=0.05, stop=stop):
        got.append(m)
        if len(got) == 2:
            stop.set()
    assert [m["alert_id"] for m in got] == ["r:e2", "r:e3"]
    assert got[0]["event_ids"] == ["e2"] and got[0]["start"] is None and got[0]["ts"].endswith("Z")


def test_a_dead_webhook_never_holds_up_ingest_and_its_alerts_wait_for_the_next_run(tmp_path, monkeypatch):
    from shadowfleet.live import Rule
    from shadowfleet.live.config import WebhookConfig

    monkeypatch.setenv("SHADOWFLEET_WEBHOOK_SECRET", "s")
    port = _free_port(socket.SOCK_DGRAM)
    dead = f"http://127.0.0.1:{_free_port()}/hook"  # nothing listens there
    # a rule that holds for every gap, so alerts exist
    rules = (Rule(id="any-gap", types=("ais_gap",)),)
    sentences = [ln.rsplit("\\", 1)[-1] for ln in LINES]  # the AIVDM sentence after the tag block

    def send():
        _await_udp_listener(port)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for t in (1709251203, 1709251203 + 7 * 3600):  # three ships heard, silent 7 h, heard again
                for k, sentence in enumerate(sentences):
                    s.sendto(f"{t + k} {sentence}\n".encode(), ("127.0.0.1", port))

    threading.Thread(target=send, daemon=True).start()
    cfg = LiveConfig(batch_interval_s=0.2, detect_interval_s=0.2,
                     webhook=WebhookConfig(attempts=3, backoff_initial_s=0.1, timeout_s=1.0))
    st = Store(tmp_path)
    t0 = time.monotonic()
    rep, out = _run([f"udp://127.0.0.1:{port}"], st, webhooks=[dead], rules=rules, config=cfg)
    assert time.monotonic() - t0 < 30
    assert rep.lines == 6 and st.read("positions").height >= 2
    w = rep.webhooks[dead]
    assert w.delivered == 0 and w.attempts >= 1 and "ConnectError" in w.last_error
    assert '"status":"new"' in out
