"""Ingest benchmark: a plain pyais loop vs `shadowfleet ingest` end to end, on ≥ 2 million real NMEA sentences.

The file is built under bench/out/ from the real DMA sample (shared/data/ais/dma_aisabnormal_ais-sample_20131112
.txt.gz: `\\si:` tag line + `$PGHP` time line + sentence), replicated N times; copy k has its times shifted by k×5
minutes (the sample spans 5 minutes) and every MMSI shifted by k×7919 (payload bits re-armoured, checksums
recomputed), so copies are distinct reports and nothing is merged as a duplicate.

Measures, in one run: (a) messages/s of a pyais loop decoding every sentence (pyais.stream.IterMessages over the
`!` lines, `.decode()` each); (b) messages/s and peak RSS of `python -m shadowfleet ingest FILE --store NEW
--quiet` run as a subprocess. Prints the figures and appends a dated section to bench/results.md.

Usage: python bench/bench_ingest.py [--sentences 2000000] [--no-record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from functools import reduce
from operator import xor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SAMPLE = Path(os.environ.get("SHADOWFLEET_SHARED_DATA", ROOT.parent / "shared" / "data")) / "ais" / \
    "dma_aisabnormal_ais-sample_20131112.txt.gz"
RESULTS = HERE / "results.md"

_ARMOUR = [chr(v + 48 if v < 40 else v + 56) for v in range(64)]
_VALUE = {c: i for i, c in enumerate(_ARMOUR)}


def _checksum(body: str) -> str:
    return f"{reduce(xor, body.encode(), 0):02X}"


def _shift_mmsi(payload: str, delta: int) -> str:
    """Payload with the MMSI (bits 8–37, ITU-R M.1371-5) changed, every other bit kept."""
    if len(payload) < 7:
        return payload
    head = 0
    for c in payload[:7]:  # 42 bits: type, repeat, MMSI, 4 bits of what follows
        head = (head << 6) | _VALUE[c]
    mmsi = (head >> 4) & ((1 << 30) - 1)
    new = (mmsi + delta) % 1_000_000_000
    head = (head & ~(((1 << 30) - 1) << 4)) | (new << 4)
    chars = [_ARMOUR[(head >> (6 * (6 - i))) & 63] for i in range(7)]
    return "".join(chars) + payload[7:]


def build(n_sentences: int) -> tuple[Path, int]:
    """Write the replicated file (cached by size); returns its path and the number of AIS sentences."""
    OUT.mkdir(parents=True, exist_ok=True)
    with gzip.open(SAMPLE, "rt") as fh:
        base = [ln.rstrip("\r\n") for ln in fh]
    per_copy = sum(1 for ln in base if ln.startswith("!"))
    copies = -(-n_sentences // per_copy)
    path = OUT / f"dma_x{copies}.nmea"
    if path.exists():
        return path, copies * per_copy
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as out:
        for k in range(copies):
            lines = []
            for ln in base:
                if ln.startswith("$PGHP,1,"):
                    f = ln.split("*")[0][1:].split(",")
                    t = dt.datetime(int(f[2]), int(f[3]), int(f[4]), int(f[5]), int(f[6]), int(f[7])) + \
                        dt.timedelta(minutes=5 * k)
                    f[2:8] = [str(t.year), str(t.month), str(t.day), str(t.hour), str(t.minute), str(t.second)]
                    body = ",".join(f)
                    ln = f"${body}*{_checksum(body)}"
                elif ln.startswith("!") and k:
                    body = ln.split("*")[0][1:]
                    f = body.split(",")
                    if f[2] == "1":  # first (or only) fragment carries the MMSI
                        f[5] = _shift_mmsi(f[5], k * 7919)
                    body = ",".join(f)
                    ln = f"!{body}*{_checksum(body)}"
                lines.append(ln)
            out.write("\n".join(lines) + "\n")
    tmp.rename(path)
    return path, copies * per_copy


def pyais_loop(path: Path) -> tuple[int, float]:
    from pyais.stream import IterMessages

    t0 = time.perf_counter()
    n = 0
    with open(path, "rb") as fh:
        sentences = (ln.rstrip() for ln in fh if ln.startswith(b"!"))
        for msg in IterMessages(sentences):
            try:
                msg.decode()
            except Exception:  # same as ingest: an undecodable message is counted, not fatal
                pass
            n += 1
    return n, time.perf_counter() - t0


def shadowfleet_ingest(path: Path) -> tuple[int, float, float]:
    store = OUT / "store"
    shutil.rmtree(store, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "shadowfleet", "ingest", str(path), "--store", str(store), "--quiet"],
                   check=True, cwd=ROOT)
    secs = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    sys.path.insert(0, str(ROOT / "src"))
    from shadowfleet.store import Store

    st = Store(store)
    log = st.ingest_log()
    n = int(log["accepted"].sum() + log["rejected"].sum())
    return n, secs, peak_mb


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), {cpu}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=2_000_000)
    ap.add_argument("--no-record", action="store_true", help="do not append to bench/results.md")
    args = ap.parse_args(argv)
    if not SAMPLE.exists():
        sys.exit(f"sample not found: {SAMPLE}")
    t0 = time.perf_counter()
    path, n_sent = build(args.sentences)
    print(f"file: {path} ({n_sent:,} AIS sentences, {path.stat().st_size / 1e6:.0f} MB, built/cached in "
          f"{time.perf_counter() - t0:.0f} s)")
    n_a, s_a = pyais_loop(path)
    rate_a = n_a / s_a
    print(f"(a) pyais loop: {n_a:,} messages in {s_a:.1f} s = {rate_a:,.0f} msg/s")
    n_b, s_b, peak = shadowfleet_ingest(path)
    rate_b = n_b / s_b
    print(f"(b) shadowfleet ingest: {n_b:,} messages in {s_b:.1f} s = {rate_b:,.0f} msg/s, peak RSS {peak:,.0f} MB")
    print(f"speed-up (b)/(a): {rate_b / rate_a:.2f}x")
    if not args.no_record:
        section = (
            f"\n### ingest — {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC\n"
            f"Machine: {machine()}.\n"
            f"File: DMA sample replicated to {n_sent:,} AIS sentences ({path.stat().st_size / 1e6:.0f} MB, "
            f"tag line + $PGHP + sentence per message).\n\n"
            f"| run | messages | seconds | msg/s | peak RSS |\n|---|---|---|---|---|\n"
            f"| (a) pyais loop (IterMessages + decode) | {n_a:,} | {s_a:.1f} | {rate_a:,.0f} | — |\n"
            f"| (b) `shadowfleet ingest` CLI, fresh store | {n_b:,} | {s_b:.1f} | {rate_b:,.0f} | {peak:,.0f} MB |\n\n"
            f"Speed-up (b)/(a): **{rate_b / rate_a:.2f}×** (target ≥ 3×); peak memory target < 1 GB.\n"
        )
        with open(RESULTS, "a") as fh:
            if RESULTS.stat().st_size == 0 if RESULTS.exists() else True:
                fh.write("# Benchmark results\n")
            fh.write(section)
        print(f"recorded in {RESULTS}")


if __name__ == "__main__":
    main()
