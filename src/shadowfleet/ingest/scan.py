"""One compiled pass over a batch of NMEA lines: where each line's tag block, sentence and fields are, and the
values of the few fields that are numbers (tag-block time, $PGHP time, fragment count and number, fill bits,
checksums).

The pass works on the batch's bytes (the Arrow buffers of its string column) with numba, so the framing of a
line costs tens of nanoseconds instead of a dozen string operations per column. It reproduces the column-wise
parser of nmea.py exactly on the lines it calls regular; a line it cannot be sure about (a time prefix, a GNSS
fix, a decimal `c:` time, a signed number, a second 60) makes it give up on the batch, which is then parsed by
the column-wise code. Tests parse the real samples and generated damaged lines both ways and compare.
"""

from __future__ import annotations

import numba
import numpy as np

SCAN_OK = -1  # returned when every line was regular; otherwise the index of the first line that was not

# kinds of line
NOTHING, BLANK, COMMENT, DATA = 0, 1, 2, 3

_BS, _BANG, _DOLLAR, _HASH, _STAR, _COMMA = 92, 33, 36, 35, 42, 44
_LAST_REPRESENTABLE_MS = 253_402_300_799_000.0  # 9999-12-31T23:59:59Z, as nmea.py caps a c: time
_DIGITS_EXACT = 15  # integers of up to 15 digits are exact as float64, as polars' string-to-float gives them
_FIELDS = 13  # per-line integer outputs, see Scan below


@numba.njit(cache=True, nogil=True, inline="always")
def _digit(c) -> bool:
    return 48 <= c <= 57


@numba.njit(cache=True, nogil=True, inline="always")
def _hexval(c) -> int:
    if 48 <= c <= 57:
        return c - 48
    if 65 <= c <= 70:
        return c - 55
    if 97 <= c <= 102:
        return c - 87
    return -1


@numba.njit(cache=True, nogil=True)
def _find(a, lo, hi, ch) -> int:
    for p in range(lo, hi):
        if a[p] == ch:
            return p
    return -1


@numba.njit(cache=True, nogil=True)
def _int_field(a, lo, hi):
    """A decimal field as polars' to_integer(strict=False) reads it: (value, 1), null (0, 0), or irregular
    (0, -1) where that parser's rules for signs and overflow would matter."""
    if hi <= lo:
        return 0, 0
    if hi - lo > 9:
        return 0, -1  # kept below 2**31 for the int32 outputs
    v = 0
    for p in range(lo, hi):
        c = a[p]
        if c == 43 or c == 45:
            return 0, -1
        if not _digit(c):
            return 0, 0
        v = v * 10 + (c - 48)
    return v, 1


@numba.njit(cache=True, nogil=True)
def _hex_field(a, lo, hi):
    """One or two hex digits as to_integer(base=16, strict=False) reads them: (value, 1), null, or irregular."""
    if hi <= lo:
        return 0, 0
    v = 0
    for p in range(lo, hi):
        c = a[p]
        if c == 43 or c == 45:
            return 0, -1
        h = _hexval(c)
        if h < 0:
            return 0, 0
        v = v * 16 + h
    return v, 1


@numba.njit(cache=True, nogil=True)
def _tag_key(a, body, lo, hi, k0, k1):
    """Start of the value of the first ``key:`` at or after ``lo`` that starts the tag body (``body``) or
    follows a comma (a key of one letter k0 when k1 is 0, else two), or -1."""
    klen = 1 if k1 == 0 else 2
    for p in range(lo, hi):
        if p != body and a[p - 1] != _COMMA:
            continue
        if p + klen + 1 > hi or a[p] != k0:
            continue
        if klen == 2 and a[p + 1] != k1:
            continue
        if a[p + klen] != 58:  # ':'
            continue
        return p + klen + 1
    return -1


@numba.njit(cache=True, nogil=True)
def _field(commas, m, e, k):
    """Field k (1-6) of splitn(",", 7) of a sentence ending at e: between commas k-1 and k, or the rest of the
    sentence for the last field there is; (-1, -1) where the sentence has fewer fields."""
    if k > m:
        return -1, -1
    return commas[k - 1] + 1, (commas[k] if k < m else e)


@numba.njit(cache=True, nogil=True)
def _days_from_civil(y, m, d) -> int:
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@numba.njit(cache=True, nogil=True)
def _month_days(y, m) -> int:
    if m == 2:
        leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
        return 29 if leap else 28
    if m == 4 or m == 6 or m == 9 or m == 11:
        return 30
    return 31


@numba.njit(cache=True, nogil=True)
def _pghp(a, lo, hi, vals):
    """``$PGHP,1,yyyy,mm,dd,hh,mm,ss,ms,`` → (µs since the epoch, 1), no time (0, 0), or irregular (0, -1);
    ``vals``: room for the 7 numbers."""
    # the fixed start "$PGHP,1," is checked by the caller; then 7 numbers of 4,1-2 (x5),1-3 digits, each
    # followed by a comma (the column-wise parser's regular expression)
    p = lo + 8
    for k in range(7):
        lo_k = 4 if k == 0 else 1
        hi_k = 4 if k == 0 else (3 if k == 6 else 2)
        q = p
        while q < hi and _digit(a[q]) and q - p < hi_k:
            q += 1
        if q - p < lo_k or q >= hi or a[q] != _COMMA:
            return 0, 0
        v = 0
        for r in range(p, q):
            v = v * 10 + (a[r] - 48)
        vals[k] = v
        p = q + 1
    y, mo, d, h, mi, s, ms = vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6]
    if s == 60:
        return 0, -1  # a leap second: chrono's reading of it is not reproduced here
    if mo < 1 or mo > 12 or d < 1 or d > _month_days(y, mo) or h > 23 or mi > 59 or s > 59:
        return 0, 0
    days = _days_from_civil(y, mo, d)
    return ((days * 86400 + h * 3600 + mi * 60 + s) * 1000 + ms) * 1000, 1


@numba.njit(cache=True, nogil=True)
def _epoch_us(v: float, ms_threshold: float) -> int:
    """A unix time in seconds, or milliseconds above the threshold, as µs (nmea.py's float arithmetic)."""
    if v > _LAST_REPRESENTABLE_MS:
        v = _LAST_REPRESENTABLE_MS
    return int(v * 1_000.0) if v > ms_threshold else int(v * 1_000_000.0)


@numba.njit(cache=True, nogil=True)
def scan(a, offs, too_long, ms_threshold, ints, flags, times):
    """Fill, per line i: ``ints[:, i]`` = end (after trailing whitespace), kind, tag start, tag end, sentence
    start, receiver start, receiver end, group start, group end, field 3 start (the fields after it are
    found again from there), payload start, payload end, first '*' of the sentence; ``flags[:, i]`` = unclosed
    tag block, tag checksum bad, is AIS, has time, has star, fill, fragments (tot), fragment number (num),
    checksum, checksum of the sentence, tail length, has suffix, starts with $PGHP; ``times[:, i]`` = the line's own time (µs) and
    the suffix time. -1 means none. Returns SCAN_OK, or the first line it cannot parse exactly."""
    n = offs.size - 1
    commas = np.empty(6, np.int64)
    pghp = np.empty(7, np.int64)
    for i in range(n):
        s = offs[i]
        e = offs[i + 1]
        while e > s and (a[e - 1] == 32 or 9 <= a[e - 1] <= 13):
            e -= 1
        row = ints[:, i]
        fl = flags[:, i]
        for k in range(row.size):
            row[k] = -1
        for k in range(fl.size):
            fl[k] = -1
        row[0] = e
        fl[0] = 0
        fl[1] = 0
        fl[2] = 0
        fl[3] = 0
        times[0, i] = 0
        times[1, i] = 0
        if too_long[i]:
            row[1] = NOTHING
            continue
        if e == s:
            row[1] = BLANK
            continue
        c0 = a[s]
        if c0 == _HASH:
            row[1] = COMMENT
            continue
        if c0 != _BS and c0 != _BANG and c0 != _DOLLAR:
            return i  # a time prefix, or not NMEA
        row[1] = DATA
        sent = s
        if c0 == _BS:
            q = _find(a, s + 1, e, _BS)
            if q < 0:
                fl[0] = 1  # unclosed: the sentence is the whole line
            else:
                row[2] = s + 1
                row[3] = q
                sent = q + 1
        if sent < e:
            row[4] = sent
        # ---- tag block fields
        if row[2] >= 0:
            t0, t1 = row[2], row[3]
            star = _find(a, t0, t1, _STAR)
            b1 = star if star >= 0 else t1
            if star >= 0:
                cs, ok = _hex_field(a, star + 1, min(star + 3, t1))
                if ok < 0:
                    return i
                x = 0
                for p in range(t0, b1):
                    x ^= a[p]
                fl[1] = 1 if ok == 0 or x != cs else 0
            v = _tag_key(a, t0, t0, b1, 99, 0)  # c:
            while v >= 0:
                q = v
                while q < b1 and _digit(a[q]):
                    q += 1
                if q > v:
                    if q + 1 < b1 and a[q] == 46 and _digit(a[q + 1]):
                        return i  # a decimal time
                    if q - v > _DIGITS_EXACT:
                        return i
                    c = 0
                    for p in range(v, q):
                        c = c * 10 + (a[p] - 48)
                    times[0, i] = _epoch_us(float(c), ms_threshold)
                    fl[3] = 1
                    break
                v = _tag_key(a, t0, v, b1, 99, 0)  # this c: has no digits: the next one
            v = _tag_key(a, t0, t0, b1, 115, 0)  # s:
            if v < 0:
                v = _tag_key(a, t0, t0, b1, 115, 105)  # si:
            if v >= 0:
                q = _find(a, v, b1, _COMMA)
                row[5] = v
                row[6] = q if q >= 0 else b1
            v = _tag_key(a, t0, t0, b1, 103, 0)  # g:n-total-id
            while v >= 0:
                q = v
                ok = True
                for _ in range(2):
                    r = q
                    while r < b1 and _digit(a[r]):
                        r += 1
                    if r == q or r >= b1 or a[r] != 45:
                        ok = False
                        break
                    q = r + 1
                if ok:
                    r = q
                    while r < b1 and _digit(a[r]):
                        r += 1
                    if r > q:
                        row[7] = q
                        row[8] = r
                        break
                v = _tag_key(a, t0, v, b1, 103, 0)
        if row[4] < 0:
            continue
        # ---- times stated by the sentence itself
        L = e - sent
        fl[12] = 1 if L >= 5 and a[sent] == _DOLLAR and a[sent + 1] == 80 and a[sent + 2] == 71 \
            and a[sent + 3] == 72 and a[sent + 4] == 80 else 0  # a DMA time line, "$PGHP"
        if fl[12] == 1 and L >= 8 and a[sent + 5] == _COMMA and a[sent + 6] == 49 and a[sent + 7] == _COMMA:
            t, ok = _pghp(a, sent, e, pghp)
            if ok < 0:
                return i
            if ok == 1 and fl[3] == 0:
                times[0, i] = t
                fl[3] = 1
        if L >= 7 and a[sent] == _DOLLAR and 65 <= a[sent + 1] <= 90 and 65 <= a[sent + 2] <= 90 \
                and a[sent + 3] == 82 and a[sent + 4] == 77 and a[sent + 5] == 67 and a[sent + 6] == _COMMA:
            return i  # a GNSS fix
        # ---- AIS sentence fields: !xxVDM,tot,num,seq,chan,payload,fill*hh[,suffix]
        if not (L >= 6 and a[sent] == _BANG and a[sent + 3] == 86 and a[sent + 4] == 68
                and (a[sent + 5] == 77 or a[sent + 5] == 79)):
            continue
        fl[2] = 1
        m = 0
        p = sent
        while m < 6:
            p = _find(a, p, e, _COMMA)
            if p < 0:
                break
            commas[m] = p
            m += 1
            p += 1

        for k in (1, 2):  # fragment count, fragment number
            lo, hi = _field(commas, m, e, k)
            if lo >= 0:
                v, ok = _int_field(a, lo, hi)
                if ok < 0:
                    return i
                fl[5 + k] = v if ok == 1 else -1
        lo, hi = _field(commas, m, e, 3)
        row[9] = lo
        lo, hi = _field(commas, m, e, 5)
        if lo >= 0:
            row[10] = lo
            row[11] = hi
        lo, hi = _field(commas, m, e, 6)
        if lo >= 0:
            tl = hi - lo
            fl[10] = tl
            if tl >= 1 and _digit(a[lo]):
                fl[5] = a[lo] - 48
            fl[4] = 1 if tl >= 2 and a[lo + 1] == _STAR else 0
            if tl >= 3:
                v, ok = _hex_field(a, lo + 2, min(lo + 4, hi))
                if ok < 0:
                    return i
                fl[8] = v if ok == 1 else -1
            fl[11] = 1 if tl >= 5 and a[lo + 4] == _COMMA else 0
            if fl[11] == 1:
                q = lo + 5
                if hi > q:
                    if hi - q > _DIGITS_EXACT:
                        return i
                    v = 0
                    for r in range(q, hi):
                        if not _digit(a[r]):
                            return i  # a suffix that is not a plain unix time
                        v = v * 10 + (a[r] - 48)
                    times[1, i] = _epoch_us(float(v), ms_threshold)
                    fl[11] = 2  # a suffix time
        st = _find(a, sent, e, _STAR)
        row[12] = st
        if st >= 0:
            x = 0
            for r in range(sent + 1, st):
                x ^= a[r]
            fl[9] = x
    return SCAN_OK


class Outputs:
    """The pass's output arrays, one row per field (the column-wise code after the pass then reads each field
    contiguously), kept from batch to batch: fresh memory for every batch costs more than the pass itself."""

    def __init__(self):
        self.n = 0
        self.ints = self.flags = self.times = None

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if n > self.n:
            self.n = n
            self.ints = np.empty((_FIELDS, n), np.int32)
            self.flags = np.empty((13, n), np.int32)
            self.times = np.empty((2, n), np.int64)
        return self.ints[:, :n], self.flags[:, :n], self.times[:, :n]
