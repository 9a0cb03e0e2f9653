"""Kill a store operation at each of its steps, in a real child process: the harness of the crash tests.

A step is a call of one of the primitives the commit protocol is made of (writing a Parquet file, a rename, an
unlink, a lock, a catalog statement). ``steps(op, root)`` runs the operation to the end and counts them;
``killed_at(op, root, k)`` runs it again and SIGKILLs the process just before its k-th step. Children come
from a fork server that has imported polars and shadowfleet once, so a kill costs milliseconds, not an import.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
from pathlib import Path

import polars as pl

_C_STEPS = {"replace", "rename", "unlink", "flock", "execute", "executemany", "mkdir"}
_PY_STEPS = {"write_parquet"}

_ctx = mp.get_context("forkserver")
_ctx.set_forkserver_preload(["polars", "shadowfleet.store", "shadowfleet.sanctions", "shadowfleet.ingest"])


def events_version(n: int) -> pl.DataFrame:
    return pl.DataFrame({"event_id": [f"v{n}-{i}" for i in range(n)], "type": ["ais_gap"] * n, "mmsi": [n] * n})


def list_version(list_id: str, n: int):
    from shadowfleet.sanctions.lists import ListVersion

    entries = pl.DataFrame({"list_id": [list_id] * n, "entry_id": [str(i) for i in range(n)],
                            "name": [f"VESSEL {i}" for i in range(n)], "entity_type": ["vessel"] * n,
                            "list_name": [list_id.split("@")[0]] * n, "version_date": [list_id.split("@")[1]] * n})
    return ListVersion(list_id=list_id, list_name=list_id.split("@")[0], kind="csv", path=f"{list_id}.csv",
                       sha256="0" * 64, version_date=list_id.split("@")[1], version_date_from="--date",
                       entries=entries)


def _op(op: str, root: str, arg: str) -> None:
    from shadowfleet.store import Store

    if op == "ingest":
        from shadowfleet.ingest import ingest

        ingest(arg, root)
        return
    store = Store(root)
    if op == "replace":  # what detect does: two derived tables in one commit
        with store.transaction() as tx:
            tx.replace("events", events_version(5))
            tx.replace("segments", pl.DataFrame({"mmsi": [5] * 5}))
    elif op == "lists":
        from shadowfleet.sanctions import save_list

        save_list(store, list_version("B@2024-02-01", 4), list_version("A@2024-01-01", 2))
    else:
        raise ValueError(op)


def _child(op: str, root: str, arg: str, kill_at: int, counter) -> None:
    count = 0

    def prof(frame, event, fn):
        nonlocal count
        if (event == "c_call" and getattr(fn, "__name__", "") in _C_STEPS) or (
                event == "call" and frame.f_code.co_name in _PY_STEPS):
            count += 1
            if count == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    threading.setprofile(prof)
    sys.setprofile(prof)
    try:
        _op(op, root, arg)
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    counter.value = count


def _run(op: str, root: Path, arg: str, kill_at: int) -> tuple[int, int]:
    counter = _ctx.Value("i", -1)
    p = _ctx.Process(target=_child, args=(op, str(root), arg, kill_at, counter))
    p.start()
    p.join(120)
    if p.is_alive():
        p.kill()
        raise AssertionError(f"{op} killed at step {kill_at} hung")
    return p.exitcode, counter.value


def steps(op: str, root: Path, arg: str = "") -> int:
    code, n = _run(op, root, arg, 0)
    assert code == 0, f"{op} failed when not killed"
    return n


def killed_at(op: str, root: Path, k: int, arg: str = "") -> int:
    return _run(op, root, arg, k)[0]


def _flip(root: str, stop) -> None:
    from shadowfleet.store import Store

    st = Store(root)
    i = 0
    while not stop.is_set() or i < 10:
        st.replace("events", events_version(5 if i % 2 == 0 else 3))
        i += 1


def start_flipping(root: Path):
    """A child replacing ``events`` with 5 rows, then 3, ... until ``.stop.set()`` (ten times at least)."""
    stop = _ctx.Event()
    p = _ctx.Process(target=_flip, args=(str(root), stop))
    p.start()
    p.stop = stop
    return p
