"""Decode whole AIS messages (payload + fill bits) into the store's tables.

The frequent single-slot types — position reports 1, 2, 3, 18, 27 and base station reports 4 — are decoded
column-wise with NumPy (armour.py); bit positions are those of ITU-R M.1371-5 annex 8 and are cross-checked field
by field against pyais on every real sample (tests/ingest/test_fast_decoder.py). The rarer static and multi-slot
types (5, 19, 21, 24) go through pyais one message at a time; they are a few percent of real traffic.

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
from shadowfleet.ingest.config import COG_NA_RAW, HEADING_NA, ROT_NA_RAW, SOG_NA_RAW, TYPE27_COG_NA, TYPE27_SOG_NA

FAST_POSITION_TYPES = (1, 2, 3, 18, 27)
PYAIS_TYPES = (5, 19, 21, 24)
SUPPORTED_TYPES = frozenset(FAST_POSITION_TYPES + (4,) + PYAIS_TYPES)

# Fewest payload bits that still hold every field we store (ITU-R M.1371-5 layouts). Shorter payloads are
# "truncated". Type 5 is 424 bits, but many transponders send 420 (the last two spare/DTE bits dropped); 420
# still holds the whole destination except nothing we lose (destination ends at bit 422: its last 6-bit
# character would be cut, pyais pads it).
MIN_BITS = {1: 137, 2: 137, 3: 137, 4: 134, 5: 420, 18: 133, 19: 301, 21: 270, 24: 160, 27: 94}

CLASS_A_TYPES = (1, 2, 3, 5)


@dataclasses.dataclass
class Decoded:
    positions: pl.DataFrame
    static: pl.DataFrame
    base_stations: pl.DataFrame
    aids: pl.DataFrame
    rejects: pl.DataFrame  # line, ts, raw, reason


_REJECT_COLS = ["line", "ts", "raw", "reason"]


def decode(msgs: pl.DataFrame) -> Decoded:
    vals, lengths, bad_char = armour.sixbit(msgs["payload"])
    n = msgs.height
    fill = msgs["fill"].fill_null(0).cast(pl.Int64).to_numpy()
    nbits = lengths * 6 - fill
    mtype = vals[:, 0].astype(np.int64) if vals.shape[1] else np.zeros(n, np.int64)
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

    # dup_key: the payload's bits. Payload characters plus the fill-bit count determine them exactly.
    dup = armour.fnv1a(msgs["payload"] + msgs["fill"].cast(pl.Utf8).fill_null("0"))
    base = msgs.select("line", "ts", "receiver", "raw").with_columns(
        pl.Series("dup_key", dup, dtype=pl.UInt64), pl.Series("msg_type", mtype, dtype=pl.Int8)
    )

    n_words = max(1, -(-vals.shape[1] // armour.CHARS_PER_WORD))
    w = armour.words(vals, n_words) if vals.shape[1] else np.zeros((n, 1), np.uint64)

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
    if v is None:
        return None
    v = str(v).replace("@", " ").strip()
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
        if t == 5:
            static.append(dict(
                i=i, mmsi=m["mmsi"], imo=_int(m.get("imo")) or None, name=_text(m.get("shipname")),
                callsign=_text(m.get("callsign")), ship_type=_int(m.get("ship_type")),
                length=(m["to_bow"] + m["to_stern"]) or None, beam=(m["to_port"] + m["to_starboard"]) or None,
                draught=m.get("draught") or None, destination=_text(m.get("destination")),
                eta=_eta(m), ais_class="A", part=None,
            ))
        elif t == 24:
            row = dict(i=i, mmsi=m["mmsi"], ais_class="B")
            if m.get("partno") == 0:
                row.update(part="A", name=_text(m.get("shipname")))
            else:
                row.update(part="B", ship_type=_int(m.get("ship_type")), callsign=_text(m.get("callsign")),
                           length=(m.get("to_bow", 0) + m.get("to_stern", 0)) or None,
                           beam=(m.get("to_port", 0) + m.get("to_starboard", 0)) or None)
            static.append(row)
        elif t == 19:
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


def _eta(m: dict) -> str | None:
    mo, d, h, mi = m.get("month"), m.get("day"), m.get("hour"), m.get("minute")
    if not mo or not d or mo > 12 or d > 31 or h is None or h > 23 or mi is None or mi > 59:
        return None  # 0 = not available for month/day, 24/60 for hour/minute (ITU-R M.1371-5 message 5)
    return f"{mo:02d}-{d:02d}T{h:02d}:{mi:02d}"
