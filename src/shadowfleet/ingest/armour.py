"""Vectorised helpers over many strings at once: character matrices, NMEA checksums, AIS 6-bit de-armouring,
bit-field extraction and a stable 64-bit content hash.

Everything works on whole columns with NumPy (no Python loop per sentence): a column of strings becomes an
(n × width) uint8 matrix, and each AIS payload becomes a row of 60-bit words (ten 6-bit characters per word) from
which any field is cut with shifts and masks, as ITU-R M.1371-5 lays the fields out bit by bit.
"""

from __future__ import annotations

import numba
import numpy as np
import polars as pl
import pyarrow as pa

# 64-bit FNV-1a: a fixed, published hash, so dup_key stays the same across polars versions and machines
# (polars' own hash is only stable within one version).
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)

_BAD = np.uint8(64)
_SIXBIT_LUT = np.full(256, _BAD, dtype=np.uint8)
_SIXBIT_LUT[0] = 0  # padding of short payloads
for _c in list(range(48, 88)) + list(range(96, 120)):
    _SIXBIT_LUT[_c] = _c - 48 if _c < 88 else _c - 56

BITS_PER_WORD = 60  # ten 6-bit characters per uint64 word
CHARS_PER_WORD = 10


def char_matrix(s: pl.Series, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Bytes of each string as rows of a zero-padded (n × width) uint8 matrix, plus each string's length."""
    if width is not None and s.len():
        # Fast path: let polars cut/pad every string to exactly `width` bytes, then the Arrow data buffer *is*
        # the matrix. Falls back below if a non-ASCII character makes bytes and characters differ.
        s = s.fill_null("")
        lengths = s.str.len_bytes().to_numpy().astype(np.int64)
        fixed = s.str.slice(0, width).str.pad_end(width, "\x00")
        offsets, data = _buffers(fixed)
        if offsets[-1] - offsets[0] == width * s.len() and np.all(np.diff(offsets) == width):
            mat = data[offsets[0] : offsets[-1]].reshape(s.len(), width).copy()
            return mat, lengths
    arr = s.fill_null("").cast(pl.Utf8).to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    n = len(arr)
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    if width is None:
        width = int(lengths.max()) if n else 0
    if n == 0 or width == 0 or data.size == 0:
        return np.zeros((n, width), np.uint8), lengths
    idx = offsets[:-1, None] + np.arange(width, dtype=np.int64)[None, :]
    inside = np.arange(width)[None, :] < lengths[:, None]
    mat = np.where(inside, data[np.minimum(idx, data.size - 1)], 0).astype(np.uint8)
    return mat, lengths


def _buffers(s: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    arr = s.fill_null("").cast(pl.Utf8).to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    return offsets, data


def xor_checksum(s: pl.Series, start: int = 0, stop: np.ndarray | None = None) -> np.ndarray:
    """NMEA 0183 checksum of each string: XOR of its bytes [start, stop) (stop defaults to the end).

    One pass over the column's byte buffer (np.bitwise_xor.reduceat), no per-string loop or padding."""
    offsets, data = _buffers(s)
    n = offsets.size - 1
    begin = offsets[:-1] + start
    end = offsets[1:] if stop is None else np.minimum(offsets[:-1] + np.asarray(stop, dtype=np.int64), offsets[1:])
    out = np.zeros(n, np.uint8)
    live = end > begin
    if not live.any() or data.size == 0:
        return out
    # reduceat over the start points of every live range; each range ends where the next one starts, so
    # XOR the prefix up to each range's end instead: xor(a..b) = P[b] ^ P[a] with P the running XOR.
    lo, hi = int(begin[live].min()), int(end[live].max())
    prefix = np.zeros(hi - lo + 1, np.uint8)
    np.bitwise_xor.accumulate(data[lo:hi], out=prefix[1:])
    out[live] = prefix[end[live] - lo] ^ prefix[begin[live] - lo]
    return out


def fnv1a(s: pl.Series) -> np.ndarray:
    """Stable 64-bit FNV-1a hash of each string (vectorised over rows, one step per character column)."""
    mat, lengths = char_matrix(s)
    h = np.full(mat.shape[0], _FNV_OFFSET, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(mat.shape[1]):
            live = lengths > j
            stepped = (h ^ mat[:, j].astype(np.uint64)) * _FNV_PRIME
            h = np.where(live, stepped, h)
    return h


def hash_words(w: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """FNV-1a-style 64-bit hash of rows of uint64 words plus one extra integer per row (stable, vectorised)."""
    h = np.full(w.shape[0], _FNV_OFFSET, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(w.shape[1]):
            h = (h ^ w[:, j]) * _FNV_PRIME
        h = (h ^ extra.astype(np.uint64)) * _FNV_PRIME
    return h


def payload_words(payloads: pl.Series, n_words: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What decoding needs of each payload, in one compiled pass over the column's bytes: its first
    ``n_words`` 60-bit words (ten 6-bit characters each, most significant first; past the end, 0), its length in bytes,
    whether it holds a character outside the armouring alphabet, and its first byte (0 if empty)."""
    offsets, data = _buffers(payloads)
    n = offsets.size - 1
    w = np.empty((n, n_words), np.uint64)
    lengths = np.empty(n, np.int64)
    bad = np.empty(n, bool)
    first = np.empty(n, np.int64)
    _payload_words(data, offsets, n_words, w, lengths, bad, first)
    return w, lengths, bad, first


@numba.njit(cache=True, nogil=True)
def _payload_words(data, offsets, n_words, w, lengths, bad, first):
    for i in range(offsets.size - 1):
        s, e = offsets[i], offsets[i + 1]
        lengths[i] = e - s
        first[i] = data[s] if e > s else 0
        b = False
        for p in range(s, e):
            if _SIXBIT_LUT[data[p]] == _BAD or data[p] == 0:  # NUL pads the matrix, it is no character
                b = True
                break
        bad[i] = b
        for k in range(n_words):
            v = np.uint64(0)
            for j in range(CHARS_PER_WORD):
                p = s + k * CHARS_PER_WORD + j
                six = _SIXBIT_LUT[data[p]] if p < e else 0
                v = (v << np.uint64(6)) | np.uint64(six if six != _BAD else 0)
            w[i, k] = v


def field(w: np.ndarray, start: int, width: int, signed: bool = False) -> np.ndarray:
    """Bits [start, start+width) of each payload (width ≤ 60) as int64, two's complement if ``signed``."""
    k, off = divmod(start, BITS_PER_WORD)
    if off + width <= BITS_PER_WORD:
        val = (w[:, k] >> np.uint64(BITS_PER_WORD - off - width)) & np.uint64((1 << width) - 1)
    else:
        hi = BITS_PER_WORD - off
        lo = width - hi
        val = ((w[:, k] & np.uint64((1 << hi) - 1)) << np.uint64(lo)) | (w[:, k + 1] >> np.uint64(BITS_PER_WORD - lo))
    val = val.astype(np.int64)
    if signed:
        val = np.where(val >= (1 << (width - 1)), val - (1 << width), val)
    return val
