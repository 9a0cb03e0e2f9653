"""A real store for the dashboard tests (simulate → ingest → detect → screen → cases, plus a vessel and a list
entry with hostile names) and a real uvicorn server on a free localhost port."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path

import httpx

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_ENTRY = "<script>alert(3)</script>"
HOSTILE_MMSI = 273999001  # RU MID, as a tanker at Vostochny would be
HOSTILE_IMO = 9074729  # valid check digit
FORMULA_CALLSIGN = "=HYPERLINK(1)"


def hostile_csv(path: Path) -> Path:
    """NOAA MarineCadastre layout: a tanker near Vostochny whose name is markup and call sign a formula."""
    rows = ["MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,"
            "Cargo,TransceiverClass"]
    for i in range(24):
        rows.append(f'{HOSTILE_MMSI},2024-03-0{1 + i // 12}T{(i % 12) * 2:02d}:00:00,42.{7200 + i * 10},133.{5 + i},'
                    f'8.0,45.0,45,"{HOSTILE_NAME}",IMO{HOSTILE_IMO},"{FORMULA_CALLSIGN}",80,0,95,15,6.0,80,A')
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def hostile_list(path: Path) -> Path:
    path.write_text("name,imo,flag_iso2,designation,source\n"
                    f'"{HOSTILE_ENTRY}",{HOSTILE_IMO},RU,"test <b>designation</b>",test\n', encoding="utf-8")
    return path


def build_store(root: Path) -> dict:
    from importlib import resources

    from shadowfleet.cases import build_cases
    from shadowfleet.events import detect
    from shadowfleet.ingest import ingest
    from shadowfleet.sanctions import load_list, save_list
    from shadowfleet.sanctions.screen import screen
    from shadowfleet.places import load_places
    from shadowfleet.sim import simulate
    from shadowfleet.store import Store

    sim = root / "sim"
    simulate("vostochny-2024-03", out=sim, seed=2024, days=6, vessels=60)
    store = Store(root / "store")
    ingest([sim / "ais.nmea"], store)
    ingest([hostile_csv(root / "hostile.csv")], store, fmt="csv")
    places = load_places(sim / "places.geojson")
    detect(store, places=places)
    watch = resources.files("shadowfleet.sanctions") / "data" / "dprk_tankers_2024_watchlist.csv"
    with resources.as_file(watch) as path:
        save_list(store, load_list(path, kind="csv", version_date="2024-11-22"),
                  load_list(hostile_list(root / "hostile_list.csv"), kind="csv", version_date="2024-12-01"))
    screen(store)
    build_cases(store, places=places)
    return {"store": root / "store", "places": sim / "places.geojson", "root": root}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(app, host: str = "127.0.0.1"):
    """Serve ``app`` with uvicorn in a thread; yields the base URL; stops it on exit."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def client(base: str, **kw) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=30, **kw)
