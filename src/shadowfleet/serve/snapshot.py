"""Reading a store that other commands are rewriting: one catalog version per request, cached frames keyed by
the files' identity, and retries if a file goes away under a read.

`detect`, `cases` and `lists` replace derived tables and `ingest` adds files while the server runs. Each request
reads through a snapshot of the store's catalog (`Store.snapshot`), so every table it touches is the same
committed version; a frame is cached under the (path, mtime, size) of the files it came from, so the next request
after a rewrite sees the new data and the ones before it are served from memory. Should a file still vanish under
a read, the read starts again on a fresh snapshot, for up to ``retry_s``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, TypeVar

import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.store import Store

T = TypeVar("T")

_CACHED_FRAMES = 32  # a handful of derived tables and their enriched forms; bounded so memory stays flat


class StoreBusy(Exception):
    """The store kept changing under a read for longer than the retry budget."""


class StoreView:
    """A Store plus a small cache of derived frames, safe to share between request threads."""

    def __init__(self, store: Store, retry_s: float = 2.0):
        self.base = store
        self.store = store
        self.retry_s = retry_s
        self._cache: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()

    def pinned(self) -> "StoreView":
        """A view for one request: the store as of now (one catalog version), sharing this view's cache."""
        view = object.__new__(StoreView)
        view.__dict__.update(self.__dict__)
        view.store = self.base.snapshot()
        return view

    def fingerprint(self, *tables: str) -> tuple:
        """Identity of the files the tables consist of now: changes whenever a table is replaced or grows."""
        out = []
        for table in tables:
            for f in self.store.files(table):
                st = f.stat()
                out.append((str(f), st.st_mtime_ns, st.st_size))
        return tuple(out)

    def cached(self, key: str, tables: tuple[str, ...], build: Callable[[], T]) -> T:
        """``build()`` once per version of ``tables``; retried while they are being rewritten."""

        def attempt() -> T:
            fp = (key, self.fingerprint(*tables))
            with self._lock:
                if fp in self._cache:
                    self._cache.move_to_end(fp)
                    return self._cache[fp]  # type: ignore[return-value]
            value = build()
            if fp != (key, self.fingerprint(*tables)):
                raise FileNotFoundError(f"{', '.join(tables)} changed while being read")
            with self._lock:
                self._cache[fp] = value
                while len(self._cache) > _CACHED_FRAMES:
                    self._cache.popitem(last=False)
            return value

        return self.retrying(attempt)

    def retrying(self, fn: Callable[[], T]) -> T:
        """Run ``fn``; if a file vanished under it (a table replaced meanwhile), run it again, up to retry_s."""
        deadline = time.monotonic() + self.retry_s
        delay = 0.01
        while True:
            try:
                return fn()
            except (OSError, pl.exceptions.ComputeError, ShadowfleetError) as exc:
                if isinstance(exc, ShadowfleetError) and not _vanished(exc):
                    raise
                if time.monotonic() > deadline:
                    raise StoreBusy(f"the store is being rewritten ({exc}); try again") from None
                time.sleep(delay)
                if self.store is not self.base:
                    self.store = self.base.snapshot()  # the pinned version was cleaned away: read the current one
                delay = min(delay * 2, 0.2)


def _vanished(exc: ShadowfleetError) -> bool:
    # the store names a file it could not read; if that file is gone, it was replaced rather than damaged
    text = str(exc)
    if "damaged store file" not in text:
        return False
    path = text.split("damaged store file ", 1)[1].split(" (", 1)[0]
    from pathlib import Path

    return not Path(path).exists()
