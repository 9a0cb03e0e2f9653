"""Decoded AIS in tables — CSV (NOAA MarineCadastre, Danish Maritime Authority, AISdb/Spire-style, generic with a
column mapping) and JSON lines with GFW-normalised names — into the store's tables.

Every flavour is first renamed to one canonical set of columns (``CANONICAL``), then split into tables by one
function: a row with a position gives a position report; a row with identity/voyage columns gives a static report,
kept only when it differs from that vessel's previous static report in the file (a 1-row-per-position CSV
repeats the ship's name on every row); base stations and aids to navigation go to their own tables when the
flavour says what a row is (AISdb ``Message_ID`` 4/21, DMA ``Type of mobile``).
"""

from __future__ import annotations

import io
import json

import numpy as np
import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.ingest import armour

UTC_US = pl.Datetime("us", "UTC")

CANONICAL = (
    "mmsi", "ts", "lat", "lon", "sog", "cog", "heading", "rot", "nav_status", "accuracy", "msg_type", "ais_class",
    "imo", "name", "callsign", "ship_type", "length", "beam", "to_bow", "to_stern", "to_port", "to_starboard",
    "draught", "destination", "eta", "receiver", "kind",
)
STATIC_COLS = ("imo", "name", "callsign", "ship_type", "length", "beam", "draught", "destination", "eta")

NOAA = {
    "MMSI": "mmsi", "BaseDateTime": "ts", "LAT": "lat", "LON": "lon", "SOG": "sog", "COG": "cog",
    "Heading": "heading", "VesselName": "name", "IMO": "imo", "CallSign": "callsign", "VesselType": "ship_type",
    "Status": "nav_status", "Length": "length", "Width": "beam", "Draft": "draught", "TransceiverClass": "ais_class",
}
DMA = {
    "# Timestamp": "ts", "Timestamp": "ts", "Type of mobile": "kind", "MMSI": "mmsi", "Latitude": "lat",
    "Longitude": "lon", "Navigational status": "nav_status", "ROT": "rot", "SOG": "sog", "COG": "cog",
    "Heading": "heading", "IMO": "imo", "Callsign": "callsign", "Name": "name", "Ship type": "ship_type",
    "Width": "beam", "Length": "length", "Draught": "draught", "Destination": "destination", "ETA": "eta",
}
AISDB = {
    "MMSI": "mmsi", "Message_ID": "msg_type", "Time": "ts", "Latitude": "lat", "Longitude": "lon", "SOG": "sog",
    "COG": "cog", "Heading": "heading", "ROT": "rot", "Navigational_status": "nav_status", "Accuracy": "accuracy",
    "Vessel_Name": "name", "Call_sign": "callsign", "IMO": "imo", "Ship_Type": "ship_type",
    "Dimension_to_Bow": "to_bow", "Dimension_to_stern": "to_stern", "Dimension_to_port": "to_port",
    "Dimension_to_starboard": "to_starboard", "Draught": "draught", "Destination": "destination",
    "ATON_name": "aton_name", "ATON_type": "aton_type", "Virtual_ATON": "virtual", "off_position": "off_position",
}
GFW = {
    "ssvid": "mmsi", "mmsi": "mmsi", "timestamp": "ts", "lat": "lat", "lon": "lon", "speed": "sog",
    "course": "cog", "heading": "heading", "shipname": "name", "callsign": "callsign", "imo": "imo",
    "destination": "destination", "shiptype": "ship_type", "length": "length", "width": "beam",
    "draught": "draught", "type": "msg_type", "status": "nav_status", "receiver": "receiver",
}
_GFW_STRUCT = pl.Struct({k: pl.Utf8 for k in GFW})

# Header words a generic CSV commonly uses, when no --columns mapping is given.
ALIASES = {
    "mmsi": ("mmsi", "ssvid", "userid", "user_id"),
    "ts": ("ts", "timestamp", "time", "datetime", "basedatetime", "date_time", "t"),
    "lat": ("lat", "latitude", "y"),
    "lon": ("lon", "lng", "long", "longitude", "x"),
    "sog": ("sog", "speed"), "cog": ("cog", "course"), "heading": ("heading", "hdg", "true_heading"),
    "name": ("name", "shipname", "vesselname", "vessel_name"), "imo": ("imo",), "callsign": ("callsign", "call_sign"),
    "ship_type": ("ship_type", "shiptype", "vesseltype", "vessel_type"), "draught": ("draught", "draft"),
    "destination": ("destination",), "length": ("length",), "beam": ("beam", "width"),
}

# ITU-R M.1371-5 navigational status texts as the DMA CSV writes them.
NAV_STATUS_TEXT = {
    "under way using engine": 0, "at anchor": 1, "not under command": 2, "restricted maneuverability": 3,
    "restricted manoeuverability": 3, "constrained by her draught": 4, "moored": 5, "aground": 6,
    "engaged in fishing": 7, "under way sailing": 8, "ais-sart": 14, "unknown value": 15, "undefined": 15,
}
# DMA writes ship types as words; map them to the ITU-R M.1371-5 code of the whole category (x0).
SHIP_TYPE_TEXT = {
    "fishing": 30, "towing": 31, "dredging": 33, "diving": 34, "military": 35, "sailing": 36, "pleasure": 37,
    "hsc": 40, "pilot": 50, "sar": 51, "tug": 52, "port tender": 53, "anti-pollution": 54, "law enforcement": 55,
    "medical": 58, "passenger": 60, "cargo": 70, "tanker": 80, "other": 90,
}
_NULLS = ["", "None", "none", "NULL", "null", "NaN", "nan", "N/A", "-"]


def flavour_of(header: list[str]) -> str:
    cols = set(header)
    if {"MMSI", "BaseDateTime", "LAT", "LON"} <= cols:
        return "noaa"
    if ("# Timestamp" in cols or "Timestamp" in cols) and "Type of mobile" in cols:
        return "dma"
    if {"MMSI", "Message_ID", "Time", "Latitude", "Longitude"} <= cols:
        return "aisdb"
    return "generic"


def parse_columns(spec: str | dict | None) -> dict[str, str] | None:
    """``"mmsi=MMSI,ts=time,lat=y"`` → {canonical: header}."""
    if spec is None or isinstance(spec, dict):
        return spec
    out = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise ShadowfleetError(f"--columns: expected NAME=HEADER pairs, got {part!r}")
        k, v = (x.strip() for x in part.split("=", 1))
        if k not in CANONICAL:
            raise ShadowfleetError(f"--columns: unknown field {k!r} (known: {', '.join(CANONICAL)})")
        out[k] = v
    return out


def read_csv_chunk(header_line: str, lines: list[str], first_line: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """CSV lines (all read as text) with ``line`` and ``raw``, and the rejects of rows that cannot be parsed.

    The whole chunk goes through polars' CSV reader; if it fails, or yields a different number of rows than the
    chunk has lines (an unbalanced quote swallowing the next lines), each line is read on its own and the broken
    ones are rejected as malformed — nothing is lost silently."""
    kept = [(first_line + i, ln) for i, ln in enumerate(lines) if ln.strip()]
    raw = pl.Series("raw", [ln.rstrip("\r\n") for _, ln in kept], dtype=pl.Utf8)
    line_no = pl.Series("line", [n for n, _ in kept], dtype=pl.Int64)
    no_rejects = pl.DataFrame(schema={"line": pl.Int64, "ts": UTC_US, "raw": pl.Utf8, "reason": pl.Utf8})
    try:
        df = _read_csv_text(header_line + "".join(ln for _, ln in kept))
        if df.height == len(kept):
            return df.with_columns(raw, line_no), no_rejects
    except Exception:  # polars raises ComputeError & co. on broken CSV: read line by line below
        pass
    rows, bad = [], []
    for n, ln in kept:
        try:
            one = _read_csv_text(header_line + ln)
            if one.height != 1:
                raise ValueError
        except Exception:
            bad.append((n, ln.rstrip("\r\n")))
            continue
        rows.append(one.with_columns(pl.lit(ln.rstrip("\r\n")).alias("raw"), pl.lit(n, dtype=pl.Int64).alias("line")))
    df = pl.concat(rows, how="diagonal_relaxed") if rows else _read_csv_text(header_line).with_columns(
        pl.lit(None, dtype=pl.Utf8).alias("raw"), pl.lit(None, dtype=pl.Int64).alias("line")).clear()
    rej = pl.DataFrame({"line": [b[0] for b in bad], "raw": [b[1] for b in bad]},
                       schema={"line": pl.Int64, "raw": pl.Utf8}).with_columns(
        pl.lit(None, dtype=UTC_US).alias("ts"), pl.lit("malformed").alias("reason")).select("line", "ts", "raw", "reason")
    return df, rej


def _read_csv_text(text: str) -> pl.DataFrame:
    return pl.read_csv(io.StringIO(text), infer_schema=False, null_values=_NULLS, truncate_ragged_lines=True)


def canonical_csv(df: pl.DataFrame, flavour: str, mapping: dict[str, str] | None) -> pl.DataFrame:
    if mapping:
        missing = [h for h in mapping.values() if h not in df.columns]
        if missing:
            raise ShadowfleetError(f"--columns: no such column(s) in the file: {', '.join(missing)}")
        ren = {h: k for k, h in mapping.items()}
        flavour = "mapped"  # the user's mapping replaces the flavour's own columns and unit conversions
    elif flavour == "noaa":
        ren = NOAA
    elif flavour == "dma":
        ren = DMA
    elif flavour == "aisdb":
        ren = AISDB
    else:
        lower = {c.lower().strip(): c for c in df.columns}
        ren = {}
        for canon, names in ALIASES.items():
            for n in names:
                if n in lower and lower[n] not in ren:
                    ren[lower[n]] = canon
                    break
    ren = {k: v for k, v in ren.items() if k in df.columns}
    found = set(ren.values())
    need = {"mmsi", "ts", "lat", "lon"} if flavour in ("generic", "mapped") else {"mmsi", "ts"}
    if not need <= found:
        header = [c for c in df.columns if c not in ("line", "raw")]
        raise ShadowfleetError(
            f"CSV columns not recognised (need {', '.join(sorted(need - found))}); "
            f"give --columns mmsi=HEADER,ts=HEADER,lat=HEADER,lon=HEADER (header: {', '.join(header[:12])}…)"
        )
    out = df.select([pl.col(k).alias(v) for k, v in ren.items()] + ["line", "raw"])
    if flavour == "dma":
        out = out.with_columns(
            pl.col("nav_status").str.to_lowercase().replace_strict(NAV_STATUS_TEXT, default=None)
            if "nav_status" in out.columns else pl.lit(None),
            pl.col("ship_type").str.to_lowercase().replace_strict(SHIP_TYPE_TEXT, default=None)
            if "ship_type" in out.columns else pl.lit(None),
            pl.col("kind").str.to_lowercase().alias("kind"),
            pl.when(pl.col("kind").str.to_lowercase() == "class b").then(pl.lit("B")).otherwise(pl.lit("A"))
            .alias("ais_class"),
        )
    if flavour == "aisdb":
        # AISdb writes the draught as broadcast, in decimetres (ITU-R M.1371-5 message 5: 1/10 m).
        out = out.with_columns(pl.col("draught").cast(pl.Float64, strict=False) / 10.0)
        mt = pl.col("msg_type").cast(pl.Int64, strict=False)
        out = out.with_columns(
            pl.when(mt == 4).then(pl.lit("base station")).when(mt == 21).then(pl.lit("aton")).otherwise(None)
            .alias("kind"),
            pl.when(mt.is_in([18, 19, 24])).then(pl.lit("B")).otherwise(pl.lit("A")).alias("ais_class"),
            pl.when(mt.is_in([1, 2, 3, 4, 5, 18, 19, 21, 24, 27])).then(mt).otherwise(-1).alias("msg_type"),
            pl.coalesce(pl.col("name"), pl.col("aton_name")).alias("name"),
        )
    return out


def read_jsonl_chunk(lines: list[str], first_line: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """JSON lines → (rows with line/raw, rejects of lines that are not JSON objects).

    Fast path: the whole chunk through polars' NDJSON reader. Only a chunk holding a broken line falls back to
    json.loads line by line, to reject exactly the broken lines."""
    raw = pl.Series("raw", lines, dtype=pl.Utf8).str.strip_chars()
    line_no = pl.Series("line", np.arange(first_line, first_line + len(lines), dtype=np.int64))
    keep = raw.str.len_bytes().gt(0) & ~raw.str.starts_with("#")
    raw, line_no = raw.filter(keep), line_no.filter(keep)
    # GFW writes NaN for missing numbers, which is not JSON: make it null first.
    text = raw.str.replace_all(r"([:,\[]\s*)-?NaN\b", "${1}null")
    try:
        # Only the GFW fields we use, all read as text (numbers or strings alike); other fields are ignored.
        df = text.str.json_decode(dtype=_GFW_STRUCT).struct.unnest()
        empty_rej = pl.DataFrame(schema={"line": pl.Int64, "raw": pl.Utf8, "ts": UTC_US, "reason": pl.Utf8})
        return df.with_columns(line_no, raw), empty_rej
    except Exception:  # polars raises ComputeError & co. on a broken or non-object line: fall back below
        pass
    keep_lines, raws, rows, bad = [], [], [], []
    # GFW files write NaN for missing numbers, which is not JSON; Python's json reads it, and NaN becomes null.
    for i, ln in enumerate(lines):
        s = ln.strip()
        if not s or s.startswith("#"):
            continue
        try:
            obj = json.loads(s)
            if not isinstance(obj, dict):
                raise ValueError
        except ValueError:
            bad.append((first_line + i, s))
            continue
        rows.append({k: (None if isinstance(v, float) and v != v else v) for k, v in obj.items()
                     if not isinstance(v, (dict, list))})
        keep_lines.append(first_line + i)
        raws.append(s)
    df = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
    df = df.with_columns(pl.all().cast(pl.Utf8)) if df.width else df
    df = df.with_columns(pl.Series("line", keep_lines, dtype=pl.Int64), pl.Series("raw", raws, dtype=pl.Utf8))
    rej = pl.DataFrame({"line": [b[0] for b in bad], "raw": [b[1] for b in bad]},
                       schema={"line": pl.Int64, "raw": pl.Utf8}).with_columns(
        pl.lit(None, dtype=UTC_US).alias("ts"), pl.lit("malformed").alias("reason"))
    return df, rej


def canonical_jsonl(df: pl.DataFrame) -> pl.DataFrame:
    df = df.select([c for c in df.columns if c in ("line", "raw") or df[c].null_count() < df.height])
    ren = {k: v for k, v in GFW.items() if k in df.columns}
    if "ssvid" in ren and "mmsi" in ren:
        df = df.with_columns(pl.coalesce("ssvid", "mmsi").alias("ssvid"))
        ren.pop("mmsi")
    if not {"mmsi", "ts"} <= set(ren.values()):
        raise ShadowfleetError("JSON lines need an ssvid or mmsi and a timestamp field (GFW-normalised names)")
    out = df.select([pl.col(k).alias(v) for k, v in ren.items()] + ["line", "raw"])
    if "msg_type" in out.columns:
        # GFW writes the message type as "AIS.1", "AIS.5", "AIS.18"…
        mt = pl.col("msg_type").str.extract(r"(\d+)$", 1).cast(pl.Int64, strict=False)
        out = out.with_columns(
            mt.alias("msg_type"),
            pl.when(mt.is_in([18, 19, 24])).then(pl.lit("B")).otherwise(pl.lit("A")).alias("ais_class"),
            pl.when(mt == 4).then(pl.lit("base station")).when(mt == 21).then(pl.lit("aton")).otherwise(None)
            .alias("kind"),
        )
    return out


def _time(col: pl.Expr) -> pl.Expr:
    s = col.str.strip_chars()
    # a number beyond the years 1..9999 (e.g. '1e30') is capped there, so validation rejects it as an absurd
    # time instead of the cast to microseconds overflowing
    num = s.cast(pl.Float64, strict=False).clip(-62_135_596_800.0, 253_402_300_799_000.0)
    unix = pl.when(num > 1e11).then(num * 1_000).otherwise(num * 1_000_000).cast(pl.Int64).cast(UTC_US)
    iso = s.str.replace(r"Z$", "+00:00").str.replace("T", " ")
    return pl.coalesce(
        iso.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%:z", strict=False, time_unit="us").dt.convert_time_zone("UTC"),
        iso.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
        iso.str.to_datetime("%Y-%m-%d", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
        s.str.to_datetime("%Y%m%d_%H%M%S", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
        s.str.to_datetime("%d/%m/%Y %H:%M:%S", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
        unix,
    )


def _num(name: str, cols: list[str], dtype=pl.Float64) -> pl.Expr:
    if name not in cols:
        return pl.lit(None, dtype=dtype).alias(name)
    return pl.col(name).cast(pl.Utf8).str.strip_chars().cast(pl.Float64, strict=False).cast(dtype, strict=False).alias(name)


def _txt(name: str, cols: list[str]) -> pl.Expr:
    if name not in cols:
        return pl.lit(None, dtype=pl.Utf8).alias(name)
    return pl.col(name).cast(pl.Utf8).str.replace_all("@", " ").str.strip_chars().replace("", None).alias(name)


def to_tables(c: pl.DataFrame, last_static: pl.DataFrame | None = None):
    """Canonical rows → (store tables with ``line``/``raw``, how many static rows repeated the vessel's previous
    static data — not stored, counted —, each vessel's latest static signature to pass to the next batch).
    Ranges are checked afterwards, the same for every format."""
    cols = c.columns
    mmsi = pl.col("mmsi").cast(pl.Utf8).str.strip_chars().cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)
    imo = _txt("imo", cols).str.replace(r"^(?i)IMO\s*", "").cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)
    length = _num("length", cols)
    beam = _num("beam", cols)
    if "to_bow" in cols:
        length = pl.coalesce(length, _num("to_bow", cols) + _num("to_stern", cols))
        beam = pl.coalesce(beam, _num("to_port", cols) + _num("to_starboard", cols))
    msg_type = _num("msg_type", cols, pl.Int64)
    ais_class = _txt("ais_class", cols).str.to_uppercase()
    heading = _num("heading", cols)
    cog = _num("cog", cols)
    sog = _num("sog", cols)
    nav = _num("nav_status", cols, pl.Int64) if "nav_status" not in cols or c.schema["nav_status"] != pl.Int64 \
        else pl.col("nav_status")
    rot = _num("rot", cols)
    draught = _num("draught", cols)
    kind = _txt("kind", cols).str.to_lowercase()
    c = c.with_columns(
        mmsi.alias("mmsi"),
        _time(pl.col("ts").cast(pl.Utf8)).alias("ts"),
        _num("lat", cols), _num("lon", cols),
        # "not available" codes as CSV writers keep them (ITU-R M.1371-5): SOG 102.3, COG 360, heading 511.
        pl.when(sog >= 102.25).then(None).otherwise(sog).alias("sog"),
        pl.when(cog >= 360).then(None).otherwise(cog).alias("cog"),
        pl.when(heading > 359).then(None).otherwise(heading).alias("heading"),
        pl.when(nav.is_between(0, 15)).then(nav).otherwise(None).alias("nav_status"),
        # ROT_AIS = 4.733·√ROT (ITU-R M.1371-5): the largest code, ±126, is ±708 °/min; ours: 720 rounds that up
        pl.when(rot.abs() > 720).then(None).otherwise(rot).alias("rot"),
        pl.when(imo > 0).then(imo).otherwise(None).alias("imo"),
        _txt("name", cols), _txt("callsign", cols), _txt("destination", cols), _txt("eta", cols),
        _num("ship_type", cols, pl.Int64) if "ship_type" not in cols or c.schema["ship_type"] != pl.Int64
        else pl.col("ship_type"),
        pl.when(length > 0).then(length).otherwise(None).alias("length"),
        pl.when(beam > 0).then(beam).otherwise(None).alias("beam"),
        pl.when(draught > 0).then(draught).otherwise(None).alias("draught"),
        pl.when(ais_class.is_in(["A", "B"])).then(ais_class).otherwise(pl.lit("A")).alias("ais_class"),
        msg_type.alias("msg_type"),
        kind.alias("kind"),
        _txt("receiver", cols),
        (_num("accuracy", cols, pl.Int64) == 1).alias("accuracy"),
        pl.Series("dup_key", armour.fnv1a(c["raw"]), dtype=pl.UInt64),
    )
    c = c.with_columns(
        pl.when(pl.col("msg_type").is_null() | (pl.col("msg_type") <= 0))
        .then(pl.when(pl.col("ais_class") == "B").then(18).otherwise(1))
        .otherwise(pl.col("msg_type")).alias("msg_type"),
        pl.when(pl.col("imo") > 0).then(pl.col("imo")).otherwise(None).alias("imo"),
    )
    is_base = pl.col("kind").fill_null("").str.contains("base")
    is_aid = pl.col("kind").fill_null("").str.contains("aton|aid")
    has_pos = pl.col("lat").is_not_null() | pl.col("lon").is_not_null()
    static_types = pl.col("msg_type").is_in([5, 24])
    has_static = pl.any_horizontal([pl.col(k).is_not_null() for k in STATIC_COLS])
    # a row with neither a position nor static data goes with the positions, where validation rejects it with a
    # reason (no time, no MMSI, no position) instead of it fitting no table and vanishing
    pos = c.filter(~is_base & ~is_aid & ((has_pos & ~static_types) | (~has_pos & ~has_static)))
    base = c.filter(is_base)
    aids = c.filter(is_aid)
    st = c.filter(~is_base & ~is_aid & pl.any_horizontal([pl.col(k).is_not_null() for k in STATIC_COLS]))
    # A static row only when it changes that vessel's identity/voyage data (CSV repeats it on every row).
    # The vessel's last static data from earlier batches of the file comes first, so a batch boundary does not
    # repeat it.
    st = st.with_columns(
        pl.concat_str([pl.col(k).cast(pl.Utf8).fill_null("") for k in STATIC_COLS], separator="|").alias("__sig"),
        pl.lit(1, dtype=pl.Int8).alias("__order"),
    )
    n_static = st.height
    if last_static is not None and last_static.height:
        prev = last_static.join(st.select("mmsi").unique(), on="mmsi").with_columns(
            pl.lit(0, dtype=pl.Int8).alias("__order"))
        st = pl.concat([prev, st], how="diagonal_relaxed")
    changed = (pl.col("__sig") != pl.col("__sig").shift(1).over("mmsi")).fill_null(True)
    st = st.sort(["mmsi", "__order", "ts", "line"], nulls_last=True).with_columns(changed.alias("__changed"))
    st = st.filter(pl.col("__order") == 1)
    latest = st.group_by("mmsi").agg(pl.col("__sig").last())
    last_static = latest if last_static is None else pl.concat([last_static, latest]).unique("mmsi", keep="last")
    st = st.filter(pl.col("__changed")).drop("__sig", "__order", "__changed").sort("line")
    unchanged = n_static - st.height
    st = st.with_columns(
        pl.when(pl.col("msg_type").is_in([5, 19, 24])).then(pl.col("msg_type"))
        .otherwise(pl.when(pl.col("ais_class") == "B").then(24).otherwise(5)).alias("msg_type")
    )
    aids = aids.with_columns(
        _num("aton_type", aids.columns, pl.Int64).alias("aid_type"),
        (_txt("virtual", aids.columns) == "1").alias("virtual"),
        (_txt("off_position", aids.columns) == "1").alias("off_position"),
    )
    return {"positions": pos, "static": st, "base_stations": base, "aids": aids}, unchanged, last_static
