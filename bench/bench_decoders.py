"""Compiled AIS decoders on PyPI against pyais and the project's NumPy decoder: field agreement and speed.

Agreement: every real NMEA sample in shared/data/ais is cut into whole messages (one sentence, or the sentences
of a multi-sentence group) by the project's NMEA parser; each message is decoded by pyais (the reference), aiscat
(AIS-catcher's C++ decoder), libais (C++), marlin-py (Rust) and the project's decoder, and the fields the store
keeps are compared: MMSI, latitude, longitude, SOG, COG, heading, navigation status (position reports 1, 2, 3,
18, 27) and IMO, call sign, name, ship type, draught (type 5). "Not available" codes (ITU-R M.1371-5: lat 91,
lon 181, SOG 102.3, COG 360, heading 511) count as missing for every decoder. Numbers agree within 1e-5 degree
(about 1 m) and 0.05 kn / 0.05 degree: aiscat returns float32 positions.

Speed: the 2 M-sentence file of bench_ingest.py (real DMA sample replicated, tag-block + $PGHP + sentence per
message), decoded in one run by (a) pyais FileReaderStream + decode, (c) aiscat.from_file, (d) libais over the
`!` lines (multi-sentence groups joined in Python), (e) marlin AisParser.streaming fed the file in 1 MB blocks,
and (b) `shadowfleet ingest` CLI end to end into a fresh store (subprocess, peak RSS).

Usage: python bench/bench_decoders.py [--sentences 2000000] [--rounds 1] [--no-record] [--skip-speed]
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))

import bench_ingest  # noqa: E402  (the 2 M-sentence file, pyais and shadowfleet runs)

DATA = Path(os.environ.get("SHADOWFLEET_SHARED_DATA", ROOT.parent / "shared" / "data")) / "ais"
NMEA_SAMPLES = [
    "dma_aisabnormal_ais-sample_20131112.txt.gz",
    "dma_aisabnormal_538004030_drift_20140928.ais",
    "dma_aislib_stream_example_20100611.txt",
    "aisdb_test_data_20211101.nm4",
    "gpsd_ais-nmea.log",
    "pyais_nmea_data_sample.txt",
]
POSITION_FIELDS = ("mmsi", "lat", "lon", "sog", "cog", "heading", "status")
STATIC_FIELDS = ("mmsi", "imo", "callsign", "shipname", "shiptype", "draught")
TOLERANCE = {"lat": 1e-5, "lon": 1e-5, "sog": 0.05, "cog": 0.05, "draught": 0.05}
NOT_AVAILABLE = {"lat": 91.0, "lon": 181.0, "sog": 102.3, "cog": 360.0, "heading": 511}
DECODERS = ("ours", "aiscat", "libais", "marlin")


def _clean(rec: dict) -> dict:
    out = {}
    if rec.get("type") == 27 and rec.get("sog") == 63:  # type 27's SOG "not available" is 63 (6 bits)
        rec = {**rec, "sog": None}
    for k, v in rec.items():
        if hasattr(v, "value"):  # an enum (pyais, marlin) or a FieldState (marlin)
            v = v.value
            v = getattr(v, "value", v)
        if v is not None and not isinstance(v, (str, bool)):
            try:
                v = int(v) if k in ("mmsi", "status", "heading", "imo", "shiptype") else float(v)
            except (TypeError, ValueError):
                v = None
        if isinstance(v, str):
            v = v.replace("@", "").strip() or None
        if k in NOT_AVAILABLE and v is not None and abs(v - NOT_AVAILABLE[k]) < 1e-3:  # float32 102.3 too
            v = None
        if k == "heading" and v is not None and v > 359:
            v = None
        if k == "cog" and v is not None and v >= 360:
            v = None
        if k in ("draught", "imo", "shiptype") and v == 0:
            v = None
        if k == "status" and v == 15:  # "not defined (default)": marlin reports it as not available
            v = None
        out[k] = v
    return out


def _pick(d: dict, names: dict) -> dict:
    return {k: d.get(src) for k, src in names.items()}


def decode_pyais(sentences: list[str]) -> dict | None:
    import pyais

    d = pyais.decode(*sentences).asdict()
    return {"type": d["msg_type"], **_pick(d, {"mmsi": "mmsi", "lat": "lat", "lon": "lon", "sog": "speed",
                                               "cog": "course", "heading": "heading", "status": "status",
                                               "imo": "imo", "callsign": "callsign", "shipname": "shipname",
                                               "shiptype": "ship_type", "draught": "draught"})}


def decode_aiscat(sentences: list[str]) -> dict | None:
    import aiscat

    d = aiscat.decode(*sentences)
    return {"type": d.get("type"), **_pick(d, {"mmsi": "mmsi", "lat": "lat", "lon": "lon", "sog": "speed",
                                               "cog": "course", "heading": "heading", "status": "status",
                                               "imo": "imo", "callsign": "callsign", "shipname": "shipname",
                                               "shiptype": "shiptype", "draught": "draught"})}


def decode_libais(sentences: list[str]) -> dict | None:
    import ais

    fields = [s.split("*")[0].split(",") for s in sentences]
    payload = "".join(f[5] for f in fields)
    d = ais.decode(payload, int(fields[-1][6] or 0))
    return {"type": d.get("id"), **_pick(d, {"mmsi": "mmsi", "lat": "y", "lon": "x", "sog": "sog", "cog": "cog",
                                             "heading": "true_heading", "status": "nav_status", "imo": "imo_num",
                                             "callsign": "callsign", "shipname": "name",
                                             "shiptype": "type_and_cargo", "draught": "draught"})}


def decode_marlin(sentences: list[str]) -> dict | None:
    from marlin.ais import AisParser

    p = AisParser.streaming()
    p.feed(("\r\n".join(sentences) + "\r\n").encode())
    m = p.next_message()
    if m is None:
        return None
    b = m.body
    g = {k: getattr(b, a, None) for k, a in {
        "mmsi": "mmsi", "lat": "latitude_deg", "lon": "longitude_deg", "sog": "speed_over_ground",
        "cog": "course_over_ground", "heading": "true_heading", "status": "navigation_status",
        "imo": "imo_number", "callsign": "call_sign", "shipname": "vessel_name", "shiptype": "ship_type",
        "draught": "draught_m"}.items()}
    if g["status"] is not None and hasattr(g["status"], "value") and g["status"].value is not None:
        g["status"] = int(g["status"].value)
    return {"type": int(m.type_tag[4:]) if m.type_tag[4:].isdigit() else None, **g}


def _messages(path: Path):
    """(first line number, [sentences]) of every whole message, cut by the project's NMEA parser."""
    import polars as pl

    from shadowfleet.ingest.nmea import NmeaParser

    op = gzip.open if path.name.endswith(".gz") else open
    with op(path, "rt", errors="replace") as fh:
        lines = fh.readlines()
    batch = NmeaParser().parse(lines, 1)
    msgs = batch.messages.with_columns(pl.coalesce(
        pl.col("sentences"),
        batch.lines.gather(batch.messages["line"] - batch.first_line).str.extract(r"(![^*]*\*[0-9A-Fa-f]{2})", 1),
    ).alias("sentences"))
    return batch, msgs


def _ours(batch) -> dict[int, dict]:
    """The project's decoder, by first line of the message."""
    from shadowfleet.ingest.decode import decode

    d = decode(batch.messages)
    out = {}
    for row in d.positions.iter_rows(named=True):
        out[row["line"]] = {"type": row["msg_type"], "mmsi": row["mmsi"], "lat": row["lat"], "lon": row["lon"],
                            "sog": row["sog"], "cog": row["cog"], "heading": row["heading"],
                            "status": row["nav_status"]}
    for row in d.static.iter_rows(named=True):
        if row.get("msg_type") == 5:
            out[row["line"]] = {"type": 5, "mmsi": row["mmsi"], "imo": row.get("imo"),
                                "callsign": row.get("callsign"), "shipname": row.get("name"),
                                "shiptype": row.get("ship_type"), "draught": row.get("draught")}
    return out


def _same(a, b, field) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if field in TOLERANCE:
        return abs(float(a) - float(b)) <= TOLERANCE[field]
    return a == b


def agreement() -> dict:
    """Per decoder: messages decoded, messages pyais decoded that it did not, and per field agree/compared."""
    stats = {name: {"decoded": 0, "missed": 0, "fields": {}} for name in DECODERS}
    examples: dict[str, list] = {name: [] for name in DECODERS}
    n_ref = 0
    decoders = {"aiscat": decode_aiscat, "libais": decode_libais, "marlin": decode_marlin}
    for rel in NMEA_SAMPLES:
        path = DATA / rel
        if not path.exists():
            continue
        batch, msgs = _messages(path)
        ours = _ours(batch)
        for line, sentences in msgs.select("line", "sentences").iter_rows():
            if not sentences:
                continue
            sents = sentences.split("\n")
            try:
                ref = _clean(decode_pyais(sents))
            except Exception:  # pyais cannot decode it either: not a reference message
                continue
            t = ref["type"]
            fields = POSITION_FIELDS if t in (1, 2, 3, 18, 27) else STATIC_FIELDS if t == 5 else None
            if fields is None:
                continue
            n_ref += 1
            results = {"ours": ours.get(line)}
            for name, fn in decoders.items():
                try:
                    results[name] = fn(sents)
                except Exception:
                    results[name] = None
            for name, got in results.items():
                s = stats[name]
                if got is None or got.get("type") != t:
                    s["missed"] += 1
                    if len([e for e in examples[name] if e[2] == "missed"]) < 2:
                        examples[name].append((rel, t, "missed", sents, got))
                    continue
                s["decoded"] += 1
                got = _clean(got)
                for f in fields:
                    agree, total = s["fields"].get(f, (0, 0))
                    ok = _same(ref.get(f), got.get(f), f)
                    s["fields"][f] = (agree + ok, total + 1)
                    if not ok and len([e for e in examples[name] if e[2] == f]) < 2:
                        examples[name].append((rel, t, f, ref.get(f), got.get(f)))
    return {"reference_messages": n_ref, "stats": stats, "examples": examples}


def aiscat_file(path: Path) -> tuple[int, float, float]:
    import aiscat

    t0, c0 = time.perf_counter(), time.process_time()
    n = sum(1 for _ in aiscat.from_file(str(path)))
    return n, time.perf_counter() - t0, time.process_time() - c0


def libais_loop(path: Path) -> tuple[int, float, float]:
    """libais decodes one payload; the sentence split and multi-sentence joining are the loop's (plain Python)."""
    import ais

    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    parts: list[str] = []
    with open(path, "rb") as fh:
        for raw in fh:
            if not raw.startswith(b"!"):
                continue
            f = raw.decode("ascii", "replace").split("*")[0].split(",")
            if len(f) < 7:
                continue
            parts.append(f[5])
            if f[1] != f[2]:
                continue
            try:
                ais.decode("".join(parts), int(f[6] or 0))
            except Exception:  # counted like the other loops: an undecodable message is not fatal
                pass
            parts = []
            n += 1
    return n, time.perf_counter() - t0, time.process_time() - c0


def marlin_stream(path: Path) -> tuple[int, float, float]:
    from marlin.ais import AisParser

    t0, c0 = time.perf_counter(), time.process_time()
    p = AisParser.streaming()
    n = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 14), b""):  # more overflows its buffer
            p.feed(block)
            while True:
                try:
                    m = p.next_message()
                except Exception:  # a damaged sentence: marlin raises, the stream goes on
                    continue
                if m is None:
                    break
                n += 1
    return n, time.perf_counter() - t0, time.process_time() - c0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=2_000_000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--no-record", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    args = ap.parse_known_args(argv)[0]

    t0 = time.perf_counter()
    ag = agreement()
    print(f"agreement with pyais on {ag['reference_messages']:,} real messages ({time.perf_counter() - t0:.0f} s)")
    rows = []
    for name in DECODERS:
        s = ag["stats"][name]
        per = ", ".join(f"{f} {a / t:.4%}" for f, (a, t) in s["fields"].items() if t)
        worst = min((a / t for a, t in s["fields"].values() if t), default=0.0)
        print(f"  {name}: decoded {s['decoded']:,}, missed {s['missed']:,}; {per}")
        for ex in ag["examples"][name]:
            print(f"     e.g. {ex}")
        rows.append((name, s["decoded"], s["missed"], worst, per))

    speed = []
    if not args.skip_speed:
        path, n_sent = bench_ingest.build(args.sentences)
        load = os.getloadavg()[0]
        runs = {k: [] for k in ("a", "c", "d", "e", "b")}
        for r in range(args.rounds):
            runs["a"].append(bench_ingest.pyais_file_stream(path))
            runs["c"].append(aiscat_file(path))
            runs["d"].append(libais_loop(path))
            runs["e"].append(marlin_stream(path))
            runs["b"].append(bench_ingest.shadowfleet_ingest(path))
            for k in runs:
                n, s, c = runs[k][-1][:3]
                print(f"round {r + 1} ({k}): {n:,} messages in {s:.1f} s = {n / s:,.0f} msg/s (CPU {c:.1f} s)")
        best = {k: min(v, key=lambda x: x[1]) for k, v in runs.items()}
        peak = max(x[3] for x in runs["b"])
        speed = (path, n_sent, load, best, peak)

    if args.no_record:
        return
    from machine import write_section

    body = [
        f"Field agreement with pyais 3 on every real NMEA sample in shared/data/ais ({ag['reference_messages']:,} "
        "messages pyais decodes of types 1, 2, 3, 18, 27 and 5, cut into whole messages by the project's parser). "
        "'missed': messages pyais decoded that the decoder did not return (or returned as another type); "
        "'lowest field agreement': over MMSI, lat, lon, SOG, COG, heading, status (positions) and IMO, call sign, "
        "name, ship type, draught (type 5), numbers within 1e-5 degree / 0.05 kn / 0.05 degree / 0.05 m.\n",
        "| decoder | decoded | missed | lowest field agreement | fields below 100 % |\n|---|---|---|---|---|",
    ]
    for n, d, m, w, _ in rows:
        below = ", ".join(f"{f} {a / t:.2%}" for f, (a, t) in ag["stats"][n]["fields"].items() if t and a < t)
        body.append(f"| {n} | {d:,} | {m:,} | {w:.4%} | {below or 'none'} |")
    body.append(
        "\nWhere they differ (examples printed by the run): pyais reads reserved ship-type codes (e.g. 39) as not "
        "available, every other decoder keeps the code (all type-5 'shiptype' differences); aiscat returns "
        "float32 positions (longitudes off by up to 1.5e-5 degree, about 1.5 m) and drops multi-sentence groups "
        "with a receive time after the checksum (`…*0A,1411920140`); libais maps 6-bit code 31 to '-' instead of "
        "'_' in names; marlin does not decode type 27 and reports reserved navigation status codes (9-13), "
        "SOG 102.2 (102.2 kn or more) and draught 25.5 (25.5 m or more) as not available. Type 27's SOG 63 is that message's "
        "'not available' code for all. The project's decoder differs from pyais only on ship type (as above).")
    if speed:
        path, n_sent, load, best, peak = speed
        rate = {k: v[0] / v[1] for k, v in best.items()}
        labels = {"a": "(a) pyais `FileReaderStream` + `decode()`", "c": "(c) aiscat `from_file` (dicts)",
                  "d": "(d) libais `ais.decode` over the `!` lines (Python split/join)",
                  "e": "(e) marlin `AisParser.streaming` fed 16 kB blocks",
                  "b": "(b) `shadowfleet ingest` CLI into a fresh store (subprocess, end to end)"}
        body += [
            "",
            f"Speed on the real DMA sample replicated to {n_sent:,} sentences ({path.stat().st_size / 1e6:.0f} MB), "
            f"best of {args.rounds} round(s), load average {load:.1f} at the start (shared machine).\n",
            "| run | messages | wall s | msg/s (wall) | CPU s | x (a), wall | x (a), CPU |\n|---|---|---|---|---|---|---|",
        ]
        x_cpu = {k: best["a"][2] / best[k][2] for k in best}
        body += [f"| {labels[k]} | {best[k][0]:,} | {best[k][1]:.1f} | {rate[k]:,.0f} | {best[k][2]:.1f} | "
                 f"{rate[k] / rate['a']:.2f} | {x_cpu[k]:.2f} |" for k in ("a", "c", "d", "e", "b")]
        end = os.getloadavg()[0]
        body.append(
            f"\n(b) peak RSS {peak:,.0f} MB (the CLI's own VmHWM; target < 1 GB: "
            f"{'met' if peak < 1000 else 'not met'}). By CPU time, (b) is {x_cpu['b']:.1f}x (a): the >= 4x (a) "
            f"target is {'met' if x_cpu['b'] >= 4 else 'not met'}; the literal target, (b) at least as fast as "
            f"aiscat's own decoding loop (c, {x_cpu['c']:.1f}x (a)), is {'met' if x_cpu['b'] >= x_cpu['c'] else 'not met'}"
            f" ((c) only decodes into dicts; (b) also frames, validates, merges receiver copies and writes Parquet). "
            f"Load average {load:.1f} at the start and {end:.1f} at the end of the speed runs on 2 cores: with a "
            "loaded machine the wall ratios say little.")
    text = "\n".join(body) + "\n"
    assert "\\" not in text
    write_section("decoders", text)
    print("recorded in bench/results.md (section: decoders)")


if __name__ == "__main__":
    main()
