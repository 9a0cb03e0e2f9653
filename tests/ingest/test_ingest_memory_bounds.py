"""Hostile AIS cannot exhaust memory: lines, sentences, fragment groups and messages longer than NMEA 0183 and
ITU-R M.1371 allow are rejected by reason, and peak memory stays bounded whatever the input (measured as the peak
RSS of a real `shadowfleet ingest` subprocess on inputs generated here)."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ingestkit import checksum, position, tagged

from shadowfleet.ingest import ingest
from shadowfleet.store import Store

T0 = 1709812800
# A small ingest costs ~250 MB here (Python, polars, pyarrow, the first batch); the inputs below cost 4-6 GB or
# died before the limits. Well above the first, far below the second.
PEAK_RSS_MB = 700

# VmHWM, not getrusage's ru_maxrss: Linux carries the forking process's peak into a child's ru_maxrss across exec,
# so under a large pytest process every child would report the parent's peak.
_MEASURE = (
    "import sys\n"
    "from shadowfleet.cli import main\n"
    "def peak():\n"
    "    return next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
    "try:\n    main(sys.argv[1:])\n"
    "finally:\n    sys.stderr.write(f'\\npeak_rss_kb={peak()}\\n')\n"
)


def _ingest_measured(path: Path, store: Path) -> tuple[subprocess.CompletedProcess, float]:
    r = subprocess.run([sys.executable, "-c", _MEASURE, "ingest", str(path), "--store", str(store)],
                       capture_output=True, text=True, timeout=600)
    peak = int(re.search(r"peak_rss_kb=(\d+)", r.stderr).group(1)) / 1024
    return r, peak


def _sentence(payload: str, tot: int = 1, num: int = 1, seq: str = "", fill: int = 0) -> str:
    body = f"AIVDM,{tot},{num},{seq},A,{payload},{fill}"
    return f"!{body}*{checksum(body)}"


def _good_lines() -> list[str]:
    return [tagged(position(mmsi=244660274), unix=T0, receiver="r1")]


@pytest.mark.slow
def test_a_200_mb_file_without_a_line_break_is_one_rejected_line_in_bounded_memory(tmp_path):
    f = tmp_path / "one-line.nmea"
    block = b"!AIVDM,1,1,,A," + b"1" * (8 << 20)
    with open(f, "wb") as fh:
        for _ in range(25):  # 200 MB, no line break anywhere
            fh.write(block)
    r, peak = _ingest_measured(f, tmp_path / "store")
    assert r.returncode == 0, r.stderr
    assert "line_too_long 1" in r.stdout and peak < PEAK_RSS_MB, (r.stdout, peak)


@pytest.mark.slow
def test_a_small_gz_expanding_to_3_gb_without_line_breaks_is_one_rejected_line_in_bounded_memory(tmp_path):
    f = tmp_path / "bomb.nmea.gz"
    member = gzip.compress(b"A" * (64 << 20), compresslevel=9)  # gzip members concatenated decompress as one
    with open(f, "wb") as fh:
        fh.write(gzip.compress(b"\n".join(_good_lines()[0].encode() for _ in range(1)) + b"\n"))
        for _ in range(48):  # 3 GB expanded
            fh.write(member)
    assert f.stat().st_size < 10 << 20
    r, peak = _ingest_measured(f, tmp_path / "store")
    assert r.returncode == 0, r.stderr
    assert "line_too_long 1" in r.stdout and peak < PEAK_RSS_MB, (r.stdout, peak)
    assert Store(tmp_path / "store", create=False).read("positions").height == 1  # the sentence before it


def test_a_20000_character_sentence_is_rejected_and_the_rest_ingested_in_bounded_memory(tmp_path):
    f = tmp_path / "long.nmea"
    long_ = tagged(_sentence("1" * 20_000), unix=T0 + 1, receiver="r1")
    f.write_text("\n".join(_good_lines() + [long_] + _good_lines()) + "\n")
    r, peak = _ingest_measured(f, tmp_path / "store")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "sentence_too_long 1" in r.stdout and peak < PEAK_RSS_MB, (r.stdout, peak)


def test_a_message_spread_over_hundreds_of_fragments_is_rejected_in_bounded_memory(tmp_path):
    f = tmp_path / "frags.nmea"
    # fragments of an ordinary length (80 characters), numbered 1 to 300 of 300
    frags = [tagged(_sentence("1" * 56, tot=300, num=k, seq="3"), unix=T0, receiver="r1") for k in range(1, 301)]
    f.write_text("\n".join(_good_lines() + frags * 20) + "\n")
    r, peak = _ingest_measured(f, tmp_path / "store")
    assert r.returncode == 0, r.stderr
    assert "too_many_fragments 6,000" in r.stdout and peak < PEAK_RSS_MB, (r.stdout, peak)


def test_limits_reject_by_reason_and_keep_everything_else(tmp_path):
    lines = _good_lines()
    # four fragments of 60 characters: 240 > the 168 of a 5-slot message
    lines += [tagged(_sentence("1" * 60, tot=4, num=k, seq="5"), unix=T0, receiver="r1") for k in range(1, 5)]
    lines += [tagged(_sentence("1" * 60, tot=10, num=1, seq="6"), unix=T0, receiver="r1")]  # 10 fragments
    lines += [tagged(_sentence("1" * 70), unix=T0, receiver="r1")]  # 84 characters
    body = f"s:r1,c:{T0}"
    lines += [f"\\{body}*{checksum(body)}{position(mmsi=244660275)}"]  # tag block without its closing backslash
    f = tmp_path / "limits.nmea"
    f.write_text("\n".join(lines) + "\n")
    rep = ingest(f, tmp_path / "store").files[0]
    assert rep.rejected == {"message_too_long": 1, "too_many_fragments": 1, "sentence_too_long": 1,
                            "unclosed_tag_block": 1}
    assert rep.accepted["positions"] == 1 and "other_nmea" not in rep.skipped


def test_the_limits_are_settings(tmp_path):
    from shadowfleet.ingest.config import load

    cfg_file = tmp_path / "sf.toml"
    cfg_file.write_text("[ingest]\nmax_sentence_chars = 100\nmax_line_bytes = 50\n")
    cfg = load(cfg_file)
    f = tmp_path / "x.nmea"
    f.write_text("\n".join([tagged(_sentence("1" * 70), unix=T0, receiver="r1"), position(mmsi=244660274)]) + "\n")
    rep = ingest(f, tmp_path / "store", config=cfg, time_from="2024-03-07T12:00:00Z").files[0]
    # the 84-character sentence now passes the sentence limit, but its tagged line is over 50 bytes
    assert rep.rejected == {"line_too_long": 1} and rep.accepted["positions"] == 1


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_over_long_csv_and_json_lines_are_rejected_by_reason(tmp_path, fmt):
    f = tmp_path / f"x.{fmt}"
    if fmt == "csv":
        rows = ["MMSI,BaseDateTime,LAT,LON,SOG", "244660274,2024-03-07T12:00:00,42.7,133.0,0.1",
                "244660275,2024-03-07T12:00:00,42.7,133.0," + "9" * 70_000, "244660276,2024-03-07T12:00:00,42.7,133.0,0.1"]
    else:
        rows = ['{"ssvid": "244660274", "timestamp": "2024-03-07T12:00:00Z", "lat": 42.7, "lon": 133.0}',
                '{"ssvid": "244660275", "shipname": "' + "A" * 70_000 + '"}',
                '{"ssvid": "244660276", "timestamp": "2024-03-07T12:00:00Z", "lat": 42.7, "lon": 133.0}']
    f.write_text("\n".join(rows) + "\n")
    rep = ingest(f, tmp_path / "store", fmt=fmt).files[0]
    assert rep.rejected == {"line_too_long": 1} and rep.accepted["positions"] == 2
