"""Decode whole AIS messages (payload + fill bits) into the store's tables.

The frequent single-slot types — position reports 1, 2, 3, 18, 27 and base station reports 4 — are decoded
column-wise with NumPy (armour.py); bit positions are those of ITU-R M.1371-5 annex 8 and are cross-checked field
by field against pyais on every real sample (tests/ingest/test_fast_decoder.py). Static and voyage data (5, 24) are
decoded the same way, text fields included. The rare class B extended reports (19) and aids to navigation (21)
go through pyais one message at a time.

Input: a frame with ``line`` (first line of the message), ``ts``, ``receiver``, ``payload``, ``fill``,
``sentences`` (the NMEA sentences, '\\n'-joined, for pyais) and ``raw`` (the original lines). Output: one frame per
store table with the table's columns plus ``line`` and ``raw``, and a frame of structural rejects
(``line``, ``ts``, ``raw``, ``reason``). Range checks (MMSI, lat/lon, time) are done afterwards in validate.py,
the same for every input format.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pyais

from shadowfleet.ingest import armour
from shadowfleet.ingest.config import COG_NA_RAW, ROT_NA_RAW, SOG_NA_RAW, TYPE27_SOG_NA

FAST_POSITION_TYPES = (1, 2, 3, 18, 27)
PYAIS_TYPES = (19, 21)
SUPPORTED_TYPES = frozenset(FAST_POSITION_TYPES + (4, 5, 24) + PYAIS_TYPES)

# Fewest payload bits that still hold the fields we store (ITU-R M.1371-5 layouts); shorter payloads are
# "truncated". Message 5 is 424 bits, but some transponders send 420 (70 characters, no fill): everything is
# there but the last 2 bits of the destination's 20th character, read zero-padded (as pyais does).
MIN_BITS = {1: 137, 2: 137, 3: 137, 4: 134, 5: 420, 18: 133, 19: 301, 21: 270, 24: 160, 27: 94}

FAST_WORDS = 3  # 180 bits ≥ the 168 of a single-slot message
STATIC_WORDS = 8  # 480 bits ≥ the 424 of message 5


@dataclasses.dataclass
class Decoded:
    positions: pl.DataFrame
    static: pl.DataFrame
    base_stations: pl.DataFrame
    aids: pl.DataFrame
    rejects: pl.DataFrame  # line, ts, raw, reason




def decode(msgs: pl.DataFrame) -> Decoded:
    n = msgs.height
    payload = msgs["payload"].fill_null("")
    # every payload's first 480 bits (≥ the 424 of message 5), length, first byte, and whether it holds a character
    # outside the armouring alphabet ('0'..'W' and '`'..'w', ITU-R M.1371-5 / IEC 61162-1)
    w_all, lengths, bad_char, head = armour.payload_words(payload, STATIC_WORDS)
    fill = msgs["fill"].fill_null(0).cast(pl.Int64).to_numpy()
    nbits = lengths * 6 - fill
    c0 = head - 48
    # a non-ASCII first byte is no type (the payload is malformed below); it would overflow msg_type's Int8
    mtype = np.where((lengths > 0) & (c0 < 80), np.where(c0 > 40, c0 - 8, c0), -1)
    empty = lengths == 0
    min_bits = np.zeros(n, np.int64)
    for t, b in MIN_BITS.items():
        min_bits[mtype == t] = b
    supported = np.isin(mtype, list(SUPPORTED_TYPES))
    reason = np.full(n, None, dtype=object)
    reason[empty] = "empty_payload"
    reason[~empty & bad_char] = "malformed"
    ok = ~empty & ~bad_char
    reason[ok & ~supported] = "unsupported_type"
    ok &= supported
    reason[ok & (nbits < min_bits)] = "truncated"
    ok &= nbits >= min_bits

    # Single-slot types: the first 180 bits (30 characters) as three 60-bit words, decoded column-wise.
    fast = ok & np.isin(mtype, FAST_POSITION_TYPES + (4,))
    w = np.where(fast[:, None], w_all[:, :FAST_WORDS], np.uint64(0))
    # dup_key: a hash of the payload's bits (characters + fill bits determine them). Fast types hash their words
    # and length; the rest (a few %) hash their characters.
    dup = np.zeros(n, np.uint64)
    dup[fast] = armour.hash_words(w[fast], lengths[fast] * 8 + fill[fast])
    slow = ~fast
    if slow.any():
        dup[slow] = armour.fnv1a(payload.filter(pl.Series(slow)) + msgs["fill"].filter(pl.Series(slow)).cast(pl.Utf8).fill_null("0"))
    base = msgs.select("line", "ts", "receiver", "raw").with_columns(
        pl.Series("dup_key", dup, dtype=pl.UInt64), pl.Series("msg_type", np.maximum(mtype, 0), dtype=pl.Int8)
    )

    frames_pos, frames_static, frames_base, frames_aids, rej = [], [], [], [], []
    if not ok.all():
        bad = ~ok
        rej.append(base.filter(pl.Series(bad)).select("line", "ts", "raw").with_columns(
            pl.Series("reason", reason[bad].astype(str), dtype=pl.Utf8)))

    sel = ok & np.isin(mtype, [1, 2, 3])
    if sel.any():
        frames_pos.append(_class_a(base.filter(pl.Series(sel)), w[sel]))
    sel = ok & (mtype == 18)
    if sel.any():
        frames_pos.append(_class_b(base.filter(pl.Series(sel)), w[sel]))
    sel = ok & (mtype == 27)
    if sel.any():
        frames_pos.append(_long_range(base.filter(pl.Series(sel)), w[sel]))
    sel = ok & (mtype == 4)
    if sel.any():
        frames_base.append(_base_station(base.filter(pl.Series(sel)), w[sel]))
    static_sel = ok & np.isin(mtype, [5, 24])
    if static_sel.any():
        ws = w_all[static_sel]
        b = base.filter(pl.Series(static_sel))
        t = mtype[static_sel]
        if (t == 5).any():
            frames_static.append(_voyage(b.filter(pl.Series(t == 5)), ws[t == 5]))
        if (t == 24).any():
            s24, bad24 = _static_b(b.filter(pl.Series(t == 24)), ws[t == 24])
            frames_static.append(s24)
            rej.append(bad24)
    sel = ok & np.isin(mtype, PYAIS_TYPES)
    if sel.any():
        p, s, a, r = _with_pyais(base.filter(pl.Series(sel)), msgs.filter(pl.Series(sel))["sentences"])
        frames_pos += p
        frames_static += s
        frames_aids += a
        rej += r
    return Decoded(
        positions=_concat(frames_pos),
        static=_concat(frames_static),
        base_stations=_concat(frames_base),
        aids=_concat(frames_aids),
        rejects=_concat(rej) if rej else pl.DataFrame(schema={"line": pl.Int64, "ts": pl.Datetime("us", "UTC"),
                                                             "raw": pl.Utf8, "reason": pl.Utf8}),
    )


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame()
    return pl.concat(frames, how="diagonal_relaxed")


def _na(values: np.ndarray, sentinel_mask: np.ndarray, dtype) -> pl.Series:
    s = pl.Series(values)
    return s.cast(dtype).scatter(np.flatnonzero(sentinel_mask), None) if sentinel_mask.any() else s.cast(dtype)


def _speed(raw: np.ndarray) -> pl.Series:
    return _na(raw / 10.0, raw == SOG_NA_RAW, pl.Float32)


def _course(raw: np.ndarray) -> pl.Series:
    return _na(raw / 10.0, raw >= COG_NA_RAW, pl.Float32)


def _heading(raw: np.ndarray) -> pl.Series:
    return _na(raw, raw > 359, pl.Int16)  # 511 = not available; 360..510 are not valid headings


def _rot(raw: np.ndarray) -> pl.Series:
    # ITU-R M.1371-5: ROT_AIS = 4.733·sqrt(ROT deg/min), signed, rounded to whole deg/min as pyais does;
    # -128 = not available. ±127 means "turning faster than 5°/30 s, no turn indicator": not a measured rate,
    # so null too (pyais returns the raw ±127 as an enum there).
    deg = np.sign(raw) * np.round((raw / 4.733) ** 2)
    return _na(deg, (raw == ROT_NA_RAW) | (np.abs(raw) == 127), pl.Float32)


def _class_a(base: pl.DataFrame, w: np.ndarray) -> pl.DataFrame:
    return base.with_columns(
        pl.Series("mmsi", armour.field(w, 8, 30)),
        pl.Series("nav_status", armour.field(w, 38, 4), dtype=pl.Int8),
        _rot(armour.field(w, 42, 8, signed=True)).alias("rot"),
        _speed(armour.field(w, 50, 10)).alias("sog"),
        pl.Series("accuracy", armour.field(w, 60, 1).astype(bool)),
        pl.Series("lon", armour.field(w, 61, 28, signed=True) / 600_000.0),
        pl.Series("lat", armour.field(w, 89, 27, signed=True) / 600_000.0),
        _course(armour.field(w, 116, 12)).alias("cog"),
        _heading(armour.field(w, 128, 9)).alias("heading"),
        pl.lit("A").alias("ais_class"),
    )


def _class_b(base: pl.DataFrame, w: np.ndarray) -> pl.DataFrame:
    return base.with_columns(
        pl.Series("mmsi", armour.field(w, 8, 30)),
        _speed(armour.field(w, 46, 10)).alias("sog"),
        pl.Series("accuracy", armour.field(w, 56, 1).astype(bool)),
        pl.Series("lon", armour.field(w, 57, 28, signed=True) / 600_000.0),
        pl.Series("lat", armour.field(w, 85, 27, signed=True) / 600_000.0),
        _course(armour.field(w, 112, 12)).alias("cog"),
        _heading(armour.field(w, 124, 9)).alias("heading"),
        pl.lit("B").alias("ais_class"),
    )


def _long_range(base: pl.DataFrame, w: np.ndarray) -> pl.DataFrame:
    # Message 27 (long-range, satellite): 1/10 minute positions, whole knots and degrees.
    lon = armour.field(w, 44, 18, signed=True) / 600.0
    lat = armour.field(w, 62, 17, signed=True) / 600.0
    sog = armour.field(w, 79, 6)
    cog = armour.field(w, 85, 9)
    return base.with_columns(
        pl.Series("mmsi", armour.field(w, 8, 30)),
        pl.Series("accuracy", armour.field(w, 38, 1).astype(bool)),
        pl.Series("nav_status", armour.field(w, 40, 4), dtype=pl.Int8),
        pl.Series("lon", lon),
        pl.Series("lat", lat),
        _na(sog.astype(np.float64), sog == TYPE27_SOG_NA, pl.Float32).alias("sog"),
        _na(cog.astype(np.float64), cog >= 360, pl.Float32).alias("cog"),
        pl.lit("A").alias("ais_class"),  # message 27 is sent by class A stations under satellite coverage
    )


def _base_station(base: pl.DataFrame, w: np.ndarray) -> pl.DataFrame:
    parts = {
        "y": armour.field(w, 38, 14), "mo": armour.field(w, 52, 4), "d": armour.field(w, 56, 5),
        "h": armour.field(w, 61, 5), "mi": armour.field(w, 66, 6), "s": armour.field(w, 72, 6),
    }
    station = civil_to_datetime(pl.DataFrame(parts), "y", "mo", "d", "h", "mi", "s")
    return base.drop("msg_type").with_columns(
        pl.Series("mmsi", armour.field(w, 8, 30)),
        station.alias("station_time"),
        pl.Series("lon", armour.field(w, 79, 28, signed=True) / 600_000.0),
        pl.Series("lat", armour.field(w, 107, 27, signed=True) / 600_000.0),
    )


# ITU-R M.1371-5 6-bit text: values 0..31 are '@'..'_', 32..63 are ' '..'?'.
_SIXBIT_ASCII = np.array([v + 64 if v < 32 else v for v in range(64)], dtype=np.uint8)


def _text6(w: np.ndarray, start: int, n_chars: int) -> pl.Series:
    """A 6-bit text field of every row as strings: cut at the first '@' (padding), spaces stripped, '' → null."""
    codes = np.stack([armour.field(w, start + 6 * i, 6) for i in range(n_chars)], axis=1)
    chars = _SIXBIT_ASCII[codes]
    at = chars == ord("@")
    cut = np.where(at.any(axis=1), at.argmax(axis=1), n_chars)
    chars[np.arange(n_chars)[None, :] >= cut[:, None]] = ord(" ")
    s = pl.Series(np.ascontiguousarray(chars).view(f"S{n_chars}").ravel()).cast(pl.Utf8)
    return s.str.strip_chars().replace("", None)


def _dims(w: np.ndarray, start: int) -> tuple[pl.Series, pl.Series]:
    bow, stern = armour.field(w, start, 9), armour.field(w, start + 9, 9)
    port, stbd = armour.field(w, start + 18, 6), armour.field(w, start + 24, 6)
    length, beam = (bow + stern).astype(np.float64), (port + stbd).astype(np.float64)
    return _na(length, length == 0, pl.Float32), _na(beam, beam == 0, pl.Float32)


def _voyage(base: pl.DataFrame, w: np.ndarray) -> pl.DataFrame:
    """Message 5, static and voyage related data (class A)."""
    length, beam = _dims(w, 240)
    imo = armour.field(w, 40, 30)
    draught = armour.field(w, 294, 8) / 10.0
    mo, d, h, mi = (armour.field(w, 274, 4), armour.field(w, 278, 5), armour.field(w, 283, 5),
                    armour.field(w, 288, 6))
    eta_ok = (mo >= 1) & (mo <= 12) & (d >= 1) & (h <= 23) & (mi <= 59)  # 0 / 24 / 60 = not available
    eta = pl.DataFrame({"mo": mo, "d": d, "h": h, "mi": mi}).select(
        pl.format("{}-{}T{}:{}", *[pl.col(c).cast(pl.Utf8).str.zfill(2) for c in ("mo", "d", "h", "mi")]))
    return base.with_columns(
        pl.Series("mmsi", armour.field(w, 8, 30)),
        _na(imo, imo == 0, pl.Int64).alias("imo"),
        _text6(w, 70, 7).alias("callsign"),
        _text6(w, 112, 20).alias("name"),
        pl.Series("ship_type", armour.field(w, 232, 8), dtype=pl.Int16),
        length.alias("length"),
        beam.alias("beam"),
        _na(draught, draught == 0, pl.Float32).alias("draught"),
        _text6(w, 302, 20).alias("destination"),
        _na_str(eta.to_series(), ~eta_ok).alias("eta"),
        pl.lit("A").alias("ais_class"),
        pl.lit(None, dtype=pl.Utf8).alias("part"),
    )


def _na_str(s: pl.Series, mask: np.ndarray) -> pl.Series:
    return s.scatter(np.flatnonzero(mask), None) if mask.any() else s


def _static_b(base: pl.DataFrame, w: np.ndarray) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Message 24, class B static data: part A (name) or part B (type, call sign, dimensions)."""
    part = armour.field(w, 38, 2)
    length, beam = _dims(w, 132)
    df = base.with_columns(
        pl.Series("mmsi", armour.field(w, 8, 30)),
        pl.Series("part", np.where(part == 0, "A", "B")),
        _text6(w, 40, 20).alias("name"),
        pl.Series("ship_type", armour.field(w, 40, 8), dtype=pl.Int16),
        _text6(w, 90, 7).alias("callsign"),
        length.alias("length"),
        beam.alias("beam"),
        pl.lit("B").alias("ais_class"),
    )
    is_a = pl.Series(part == 0)
    # Part A carries only the name; part B everything but the name (ITU-R M.1371-5 message 24).
    df = df.with_columns(
        pl.when(is_a).then(pl.col("name")).otherwise(None).alias("name"),
        *[pl.when(is_a).then(None).otherwise(pl.col(c)).alias(c) for c in ("ship_type", "callsign", "length", "beam")],
    )
    bad = part > 1  # parts 2 and 3 are not defined
    rej = df.filter(pl.Series(bad)).select("line", "ts", "raw").with_columns(pl.lit("malformed").alias("reason"))
    return df.filter(pl.Series(~bad)), rej


def civil_to_datetime(df: pl.DataFrame, y, mo, d, h, mi, s, us=None) -> pl.Series:
    """UTC datetimes from civil fields, null where any field is out of range (never raises on bad input).

    Days from civil date by H. Hinnant's public-domain algorithm, in vectorised integer arithmetic."""
    c = {k: pl.col(v).cast(pl.Int64) for k, v in dict(y=y, mo=mo, d=d, h=h, mi=mi, s=s).items()}
    frac = pl.col(us).cast(pl.Int64) if us else pl.lit(0, pl.Int64)
    yy = c["y"] - (c["mo"] <= 2).cast(pl.Int64)
    era = pl.when(yy >= 0).then(yy).otherwise(yy - 399) // 400
    yoe = yy - era * 400
    mp = (c["mo"] + 9) % 12
    doy = (153 * mp + 2) // 5 + c["d"] - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    micros = ((days * 86400 + c["h"] * 3600 + c["mi"] * 60 + c["s"]) * 1_000_000) + frac
    dim = pl.when(c["mo"] == 2).then(
        pl.when((c["y"] % 4 == 0) & ((c["y"] % 100 != 0) | (c["y"] % 400 == 0))).then(29).otherwise(28)
    ).when(c["mo"].is_in([4, 6, 9, 11])).then(30).otherwise(31)
    valid = (
        c["y"].is_between(1, 9999) & c["mo"].is_between(1, 12) & (c["d"] >= 1) & (c["d"] <= dim)
        & c["h"].is_between(0, 23) & c["mi"].is_between(0, 59) & c["s"].is_between(0, 60)
    )
    out = df.select(pl.when(valid).then(micros).otherwise(None).cast(pl.Datetime("us", "UTC")).alias("t"))
    return out["t"]


def _text(v) -> str | None:
    """Same rule as _text6: cut at the first '@' (padding), strip spaces."""
    if v is None:
        return None
    v = str(v).split("@", 1)[0].strip()
    return v or None


def _int(v) -> int | None:
    return None if v is None else int(v)


def _with_pyais(base: pl.DataFrame, sentences: pl.Series):
    """Static, class B extended and aid-to-navigation messages through pyais (a few % of traffic)."""
    pos, static, aids, rej_lines = [], [], [], []
    for i, text in enumerate(sentences.to_list()):
        try:
            m = pyais.decode(*text.split("\n")).asdict()
        except Exception:  # pyais raises many types on bad payloads; any of them means we cannot decode it
            rej_lines.append(i)
            continue
        t = m["msg_type"]
        if t == 19:
            pos.append(dict(
                i=i, mmsi=m["mmsi"], lat=m["lat"], lon=m["lon"],
                sog=None if m["speed"] >= 102.3 else m["speed"], cog=None if m["course"] >= 360 else m["course"],
                heading=None if m["heading"] > 359 else m["heading"], accuracy=bool(m["accuracy"]), ais_class="B",
            ))
            static.append(dict(
                i=i, mmsi=m["mmsi"], name=_text(m.get("shipname")), ship_type=_int(m.get("ship_type")),
                length=(m["to_bow"] + m["to_stern"]) or None, beam=(m["to_port"] + m["to_starboard"]) or None,
                ais_class="B", part=None,
            ))
        elif t == 21:
            name = (_text(m.get("name")) or "") + (_text(m.get("name_ext")) or "")
            aids.append(dict(
                i=i, mmsi=m["mmsi"], aid_type=_int(m.get("aid_type")), name=name or None, lat=m["lat"],
                lon=m["lon"], virtual=bool(m.get("virtual_aid")), off_position=bool(m.get("off_position")),
            ))
        else:
            rej_lines.append(i)
    idx = base.with_row_index("i")

    def join(rows, drop_type=False):
        if not rows:
            return []
        df = pl.DataFrame(rows, infer_schema_length=None)
        out = idx.join(df, on="i", how="inner").drop("i")
        return [out.drop("msg_type") if drop_type else out]

    rej = []
    if rej_lines:
        rej = [idx.filter(pl.col("i").is_in(rej_lines)).select("line", "ts", "raw").with_columns(
            pl.lit("malformed").alias("reason"))]
    return join(pos), join(static), join(aids, drop_type=True), rej
