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
Lines are parsed with polars regular expressions and NumPy checksums; only multi-sentence fragments (a few
percent of lines) are assembled in a Python loop.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl

from shadowfleet.ingest import armour
from shadowfleet.ingest.decode import civil_to_datetime

UTC_US = pl.Datetime("us", "UTC")

_LINE_RE = r"^(?P<pre>[^\\!$]*?)[\s,;]*(?:\\(?P<tag>[^\\]*)\\)?(?P<sent>[!$].*?)?\s*$"
_AIS_RE = (
    r"^!(?P<talker>[A-Za-z-]{2})VD[MO],(?P<tot>\d{1,2}),(?P<num>\d{1,2}),(?P<seq>\d?),(?P<chan>[^,]*),"
    r"(?P<payload>[^,]*),(?P<fill>[0-5])\*(?P<cs>[0-9A-Fa-f]{2})(?:,(?P<suffix>[^,]*))?$"
)
_PGHP_RE = r"^\$PGHP,1,(\d{4}),(\d{1,2}),(\d{1,2}),(\d{1,2}),(\d{1,2}),(\d{1,2}),(\d{1,3}),"
_RMC_RE = (
    r"^\$[A-Z]{2}RMC,(\d{2})(\d{2})(\d{2})(?:\.(\d{1,3})\d*)?,[AV]?,(?:[^,]*,){6}(\d{2})(\d{2})(\d{2}),"
)


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
    messages: pl.DataFrame  # line, ts, receiver, payload, fill, sentences, raw
    rejects: pl.DataFrame  # line, ts, raw, reason
    skipped: dict[str, int]
    timed: int  # AIS sentences that carried or inherited a time


class NmeaParser:
    """Parses a file batch by batch, carrying time/receiver context and open multi-sentence messages."""

    def __init__(self, unix_ms_threshold: float = 1e11):
        self.unix_ms_threshold = unix_ms_threshold
        self.last_ts = None
        self.last_receiver = None
        self.pending: dict[tuple, list[_Fragment]] = {}

    # ---- per batch ---------------------------------------------------------------------------------------
    def parse(self, lines: list[str], first_line: int) -> ParsedBatch:
        df = pl.DataFrame({"raw": pl.Series(lines, dtype=pl.Utf8)}).with_columns(
            pl.col("raw").str.strip_chars_end("\r\n"),
            (pl.int_range(pl.len(), dtype=pl.Int64) + first_line).alias("line"),
        )
        stripped = pl.col("raw").str.strip_chars()
        df = df.with_columns(
            (stripped == "").alias("blank"),
            stripped.str.starts_with("#").alias("comment"),
            pl.col("raw").str.extract_groups(_LINE_RE).alias("g"),
        ).unnest("g")
        df = df.with_columns(
            pl.col("pre").str.strip_chars().replace("", None),
            pl.col("sent").str.strip_chars(),
        )
        # Tag block: its own checksum when it has one ("...*hh").
        tag_body = pl.col("tag").str.extract(r"^([^*]*)", 1)
        tag_cs = pl.col("tag").str.extract(r"\*([0-9A-Fa-f]{2})$", 1)
        df = df.with_columns(tag_body.alias("tag_body"), tag_cs.alias("tag_cs"))
        tag_x = armour.xor_checksum(df["tag_body"])
        tag_expected = df["tag_cs"].str.to_integer(base=16, strict=False).to_numpy()
        tag_bad = df["tag_cs"].is_not_null().to_numpy() & (tag_x != np.nan_to_num(tag_expected, nan=-1))

        is_ais = pl.col("sent").str.contains(r"^!..VD[MO],")
        df = df.with_columns(
            pl.Series("tag_bad", tag_bad),
            is_ais.fill_null(False).alias("is_ais"),
            pl.col("tag_body").str.extract(r"(?:^|,)c:(\d+(?:\.\d+)?)", 1).cast(pl.Float64).alias("tag_c"),
            pl.coalesce(
                pl.col("tag_body").str.extract(r"(?:^|,)s:([^,]*)", 1),
                pl.col("tag_body").str.extract(r"(?:^|,)si:([^,]*)", 1),
            ).alias("rcv"),
            pl.col("tag_body").str.extract_groups(r"(?:^|,)g:(\d+)-(\d+)-(\d+)").alias("grp"),
        )
        times = self._line_times(df)
        df = df.with_columns(times.alias("line_ts"))

        # Carry context forward (within the batch, then from the previous batch).
        df = df.with_columns(
            pl.col("line_ts").forward_fill().fill_null(self.last_ts).alias("ts") if self.last_ts is not None
            else pl.col("line_ts").forward_fill().alias("ts"),
            pl.col("rcv").forward_fill().fill_null(self.last_receiver).alias("receiver")
            if self.last_receiver is not None else pl.col("rcv").forward_fill().alias("receiver"),
        )
        if df.height:
            last = df.select(pl.col("ts").last(), pl.col("receiver").last()).row(0)
            self.last_ts = last[0] if last[0] is not None else self.last_ts
            self.last_receiver = last[1] if last[1] is not None else self.last_receiver

        other = (
            ~pl.col("blank") & ~pl.col("comment") & pl.col("sent").is_not_null() & ~pl.col("is_ais")
        )
        skipped = df.select(
            pl.col("blank").sum().alias("blank"),
            pl.col("comment").sum().alias("comment"),
            (other & ~pl.col("sent").str.starts_with("$PGHP")).sum().alias("other_nmea"),
        ).row(0, named=True)
        rejects = []
        # Lines that are neither NMEA, a tag line, a comment nor blank.
        junk = df.filter(
            ~pl.col("blank") & ~pl.col("comment") & pl.col("sent").is_null() & pl.col("tag").is_null()
        )
        rejects.append(_rej(junk, "malformed"))
        rejects.append(_rej(df.filter(pl.col("tag_bad") & ~pl.col("is_ais") & ~pl.col("blank")), "bad_checksum"))

        ais = df.filter(pl.col("is_ais") & ~pl.col("blank") & ~pl.col("comment"))
        ais = ais.with_columns(pl.col("sent").str.extract_groups(_AIS_RE).alias("f")).unnest("f")
        bad_form = ais["payload"].is_null().to_numpy() & ais["fill"].is_null().to_numpy()
        body = ais["sent"].str.extract(r"^!([^*]*)\*", 1)
        x = armour.xor_checksum(body)
        expected = ais["cs"].str.to_integer(base=16, strict=False).fill_null(-1).to_numpy()
        bad_cs = ~bad_form & ((x != expected) | ais["tag_bad"].to_numpy())
        rejects.append(_rej(ais.filter(pl.Series(bad_form)), "malformed"))
        rejects.append(_rej(ais.filter(pl.Series(bad_cs)), "bad_checksum"))
        good = ais.filter(pl.Series(~bad_form & ~bad_cs)).with_columns(
            pl.col("tot").cast(pl.Int64), pl.col("num").cast(pl.Int64), pl.col("fill").cast(pl.Int64)
        )
        # Some loggers append the receive time after the checksum (",1411920140"): used only where no other
        # time is known, because a $PGHP line before the same sentence is more precise (milliseconds).
        suffix = good["suffix"].cast(pl.Float64, strict=False)
        suffix_us = pl.Series(np.where(suffix.to_numpy() > self.unix_ms_threshold, 1_000, 1_000_000)) * suffix
        good = good.with_columns(pl.col("ts").fill_null(suffix_us.cast(pl.Int64).cast(UTC_US)))
        timed = int(good["ts"].is_not_null().sum())
        bad_seq = (good["num"] < 1) | (good["num"] > good["tot"]) | (good["tot"] < 1)
        rejects.append(_rej(good.filter(bad_seq), "malformed"))
        good = good.filter(~bad_seq)
        single = good.filter(pl.col("tot") == 1).select(
            "line", "ts", "receiver", "payload", "fill", pl.col("sent").alias("sentences"), "raw"
        )
        multi_msgs, multi_rej = self._assemble(good.filter(pl.col("tot") > 1))
        messages = pl.concat([single, multi_msgs], how="vertical_relaxed") if multi_msgs.height else single
        if multi_rej.height:
            rejects.append(multi_rej)
        return ParsedBatch(
            messages=messages,
            rejects=pl.concat([r for r in rejects if r.height], how="vertical_relaxed") if any(
                r.height for r in rejects) else _rej(df.clear(), "malformed"),
            skipped={k: int(v) for k, v in skipped.items()},
            timed=timed,
        )

    def finish(self) -> pl.DataFrame:
        """Fragments still waiting at end of file: orphans."""
        frags = [f for group in self.pending.values() for f in group]
        self.pending.clear()
        return _frag_rejects(frags)

    # ---- helpers ----------------------------------------------------------------------------------------
    def _line_times(self, df: pl.DataFrame) -> pl.Series:
        thr = self.unix_ms_threshold
        c = pl.col("tag_c")
        tag_us = pl.when(c > thr).then(c * 1_000).otherwise(c * 1_000_000).cast(pl.Int64)
        pghp = df.select(pl.col("sent").str.extract_groups(_PGHP_RE).alias("p")).unnest("p")
        pghp_ts = civil_to_datetime(
            pghp.with_columns((pl.col("7").cast(pl.Int64) * 1000).alias("us")), "1", "2", "3", "4", "5", "6", "us")
        rmc = df.select(pl.col("sent").str.extract_groups(_RMC_RE).alias("r")).unnest("r").with_columns(
            (pl.col("7").cast(pl.Int64) + 2000).alias("yr"),
            (pl.col("4").str.pad_end(3, "0").cast(pl.Int64) * 1000).fill_null(0).alias("us"),
        )
        rmc_ts = civil_to_datetime(rmc, "yr", "6", "5", "1", "2", "3", "us")
        pre = pl.col("pre")
        pre_num = pre.cast(pl.Float64, strict=False)
        pre_unix = pl.when(pre_num > thr).then(pre_num * 1_000).otherwise(pre_num * 1_000_000).cast(pl.Int64)
        iso = pre.str.replace(r"Z$", "+00:00").str.replace("T", " ")
        pre_iso = pl.coalesce(
            iso.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%:z", strict=False, time_unit="us").dt.convert_time_zone("UTC"),
            iso.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
            iso.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%z", strict=False, time_unit="us").dt.convert_time_zone("UTC"),
        )
        out = df.select(
            pl.coalesce(
                tag_us.cast(UTC_US),
                pl.Series(pghp_ts),
                pl.Series(rmc_ts),
                pre_unix.cast(UTC_US),
                pre_iso,
            ).alias("t")
        )
        return out["t"]

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
            gid = grp.get("3") if grp else None
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
