"""aisstream.io-style websocket messages → JSON lines with the GFW-normalised names the ingest stage reads.

A message is ``{"MessageType": "PositionReport" | "StandardClassBPositionReport" | "ShipStaticData" | …,
"MetaData": {"MMSI", "latitude", "longitude", "time_utc", "ShipName"}, "Message": {<type>: {…}}}`` with the
decoded fields of ITU-R M.1371 (Sog, Cog, TrueHeading, NavigationalStatus, MessageID, Name, CallSign, ImoNumber,
Type, Dimension {A, B, C, D}, MaximumStaticDraught, Destination). Lines that are not such a message are passed on
unchanged, so ingest rejects them with a reason instead of their vanishing.
"""

from __future__ import annotations

import polars as pl

_F = pl.Float64
_POS = pl.Struct({"Sog": _F, "Cog": _F, "TrueHeading": _F, "NavigationalStatus": _F, "MessageID": _F,
                  "Latitude": _F, "Longitude": _F})
_STATIC = pl.Struct({"Name": pl.Utf8, "CallSign": pl.Utf8, "ImoNumber": _F, "Type": _F, "Destination": pl.Utf8,
                     "MaximumStaticDraught": _F, "MessageID": _F,
                     "Dimension": pl.Struct({"A": _F, "B": _F, "C": _F, "D": _F})})
_SCHEMA = pl.Struct({
    "MessageType": pl.Utf8,
    "MetaData": pl.Struct({"MMSI": pl.Int64, "latitude": _F, "longitude": _F, "time_utc": pl.Utf8}),
    "Message": pl.Struct({"PositionReport": _POS, "StandardClassBPositionReport": _POS,
                          "ExtendedClassBPositionReport": _POS, "ShipStaticData": _STATIC}),
})


def to_gfw_lines(lines: list[str]) -> list[str]:
    """One output line per input line, in order."""
    raw = pl.Series("raw", lines, dtype=pl.Utf8)
    ok = raw.str.json_path_match("$.MessageType").is_not_null()
    good = raw.filter(ok)
    if good.len() == 0:
        return lines
    try:
        d = good.str.json_decode(_SCHEMA).struct.unnest()
    except pl.exceptions.PolarsError:
        return lines  # a line polars cannot read: all passed on, ingest rejects what it cannot read
    m, meta = pl.col("Message"), pl.col("MetaData")
    pos = pl.coalesce(m.struct.field("PositionReport"), m.struct.field("StandardClassBPositionReport"),
                      m.struct.field("ExtendedClassBPositionReport"))
    st = m.struct.field("ShipStaticData")
    dim = st.struct.field("Dimension")
    # "2022-12-29 18:22:32.318353 +0000 UTC" → ISO 8601
    ts = meta.struct.field("time_utc").str.replace(r"^(\S+) (\S+?)(\.\d+)? \+0000 UTC$", "${1}T${2}${3}Z")
    is_static = st.is_not_null() & pos.is_null()
    mtype = pl.coalesce(pos.struct.field("MessageID"), st.struct.field("MessageID")).cast(pl.Int64)
    out = d.select(
        meta.struct.field("MMSI").alias("ssvid"),
        ts.alias("timestamp"),
        pl.when(is_static).then(None).otherwise(pl.coalesce(pos.struct.field("Latitude"), meta.struct.field("latitude"))).alias("lat"),
        pl.when(is_static).then(None).otherwise(pl.coalesce(pos.struct.field("Longitude"), meta.struct.field("longitude"))).alias("lon"),
        pos.struct.field("Sog").alias("speed"),
        pos.struct.field("Cog").alias("course"),
        pos.struct.field("TrueHeading").alias("heading"),
        pos.struct.field("NavigationalStatus").cast(pl.Int64).alias("status"),
        (pl.lit("AIS.") + mtype.cast(pl.Utf8)).alias("type"),
        st.struct.field("Name").str.strip_chars(" @").alias("shipname"),
        st.struct.field("CallSign").str.strip_chars(" @").alias("callsign"),
        st.struct.field("ImoNumber").cast(pl.Int64).alias("imo"),
        st.struct.field("Destination").str.strip_chars(" @").alias("destination"),
        st.struct.field("Type").cast(pl.Int64).alias("shiptype"),
        (dim.struct.field("A") + dim.struct.field("B")).alias("length"),
        (dim.struct.field("C") + dim.struct.field("D")).alias("width"),
        st.struct.field("MaximumStaticDraught").alias("draught"),
    )
    converted = out.write_ndjson().splitlines()
    if good.len() == raw.len():
        return converted
    it = iter(converted)
    return [next(it) if k else ln for k, ln in zip(ok.to_list(), lines)]
