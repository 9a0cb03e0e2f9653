"""Reception consistency: a position a shore receiver heard far beyond its reach cannot be where the ship was.

A VHF shore station hears ships within a few tens of nautical miles (IALA, ITU-R M.1371: 20-40 nm typical). Each
receiver (tag block `s:`, DMA `si:`) is placed at the middle (median latitude and longitude) of what it hears and
its reach is learned as a high quantile of the distances from there. A position heard by that receiver more
than max(range_factor x reach, range_min_km) from it is flagged with the receiver and the distance. Receivers
whose learned reach is that of a satellite, and type-27 long-range reports, are exempt. A receivers file (CSV or
JSON: id, lat, lon, range_km, kind shore|satellite; `read_receivers`) states what is known instead: a listed shore
receiver is checked against its own position and range, a listed satellite is exempt, and receivers it does not
list are still learned.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from shadowfleet.errors import ShadowfleetError

from shadowfleet.events.config import SpoofingConfig
from shadowfleet.events.transforms.common import empty_events, haversine_km, to_events, with_run_id

RECEIVER_COLUMNS = {"receiver": pl.Utf8, "lat": pl.Float64, "lon": pl.Float64, "range_km": pl.Float64}
RECEIVER_KINDS = ("shore", "satellite")
# ours: a list of receivers is a few thousand rows at most (AISHub shares ~1,000 stations); a larger file is a
# mistake and is refused before it is read into memory
MAX_RECEIVERS_FILE_BYTES = 20_000_000
MAX_RECEIVER_ID_CHARS = 200
_ID_NAMES = ("id", "receiver")


@dataclass
class ReceiverFile:
    """Receivers read from a file: ``receivers`` (receiver, lat, lon, range_km, satellite) and the rows refused,
    counted by reason."""

    receivers: pl.DataFrame
    rejected: dict[str, int] = field(default_factory=dict)


def read_receivers(path: str | Path) -> ReceiverFile:
    """A receivers file: CSV with a header, or JSON (a list of objects, or {"receivers": [...]}), with columns id
    (or receiver), lat, lon, range_km and kind (shore or satellite; shore when absent). A file that cannot be read
    as either is one ShadowfleetError; a row with a missing id, a latitude or longitude out of range, a shore
    range that is not a positive number, an unknown kind or an id already listed is refused and counted."""
    p = Path(path)
    if not p.is_file():
        raise ShadowfleetError(f"receivers file not found: {p}")
    if p.stat().st_size > MAX_RECEIVERS_FILE_BYTES:
        raise ShadowfleetError(f"{p}: receivers file larger than {MAX_RECEIVERS_FILE_BYTES // 1_000_000} MB")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ShadowfleetError(f"{p}: receivers file is not UTF-8 text") from None
    rows = _json_rows(text, p) if text.lstrip()[:1] in ("[", "{") else _csv_rows(text, p)
    return _checked(rows, p)


def _json_rows(text: str, p: Path) -> list:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:  # ValueError: also an integer past Python's 4,300-digit limit
        raise ShadowfleetError(f"{p}: not valid JSON: {str(exc).splitlines()[0][:200]}") from None
    if isinstance(doc, dict) and isinstance(doc.get("receivers"), list):
        doc = doc["receivers"]
    if not isinstance(doc, list):
        raise ShadowfleetError(f'{p}: JSON receivers must be a list of objects or {{"receivers": [...]}}')
    return doc


def _csv_rows(text: str, p: Path) -> list:
    import csv
    import io

    try:
        reader = csv.DictReader(io.StringIO(text))
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        rows = [{h: v for h, v in zip(header, r.values())} for r in reader]
    except csv.Error as exc:
        raise ShadowfleetError(f"{p}: not valid CSV: {exc}") from None
    missing = [c for c in ("lat", "lon") if c not in header] + ([] if set(_ID_NAMES) & set(header) else ["id"])
    if missing:
        raise ShadowfleetError(f"{p}: receivers CSV lacks column(s) {', '.join(missing)} "
                               "(expected id, lat, lon, range_km, kind)")
    return rows


def _number(v) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        x = float(v.strip()) if isinstance(v, str) else float(v)
    except (TypeError, ValueError, OverflowError):  # OverflowError: a JSON integer too large for a float
        return None
    return x if math.isfinite(x) else None


def _checked(rows: list, p: Path) -> ReceiverFile:
    out: dict[str, tuple] = {}
    rejected: dict[str, int] = {}

    def refuse(reason: str) -> None:
        rejected[reason] = rejected.get(reason, 0) + 1

    for r in rows:
        if not isinstance(r, dict):
            refuse("not_a_record")
            continue
        r = {str(k).strip().lower(): v for k, v in r.items()}
        rid = next((r[k] for k in _ID_NAMES if r.get(k) not in (None, "")), None)
        if isinstance(rid, int) and not isinstance(rid, bool):
            rid = str(rid)  # a JSON id given as a number
        rid = rid.strip() if isinstance(rid, str) else None
        kind = r.get("kind")
        kind = "shore" if kind in (None, "") else (kind.strip().lower() if isinstance(kind, str) else None)
        lat, lon, rng = _number(r.get("lat")), _number(r.get("lon")), _number(r.get("range_km"))
        if not rid or len(rid) > MAX_RECEIVER_ID_CHARS or not rid.isprintable():
            refuse("bad_id")
        elif kind not in RECEIVER_KINDS:
            refuse("unknown_kind")
        elif lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            refuse("bad_position")
        elif kind == "shore" and (rng is None or rng <= 0):
            refuse("bad_range")
        elif rid in out:
            refuse("duplicate_id")
        else:
            out[rid] = (rid, lat, lon, rng, kind == "satellite")
    if not rows:
        raise ShadowfleetError(f"{p}: the receivers file lists no receiver")
    frame = pl.DataFrame(list(out.values()), schema={**RECEIVER_COLUMNS, "satellite": pl.Boolean}, orient="row")
    return ReceiverFile(frame, rejected)


def learn_receivers(p: pl.DataFrame, cfg: SpoofingConfig = SpoofingConfig()) -> pl.DataFrame:
    """Shore receivers as the positions they hear place them: receiver, lat, lon (middle of what it hears),
    range_km (its learned reach), n_reports, satellite (reach beyond satellite_km)."""
    if "receiver" not in p.columns or p.height == 0:
        return pl.DataFrame(schema={**RECEIVER_COLUMNS, "n_reports": pl.UInt32, "satellite": pl.Boolean})
    heard = p.filter(pl.col("receiver").is_not_null())
    if "msg_type" in heard.columns:
        heard = heard.filter(pl.col("msg_type").fill_null(0) != 27)
    mid = heard.group_by("receiver").agg(pl.col("lat").median().alias("_rlat"), pl.col("lon").median().alias("_rlon"),
                                         pl.len().alias("n_reports"))
    reach = (
        heard.join(mid, on="receiver")
        .with_columns(haversine_km(pl.col("lat"), pl.col("lon"), pl.col("_rlat"), pl.col("_rlon")).alias("_km"))
        .group_by("receiver").agg(pl.col("_km").quantile(cfg.range_quantile).alias("range_km"))
    )
    return (
        mid.join(reach, on="receiver")
        .select("receiver", pl.col("_rlat").alias("lat"), pl.col("_rlon").alias("lon"), "range_km", "n_reports",
                (pl.col("range_km") > cfg.satellite_km).alias("satellite"))
        .sort("receiver")
    )


def out_of_range(p: pl.DataFrame, cfg: SpoofingConfig, receivers: pl.DataFrame | None = None) -> pl.DataFrame:
    if "receiver" not in p.columns or p.height == 0:
        return empty_events()
    learned = learn_receivers(p, cfg).filter(~pl.col("satellite") & (pl.col("n_reports") >= cfg.range_min_reports))
    rx = learned.select("receiver", pl.col("lat").alias("_rlat"), pl.col("lon").alias("_rlon"),
                        pl.max_horizontal(pl.col("range_km") * cfg.range_factor, pl.lit(cfg.range_min_km))
                        .alias("_limit"))
    if receivers is not None:
        # what is known beats what is learned: a listed satellite is exempt, a listed shore station is checked
        # against its own position and range
        known = receivers.with_columns(
            (pl.col("satellite") if "satellite" in receivers.columns else pl.lit(False)).fill_null(False)
            .alias("satellite")).select(*RECEIVER_COLUMNS, "satellite").cast({**RECEIVER_COLUMNS, "satellite": pl.Boolean})
        shore = known.filter(~pl.col("satellite")).select(
            "receiver", pl.col("lat").alias("_rlat"), pl.col("lon").alias("_rlon"), pl.col("range_km").alias("_limit"))
        rx = pl.concat([shore, rx.filter(~pl.col("receiver").is_in(known["receiver"].implode()))])
    if rx.height == 0:
        return empty_events()
    # only reports a checked shore receiver heard: a satellite's between them neither breaks nor makes a run
    t = p.join(rx, on="receiver", how="inner", maintain_order="left").with_columns(
        haversine_km(pl.col("lat"), pl.col("lon"), pl.col("_rlat"), pl.col("_rlon")).alias("_km"))
    if "msg_type" in t.columns:
        t = t.filter(pl.col("msg_type").fill_null(0) != 27)
    t = t.filter((pl.col("_km") > pl.col("_limit")).fill_null(False)).sort(["mmsi", "ts"])
    # far reports of one MMSI less than silence_h apart are one incident (other receivers hear it in between)
    gap = (pl.col("ts") - pl.col("ts").shift(1)) > pl.duration(seconds=int(cfg.silence_h * 3600))
    t = with_run_id(t, gap | (pl.col("mmsi") != pl.col("mmsi").shift(1)))
    runs = (
        t.group_by("run", maintain_order=True)
        .agg(pl.col("mmsi").first(), pl.col("ts").min().alias("start"), pl.col("ts").max().alias("end"),
             pl.col("lat").mean(), pl.col("lon").mean(), pl.len().alias("n_positions"),
             pl.col("receiver").mode().first(), pl.col("_km").max().round(0).alias("distance_km"),
             pl.col("_limit").first().round(0).alias("range_km"))
        .with_columns(pl.lit("out_of_range").alias("kind"),
                      pl.lit("positions heard by a shore receiver farther away than it can hear").alias("explanation"))
    )
    return to_events(runs, "spoofing", ["kind", "n_positions", "explanation", "receiver", "distance_km", "range_km"])
