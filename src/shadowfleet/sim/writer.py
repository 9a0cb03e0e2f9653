"""NMEA 0183 sentences with NMEA 4.0 tag blocks (s: receiver, c: receive time) for every received copy, as
shore networks and satellite providers deliver them; a small share damaged in transit."""

from __future__ import annotations

import numpy as np
import polars as pl

from shadowfleet.sim import nmea



_CHUNK = 200_000  # messages encoded at a time: bounds the bit matrices' memory (~200 MB)


def _encode_positions(pos: dict, ix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Payload strings and their XOR for position messages ``ix`` (in chunks)."""
    if len(ix) > _CHUNK:
        parts = [_encode_positions(pos, ix[i:i + _CHUNK]) for i in range(0, len(ix), _CHUNK)]
        return np.concatenate([p for p, _ in parts]), np.concatenate([x for _, x in parts])
    out_p = np.empty(len(ix), dtype="S28")
    out_x = np.zeros(len(ix), dtype=np.int64)
    cls_b = pos["msgtype"][ix] == 18
    for is_b in (False, True):
        sel = np.nonzero(cls_b == is_b)[0]
        if not len(sel):
            continue
        j = ix[sel]
        b = nmea.position_bits(pos["msgtype"][j], pos["mmsi"][j], pos["status"][j], pos["rot"][j], pos["sog"][j],
                               pos["accuracy"][j], pos["lon"][j], pos["lat"][j], pos["cog"][j],
                               pos["heading"][j], pos["second"][j], pos["radio"][j], class_b=is_b)
        ch, _ = nmea.armour(b)
        out_p[sel] = nmea.payload_bytes(ch)
        out_x[sel] = nmea.xor_bytes(ch)
    return out_p, out_x


def _encode_statics(st: dict, ix: np.ndarray):
    """(part-1 payload, xor, part-2 payload or '', xor, is type 5) for static messages ``ix`` (in chunks)."""
    if len(ix) > _CHUNK:
        parts = [_encode_statics(st, ix[i:i + _CHUNK]) for i in range(0, len(ix), _CHUNK)]
        return tuple(np.concatenate([p[k] for p in parts]) for k in range(5))
    n = len(ix)
    p1 = np.empty(n, dtype="S60")
    x1 = np.zeros(n, np.int64)
    p2 = np.full(n, b"", dtype="S11")
    x2 = np.zeros(n, np.int64)
    t5 = st["msgtype"][ix] == 5
    sel = np.nonzero(t5)[0]
    if len(sel):
        j = ix[sel]
        b = nmea.static_bits(st["mmsi"][j], st["imo"][j], st["callsign"][j], st["name"][j], st["ship_type"][j],
                             st["bow"][j], st["stern"][j], st["port"][j], st["starboard"][j], st["month"][j],
                             st["day"][j], st["hour"][j], st["minute"][j], st["draught"][j],
                             st["destination"][j])
        ch, _ = nmea.armour(b)  # 71 symbols, 2 fill bits
        p1[sel] = nmea.payload_bytes(ch[:, :60])
        x1[sel] = nmea.xor_bytes(ch[:, :60])
        p2[sel] = nmea.payload_bytes(ch[:, 60:])
        x2[sel] = nmea.xor_bytes(ch[:, 60:])
    for part in (0, 1):
        sel = np.nonzero(~t5 & (st["part"][ix] == part))[0]
        if not len(sel):
            continue
        j = ix[sel]
        if part == 0:
            b = nmea.static_b_bits(st["mmsi"][j], 0, name=st["name"][j])
        else:
            b = nmea.static_b_bits(st["mmsi"][j], 1, ship_type=st["ship_type"][j], callsign=st["callsign"][j],
                                   bow=st["bow"][j], stern=st["stern"][j], port=st["port"][j],
                                   starboard=st["starboard"][j])
        ch, _ = nmea.armour(b)
        p1[sel] = nmea.payload_bytes(ch)
        x1[sel] = nmea.xor_bytes(ch)
    return p1, x1, p2, x2, t5


def _corrupt(payload: pl.Series, which: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """Replace one character of the chosen payloads by a different armoured character (checksum kept, so the
    sentence fails its checksum as a radio bit error would make it)."""
    if not which.any():
        return payload
    idx = np.nonzero(which)[0]
    lens = payload.str.len_chars().to_numpy()[idx]
    pos = (rng.random(len(idx)) * lens).astype(np.int64)
    old = payload.gather(idx).to_list()  # ~0.2% of lines: a Python pass over them is cheap
    new = [s[:p] + ("1" if s[p] == "0" else "0") + s[p + 1:] for s, p in zip(old, pos)]
    return payload.clone().scatter(idx, pl.Series(new, dtype=pl.String))


def write_nmea(path, pos: dict, st: dict, msg: np.ndarray, rcv: np.ndarray, rxt: np.ndarray,
               receiver_ids: list[str], corrupt_share: float, rng: np.random.Generator) -> dict:
    """Write the lines of ais.nmea in receive order to ``path``; returns counts (lines, corrupt)."""
    npos = len(pos["t"]) if pos else 0
    rid_x = np.array([nmea.xor_str(r) for r in receiver_ids], dtype=np.int64)
    channel = np.where(rng.random(npos + (len(st["t"]) if st else 0)) < 0.5, "A", "B")
    # which received copies arrive damaged (for a two-sentence message, its first sentence)
    bad = rng.random(len(msg)) < corrupt_share

    # --- positions ---
    pm = msg < npos
    frames = []
    if pm.any():
        m = msg[pm]
        uniq, inv = np.unique(m, return_inverse=True)
        pay, px = _encode_positions(pos, uniq)
        ch = channel[m]
        frames.append(pl.DataFrame({
            "c": rxt[pm], "r": rcv[pm], "t": pos["t"][m], "part": np.zeros(len(m), np.int64),
            "g": np.zeros(len(m), np.int64), "n": np.ones(len(m), np.int64), "ch": ch,
            "payload": nmea.to_polars(pay[inv]), "pxor": px[inv], "fill": np.zeros(len(m), np.int64),
            "bad": bad[pm],
        }))
    sm = ~pm
    if sm.any():
        m = msg[sm] - npos
        uniq, inv = np.unique(m, return_inverse=True)
        p1, x1, p2, x2, t5 = _encode_statics(st, uniq)
        ch = channel[msg[sm]]
        is5 = t5[inv]
        base = pl.DataFrame({"c": rxt[sm], "r": rcv[sm], "t": st["t"][m], "ch": ch, "bad": bad[sm]})
        one = base.filter(pl.Series(~is5)).with_columns(
            part=pl.lit(0, pl.Int64), g=pl.lit(0, pl.Int64), n=pl.lit(1, pl.Int64),
            payload=nmea.to_polars(p1[inv][~is5]), pxor=pl.Series(x1[inv][~is5]), fill=pl.lit(0, pl.Int64))
        frames.append(one.select(frames[0].columns if frames else one.columns))
        two = base.filter(pl.Series(is5))
        if two.height:
            gid = np.arange(1, two.height + 1, dtype=np.int64)  # group id per received type-5 copy
            first = two.with_columns(part=pl.lit(1, pl.Int64), g=pl.Series(gid), n=pl.lit(2, pl.Int64),
                                     payload=nmea.to_polars(p1[inv][is5]), pxor=pl.Series(x1[inv][is5]),
                                     fill=pl.lit(0, pl.Int64))
            second = two.with_columns(part=pl.lit(2, pl.Int64), g=pl.Series(gid), n=pl.lit(2, pl.Int64),
                                      payload=nmea.to_polars(p2[inv][is5]), pxor=pl.Series(x2[inv][is5]),
                                      fill=pl.lit(2, pl.Int64), bad=pl.lit(False))
            frames += [first.select(frames[0].columns), second.select(frames[0].columns)]
    df = pl.concat(frames, how="vertical")
    df = df.with_row_index("k").sort(["c", "r", "t", "g", "part", "k"])

    corrupt = df["bad"].to_numpy()
    payload = _corrupt(df["payload"], corrupt, rng)

    c = df["c"].to_numpy()
    r = df["r"].to_numpy()
    g = df["g"].to_numpy()
    part = df["part"].to_numpy()
    n = df["n"].to_numpy()
    ch = df["ch"].to_numpy()
    fill = df["fill"].to_numpy()
    seq = g % 10
    # sentence checksum: XOR of everything between '!' and '*'
    # "AIVDM,1,1,," or "AIVDM,2,<part>,<seq>," then "<channel>,<payload>,<fill>"
    head = np.where(n == 1, nmea.xor_str("AIVDM,1,1,,"),
                    np.where(part == 1, nmea.xor_str("AIVDM,2,1,"), nmea.xor_str("AIVDM,2,2,"))
                    ^ (48 + seq) ^ nmea.xor_str(","))
    sx = head ^ np.where(ch == "A", ord("A"), ord("B")) ^ nmea.xor_str(",") \
        ^ df["pxor"].to_numpy() ^ nmea.xor_str(",") ^ (48 + fill)
    # tag block checksum
    tag_sc = nmea.xor_str("s:") ^ rid_x[r] ^ nmea.xor_str(",c:") ^ nmea.xor_digits(c)
    tx = np.where(part == 0, tag_sc,
                  np.where(part == 1, nmea.xor_str("g:1-2-") ^ nmea.xor_digits(g) ^ nmea.xor_str(",") ^ tag_sc,
                           nmea.xor_str("g:2-2-") ^ nmea.xor_digits(g)))
    frame = pl.DataFrame({
        "part": part, "g": g, "rid": pl.Series(receiver_ids).gather(r), "c": c, "tx": nmea.hex2(tx), "n": n,
        "seq": seq, "ch": ch, "payload": payload, "fill": fill, "sx": nmea.hex2(sx),
    })
    del df, payload
    # build and write the text in slices so that only one slice of lines is in memory at a time
    with open(path, "wb") as fh:
        for i in range(0, frame.height, _WRITE_CHUNK):
            _line_text(frame.slice(i, _WRITE_CHUNK)).to_frame().write_csv(fh, include_header=False,
                                                                         quote_style="never")
    return {"lines": int(frame.height), "corrupt": int(corrupt.sum()), "bad_copy": bad}


_WRITE_CHUNK = 400_000


def _line_text(f: pl.DataFrame) -> pl.Series:
    return f.with_columns(
        pre=pl.when(pl.col("part") == 0).then(pl.lit("\\"))
        .when(pl.col("part") == 1).then(pl.format("\\g:1-2-{},", pl.col("g")))
        .otherwise(pl.format("\\g:2-2-{}", pl.col("g"))),
        sc=pl.when(pl.col("part") == 2).then(pl.lit(""))
        .otherwise(pl.format("s:{},c:{}", pl.col("rid"), pl.col("c"))),
        sent=pl.when(pl.col("n") == 1).then(pl.lit("!AIVDM,1,1,,"))
        .otherwise(pl.format("!AIVDM,2,{},{},", pl.col("part"), pl.col("seq"))),
    ).select(pl.concat_str([pl.col("pre"), pl.col("sc"), pl.lit("*"), pl.col("tx"), pl.lit("\\"), pl.col("sent"),
                            pl.col("ch"), pl.lit(","), pl.col("payload"), pl.lit(","),
                            pl.col("fill").cast(pl.Utf8), pl.lit("*"), pl.col("sx")]).alias("line"))["line"]
