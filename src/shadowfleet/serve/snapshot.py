"""Reading a store that other commands are rewriting: cached frames keyed by the files' identity, and retries
while a table is being replaced.

`detect`, `cases` and `lists` replace derived tables whole and `ingest` adds files, so a file listed a moment ago
can be gone when it is opened. A read that meets that retries until the new version is complete; a frame is
cached under the (path, mtime, size) of every file it came from, so the next request after a rewrite sees the
new data and the ones before it are served from memory.
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
        self.store = store
        self.retry_s = retry_s
        self._cache: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()

    def fingerprint(self, *tables: str) -> tuple:
        """Identity of the files the tables consist of now: changes whenever a table is replaced or grows."""
        out = []
        for table in tables:
            for f in self.store.files(table):
                st = f.stat()
                out.append((str(f), st.st_mtime_ns, st.st_size))
            if not self.store.files(table) and self._replacing(table):
                raise FileNotFoundError(f"{table} is being replaced")
        return tuple(out)

    def _replacing(self, table: str) -> bool:
        # a whole-table replace moves the old folder away just before the new one arrives
        return any(self.store.root.glob(f".tmp-{table}-*"))

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
                delay = min(delay * 2, 0.2)


def _vanished(exc: ShadowfleetError) -> bool:
    # the store names a file it could not read; if that file is gone, it was replaced rather than damaged
    text = str(exc)
    if "damaged store file" not in text:
        return False
    path = text.split("damaged store file ", 1)[1].split(" (", 1)[0]
    from pathlib import Path

    return not Path(path).exists()
