"""Alert rules: conditions over events and the vessels in them, written in TOML by an analyst.

A rules file holds ``[[rules]]`` tables; every condition given must hold (AND), a condition left out holds always::

    [[rules]]
    id = "dark-near-supplier-terminal"
    severity = "high"                      # low, medium, high
    description = "A KP-flagged or listed tanker goes dark near a Russian or Chinese oil terminal"
    types = ["ais_gap"]                    # event types (events.EVENT_TYPES)
    vessel = ["flag:KP", "listed"]         # any of: flag:XX (MMSI MID), listed (screening hit), mmsi:N;
                                           #   an encounter matches when either vessel does
    place_kinds = ["berth", "terminal"]    # the places the rule is about: ids, kinds, countries, minus tags
    place_countries = ["RU", "CN"]
    place_exclude_tags = ["COAL"]
    near_km = 60.0                         # 0: the event's own place must be one of them; > 0: the event's
                                           #   position (where a gap began) within this distance of one
    inferred = true                        # only inferred (dark) events; false: only seen ones
    min_duration_h = 6.0                   # open events count the time so far
    state = "any"                          # open (still going on), closed, any
    min_draught_change_m = 0.5             # the type-5 draught after the event differs from the one before
                                           #   by at least this much (a gap: went dark light, came back loaded)

Without ``--rules`` the built-in rules of the reference case apply (``DEFAULT_RULES``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from shadowfleet.cases.config import DEFAULTS as CASES
from shadowfleet.config import read_toml
from shadowfleet.errors import ShadowfleetError
from shadowfleet.events import EVENT_TYPES
from shadowfleet.events.config import EventsConfig

SEVERITIES = ("low", "medium", "high")
STATES = ("open", "closed", "any")
_EVENTS = EventsConfig()


@dataclass(frozen=True)
class Rule:
    id: str
    description: str = ""
    severity: str = "medium"
    types: tuple[str, ...] = ()
    vessel: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    place_kinds: tuple[str, ...] = ()
    place_countries: tuple[str, ...] = ()
    place_exclude_tags: tuple[str, ...] = ()
    near_km: float = 0.0
    inferred: bool | None = None
    min_duration_h: float = 0.0
    state: str = "any"
    min_draught_change_m: float = 0.0

    @property
    def has_place(self) -> bool:
        return bool(self.places or self.place_kinds or self.place_countries)


# Built-in rules for the reference case (Vostochny 2024). A supplier terminal is what the cases stage calls a load
# terminal: a berth or terminal in a supplier country, dry-cargo berths excluded (cases.config).
_SUPPLIER = dict(place_kinds=CASES.load_place_kinds, place_countries=CASES.supplier_countries,
                 place_exclude_tags=CASES.dry_cargo_tags)
_KP_OR_LISTED = (f"flag:{CASES.destination_country}", "listed")
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        id="dark-near-supplier-terminal", severity="high",
        description="A KP-flagged or listed vessel went dark near a Russian or Chinese oil terminal",
        types=("ais_gap",), vessel=_KP_OR_LISTED, **_SUPPLIER,
        # cases.dark_gap_near_km: switching off this close hides the approach and the stay at the berth
        near_km=CASES.dark_gap_near_km,
        min_duration_h=_EVENTS.ais_gap.min_gap_h,  # GFW pipe-gaps: a gap is > 6 h
    ),
    Rule(
        id="encounter-kp-or-listed", severity="high",
        description="An encounter involving a KP-flagged or listed vessel (UNSCR 2375 OP11 bans STS with DPRK ships)",
        types=("encounter",), vessel=_KP_OR_LISTED,
    ),
    Rule(
        id="loaded-dark-near-supplier-terminal", severity="high",
        description="A KP-flagged or listed vessel went dark near a Russian or Chinese oil terminal and its type-5 "
                    "draught after the gap differs from the one before: loaded (or discharged) with AIS off",
        types=("ais_gap",), vessel=_KP_OR_LISTED, **_SUPPLIER, near_km=CASES.dark_gap_near_km,
        min_duration_h=_EVENTS.ais_gap.min_gap_h,
        # docs/reference.md draught_change: a change of >= 0.5 m between type-5 reports (the events stage's own)
        min_draught_change_m=_EVENTS.draught_change.min_change_m,
    ),
    Rule(
        id="dark-port-call-supplier-terminal", severity="high",
        description="A port call with AIS off (inferred) at or beside a supplier oil terminal",
        types=("port_call",), inferred=True, **_SUPPLIER,
        near_km=_EVENTS.port_call.inferred_max_km,  # both gap ends within 5 km of the place (events config)
    ),
)

_FIELDS = {f.name: f for f in dataclasses.fields(Rule)}


def load_rules(path: str | Path | None) -> tuple[Rule, ...]:
    """The rules of a TOML file (``[[rules]]`` tables), or the built-in ones when ``path`` is None. Every mistake
    (unknown key, wrong type, unknown event type, duplicate id) is one ShadowfleetError naming the rule."""
    if path is None:
        return DEFAULT_RULES
    p = Path(path)
    doc = read_toml(p, "rules")
    unknown_top = sorted(set(doc) - {"rules"})
    if unknown_top:
        raise ShadowfleetError(f"{p}: unknown section(s) {', '.join(unknown_top)}; rules go in [[rules]] tables")
    raw = doc.get("rules", [])
    if not isinstance(raw, list) or not raw:
        raise ShadowfleetError(f"{p}: no [[rules]] tables")
    rules = [_rule(r, i, p) for i, r in enumerate(raw, start=1)]
    ids = [r.id for r in rules]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ShadowfleetError(f"{p}: rule id(s) used twice: {', '.join(dup)}")
    return tuple(rules)


def _rule(raw, i: int, p: Path) -> Rule:
    where = f"{p}: rule {i}"
    if not isinstance(raw, dict):
        raise ShadowfleetError(f"{where}: not a table")
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise ShadowfleetError(f"{where}: unknown key(s) {', '.join(unknown)}")
    if not isinstance(raw.get("id"), str) or not raw["id"].strip() or len(raw["id"]) > 80:
        raise ShadowfleetError(f"{where}: needs an id (text, at most 80 characters)")
    values = {}
    for k, v in raw.items():
        default = _FIELDS[k].default
        if k == "inferred":
            if not isinstance(v, bool):
                raise ShadowfleetError(f"{where}: inferred must be true or false")
        elif isinstance(default, tuple):
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise ShadowfleetError(f"{where}: {k} must be a list of text")
            v = tuple(v)
        elif isinstance(default, float):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ShadowfleetError(f"{where}: {k} must be a number >= 0")
            v = float(v)
        elif not isinstance(v, str):
            raise ShadowfleetError(f"{where}: {k} must be text")
        values[k] = v
    rule = Rule(**values)
    bad_types = sorted(set(rule.types) - set(EVENT_TYPES))
    if bad_types:
        raise ShadowfleetError(f"{where}: unknown event type(s) {', '.join(bad_types)} (known: {', '.join(EVENT_TYPES)})")
    if rule.severity not in SEVERITIES:
        raise ShadowfleetError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    if rule.state not in STATES:
        raise ShadowfleetError(f"{where}: state must be one of {', '.join(STATES)}")
    for cond in rule.vessel:
        kind, _, arg = cond.partition(":")
        ok = (cond == "listed") or (kind == "flag" and len(arg) == 2 and arg.isalpha()) or (kind == "mmsi" and arg.isdigit())
        if not ok:
            raise ShadowfleetError(f"{where}: vessel condition {cond!r} is not flag:XX, listed or mmsi:N")
    if rule.near_km and not rule.has_place:
        raise ShadowfleetError(f"{where}: near_km needs places, place_kinds or place_countries")
    return rule


# ---- evaluation --------------------------------------------------------------------------------------------------
MATCH_SCHEMA = {"rule": pl.Utf8, "event_id": pl.Utf8, "severity": pl.Utf8, "near_place": pl.Utf8,
                "near_km": pl.Float64, "reasons": pl.Utf8}


def match_rules(events: pl.DataFrame, vessels: pl.DataFrame, rules: tuple[Rule, ...], places) -> pl.DataFrame:
    """One row per (rule, event) that holds: rule, event_id, severity, near_place/near_km (the place the rule is
    about) and the reasons in words (JSON list).

    ``events``: the events table plus ``open`` (bool) and ``duration_h``; ``vessels``: mmsi, flag, listed,
    list_names; ``places``: a shadowfleet.places.Places."""
    out = [_match(events, vessels, r, places) for r in rules]
    out = [o for o in out if o.height]
    return pl.concat(out) if out else pl.DataFrame(schema=MATCH_SCHEMA)


def _vessel_side(vessels: pl.DataFrame, rule: Rule, col: str) -> pl.DataFrame:
    """mmsi → (matches, reason) for the rule's vessel conditions, joined on ``col``."""
    v = vessels.rename({"mmsi": col})
    conds, texts = [], []
    for cond in rule.vessel:
        kind, _, arg = cond.partition(":")
        if cond == "listed":
            c = pl.col("listed").fill_null(False)
            t = pl.lit("on a sanctions list (") + pl.col("list_names").fill_null("") + pl.lit(")")
        elif kind == "flag":
            c = pl.col("flag").fill_null("") == arg.upper()
            t = pl.lit(f"{arg.upper()}-flagged (MMSI country code)")
        else:
            c = pl.col(col) == int(arg)
            t = pl.lit(f"MMSI {arg} is watched")
        conds.append(c)
        texts.append(pl.when(c).then(t))
    return v.select(
        col,
        pl.any_horizontal(conds).alias("ok"),
        pl.concat_list(texts).list.drop_nulls().alias("why"),
    )


def _match(events: pl.DataFrame, vessels: pl.DataFrame, rule: Rule, places) -> pl.DataFrame:
    ev = events
    if rule.types:
        ev = ev.filter(pl.col("type").is_in(list(rule.types)))
    if rule.inferred is not None:
        ev = ev.filter(pl.col("inferred").fill_null(False) == rule.inferred)
    if rule.state != "any":
        ev = ev.filter(pl.col("open") == (rule.state == "open"))
    if rule.min_duration_h:
        ev = ev.filter(pl.col("duration_h") >= rule.min_duration_h)
    if rule.min_draught_change_m:
        ev = ev.filter(_draught_change(ev) >= rule.min_draught_change_m)
    if ev.height == 0:
        return pl.DataFrame(schema=MATCH_SCHEMA)
    ev = ev.with_columns(pl.lit([], pl.List(pl.Utf8)).alias("why"))
    if rule.vessel:
        a = _vessel_side(vessels, rule, "mmsi")
        a = a.rename({"why": "why_a"})
        b = _vessel_side(vessels, rule, "other_mmsi").rename({"ok": "ok_b", "why": "why_b"})
        ev = ev.join(a, on="mmsi", how="left").join(b, on="other_mmsi", how="left")
        ev = ev.filter(pl.col("ok").fill_null(False) | pl.col("ok_b").fill_null(False))
        ev = ev.with_columns(pl.concat_list(
            pl.col("why"),
            pl.when(pl.col("ok").fill_null(False)).then(
                pl.col("why_a").list.eval(pl.lit("vessel ") + pl.element())).otherwise(pl.lit([], pl.List(pl.Utf8))),
            pl.when(pl.col("ok_b").fill_null(False)).then(
                pl.col("why_b").list.eval(pl.lit("other vessel ") + pl.element())).otherwise(pl.lit([], pl.List(pl.Utf8))),
        ).alias("why")).drop("ok", "ok_b", "why_a", "why_b")
    near_place = pl.Series("near_place", [None] * ev.height, dtype=pl.Utf8)
    near_km = pl.Series("near_km", [None] * ev.height, dtype=pl.Float64)
    if rule.has_place:
        subset = _place_subset(places, rule)
        if subset is None:
            return pl.DataFrame(schema=MATCH_SCHEMA)
        if rule.near_km > 0:
            ids, dist = subset.within_km(ev["lat"].to_numpy(), ev["lon"].to_numpy(), rule.near_km, kinds=None)
            near_place = pl.Series("near_place", list(ids), dtype=pl.Utf8)
            near_km = pl.Series("near_km", np.asarray(dist, dtype=float), dtype=pl.Float64).fill_nan(None)
        else:
            ok_ids = subset.table["id"]
            near_place = ev.select(pl.when(pl.col("place").is_in(ok_ids.implode())).then(pl.col("place")))["place"]
            near_km = pl.Series("near_km", [0.0] * ev.height, dtype=pl.Float64)
        ev = ev.with_columns(near_place.alias("near_place"), near_km.alias("near_km")).filter(
            pl.col("near_place").is_not_null())
    else:
        ev = ev.with_columns(near_place.alias("near_place"), near_km.alias("near_km"))
    if ev.height == 0:
        return pl.DataFrame(schema=MATCH_SCHEMA)
    return ev.with_columns(
        pl.lit(rule.id).alias("rule"), pl.lit(rule.severity).alias("severity"),
        pl.concat_list(pl.col("why"), _event_words(rule, ev)).alias("why"),
    ).with_columns(pl.col("why").list.eval(_json_text(pl.element())).list.join(",").alias("reasons")).select(
        "rule", "event_id", "severity", "near_place", "near_km",
        (pl.lit("[") + pl.col("reasons") + pl.lit("]")).alias("reasons"))


def _place_subset(places, rule: Rule):
    if places is None:
        return None
    t = places.table
    mask = pl.lit(True)
    if rule.places:
        mask = mask & pl.col("id").is_in(list(rule.places))
    if rule.place_kinds:
        mask = mask & pl.col("kind").is_in(list(rule.place_kinds))
    if rule.place_countries:
        mask = mask & pl.col("country").is_in(list(rule.place_countries))
    label = pl.concat_str(pl.col("id").fill_null(""), pl.lit(" "), pl.col("name").fill_null("")).str.to_uppercase()
    for tag in rule.place_exclude_tags:
        mask = mask & ~label.str.contains(tag.upper(), literal=True)
    ids = t.filter(mask)["id"].to_list()
    return places.subset(ids) if ids else None


def _draught_change(ev: pl.DataFrame) -> pl.Expr:
    """|draught after - draught before| across the event (live.detection.with_draught_across adds the column;
    without it, a draught_change event's own figure)."""
    if "draught_change_m" in ev.columns:
        d = pl.col("draught_change_m")
    else:
        d = pl.col("details").str.json_path_match("$.change_m").cast(pl.Float64, strict=False)
    return d.abs().fill_null(0.0)


def _event_words(rule: Rule, ev: pl.DataFrame) -> pl.Expr:
    """The event itself in words: what, how long, where relative to the rule's place."""
    dur = pl.format("{} h", pl.col("duration_h").round(1))
    state = pl.when(pl.col("open")).then(pl.lit(" so far, still going on")).otherwise(pl.lit(""))
    what = (pl.col("type").str.replace_all("_", " ") + pl.lit(" of ") + dur + state)
    what = pl.when(pl.col("inferred").fill_null(False)).then(pl.lit("inferred (AIS off) ") + what).otherwise(what)
    parts = [what]
    if rule.has_place:
        if rule.near_km > 0:
            parts.append(pl.format("position {} km from {}", pl.col("near_km").round(1), pl.col("near_place")))
        else:
            parts.append(pl.lit("at ") + pl.col("near_place"))
    if rule.min_draught_change_m:
        parts.append(pl.format("type-5 draught {} m before, {} m after", pl.col("draught_before"),
                               pl.col("draught_after")) if "draught_before" in ev.columns else
                     pl.format("draught changed by {} m", _draught_change(ev)))
    return pl.concat_list(parts)


def _json_text(e: pl.Expr) -> pl.Expr:
    return pl.lit('"') + e.str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True) \
        + pl.lit('"')


def rules_to_json(rules: tuple[Rule, ...]) -> str:
    return json.dumps([dataclasses.asdict(r) for r in rules], indent=1)
