"""Store benchmark: the store's commits against Delta Lake (delta-rs, the `deltalake` package) on the same frames
in the same run, and the per-file cost of ingesting many tiny files.

(a) 2,000,000 position rows in 8 batches of 250,000: ours (Parquet by UTC day, one catalog commit for all eight,
    as an ingested file is) vs `polars.DataFrame.write_delta` appends partitioned by day (one Delta commit per
    batch: Delta has no commit spanning several writes through this API, nor across tables).
(b) 300 one-row appends, each its own commit: ours (`Store.append`) vs `write_delta` append.
(c) 3,000 one-line NMEA files (a receiver's per-message files): `shadowfleet ingest DIR` end to end, as one
    subprocess; milliseconds per file.

Usage: python bench/bench_store.py [--no-record]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "store"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from machine import write_section  # noqa: E402

from shadowfleet.store import Store, conform  # noqa: E402


def _positions(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    t0 = np.datetime64("2024-03-07T00:00:00", "us")
    ts = t0 + (rng.random(n) * 3 * 86400e6).astype("timedelta64[us]")
    return conform(pl.DataFrame({
        "mmsi": rng.integers(200_000_000, 775_000_000, n), "ts": ts, "lat": rng.uniform(30, 50, n),
        "lon": rng.uniform(120, 140, n), "sog": rng.uniform(0, 15, n), "dup_key": rng.integers(0, 2**62, n),
    }).with_columns(pl.col("ts").dt.replace_time_zone("UTC")), "positions")


def _best(fn, rounds: int = 3) -> float:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out)


def big_appends(batches: list[pl.DataFrame]) -> tuple[float, float]:
    def ours():
        shutil.rmtree(OUT / "ours", ignore_errors=True)
        st = Store(OUT / "ours")
        with st.transaction() as tx:
            for b in batches:
                tx.append("positions", b)

    def delta():
        shutil.rmtree(OUT / "delta", ignore_errors=True)
        for b in batches:
            b.with_columns(pl.col("ts").dt.date().alias("day")).write_delta(
                OUT / "delta", mode="append", delta_write_options={"partition_by": ["day"]})

    return _best(ours), _best(delta)


def small_commits(n: int = 300) -> tuple[float, float]:
    one = _positions(1, 7)
    shutil.rmtree(OUT, ignore_errors=True)
    st = Store(OUT / "ours")
    t0 = time.perf_counter()
    for _ in range(n):
        st.append("positions", one)
    ours = (time.perf_counter() - t0) / n
    one = one.with_columns(pl.col("ts").dt.date().alias("day"))
    t0 = time.perf_counter()
    for _ in range(n):
        one.write_delta(OUT / "delta", mode="append", delta_write_options={"partition_by": ["day"]})
    return ours, (time.perf_counter() - t0) / n


def tiny_files(n: int = 3000) -> float:
    from functools import reduce
    from operator import xor

    src = OUT / "tiny"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    sentence = "!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0*5C"
    for i in range(n):
        body = f"c:{1709812800 + 60 * i}"
        (src / f"msg{i:05d}.nmea").write_text(f"\\{body}*{reduce(xor, body.encode(), 0):02X}\\{sentence}\n")
    store = OUT / "tiny-store"
    shutil.rmtree(store, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "shadowfleet", "ingest", str(src), "--store", str(store), "--quiet"],
                   check=True, env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))
    secs = time.perf_counter() - t0
    assert Store(store).ingest_log().height == n
    return secs / n


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args(argv if argv is not None else [])
    OUT.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    batches = [_positions(250_000, k) for k in range(8)]
    ours_big, delta_big = big_appends(batches)
    ours_small, delta_small = small_commits()
    per_file = tiny_files()
    shutil.rmtree(OUT, ignore_errors=True)
    body = f"""
Load average {load:.1f} when the run started (the machine is shared; ratios are the figures to read).

| measure | ours | Delta Lake (delta-rs) | ratio |
|---|---|---|---|
| 2,000,000 positions in 8 batches, best of 3 | {ours_big:.2f} s (one commit) | {delta_big:.2f} s (8 commits) | {delta_big / ours_big:.1f}x |
| one-row append, own commit (mean of 300) | {ours_small * 1000:.1f} ms | {delta_small * 1000:.1f} ms | {delta_small / ours_small:.1f}x |

3,000 one-line NMEA files, `shadowfleet ingest DIR` end to end (one subprocess, import included):
{per_file * 1000:.1f} ms per file.
"""
    print(body)
    if not args.no_record:
        write_section("store", body)


if __name__ == "__main__":
    main(sys.argv[1:])
