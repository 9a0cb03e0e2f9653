"""Where partition kernels run: in this process (``local``) or on a Dask cluster (``dask``).

A stage splits its work into independent tasks (one file, one bucket of vessels, one time-bin x grid-cell
bucket) and hands a kernel and the task list to ``Engine.map``; the kernel is the same function either way, and
results come back in task order, so a stage's answer does not depend on the engine. ``open_engine`` is the one
place an engine is chosen:

    with open_engine("dask", "local:2") as eng:          # a LocalCluster of 2 worker processes on this machine
        ...
    with open_engine("dask", "tcp://10.0.0.5:8786") as eng:  # an existing cluster (dask-scheduler) by address

Dask is imported only when asked for, so the local engine costs nothing.
"""

from __future__ import annotations

import contextlib
import operator
import os
import re
from typing import Any, Callable, Iterable, Iterator, Sequence

from shadowfleet.errors import ShadowfleetError

ENGINES = ("local", "dask")
_LOCAL = re.compile(r"local(?::(\d{1,3}))?")
# ours: several buckets per worker so one heavy bucket (a busy port) does not leave the other workers idle
TASKS_PER_WORKER = 4


class LocalEngine:
    """Every task in this process, one after another; a handle is the result itself."""

    name = "local"
    workers = 1

    def map(self, kernel: Callable, tasks: Iterable, *shared: Any) -> list:
        return [kernel(task, *shared) for task in tasks]

    def pick(self, handles: list, key: str) -> list:
        return [h[key] for h in handles]

    def results(self, handles: list) -> Iterator:
        yield from handles

    def share(self, value: Any) -> Any:
        return value


class DaskEngine:
    """Tasks on the workers of a dask.distributed cluster. Handles are futures: a result stays on the worker
    that made it until the client takes it, or until a later ``map`` passes it to the next kernel there."""

    name = "dask"

    def __init__(self, client):
        self.client = client

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def share(self, value: Any) -> Any:
        """An argument every task needs (a place index, a coverage map): sent to every worker once."""
        return self.client.scatter(value, broadcast=True, hash=False)

    def map(self, kernel: Callable, tasks: Sequence, *shared: Any) -> list:
        tasks = list(tasks)
        if not tasks:
            return []
        return self.client.map(kernel, tasks, *[[s] * len(tasks) for s in shared], pure=False)

    def pick(self, handles: list, key: str) -> list:
        """One field of each (dict) result, computed where the result lies."""
        return [self.client.submit(operator.getitem, h, key, pure=False) for h in handles]

    def results(self, handles: list) -> Iterator:
        """Results in task order, one at a time (the client never holds more than the caller keeps)."""
        for h in handles:
            yield h.result()


def parse_scheduler(scheduler: str | None) -> tuple[str, int | None]:
    """``local:N`` (a LocalCluster of N worker processes), ``local`` (one per core), or a scheduler address."""
    if scheduler is None or scheduler == "":
        return "local", None
    m = _LOCAL.fullmatch(scheduler)
    if m:
        n = int(m.group(1)) if m.group(1) else None
        if n is not None and n < 1:
            raise ShadowfleetError("--scheduler local:N needs at least 1 worker")
        return "local", n
    if not re.fullmatch(r"(tcp|tls|ws|wss|inproc|ucx)://[A-Za-z0-9.\-:\[\]_/]{1,200}", scheduler):
        raise ShadowfleetError(
            f"--scheduler must be local, local:N or a scheduler address like tcp://host:8786, not {scheduler[:80]!r}")
    return "address", None


@contextlib.contextmanager
def open_engine(engine: str = "local", scheduler: str | None = None, processes: bool = True,
                memory_limit: str = "auto") -> Iterator[LocalEngine | DaskEngine]:
    """The engine by name. For ``dask``: ``scheduler`` is ``local:N`` (a LocalCluster started here and stopped on
    exit, bound to 127.0.0.1) or the address of a running scheduler. ``processes=False`` runs the LocalCluster's
    workers as threads of this process (tests)."""
    if engine not in ENGINES:
        raise ShadowfleetError(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "local":
        if scheduler is not None:
            raise ShadowfleetError("--scheduler needs --engine dask")
        yield LocalEngine()
        return
    kind, n = parse_scheduler(scheduler)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ShadowfleetError("--engine dask needs the dask and distributed packages (pip install 'distributed')") from None
    with contextlib.ExitStack() as stack:
        if kind == "local":
            n = n or os.cpu_count() or 1
            # worker processes talk over TCP on 127.0.0.1 only; thread workers over in-process queues
            where = {"host": "127.0.0.1"} if processes else {}
            cluster = stack.enter_context(LocalCluster(
                n_workers=n, threads_per_worker=1, processes=processes, dashboard_address=None,
                memory_limit=memory_limit, silence_logs=40, **where))
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout="10s"))
            except (OSError, TimeoutError) as exc:
                raise ShadowfleetError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        yield DaskEngine(client)


def bucket_of(column: str, n: int) -> "pl.Expr":
    """The partition (0..n-1) of each row by an integer key such as the MMSI; a null key goes to partition 0, so
    its rows are still seen (and counted) by one task."""
    import polars as pl

    return (((pl.col(column) % n) + n) % n).fill_null(0)


def n_partitions(eng: LocalEngine | DaskEngine) -> int:
    """How many partitions a stage cuts its data into on this engine."""
    return 1 if isinstance(eng, LocalEngine) else eng.workers * TASKS_PER_WORKER
