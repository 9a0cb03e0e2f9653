"""Reading the simulator's truth.json (docs/CONTRACTS.md) into frames the scorer can join."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.store import TABLES, UTC_TS

# the stored event's columns (the store's registry), with the truth's own id and visibility
TRUTH_EVENTS = {
    "id": pl.Utf8,
    **{c: t for c, t in TABLES["events"].items() if c not in ("event_id", "details")},
    "visible": pl.Boolean,
}

TRUTH_VOYAGES = {
    "id": pl.Utf8,
    "mmsi": pl.Int64,
    "load_event": pl.Utf8,
    "discharge_event": pl.Utf8,
    "load_place": pl.Utf8,
    "discharge_place": pl.Utf8,
    "discharge_kind": pl.Utf8,
    "tonnes": pl.Float64,
    "product": pl.Utf8,
    "barrels": pl.Float64,
    "month": pl.Utf8,
}


def load_truth(truth: str | Path | dict) -> dict[str, Any]:
    """The truth as a dict, from a path to truth.json or a dict already loaded; clear error if unusable."""
    if isinstance(truth, dict):
        doc = truth
    else:
        p = Path(truth)
        if not p.is_file():
            raise ShadowfleetError(f"truth file not found: {p}")
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ShadowfleetError(f"{p}: not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("events"), list):
        raise ShadowfleetError("truth has no 'events' list (expected the simulator's truth.json)")
    return doc


def parse_times(df: pl.DataFrame, cols: list[str], what: str, id_col: str = "id") -> pl.DataFrame:
    """ISO 8601 strings to UTC timestamps; an unparsable time is a user error naming the record."""
    for c in cols:
        if c not in df.columns:
            continue
        raw = df[c]
        if raw.dtype == UTC_TS:
            continue
        if raw.dtype == pl.Utf8:
            parsed = raw.str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
        else:
            parsed = raw.cast(UTC_TS, strict=False)
        bad = parsed.is_null() & raw.is_not_null()
        if bad.any():
            first = df.filter(bad).row(0, named=True)
            raise ShadowfleetError(f"{what} {first.get(id_col)!r}: {c} is not an ISO 8601 time: {first[c]!r}")
        df = df.with_columns(parsed.alias(c))
    return df


def _frame(records: list, schema: dict, what: str, required: tuple[str, ...]) -> pl.DataFrame:
    if not records:
        return pl.DataFrame(schema=schema)
    if not all(isinstance(r, dict) for r in records):
        raise ShadowfleetError(f"truth {what}s must be JSON objects")
    missing = [k for k in required if any(k not in r for r in records)]
    if missing:
        raise ShadowfleetError(f"truth {what}s lack required field(s): {', '.join(missing)}")
    time_cols = [c for c, t in schema.items() if t == UTC_TS]
    cols = {}
    for name, dtype in schema.items():
        values = [r.get(name) for r in records]
        target = pl.Utf8 if name in time_cols else dtype
        try:
            cols[name] = pl.Series(name, values, dtype=target, strict=False)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ShadowfleetError(f"truth {what}s: field {name} has values of the wrong kind ({exc})") from None
    df = parse_times(pl.DataFrame(cols), time_cols, f"truth {what}")
    return df


def truth_events(doc: dict) -> pl.DataFrame:
    """One row per true event (the contract's fields; `visible` defaults to true, `inferred` to false)."""
    df = _frame(doc["events"], TRUTH_EVENTS, "event", ("id", "type", "mmsi", "start"))
    if df["id"].is_null().any() or df["type"].is_null().any() or df["mmsi"].is_null().any() or df["start"].is_null().any():
        raise ShadowfleetError("truth events: id, type, mmsi and start must all be present and valid")
    if df["id"].is_duplicated().any():
        dup = df.filter(df["id"].is_duplicated())["id"][0]
        raise ShadowfleetError(f"truth events: id {dup!r} is used twice")
    return df.with_columns(
        pl.col("end").fill_null(pl.col("start")),
        pl.col("inferred").fill_null(False),
        pl.col("visible").fill_null(True),
    )


def truth_voyages(doc: dict) -> pl.DataFrame:
    voyages = doc.get("voyages") or []
    if not isinstance(voyages, list):
        raise ShadowfleetError("truth 'voyages' must be a list")
    return _frame(voyages, TRUTH_VOYAGES, "voyage", ("id", "mmsi", "load_event", "barrels"))


def vessel_keys(doc: dict) -> dict[int, int]:
    """MMSI -> the vessel's primary MMSI, for every MMSI a vessel used (truth vessels[].identities).

    An MMSI that two vessels used (a stolen identity) stays its own key, so it never merges two ships.
    """
    owners: dict[int, set[int]] = {}
    for v in doc.get("vessels") or []:
        if not isinstance(v, dict) or v.get("mmsi") is None:
            continue
        try:
            primary = int(v["mmsi"])
            used = {primary}
            for ident in v.get("identities") or []:
                if isinstance(ident, dict) and ident.get("mmsi") is not None:
                    used.add(int(ident["mmsi"]))
        except (TypeError, ValueError):
            raise ShadowfleetError(f"truth vessel {v.get('name')!r}: mmsi is not a number") from None
        for m in used:
            owners.setdefault(m, set()).add(primary)
    return {m: next(iter(p)) for m, p in owners.items() if len(p) == 1 and next(iter(p)) != m}
