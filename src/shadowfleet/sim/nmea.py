"""Vectorised AIS payload encoder (ITU-R M.1371 bit layouts, NMEA 0183 6-bit armouring) and NMEA 4.0 framing.

Bit fields are built as NumPy uint8 matrices (one row per message), packed into 6-bit symbols and armoured with a
lookup table; strings are joined in bulk by polars. No Python loop runs per message.
"""

from __future__ import annotations

import numpy as np
import polars as pl

# 6-bit value -> armoured ASCII (NMEA 0183 / IEC 61162-1: 0-39 -> '0'..'W', 40-63 -> '`'..'w')
_ARMOUR = np.array([v + 48 if v < 40 else v + 56 for v in range(64)], dtype=np.uint8)
_HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def bits(values, width: int) -> np.ndarray:
    """N x width bit matrix, most significant bit first; negative values as two's complement."""
    v = np.asarray(values, dtype=np.int64) & ((1 << width) - 1)
    shifts = np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((v[:, None] >> shifts) & 1).astype(np.uint8)


def text_bits(texts, nchars: int) -> np.ndarray:
    """AIS 6-bit text ('@' padded): N x (6 * nchars) bits. Lower case is upper-cased; characters outside the AIS
    set become spaces."""
    arr = np.asarray([t.upper() for t in texts], dtype=f"S{nchars}") if len(texts) else np.zeros(0, f"S{nchars}")
    b = np.frombuffer(arr.tobytes(), dtype=np.uint8).reshape(len(arr), nchars).astype(np.int64)
    six = np.where(b == 0, 0, np.where((b >= 64) & (b < 96), b - 64, np.where((b >= 32) & (b < 64), b, 32)))
    shifts = np.arange(5, -1, -1)
    return ((six[:, :, None] >> shifts) & 1).reshape(len(arr), nchars * 6).astype(np.uint8)


def armour(bitmat: np.ndarray) -> tuple[np.ndarray, int]:
    """Bit matrix -> (N x nsym uint8 armoured characters, fill bits)."""
    n, nb = bitmat.shape
    fill = (-nb) % 6
    if fill:
        bitmat = np.hstack([bitmat, np.zeros((n, fill), np.uint8)])
    sym = bitmat.reshape(n, -1, 6) @ np.array([32, 16, 8, 4, 2, 1], dtype=np.uint8)  # fits in a byte
    return _ARMOUR[sym], fill


def xor_bytes(mat: np.ndarray) -> np.ndarray:
    return np.bitwise_xor.reduce(mat, axis=1) if mat.shape[1] else np.zeros(len(mat), np.uint8)


def xor_str(s: str) -> int:
    x = 0
    for c in s.encode():
        x ^= c
    return x


def xor_digits(n: np.ndarray) -> np.ndarray:
    """XOR of the ASCII digits of non-negative integers (the checksum contribution of str(n))."""
    n = np.asarray(n, dtype=np.int64)
    out = np.zeros(len(n), dtype=np.int64)
    for k in range(19):
        p = 10**k
        d = (n // p) % 10
        present = (n >= p) | (k == 0)
        out ^= np.where(present, 48 + d, 0)
        if not (n >= p * 10).any():
            break
    return out


def hex2(x: np.ndarray) -> pl.Series:
    x = np.asarray(x, dtype=np.int64)
    chars = np.column_stack([_HEX[x >> 4], _HEX[x & 15]]).astype(np.uint8)
    return pl.Series(np.frombuffer(chars.tobytes(), dtype="S2")).cast(pl.String)


def payload_bytes(chars: np.ndarray) -> np.ndarray:
    """N x w armoured characters -> fixed-width byte strings (numpy 'S<w>')."""
    n, w = chars.shape
    return np.frombuffer(np.ascontiguousarray(chars).tobytes(), dtype=f"S{w}")


def payload_strings(chars: np.ndarray) -> np.ndarray:
    return payload_bytes(chars).astype(f"U{chars.shape[1]}")


def to_polars(byte_strings: np.ndarray) -> pl.Series:
    """numpy 'S' array -> polars String series (ASCII), without a Python-level pass."""
    return pl.Series(byte_strings).cast(pl.String)


def position_bits(msgtype, mmsi, status, rot, sog, accuracy, lon, lat, cog, heading, second, radio,
                  class_b: bool) -> np.ndarray:
    """Messages 1/3 (Class A) or 18 (Class B): 168 bits. Units per ITU-R M.1371: SOG 0.1 kn (1023 n/a),
    lon/lat 1/10000 min, COG 0.1 deg, heading deg (511 n/a)."""
    n = len(mmsi)
    z = np.zeros(n, np.int64)
    sog_f = np.minimum(np.round(np.asarray(sog) * 10), 1022).astype(np.int64)
    lon_f = np.round(np.asarray(lon) * 600000).astype(np.int64)
    lat_f = np.round(np.asarray(lat) * 600000).astype(np.int64)
    cog_f = np.round(np.asarray(cog) * 10).astype(np.int64) % 3600
    if not class_b:
        parts = [bits(msgtype, 6), bits(z, 2), bits(mmsi, 30), bits(status, 4), bits(rot, 8), bits(sog_f, 10),
                 bits(accuracy, 1), bits(lon_f, 28), bits(lat_f, 27), bits(cog_f, 12), bits(heading, 9),
                 bits(second, 6), bits(z, 2), bits(z, 3), bits(z, 1), bits(radio, 19)]
    else:
        one = np.ones(n, np.int64)
        parts = [bits(np.full(n, 18), 6), bits(z, 2), bits(mmsi, 30), bits(z, 8), bits(sog_f, 10),
                 bits(accuracy, 1), bits(lon_f, 28), bits(lat_f, 27), bits(cog_f, 12), bits(heading, 9),
                 bits(second, 6), bits(z, 2), bits(one, 1), bits(z, 1), bits(one, 1), bits(one, 1), bits(z, 1),
                 bits(z, 1), bits(z, 1), bits(radio, 20)]
    return np.hstack(parts)


def static_bits(mmsi, imo, callsign, name, ship_type, bow, stern, port, starboard, month, day, hour, minute,
                draught, destination) -> np.ndarray:
    """Message 5: 424 bits (draught in 0.1 m, 0 = not available)."""
    n = len(mmsi)
    z = np.zeros(n, np.int64)
    parts = [bits(np.full(n, 5), 6), bits(z, 2), bits(mmsi, 30), bits(z, 2), bits(imo, 30),
             text_bits(callsign, 7), text_bits(name, 20), bits(ship_type, 8), bits(bow, 9), bits(stern, 9),
             bits(port, 6), bits(starboard, 6), bits(np.ones(n, np.int64), 4), bits(month, 4), bits(day, 5),
             bits(hour, 5), bits(minute, 6), bits(np.round(np.asarray(draught) * 10).astype(np.int64), 8),
             text_bits(destination, 20), bits(z, 1), bits(z, 1)]
    return np.hstack(parts)


def static_b_bits(mmsi, part: int, name=None, ship_type=None, callsign=None, bow=None, stern=None, port=None,
                  starboard=None) -> np.ndarray:
    """Message 24 part A (name) or B (type, vendor, call sign, dimensions): 168 bits each."""
    n = len(mmsi)
    z = np.zeros(n, np.int64)
    head = [bits(np.full(n, 24), 6), bits(z, 2), bits(mmsi, 30), bits(np.full(n, part), 2)]
    if part == 0:
        return np.hstack(head + [text_bits(name, 20), bits(z, 8)])
    return np.hstack(head + [bits(ship_type, 8), text_bits(["SFS"] * n, 3), bits(z, 4), bits(z, 20),
                             text_bits(callsign, 7), bits(bow, 9), bits(stern, 9), bits(port, 6),
                             bits(starboard, 6), bits(z, 6)])
