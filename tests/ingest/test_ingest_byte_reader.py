"""The byte reader cuts the same lines, in the same batches, as reading the file as text would (over-long lines
emptied and reported, never held whole); and the sha256 taken alongside the first batch still skips a file
ingested before, whatever its content."""

from __future__ import annotations

import io
import itertools
import random

import pytest
from ingestkit import position, tagged

from shadowfleet.errors import ShadowfleetError
from shadowfleet.ingest import ingest
from shadowfleet.ingest import reader as line_reader

T0 = 1709812800


def _text_batches(data: bytes, n: int) -> list[list[str]]:
    fh = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace", newline="")
    out = []
    while chunk := list(itertools.islice(fh, n)):
        out.append(chunk)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_byte_batches_equal_text_lines_for_any_line_ends_and_bad_utf8(seed, monkeypatch):
    rng = random.Random(seed)
    pieces = [b"!AIVDM,1,1,,A,13@:", b"a", b" ", b"\n", b"\r", b"\r\n", b"\xff", b"\xc3\xa9", b"\xc3", b"\\s:x*00\\"]
    for _ in range(400):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 50)))
        n = rng.randint(1, 6)
        monkeypatch.setattr(line_reader, "READ_BLOCK", rng.randint(1, 9))  # blocks that cut '\r\n' and characters
        got = [b.lines.to_list() for b in line_reader.line_batches(io.BytesIO(data), n, 10_000, 10_000)]
        assert got == _text_batches(data, n), (data, n)


@pytest.mark.parametrize("seed", range(4))
def test_over_long_lines_are_emptied_and_reported_and_the_other_lines_are_untouched(seed, monkeypatch):
    rng = random.Random(seed)
    # the limit is on bytes as read; valid UTF-8 only here, so that the text's length in bytes is the same
    pieces = [b"!AIVDM,1,1,,A,13@:", b"a" * 7, b"\n", b"\r", b"\r\n", b"\xc3\xa9"]
    for _ in range(300):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 60)))
        n, limit = rng.randint(1, 6), rng.randint(4, 40)
        monkeypatch.setattr(line_reader, "READ_BLOCK", rng.randint(1, 50))
        want = [[(ln, False) if len(ln.encode()) <= limit else ("", True) for ln in b] for b in _text_batches(data, n)]
        want = [x for b in want for x in b]
        got = []
        for b in line_reader.line_batches(io.BytesIO(data), n, limit, 10_000):
            long_ = set(b.too_long.tolist())
            assert len(b.too_long_text) == len(long_)
            got += [("" if i in long_ else ln, i in long_) for i, ln in enumerate(b.lines.to_list())]
        assert got == [(ln if not f else "", f) for ln, f in want], (data, n, limit)


def test_a_batch_ends_at_its_byte_limit_but_holds_at_least_one_line():
    data = b"".join(b"x" * k + b"\n" for k in (3, 3, 3, 20, 3))
    sizes = [len(b) for b in line_reader.line_batches(io.BytesIO(data), 100, 1000, 9)]
    assert sizes == [2, 1, 1, 1] and sum(sizes) == 5


def test_a_file_ingested_before_is_skipped_even_when_its_content_would_now_be_an_error(tmp_path):
    f = tmp_path / "plain.nmea"
    f.write_text("\n".join([position(mmsi=244660274), position(mmsi=244660275)]) + "\n")
    first = ingest(f, tmp_path / "store", time_from="2024-03-07T12:00:00Z")
    assert first.accepted == 2
    other = tmp_path / "other.nmea"
    other.write_text(position(mmsi=244660276) + "\n")
    with pytest.raises(ShadowfleetError):  # a new file without times needs --time-from
        ingest(other, tmp_path / "store")
    again = ingest(f, tmp_path / "store")  # no --time-from now: skipped before the missing times matter
    assert again.files[0].skipped_already_ingested
    assert again.files[0].lines == 0 and not again.files[0].skipped


def test_tagged_lines_split_across_read_blocks_give_the_same_store_as_one_block(tmp_path, monkeypatch):
    lines = [tagged(position(mmsi=244660274 + i), unix=T0 + i, receiver="r1") for i in range(50)]
    f = tmp_path / "t.nmea"
    f.write_text("\r\n".join(lines) + "\r\n")
    a = ingest(f, tmp_path / "a", batch_lines=7)
    monkeypatch.setattr(line_reader, "READ_BLOCK", 37)
    b = ingest(f, tmp_path / "b", batch_lines=7)
    assert a.accepted == b.accepted == 50
    assert a.files[0].stored == b.files[0].stored and a.files[0].lines == b.files[0].lines == 50
