"""NMEA 0183 AIS logs → whole AIS messages with their receive time and receiver, column-wise.

One parser handles every NMEA layout seen in real archives, per line:

* ``!AIVDM``/``!AIVDO`` sentences of any talker (AI, BS, AB, SS, BY, ``--``), single or multi-sentence;
* NMEA 4.0 tag blocks ``\\s:rcv,c:unix*hh\\!AIVDM…`` (c: in seconds, or milliseconds when above 1e11), with
  multi-sentence groups ``g:n-total-id``; DMA tag lines ``\\si:AISD*3F\\`` on their own line;
* DMA ``$PGHP,1,yyyy,mm,dd,hh,mm,ss,ms,…`` time lines before each sentence;
* receiver logs with other NMEA sentences interleaved (skipped and counted as ``other_nmea``); an ``$xxRMC``
  GNSS fix gives the receiver's clock, used for the AIS sentences that follow it;
* lines prefixed by an ISO 8601 time or a unix time (s or ms), separated by space, comma, tab or ';'.

Time context and receiver carry forward: a sentence takes the most recent time and receiver seen on or before its
line (within a file, across batches). A multi-sentence message takes the time of its first fragment.
A batch of plain ASCII lines is framed by one compiled pass over its bytes (scan.py); any other batch (time
prefixes, GNSS fixes, text that is not ASCII…) by polars regular expressions and NumPy checksums, with the same
result (tests/ingest/test_ingest_scan.py). Only multi-sentence fragments (a few percent of lines) are assembled
in a Python loop.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl

from shadowfleet.ingest import armour, scan
from shadowfleet.ingest.config import DEFAULTS, IngestConfig
from shadowfleet.ingest.decode import civil_to_datetime

UTC_US = pl.Datetime("us", "UTC")
_LAST_REPRESENTABLE_MS = 253_402_300_799_000.0  # 9999-12-31T23:59:59Z, the last time Python can hold
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_US = dt.timedelta(microseconds=1)


@dataclasses.dataclass
class _Fragment:
    line: int
    ts: object
    receiver: str | None
    raw: str
    sentence: str
    tot: int
    num: int
    payload: str
    fill: int


@dataclasses.dataclass
class ParsedBatch:
    lines: pl.Series  # the batch's lines, to look up the raw text of rejected messages by line number (strip the
    # trailing whitespace: the scanned path keeps the lines as read)
    first_line: int
    messages: pl.DataFrame  # line, ts, receiver, payload, fill, sentences, raw (null where it is lines[line])
    rejects: pl.DataFrame  # line, ts, raw, reason
    skipped: dict[str, int]
    timed: int  # AIS sentences that carried or inherited a time


class NmeaParser:
    """Parses a file batch by batch, carrying time/receiver context and open multi-sentence messages."""

    def __init__(self, cfg: IngestConfig = DEFAULTS):
        self.cfg = cfg
        self.unix_ms_threshold = cfg.unix_ms_threshold
        self.max_fragment_gap_lines = cfg.max_fragment_gap_lines
        self.last_ts = None
        self.last_receiver = None
        self.pending: dict[tuple, list[_Fragment]] = {}
        self._scan_out = scan.Outputs()

    # ---- per batch ---------------------------------------------------------------------------------------
    def parse(self, lines: list[str] | pl.Series, first_line: int, too_long: np.ndarray | None = None) -> ParsedBatch:
        """One batch of lines (``too_long``: positions of lines the reader emptied because they were over the
        line limit; they are rejected by the caller, not counted as blank here)."""
        if not isinstance(lines, pl.Series):
            lines = pl.Series("raw", lines, dtype=pl.Utf8)
        return self._parse_scanned(lines, first_line, too_long) or self._parse_columns(lines, first_line, too_long)

    def _parse_columns(self, lines: pl.Series, first_line: int, too_long: np.ndarray | None) -> ParsedBatch:
        """Column-wise, for any batch: every line layout, any text."""
        df = self._lines_frame(lines, first_line, too_long)
        df = _split_prefix(df)
        df = _split_tag_block(df)
        df = df.with_columns(self._tags(df))
        df = self._carry_context(df)
        skipped = _skipped(df)
        rejects = [_odd_lines(df)]
        ais = _sentence_fields(df)
        good, checked_rejects = self._checked(ais)
        rejects += checked_rejects
        timed = int(good["ts"].is_not_null().sum())
        messages, message_rejects = self._messages(good)
        rejects += message_rejects
        rejects.append(self._evict_stale(first_line + df.height - 1))
        rejects = [r for r in rejects if r.height]
        return ParsedBatch(
            lines=df["raw"],
            first_line=first_line,
            messages=messages,
            rejects=pl.concat(rejects, how="vertical_relaxed") if rejects else _frag_rejects([]),
            skipped={k: int(v) for k, v in skipped.items()},
            timed=timed,
        )

    def _parse_scanned(self, lines: pl.Series, first_line: int, too_long: np.ndarray | None) -> ParsedBatch | None:
        """The same result from one compiled pass over the batch's bytes (scan.py), for ASCII batches whose every
        line scan.py parses exactly; None for any other batch."""
        n = lines.len()
        if n == 0 or lines.null_count():
            return None
        offsets, data = armour._buffers(lines)
        if offsets[-1] >= 2**31 or data[offsets[0]:offsets[-1]].max(initial=0) >= 128:
            return None  # positions are int32; text other than ASCII goes column-wise
        long_ = np.zeros(n, bool)
        if too_long is not None and len(too_long):
            long_[too_long] = True
        ints, flags, times = self._scan_out.get(n)
        if scan.scan(data, offsets, long_, float(self.unix_ms_threshold), ints, flags, times) != scan.SCAN_OK:
            return None
        cfg = self.cfg
        line_no = np.arange(first_line, first_line + n, dtype=np.int64)
        end, kind, tag_s, sent_s = ints[0], ints[1], ints[2], ints[4]
        unclosed, tag_bad, is_ais = flags[0] == 1, flags[1] == 1, flags[2] == 1
        cut = _Cutter(lines, offsets)

        # time and receiver: each line's own, else the latest before it (in this batch, then the previous one)
        at = np.arange(n)
        t_src = np.maximum.accumulate(np.where(flags[3] == 1, at, -1))
        ts_us = np.where(t_src >= 0, times[0][np.maximum(t_src, 0)], 0)
        ts_ok = t_src >= 0
        if self.last_ts is not None:
            ts_us = np.where(ts_ok, ts_us, (self.last_ts - _EPOCH) // _US)
            ts_ok = np.ones(n, bool)
        r_src = np.maximum.accumulate(np.where(ints[5] >= 0, at, -1))
        used = np.append(r_src[is_ais], r_src[-1])  # non-decreasing: its distinct values are where it steps
        used = used[np.append(True, used[1:] != used[:-1]) & (used >= 0)]
        names = cut(used, ints[5][used], ints[6][used])
        before = self.last_receiver
        if ts_ok[-1]:
            self.last_ts = _EPOCH + dt.timedelta(microseconds=int(ts_us[-1]))
        if r_src[-1] >= 0:
            self.last_receiver = names[int(np.searchsorted(used, r_src[-1]))]

        def receivers(rows: np.ndarray) -> pl.Series:
            src = r_src[rows]
            mine = src >= 0
            got = names.gather(np.searchsorted(used, src[mine])) if used.size else pl.Series([], dtype=pl.Utf8)
            if mine.all():
                return got.alias("receiver")
            full = pl.Series("receiver", [before] * rows.size, dtype=pl.Utf8)
            return full.scatter(np.flatnonzero(mine), got) if got.len() else full

        # lines that are not data, and lines that are broken
        pghp = flags[12] == 1
        data_line = kind == scan.DATA
        other = data_line & (sent_s >= 0) & ~is_ais & ~unclosed
        skipped = {"blank": int((kind == scan.BLANK).sum()), "comment": int((kind == scan.COMMENT).sum()),
                   "other_nmea": int((other & ~pghp).sum())}
        junk = data_line & (sent_s < 0) & (tag_s < 0)
        bad_tag = tag_bad & ~is_ais
        odd = np.flatnonzero(junk | bad_tag | unclosed)
        odd_reason = np.where(unclosed[odd], "unclosed_tag_block", np.where(bad_tag[odd], "bad_checksum", "malformed"))

        def rejects(rows: np.ndarray, reason, us: np.ndarray, ok: np.ndarray) -> pl.DataFrame:
            return pl.DataFrame({
                "line": line_no[rows], "ts": _datetimes(us[rows], ok[rows]),
                "raw": lines.gather(rows).str.strip_chars_end(),
                "reason": pl.Series(reason if isinstance(reason, np.ndarray) else [reason] * rows.size, dtype=pl.Utf8),
            })

        # the checks of _checked, in its order
        star_at, pay_s, pay_e = ints[12], ints[10], ints[11]
        star, fill, tot, num, cs, x, tail_len, suffix = (flags[k].astype(np.int64) for k in range(4, 12))
        length = np.where(star_at >= 0, star_at - sent_s + 3, end - sent_s)
        too_long_s = is_ais & (length > cfg.max_sentence_chars)
        rest = is_ais & ~too_long_s
        bad_form = rest & ((tot < 0) | (num < 0) | (pay_s < 0) | (star != 1) | (fill < 0) | (fill > 5) | (cs < 0)
                           | ((tail_len > 4) & (suffix == 0)))
        bad_cs = rest & ~bad_form & ((x != cs) | tag_bad)
        good = rest & ~bad_form & ~bad_cs
        fill_sfx = good & ~ts_ok & (suffix == 2)
        ts2_us = np.where(fill_sfx, times[1], ts_us)
        ts2_ok = ts_ok | fill_sfx
        too_many = good & ((tot > cfg.max_fragments) | (num > cfg.max_fragments))
        good &= ~too_many
        bad_seq = good & ((num < 1) | (num > tot) | (tot < 1))
        good &= ~bad_seq
        timed = int((good & ts2_ok).sum())
        out = [rejects(odd, odd_reason, ts_us, ts_ok)]
        out += [rejects(np.flatnonzero(m), r, ts_us, ts_ok) for m, r in
                ((too_long_s, "sentence_too_long"), (bad_form, "malformed"), (bad_cs, "bad_checksum"))]
        out += [rejects(np.flatnonzero(m), r, ts2_us, ts2_ok) for m, r in
                ((too_many, "too_many_fragments"), (bad_seq, "malformed"))]

        one = np.flatnonzero(good & (tot == 1))
        payload = cut(one, pay_s[one], pay_e[one])
        first = np.where(pay_e[one] > pay_s[one], data[np.minimum(pay_s[one], data.size - 1)], 0)
        c_e = np.flatnonzero((first == ord("C")) | (first == ord("E")))
        sentences = _nulls("sentences", one.size, pl.Utf8)
        if c_e.size:
            sentences = sentences.scatter(c_e, cut(one[c_e], sent_s[one[c_e]], end[one[c_e]]))
        single = pl.DataFrame({
            "line": line_no[one], "ts": _datetimes(ts2_us[one], ts2_ok[one]), "receiver": receivers(one),
            "payload": payload, "fill": fill[one], "sentences": sentences,
            "raw": _nulls("raw", one.size, pl.Utf8)})
        many = np.flatnonzero(good & (tot > 1))
        frags = pl.DataFrame({
            "line": line_no[many], "ts": _datetimes(ts2_us[many], ts2_ok[many]), "receiver": receivers(many),
            "raw": lines.gather(many).str.strip_chars_end(), "sent": cut(many, sent_s[many], end[many]),
            "tot": tot[many], "num": num[many], "payload": cut(many, pay_s[many], pay_e[many]), "fill": fill[many],
            "grp": cut(many, ints[7][many], ints[8][many]),
        }).with_columns(pl.col("sent").str.splitn(",", 6).struct.field("field_3").alias("seq"),
                        pl.col("sent").str.splitn(",", 6).struct.field("field_4").alias("chan"))
        messages, more = self._whole(single, frags)
        out += more
        out.append(self._evict_stale(first_line + n - 1))
        out = [r for r in out if r.height]
        return ParsedBatch(
            lines=lines, first_line=first_line, messages=messages,
            rejects=pl.concat(out, how="vertical_relaxed") if out else _frag_rejects([]),
            skipped=skipped, timed=timed)

    # ---- sections of parse ---------------------------------------------------------------------------------
    @staticmethod
    def _lines_frame(lines: list[str] | pl.Series, first_line: int, too_long: np.ndarray | None) -> pl.DataFrame:
        # trailing whitespace (incl. \r\n) is never part of a sentence; a blank line becomes ""
        if not isinstance(lines, pl.Series):
            lines = pl.Series("raw", lines, dtype=pl.Utf8)
        raw = lines.alias("raw").str.strip_chars_end()
        n = raw.len()
        long_ = np.zeros(n, bool)
        if too_long is not None and len(too_long):
            long_[too_long] = True
        df = pl.DataFrame([raw, pl.Series("line", np.arange(first_line, first_line + n, dtype=np.int64)),
                           pl.Series("too_long", long_)])
        first = pl.col("raw").str.slice(0, 1)
        return df.with_columns(
            ((pl.col("raw").str.len_bytes() == 0) & ~pl.col("too_long")).alias("blank"),
            (first == "#").alias("comment"),
            first.is_in(["\\", "!", "$"]).alias("plain"),
        )

    def _carry_context(self, df: pl.DataFrame) -> pl.DataFrame:
        """Each line's own time, then the latest time and receiver on or before it (within the batch, then from
        the previous batch)."""
        df = df.with_columns(self._line_times(df).alias("line_ts"))
        ts = pl.col("line_ts").forward_fill()
        rcv = pl.col("rcv").forward_fill()
        df = df.with_columns(
            (ts.fill_null(self.last_ts) if self.last_ts is not None else ts).alias("ts"),
            (rcv.fill_null(self.last_receiver) if self.last_receiver is not None else rcv).alias("receiver"),
        )
        if df.height:
            last_ts, last_rcv = df.select(pl.col("ts").last(), pl.col("receiver").last()).row(0)
            self.last_ts = last_ts if last_ts is not None else self.last_ts
            self.last_receiver = last_rcv if last_rcv is not None else self.last_receiver
        return df

    def _checked(self, ais: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
        """AIS sentences that pass every check, and the others by reason: longer than NMEA 0183 allows,
        malformed, bad checksum, more fragments than a message can have, fragment numbers out of order."""
        cfg = self.cfg
        # the sentence is '!' to the checksum; a receive time some loggers append after it is not part of it
        length = pl.coalesce(pl.col("star_at") + 3, pl.col("sent").str.len_chars())
        too_long = ais.select((length > cfg.max_sentence_chars).alias("x"))["x"].to_numpy()
        rejects = [_rej(ais.filter(pl.Series(too_long)), "sentence_too_long")]
        ais = ais.filter(pl.Series(~too_long))
        bad_form = ais.select(
            (pl.col("tot").is_null() | pl.col("num").is_null() | pl.col("payload").is_null() | ~pl.col("star").fill_null(False)
             | ~pl.col("fill").is_between(0, 5).fill_null(False) | pl.col("cs").is_null()
             | ((pl.col("tail").str.len_chars() > 4) & pl.col("suffix").is_null())).alias("b")
        )["b"].to_numpy()
        x = armour.xor_checksum(ais["sent"], start=1, stop=ais["star_at"].fill_null(0).to_numpy())
        cs = ais["cs"].fill_null(-1).to_numpy()
        bad_cs = ~bad_form & ((x != cs) | ais["tag_bad"].to_numpy())
        rejects.append(_rej(ais.filter(pl.Series(bad_form)), "malformed"))
        rejects.append(_rej(ais.filter(pl.Series(bad_cs)), "bad_checksum"))
        good = ais.filter(pl.Series(~bad_form & ~bad_cs))
        # Some loggers append the receive time after the checksum (",1411920140"): used only where no other
        # time is known, because a $PGHP line before the same sentence is more precise (milliseconds).
        if good["suffix"].is_not_null().any():
            sfx = pl.col("suffix").cast(pl.Float64, strict=False)
            good = good.with_columns(pl.col("ts").fill_null(
                pl.when(sfx > self.unix_ms_threshold).then(sfx * 1_000).otherwise(sfx * 1_000_000)
                .cast(pl.Int64).cast(UTC_US)))
        too_many = (good["tot"] > cfg.max_fragments) | (good["num"] > cfg.max_fragments)
        rejects.append(_rej(good.filter(too_many), "too_many_fragments"))
        good = good.filter(~too_many)
        bad_seq = (good["num"] < 1) | (good["num"] > good["tot"]) | (good["tot"] < 1)
        rejects.append(_rej(good.filter(bad_seq), "malformed"))
        return good.filter(~bad_seq), rejects

    def _messages(self, good: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
        """Whole messages: single sentences as they are, multi-sentence ones assembled; a message longer than
        ITU-R M.1371 allows is rejected."""
        # The line text travels with a message only where it may be needed: a single-sentence message's raw line
        # is looked up by line number for the few that get rejected (ParsedBatch.lines), and its sentence is
        # kept only for the types decoded by pyais (19 'C', 21 'E'). Copying 2 strings per message costs more
        # than the rest of the decoding.
        single = good.filter(pl.col("tot") == 1).select(
            "line", "ts", "receiver", "payload", "fill",
            pl.when(pl.col("payload").str.slice(0, 1).is_in(["C", "E"])).then(pl.col("sent")).otherwise(None)
            .alias("sentences"),
            pl.lit(None, dtype=pl.Utf8).alias("raw"),
        )
        return self._whole(single, good.filter(pl.col("tot") > 1))

    def _whole(self, single: pl.DataFrame, frags: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
        multi_msgs, multi_rej = self._assemble(frags)
        messages = pl.concat([single, multi_msgs], how="vertical_relaxed") if multi_msgs.height else single
        long_ = messages["payload"].str.len_bytes() > self.cfg.max_payload_chars
        if long_.any():
            return messages.filter(~long_), [multi_rej, _rej(messages.filter(long_), "message_too_long")]
        return messages, [multi_rej]

    def _tags(self, df: pl.DataFrame) -> list[pl.Series]:
        """Tag-block fields of every line (null where there is none), and whether its checksum fails."""
        n = df.height
        out = {
            "tag_c": _nulls("tag_c", n, pl.Float64),
            "rcv": _nulls("rcv", n, pl.Utf8),
            "grp": _nulls("grp", n, pl.Utf8),
        }
        tag_bad = np.zeros(n, bool)
        idx = np.flatnonzero(df["tag"].is_not_null().to_numpy())
        if idx.size:
            t = df["tag"].gather(idx)
            # DMA logs repeat the same few tag lines ("si:AISD*3F") on every third line: parse each distinct one once.
            sub = pl.DataFrame({"tag": t.unique()}).with_columns(
                pl.col("tag").str.find("*", literal=True).alias("star"),
            ).with_columns(
                pl.when(pl.col("star").is_not_null()).then(pl.col("tag").str.slice(0, pl.col("star")))
                .otherwise(pl.col("tag")).alias("body"),
                pl.when(pl.col("star").is_not_null()).then(pl.col("tag").str.slice(pl.col("star") + 1, 2))
                .otherwise(None).str.to_integer(base=16, strict=False).alias("cs"),
            )
            body = pl.col("body")
            sub = sub.with_columns(
                body.str.extract(r"(?:^|,)c:(\d+(?:\.\d+)?)", 1).cast(pl.Float64).alias("tag_c"),
                pl.coalesce(body.str.extract(r"(?:^|,)s:([^,]*)", 1), body.str.extract(r"(?:^|,)si:([^,]*)", 1))
                .alias("rcv"),
                body.str.extract(r"(?:^|,)g:\d+-\d+-(\d+)", 1).alias("grp"),
            )
            x = armour.xor_checksum(sub["body"])
            has_cs = sub["star"].is_not_null().to_numpy()
            cs = sub["cs"].fill_null(-1).to_numpy()
            sub = sub.with_columns(pl.Series("bad", has_cs & (x != cs)))
            if sub.height == 1:  # one tag line repeated (DMA's "si:AISD*3F"): broadcast it, no join
                row = sub.row(0, named=True)
                tag_bad[idx] = row["bad"]
                for k in out:
                    if row[k] is not None:
                        out[k] = out[k].scatter(idx, row[k])
                return [*out.values(), pl.Series("tag_bad", tag_bad)]
            sub = pl.DataFrame({"tag": t}).join(sub, on="tag", how="left", maintain_order="left")
            tag_bad[idx] = sub["bad"].to_numpy()
            for k in out:
                out[k] = out[k].scatter(idx, sub[k])
        return [*out.values(), pl.Series("tag_bad", tag_bad)]

    def _evict_stale(self, last_line: int) -> pl.DataFrame:
        """Open messages whose last fragment is far behind are orphans: keeps memory bounded on feeds with
        many lost fragments."""
        stale = [k for k, g in self.pending.items() if g[-1].line < last_line - self.max_fragment_gap_lines]
        return _frag_rejects([f for k in stale for f in self.pending.pop(k)])

    def finish(self) -> pl.DataFrame:
        """Fragments still waiting at end of file: orphans."""
        frags = [f for group in self.pending.values() for f in group]
        self.pending.clear()
        return _frag_rejects(frags)

    # ---- helpers ----------------------------------------------------------------------------------------
    def _line_times(self, df: pl.DataFrame) -> pl.Series:
        """The time each line states, if any: tag block c:, $PGHP, $xxRMC, or a prefix."""
        thr = self.unix_ms_threshold
        n = df.height
        t = _nulls("t", n, UTC_US)
        # a c: beyond 9999-12-31 (as ms) is capped there: still a datetime, so validation rejects it as
        # absurd_timestamp instead of the cast overflowing
        c = df["tag_c"].clip(upper_bound=_LAST_REPRESENTABLE_MS)
        if c.is_not_null().any():
            t = pl.select(pl.when(c > thr).then(c * 1_000).otherwise(c * 1_000_000).cast(pl.Int64).cast(UTC_US)
                          .alias("t"))["t"]
        sent = df["sent"]
        pghp = np.flatnonzero(sent.str.starts_with("$PGHP,1,").fill_null(False).to_numpy())
        if pghp.size:
            # $PGHP,1,yyyy,mm,dd,hh,mm,ss,ms,… — chrono parses the unpadded fields; invalid dates become null
            g = pl.DataFrame({"s": sent.gather(pghp)}).select(
                pl.col("s").str.extract_groups(r"^\$PGHP,1,(\d{4},\d{1,2},\d{1,2},\d{1,2},\d{1,2},\d{1,2}),(\d{1,3}),")
                .alias("g")).unnest("g")
            vals = g.select(
                (pl.col("1").str.to_datetime("%Y,%m,%d,%H,%M,%S", strict=False, time_unit="us")
                 + pl.duration(milliseconds=pl.col("2").cast(pl.Int64))).dt.replace_time_zone("UTC").alias("v"))["v"]
            t = t.scatter(pghp, pl.DataFrame({"a": t.gather(pghp), "b": vals}).select(pl.coalesce("a", "b"))["a"])
        rmc = np.flatnonzero(sent.str.contains(r"^\$[A-Z]{2}RMC,").fill_null(False).to_numpy())
        if rmc.size:
            f = pl.DataFrame({"s": sent.gather(rmc)}).select(pl.col("s").str.split_exact(",", 10).alias("f")).unnest("f")
            hms, dmy = pl.col("field_1"), pl.col("field_9")
            f = f.select(
                (dmy.str.slice(4, 2).cast(pl.Int64, strict=False) + 2000).alias("y"),
                dmy.str.slice(2, 2).alias("mo"), dmy.str.slice(0, 2).alias("d"),
                hms.str.slice(0, 2).alias("h"), hms.str.slice(2, 2).alias("mi"), hms.str.slice(4, 2).alias("s"),
                (("0" + hms.str.slice(6)).cast(pl.Float64, strict=False) * 1e6).cast(pl.Int64).alias("us"),
            )
            vals = civil_to_datetime(f, "y", "mo", "d", "h", "mi", "s", "us")
            t = t.scatter(rmc, pl.DataFrame({"a": t.gather(rmc), "b": vals}).select(pl.coalesce("a", "b"))["a"])
        pre_idx = np.flatnonzero(df["pre"].is_not_null().to_numpy())
        if pre_idx.size:
            pre = pl.DataFrame({"p": df["pre"].gather(pre_idx)})
            p = pl.col("p")
            num = p.cast(pl.Float64, strict=False)
            iso = p.str.replace(r"Z$", "+00:00").str.replace("T", " ")
            vals = pre.select(pl.coalesce(
                pl.when(num > thr).then(num * 1_000).otherwise(num * 1_000_000).cast(pl.Int64).cast(UTC_US),
                iso.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%:z", strict=False, time_unit="us").dt.convert_time_zone("UTC"),
                iso.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%z", strict=False, time_unit="us").dt.convert_time_zone("UTC"),
                iso.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
            ).alias("v"))["v"]
            t = t.scatter(pre_idx, pl.DataFrame({"a": t.gather(pre_idx), "b": vals}).select(pl.coalesce("a", "b"))["a"])
        return t

    def _assemble(self, frags: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Join multi-sentence messages: by tag-block group id when present, else by sequential id + channel.
        A fragment that does not continue an open message, or a message left incomplete, is an orphan."""
        done, orphans = [], []
        if frags.height == 0:
            return _empty_messages(), _frag_rejects([])
        cols = ["line", "ts", "receiver", "raw", "sent", "tot", "num", "payload", "fill", "seq", "chan", "grp"]
        for row in frags.select(cols).iter_rows():
            line, ts, rcv, raw, sent, tot, num, payload, fill, seq, chan, grp = row
            f = _Fragment(line, ts, rcv, raw, sent, tot, num, payload, fill)
            gid = grp
            key = ("g", gid) if gid is not None else ("s", seq, chan, tot)
            open_ = self.pending.get(key)
            if num == 1:
                if open_:
                    orphans.extend(open_)
                self.pending[key] = [f]
            elif open_ and len(open_) == num - 1 and open_[0].tot == tot:
                open_.append(f)
            else:
                if open_:
                    orphans.extend(self.pending.pop(key))
                orphans.append(f)
                continue
            group = self.pending[key]
            if len(group) == tot:
                del self.pending[key]
                done.append(group)
        if done:
            msgs = pl.DataFrame(
                {
                    "line": [g[0].line for g in done],
                    "ts": pl.Series([g[0].ts for g in done], dtype=UTC_US),
                    "receiver": pl.Series([g[0].receiver for g in done], dtype=pl.Utf8),
                    "payload": ["".join(f.payload for f in g) for g in done],
                    "fill": [g[-1].fill for g in done],
                    "sentences": ["\n".join(f.sentence for f in g) for g in done],
                    "raw": ["\n".join(f.raw for f in g) for g in done],
                },
                schema_overrides={"line": pl.Int64, "fill": pl.Int64},
            )
        else:
            msgs = _empty_messages()
        return msgs, _frag_rejects(orphans)


def _split_prefix(df: pl.DataFrame) -> pl.DataFrame:
    """Lines with a time prefix ("2024-03-07T12:00:00Z !AIVDM…", "1709812800,!AIVDM…"): the prefix split off
    (regex only on those lines; plain NMEA lines skip it)."""
    df = df.with_columns(pl.lit(None, dtype=pl.Utf8).alias("pre"), pl.col("raw").alias("body"))
    odd = ~pl.col("plain") & ~pl.col("blank") & ~pl.col("comment") & ~pl.col("too_long")
    if df.select(odd.any()).item():
        parts = df.filter(odd).select(
            "line", pl.col("raw").str.extract_groups(r"^\s*(?P<p>[^\\!$]*?)[\s,;]*(?P<b>[\\!$].*)?$").alias("g")
        ).unnest("g")
        df = df.update(parts.select("line", pl.col("p").alias("pre"), pl.col("b").alias("body")),
                       on="line", include_nulls=True)
        df = df.with_columns(pl.col("pre").str.strip_chars().replace("", None))
    return df


def _split_tag_block(df: pl.DataFrame) -> pl.DataFrame:
    """Tag block "\\...\\" then the sentence; whether the sentence is AIS (!xxVDM / !xxVDO)."""
    tag, sent, unclosed = _tag_and_sentence(df["body"])
    df = df.with_columns(tag, sent, unclosed)
    df = df.with_columns(pl.when(pl.col("sent").str.len_bytes() > 0).then(pl.col("sent")).alias("sent"))
    return df.with_columns(
        ((pl.col("sent").str.slice(0, 1) == "!") & pl.col("sent").str.slice(3, 3).is_in(["VDM", "VDO"]))
        .fill_null(False).alias("is_ais")
    )


def _skipped(df: pl.DataFrame) -> dict[str, int]:
    """Lines that are not data: blank, comments, other NMEA sentences of a receiver log ($PGHP time lines are
    the log's clock, not counted)."""
    other = (~pl.col("blank") & ~pl.col("comment") & pl.col("sent").is_not_null() & ~pl.col("is_ais")
             & ~pl.col("unclosed"))
    return df.select(
        pl.col("blank").sum().alias("blank"),
        pl.col("comment").sum().alias("comment"),
        (other & ~pl.col("sent").str.starts_with("$PGHP")).sum().alias("other_nmea"),
    ).row(0, named=True)


def _odd_lines(df: pl.DataFrame) -> pl.DataFrame:
    """Lines that are neither NMEA, a tag line, a comment nor blank; tag lines whose checksum fails; a tag
    block that never closes."""
    junk = (~pl.col("blank") & ~pl.col("comment") & pl.col("sent").is_null() & pl.col("tag").is_null()
            & ~pl.col("too_long"))
    bad_tag = pl.col("tag_bad") & ~pl.col("is_ais")
    unclosed = pl.col("unclosed")
    reason = (pl.when(unclosed).then(pl.lit("unclosed_tag_block")).when(bad_tag).then(pl.lit("bad_checksum"))
              .otherwise(pl.lit("malformed")))
    return df.filter(junk | bad_tag | unclosed).select("line", pl.col("ts").cast(UTC_US), "raw", reason.alias("reason"))


def _sentence_fields(df: pl.DataFrame) -> pl.DataFrame:
    """The fields of every AIS sentence: fragment count and number, sequence id, channel, payload, fill bits,
    checksum and an optional receive time after it."""
    ais = df.filter(pl.col("is_ais")).select("line", "raw", "sent", "ts", "receiver", "tag_bad", "grp")
    ais = ais.with_columns(pl.col("sent").str.splitn(",", 7).alias("__f")).unnest("__f").rename({
        "field_1": "tot", "field_2": "num", "field_3": "seq", "field_4": "chan", "field_5": "payload",
        "field_6": "tail"}).drop("field_0")
    ais = ais.with_columns(pl.col("tot").str.to_integer(strict=False), pl.col("num").str.to_integer(strict=False))
    # tail = "<fill>*<hh>" optionally followed by ",<receive time>" (some loggers append it)
    tail = pl.col("tail")
    return ais.with_columns(
        tail.str.slice(0, 1).cast(pl.Int64, strict=False).alias("fill"),
        (tail.str.slice(1, 1) == "*").alias("star"),
        tail.str.slice(2, 2).str.to_integer(base=16, strict=False).alias("cs"),
        pl.when(tail.str.slice(4, 1) == ",").then(tail.str.slice(5)).otherwise(None).alias("suffix"),
        pl.col("sent").str.find("*", literal=True).alias("star_at"),
    )


def _tag_and_sentence(body: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series]:
    """``tag``: the text between a leading backslash and the next one (null if the line has no tag block);
    ``sent``: the rest of the line after the tag block (the whole line if none); ``unclosed``: the line starts
    a tag block that never ends."""
    n = body.len()
    idx = np.flatnonzero(body.str.starts_with("\\").fill_null(False).to_numpy())
    tag = _nulls("tag", n, pl.Utf8)
    unclosed = np.zeros(n, bool)
    if not idx.size:
        return tag, body.alias("sent"), pl.Series("unclosed", unclosed)
    sub = body.gather(idx)
    parts = pl.DataFrame({"b": sub}).select(pl.col("b").str.slice(1).str.splitn("\\", 2).alias("t")).unnest("t")
    closed = parts["field_1"].is_not_null()
    unclosed[idx] = ~closed.to_numpy()
    t = pl.select(pl.when(closed).then(parts["field_0"])).to_series()
    rest = pl.select(pl.when(closed).then(parts["field_1"]).otherwise(sub)).to_series()
    wide = (t.str.len_bytes() != t.str.len_chars()).fill_null(False)
    if wide.any():
        # a non-ASCII tag: the sentence starts len_bytes(tag) + 2 *characters* in, as it always has
        w = np.flatnonzero(wide.to_numpy())
        rest = rest.scatter(w, pl.select(sub.gather(w).str.slice(t.gather(w).str.len_bytes() + 2)).to_series())
    return tag.scatter(idx, t), body.alias("sent").scatter(idx, rest), pl.Series("unclosed", unclosed)


class _Cutter:
    """Pieces of a batch's lines as a string column: bytes [lo, hi) of each chosen line's text (null where lo
    is -1)."""

    def __init__(self, lines: pl.Series, offsets: np.ndarray):
        self.lines, self.offsets = lines, offsets

    def __call__(self, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> pl.Series:
        start = lo - self.offsets[rows]
        piece = pl.select(self.lines.gather(rows).str.slice(pl.Series(start), pl.Series(hi - lo))).to_series()
        return piece if (lo >= 0).all() else pl.select(pl.when(pl.Series(lo >= 0)).then(piece)).to_series()


def _datetimes(us: np.ndarray, ok: np.ndarray) -> pl.Series:
    values = pl.Series("ts", us, dtype=pl.Int64)
    if not ok.all():
        values = pl.select(pl.when(pl.Series(ok)).then(values)).to_series()
    return values.cast(UTC_US).alias("ts")


def _nulls(name: str, n: int, dtype) -> pl.Series:
    return pl.Series(name, [], dtype=dtype).extend_constant(None, n)


def _empty_messages() -> pl.DataFrame:
    return pl.DataFrame(schema={"line": pl.Int64, "ts": UTC_US, "receiver": pl.Utf8, "payload": pl.Utf8,
                                "fill": pl.Int64, "sentences": pl.Utf8, "raw": pl.Utf8})


def _frag_rejects(frags: list[_Fragment]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "line": pl.Series([f.line for f in frags], dtype=pl.Int64),
            "ts": pl.Series([f.ts for f in frags], dtype=UTC_US),
            "raw": pl.Series([f.raw for f in frags], dtype=pl.Utf8),
            "reason": pl.Series(["orphan_fragment"] * len(frags), dtype=pl.Utf8),
        }
    )


def _rej(df: pl.DataFrame, reason: str) -> pl.DataFrame:
    ts = pl.col("ts") if "ts" in df.columns else pl.lit(None, dtype=UTC_US)
    return df.select(pl.col("line"), ts.cast(UTC_US).alias("ts"), pl.col("raw"), pl.lit(reason).alias("reason"))
