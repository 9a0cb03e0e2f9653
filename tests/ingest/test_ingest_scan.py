"""The compiled pass over a batch's bytes (ingest/scan.py) gives exactly what the column-wise parser gives:
messages, rejects (reason, line, time, text), skipped counts and timed count, batch after batch."""

from __future__ import annotations

import gzip
import random

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from shadowfleet.ingest.nmea import NmeaParser
from shared_data import shared_file

SAMPLES = [
    "ais/dma_aisabnormal_ais-sample_20131112.txt.gz",
    "ais/dma_aisabnormal_538004030_drift_20140928.ais",
    "ais/dma_aislib_stream_example_20100611.txt",
    "ais/aisdb_test_data_20211101.nm4",
    "ais/pyais_nmea_data_sample.txt",
]


def _both(lines: list[str], batch: int, too_long: np.ndarray | None = None) -> bool:
    """Parse ``lines`` in batches both ways and require the same result; whether every batch took the pass."""
    series = pl.Series("raw", lines, dtype=pl.Utf8)
    fast, slow = NmeaParser(), NmeaParser()
    scanned = True
    for i in range(0, len(lines), batch):
        part = series.slice(i, batch)
        a = fast._parse_scanned(part, i + 1, too_long)
        b = slow._parse_columns(part, i + 1, too_long)
        if a is None:
            scanned = False
            a = fast._parse_columns(part, i + 1, too_long)
        assert_frame_equal(a.messages, b.messages)
        assert_frame_equal(a.rejects, b.rejects)
        assert a.skipped == b.skipped
        assert a.timed == b.timed
        assert (fast.last_ts, fast.last_receiver) == (slow.last_ts, slow.last_receiver)
    assert_frame_equal(fast.finish(), slow.finish())
    return scanned


@pytest.mark.parametrize("rel", SAMPLES)
def test_scan_parses_real_logs_as_the_column_parser_does(rel):
    path = shared_file(rel)
    with (gzip.open(path, "rt", newline="") if rel.endswith(".gz") else open(path, newline="")) as fh:
        lines = fh.readlines()
    assert _both(lines, len(lines)), "every line of these logs is one the pass parses itself"
    assert _both(lines, 997)  # context and open multi-sentence messages carried across batches


def test_batches_the_scan_cannot_parse_exactly_are_parsed_column_wise():
    for odd in ("2024-03-07T12:00:00Z !AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24",  # a time prefix
                "$GPRMC,213950.00,A,5250.53669,N,00542.34920,E,0.020,,070420,,,A*7D",  # a GNSS fix
                "\\s:Bremerhavn,c:1709812800.5*00\\!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24",  # decimal time
                "!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24 é"):  # not ASCII
        lines = pl.Series("raw", ["!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24", odd])
        assert NmeaParser()._parse_scanned(lines, 1, None) is None
        assert NmeaParser().parse(lines, 1).messages.height >= 1


def _cs(body: str) -> str:
    x = 0
    for ch in body.encode():
        x ^= ch
    return f"{x:02X}"


_PAYLOADS = ["13u?etPv2;0n:dDPwUM1U1Cb069D", "55P5TL01VIaAL@7WKO@mBplU@<PDhh000000001S;AJ::4A80?4i@E53",
             "1P000Oh1IT1svTP2r:43grwb0Eq4", "C5N3SRP0=nJGEBT>NhWAwwo862PaLELTBJ:V00000000S0D:R220", "", "x!x",
             "B52K>;h00Fc>jpUlNV@ikwpUoP06"]
_TAGS = ["", "\\s:Bremerhavn,c:1709812800*{cs}\\", "\\c:1709812800000,s:rcv2*{cs}\\", "\\g:1-2-77,s:r*{cs}\\",
         "\\g:2-2-77*{cs}\\", "\\s:,c:*{cs}\\", "\\c:x,c:1241544035*{cs}\\", "\\si:AISD*{cs}\\", "\\s:a\\",
         "\\c:1709812800*ZZ\\", "\\unclosed", "\\\\", "\\g:1-2-x,c:99999999999999*{cs}\\"]


@st.composite
def _line(draw) -> str:
    kind = draw(st.sampled_from(["ais", "ais", "ais", "tag", "pghp", "blank", "comment", "other"]))
    if kind == "blank":
        return draw(st.sampled_from(["", "   ", "\t"]))
    if kind == "comment":
        return "# a comment"
    if kind == "other":
        return draw(st.sampled_from(["$GPGGA,1,2*00", "!AIALR,1*00", "$PGHP,2,x", "junk", "$"]))
    if kind == "pghp":
        y = draw(st.sampled_from(["2013", "213", "2024"]))
        mo, d = draw(st.sampled_from(["11", "2", "13", "0"])), draw(st.sampled_from(["12", "29", "31", "1"]))
        h, mi, s = draw(st.sampled_from(["0", "23", "24"])), draw(st.sampled_from(["0", "59", "60"])), draw(
            st.sampled_from(["0", "7", "59"]))
        ms = draw(st.sampled_from(["11", "999", "1000", ""]))
        body = f"PGHP,1,{y},{mo},{d},{h},{mi},{s},{ms},219,,2190067,1,62"
        return f"${body}*{_cs(body)}"
    tag = draw(st.sampled_from(_TAGS))
    if "{cs}" in tag:
        inner = tag[1:tag.index("*")]
        tag = tag.replace("{cs}", draw(st.sampled_from([_cs(inner), "00", "3", ""])))
    if kind == "tag":
        return tag
    tot = draw(st.sampled_from(["1", "2", "1", "0", "12", ""]))
    num = draw(st.sampled_from(["1", "2", "1", "3", "x"]))
    seq = draw(st.sampled_from(["", "3", "9"]))
    fill = draw(st.sampled_from(["0", "2", "6", "x", ""]))
    body = f"AIVDM,{tot},{num},{seq},{draw(st.sampled_from(['A', 'B', '']))},{draw(st.sampled_from(_PAYLOADS))},{fill}"
    cut = draw(st.sampled_from(["whole", "whole", "whole", "no_checksum", "truncated", "bad_checksum"]))
    sentence = f"!{body}*{_cs(body)}"
    if cut == "no_checksum":
        sentence = f"!{body}"
    elif cut == "truncated":
        sentence = sentence[: draw(st.integers(1, len(sentence)))]
    elif cut == "bad_checksum":
        sentence = f"!{body}*{'00' if _cs(body) != '00' else '01'}"
    sentence += draw(st.sampled_from(["", "", ",1411920140", ",", ",1411920140000", "x"]))
    return tag + sentence + draw(st.sampled_from(["", "\r", " "]))


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_line(), min_size=1, max_size=40), st.integers(1, 7))
def test_scan_parses_damaged_and_mixed_lines_as_the_column_parser_does(lines, batch):
    _both([ln + "\n" for ln in lines], batch)


def test_well_formed_lines_of_every_tag_layout_take_the_pass():
    # the property above compares only where the pass answered: it must answer for ordinary logs
    rng = random.Random(1)
    for _ in range(40):
        batch = pl.Series("raw", [_well_formed(rng) for _ in range(20)])
        assert NmeaParser()._parse_scanned(batch, 1, None) is not None


def _well_formed(rng: random.Random) -> str:
    tag = rng.choice(_TAGS[:8])
    if "{cs}" in tag:
        tag = tag.replace("{cs}", _cs(tag[1:tag.index("*")]))
    body = f"AIVDM,1,1,,A,{rng.choice(_PAYLOADS)},0"
    return rng.choice([tag, ""]) + f"!{body}*{_cs(body)}\n"
