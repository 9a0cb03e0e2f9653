"""Scoring stored events (and cases) against the simulator's truth.

Matching is one-to-one per event type: candidate pairs are joined on (type, vessel or unordered vessel pair),
kept when the time and place rules of EvalConfig hold, then taken greedily best first — visible truth before
invisible, larger interval overlap (IoU) first, exact place before nested place, smaller start error first.
Greedy by best overlap is not the optimal assignment, but true events of one vessel and type do not overlap each
other, so conflicts are rare and the greedy choice is the one a reader would make by hand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.evaluate.config import DEFAULT, EvalConfig
from shadowfleet.places import Places, as_places, load_places
from shadowfleet.evaluate.truth import load_truth, parse_times, truth_events, truth_voyages, vessel_keys
from shadowfleet.output import utc_text
from shadowfleet.events.main import EVENT_TYPES  # the contract's event types, in the order reports list them
from shadowfleet.store import Store
from shadowfleet.store.schema import UTC_TS, empty

_NO_PARTNER = -1  # k2 of events that are not between two vessels


@dataclass
class TypeScore:
    type: str
    truth: int = 0  # true events of this type
    visible: int = 0  # of which AIS could see (directly or by inference): the recall denominator
    invisible: int = 0
    detected: int = 0  # stored events (encounters written once per vessel counted once)
    tp: int = 0
    fp: int = 0
    fn: int = 0
    matched_invisible: int = 0  # detections matching a truth event AIS could not see: not counted as fp
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    inferred_visible: int = 0  # visible true events that only an inference can find (AIS off)
    inferred_tp: int = 0
    place_exact: int | None = None  # tp whose place id is identical (rest matched port vs berth)
    median_start_error_s: float | None = None
    missed_reasons: dict[str, int] = field(default_factory=dict)  # why the fn were missed (see _why)
    false_reasons: dict[str, int] = field(default_factory=dict)  # what the fp were
    missed: list[dict] = field(default_factory=list)  # visible truth events not found (fn), with a reason
    false: list[dict] = field(default_factory=list)  # stored events matching no truth event (fp), with a reason
    matches: list[dict] = field(default_factory=list)

    def finish(self) -> "TypeScore":
        self.precision = _ratio(self.tp, self.tp + self.fp)
        self.recall = _ratio(self.tp, self.tp + self.fn)
        self.f1 = _f1(self.tp, self.fp, self.fn)
        return self


@dataclass
class CaseScore:
    voyages: int = 0
    visible: int = 0
    invisible: int = 0
    cases: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    matched_invisible: int = 0
    claims: int = 0  # cases bound for the ledger country (EvalConfig.ledger_country): what precision is about
    unlisted: int = 0  # other cases matching no truth voyage: legitimate trade the truth does not list, not scored
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    median_abs_pct_error: float | None = None  # barrels central vs truth, matched voyages
    coverage: float | None = None  # share of matched voyages whose true barrels lie in [low, high]
    per_voyage: list[dict] = field(default_factory=list)
    per_month: list[dict] = field(default_factory=list)
    false: list[dict] = field(default_factory=list)


@dataclass
class VesselScore:
    """Spoofing scored per planted vessel: a vessel is found when any spoofing event names it (one incident may be
    told by several rules, and what matters to an investigator is which ship lies about its position); a false
    accusation is a vessel with spoofing events and no true spoofing at all."""

    planted: int = 0  # vessels with a true spoofing event
    visible: int = 0  # of which at least one AIS could see: the recall denominator
    accused: int = 0  # vessels with at least one detected spoofing event
    tp: int = 0
    fp: int = 0
    fn: int = 0
    precision: float | None = None
    recall: float | None = None
    missed: list[int] = field(default_factory=list)
    false: list[int] = field(default_factory=list)


@dataclass
class EvalReport:
    scenario: str | None
    seed: Any
    config: dict
    types: dict[str, TypeScore]
    overall: TypeScore
    cases: CaseScore | None = None
    notes: list[str] = field(default_factory=list)
    spoofing_vessels: VesselScore | None = None

    def to_dict(self) -> dict:
        return _jsonable(dataclasses.asdict(self))


def evaluate(
    truth: str | Path | dict,
    store: Store | str | Path,
    places: Places | None = None,
    config: EvalConfig = DEFAULT,
) -> EvalReport:
    """Score the store's `events` (and `cases`, when present) against the truth.

    ``places``: the gazetteer the simulation used, to know which berth lies in which port; by default the
    places.geojson beside truth.json, else the built-in gazetteer.
    """
    doc = load_truth(truth)
    if not isinstance(store, Store):
        store = Store(store, create=False)
    if places is None and not isinstance(truth, dict):
        beside = Path(truth).with_name("places.geojson")
        places = load_places(beside) if beside.is_file() else None
    places = as_places(places)

    tev = truth_events(doc)
    det = _stored("events", store)
    missing = {"event_id", "type", "mmsi", "start"} - set(det.columns)
    if missing:
        raise ShadowfleetError(f"store events table lacks column(s): {', '.join(sorted(missing))}")
    det = parse_times(det, ["start", "end"], "stored event", "event_id")
    usable = pl.col("type").is_not_null() & pl.col("mmsi").is_not_null() & pl.col("start").is_not_null()
    n_bad = det.height - det.filter(usable).height
    det = det.filter(usable).with_columns(pl.col("end").fill_null(pl.col("start")))

    cases_df = _stored("cases", store)
    nest = places.nesting()

    keymap = vessel_keys(doc) if config.match_vessel_identities else {}
    notes: list[str] = []
    if n_bad:
        notes.append(f"{n_bad} stored event row(s) without type, mmsi or start: not scored")
    t = _keyed(tev, keymap)
    d = _keyed(det, keymap)
    t, n_t = _collapse_pair_duplicates(t)
    d, n_d = _collapse_pair_duplicates(d)
    if n_d:
        notes.append(f"{n_d} stored encounter row(s) repeat another row's vessel pair and times (one per vessel): counted once")
    if n_t:
        notes.append(f"{n_t} truth encounter row(s) repeat another row's vessel pair and times: counted once")

    matched = _match_events(t, d, nest, config)
    types = _type_scores(t, d, matched, config)
    overall = _overall(types)

    cases = None
    if cases_df.height or store.files("cases"):
        cases = _score_cases(doc, tev, cases_df, keymap, nest, config)
    elif doc.get("voyages"):
        notes.append("truth has voyages but the store has no cases table: barrels not scored")

    return EvalReport(
        scenario=doc.get("scenario"),
        seed=doc.get("seed"),
        config=dataclasses.asdict(config),
        types=types,
        overall=overall,
        cases=cases,
        notes=notes,
        spoofing_vessels=_spoofing_vessels(t, d),
    )


def _spoofing_vessels(t: pl.DataFrame, d: pl.DataFrame) -> VesselScore:
    tv = t.filter(pl.col("type") == "spoofing")
    every = set(tv["k1"].to_list())
    seen = set(tv.filter(pl.col("visible"))["k1"].to_list())
    accused = set(d.filter(pl.col("type") == "spoofing")["k1"].to_list())
    s = VesselScore(planted=len(every), visible=len(seen), accused=len(accused))
    s.tp = len(seen & accused)
    s.fp = len(accused - every)  # a vessel whose spoofing AIS could not see is no false accusation
    s.fn = len(seen - accused)
    s.precision = _ratio(len(accused & every), len(accused))
    s.recall = _ratio(s.tp, s.visible)
    s.missed, s.false = sorted(seen - accused), sorted(accused - every)
    return s


# ---- events ----------------------------------------------------------------------------------------------------


def _stored(table: str, store: Store) -> pl.DataFrame:
    files = store.files(table)
    if not files:
        return empty(table) if table == "events" else pl.DataFrame()
    return store.scan(table).collect()  # through the store, so a damaged part file is named, not a traceback


def _vessel(col: str, keymap: dict[int, int]) -> pl.Expr:
    e = pl.col(col).cast(pl.Int64, strict=False)
    return e.replace(keymap) if keymap else e


def _keyed(df: pl.DataFrame, keymap: dict[int, int]) -> pl.DataFrame:
    """Add the vessel keys: k1 = vessel, k2 = -1; encounters: (k1, k2) = the unordered pair, smaller first."""
    if "other_mmsi" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.Int64).alias("other_mmsi"))
    if "place" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.Utf8).alias("place"))
    a, b = _vessel("mmsi", keymap), _vessel("other_mmsi", keymap)
    pair = (pl.col("type") == "encounter") & pl.col("other_mmsi").is_not_null()
    return df.with_columns(
        pl.when(pair).then(pl.min_horizontal(a, b)).otherwise(a).alias("k1"),
        pl.when(pair).then(pl.max_horizontal(a, b)).otherwise(pl.lit(_NO_PARTNER, dtype=pl.Int64)).alias("k2"),
    )


def _collapse_pair_duplicates(df: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    enc = df.filter(pl.col("type") == "encounter")
    if enc.height == 0:
        return df, 0
    kept = enc.unique(subset=["k1", "k2", "start", "end"], keep="first", maintain_order=True)
    dropped = enc.height - kept.height
    if not dropped:
        return df, 0
    return pl.concat([df.filter(pl.col("type") != "encounter"), kept], how="vertical_relaxed"), dropped


def _seconds(e: pl.Expr) -> pl.Expr:
    return e.dt.total_microseconds().cast(pl.Float64) / 1e6


def _place_ok(a: str, b: str, nest: set[tuple[str, str]]) -> pl.Expr:
    """Same place id, or one nested in the other (either way), or both unknown."""
    pairs = sorted({f"{i}|{o}" for i, o in nest} | {f"{o}|{i}" for i, o in nest})
    key = pl.concat_str([pl.col(a), pl.lit("|"), pl.col(b)])
    return (
        (pl.col(a) == pl.col(b)).fill_null(False)
        | key.is_in(pairs).fill_null(False)
        | (pl.col(a).is_null() & pl.col(b).is_null())
    )


def _greedy(cand: pl.DataFrame, left: str, right: str) -> pl.DataFrame:
    """One-to-one pairs from candidates already sorted best first (a loop over candidate pairs, not positions)."""
    used_l: set = set()
    used_r: set = set()
    keep = []
    for i, (lv, rv) in enumerate(zip(cand[left].to_list(), cand[right].to_list())):
        if lv in used_l or rv in used_r:
            continue
        used_l.add(lv)
        used_r.add(rv)
        keep.append(i)
    return cand[keep] if keep else cand.clear()


def _match_events(t: pl.DataFrame, d: pl.DataFrame, nest, cfg: EvalConfig) -> pl.DataFrame:
    tr = t.select(
        pl.col("id"), "type", "k1", "k2",
        pl.col("start").alias("t_start"), pl.col("end").alias("t_end"), pl.col("place").alias("t_place"),
        "visible", "inferred",
    )
    dd = d.select("event_id", "type", "k1", "k2", "start", "end", "place")
    cand = dd.join(tr, on=["type", "k1", "k2"], how="inner")
    if cand.height == 0:
        return cand.with_columns(pl.lit(None, dtype=pl.Float64).alias("start_error_s"), pl.lit(None, dtype=pl.Boolean).alias("place_exact"))
    overlap = _seconds(pl.min_horizontal("end", "t_end") - pl.max_horizontal("start", "t_start"))
    union = _seconds(pl.max_horizontal("end", "t_end") - pl.min_horizontal("start", "t_start"))
    dstart = _seconds(pl.col("start") - pl.col("t_start")).abs()
    tol = pl.max_horizontal(pl.lit(cfg.min_time_tolerance_s), cfg.time_tolerance_frac * _seconds(pl.col("t_end") - pl.col("t_start")))
    instant = (pl.col("end") == pl.col("start")) | (pl.col("t_end") == pl.col("t_start"))
    cand = cand.with_columns(
        overlap.alias("_ov"),
        # an instant (an identity change, a draught change) inside the other's interval is a meeting: overlap 0
        ((overlap > 0) | (instant & (overlap >= 0))).alias("_meet"),
        pl.when(union > 0).then(overlap.clip(lower_bound=0) / union).otherwise(1.0).alias("_iou"),
        dstart.alias("start_error_s"),
        tol.alias("_tol"),
        (pl.col("place") == pl.col("t_place")).fill_null(pl.col("place").is_null() & pl.col("t_place").is_null()).alias("place_exact"),
        (~pl.col("type").is_in(list(cfg.place_types)) | _place_ok("place", "t_place", nest)).alias("_place_ok"),
    )
    cand = cand.filter((pl.col("_meet") | (pl.col("start_error_s") <= pl.col("_tol"))) & pl.col("_place_ok"))
    cand = cand.sort(
        ["visible", "_iou", "_meet", "place_exact", "start_error_s", "event_id", "id"],
        descending=[True, True, True, True, False, False, False],
    )
    return _greedy(cand, "event_id", "id")


def _iso(v):
    return utc_text(v) if isinstance(v, dt.datetime) else v


def _brief(df: pl.DataFrame, cols: list[str]) -> list[dict]:
    cols = [c for c in cols if c in df.columns]
    return [{k: _iso(v) for k, v in r.items()} for r in df.select(cols).iter_rows(named=True)]


# Event types that describe what a vessel is doing over a period, so one can be mistaken for another (a dark
# port call seen as an AIS gap, a port call as loitering); draught, identity and spoofing events are instants or
# facts about the reports and happen during any of them.
_STATES = ["port_call", "ais_gap", "encounter", "loitering"]

# ours: a detection of the right vessel and type this close to a true event is "the same event, timed wrong"
NEAR_MISS_S = 24 * 3600.0


def _why(rows: pl.DataFrame, rid: str, other: pl.DataFrame, oid: str, taken: set, labels: dict[str, str]) -> pl.DataFrame:
    """A reason per unmatched row, from the other side's events of the same vessel (first that applies):
    same type overlapping but its partner was matched elsewhere (`taken`), same type overlapping (so the place
    rule refused it), same type within a day, another type overlapping, nothing."""
    if rows.height == 0:
        return rows.with_columns(pl.lit(None, dtype=pl.Utf8).alias("reason"))
    o = other.select(pl.col(oid).alias("_oid"), pl.col("type").alias("_otype"), pl.col("k1").alias("_k1"),
                     pl.col("k2").alias("_ok2"), pl.col("start").alias("_os"), pl.col("end").alias("_oe"))
    c = rows.select(rid, "type", "k1", "k2", "start", "end").join(o, left_on="k1", right_on="_k1", how="inner")
    ov = _seconds(pl.min_horizontal("end", "_oe") - pl.max_horizontal("start", "_os"))
    instant = (pl.col("end") == pl.col("start")) | (pl.col("_oe") == pl.col("_os"))
    ov = pl.when(instant & (ov >= 0)).then(pl.lit(1.0)).otherwise(ov)  # an instant inside the other's interval
    gap = _seconds(pl.col("start") - pl.col("_os")).abs()
    same = (pl.col("type") == pl.col("_otype")) & (pl.col("k2") == pl.col("_ok2"))
    c = c.with_columns(
        (same & (ov > 0) & pl.col("_oid").is_in(list(taken))).alias("_f_taken"),
        (same & (ov > 0)).alias("_f_place"),
        (same & (gap <= NEAR_MISS_S)).alias("_f_time"),
        (~same & (ov > 0) & pl.col("type").is_in(_STATES) & pl.col("_otype").is_in(_STATES)).alias("_f_type_"),
    )
    flags = c.group_by(rid).agg(pl.col("_f_taken", "_f_place", "_f_time", "_f_type_").any())
    reason = (
        pl.when(pl.col("_f_taken")).then(pl.lit(labels["taken"]))
        .when(pl.col("_f_place")).then(pl.lit(labels["place"]))
        .when(pl.col("_f_time")).then(pl.lit(labels["time"]))
        .when(pl.col("_f_type_")).then(pl.lit(labels["type"]))
        .otherwise(pl.lit(labels["none"]))
    )
    return rows.join(flags, on=rid, how="left").with_columns(
        pl.col("_f_taken", "_f_place", "_f_time", "_f_type_").fill_null(False)
    ).with_columns(reason.alias("reason")).drop("_f_taken", "_f_place", "_f_time", "_f_type_")


_MISSED = {"taken": "its detection matched another true event (merged)", "place": "detected at another place",
           "time": "detected, but timed more than the tolerance off", "type": "detected as another type",
           "none": "not detected"}
_FALSE = {"taken": "second detection of a found event (split or duplicate)", "place": "true event at another place",
          "time": "true event more than the tolerance off", "type": "another type is true there",
          "none": "no true event of this vessel then"}


def _type_scores(t: pl.DataFrame, d: pl.DataFrame, m: pl.DataFrame, cfg: EvalConfig) -> dict[str, TypeScore]:
    matched_truth = set(m["id"].to_list())
    matched_det = set(m["event_id"].to_list())
    missed_all = _why(t.filter(pl.col("visible") & ~pl.col("id").is_in(list(matched_truth))), "id", d, "event_id", matched_det, _MISSED)
    false_all = _why(d.filter(~pl.col("event_id").is_in(list(matched_det))), "event_id", t, "id", matched_truth, _FALSE)
    present = set(t["type"].to_list()) | set(d["type"].to_list())
    order = [x for x in EVENT_TYPES if x in present] + sorted(present - set(EVENT_TYPES))
    out = {}
    for typ in order:
        tt, dd, mm = (f.filter(pl.col("type") == typ) for f in (t, d, m))
        mv = mm.filter(pl.col("visible"))
        s = TypeScore(type=typ)
        s.truth = tt.height
        s.visible = int(tt["visible"].sum())
        s.invisible = s.truth - s.visible
        s.detected = dd.height
        s.tp = mv.height
        s.matched_invisible = mm.height - mv.height
        s.fp = dd.height - mm.height
        s.fn = s.visible - s.tp
        vis_inf = tt.filter(pl.col("visible") & pl.col("inferred"))
        s.inferred_visible = vis_inf.height
        s.inferred_tp = int(mv["inferred"].sum()) if mv.height else 0
        if typ in cfg.place_types and mv.height:
            s.place_exact = int(mv["place_exact"].sum())
        if mv.height:
            s.median_start_error_s = float(mv["start_error_s"].median())
        missed = missed_all.filter(pl.col("type") == typ)
        false = false_all.filter(pl.col("type") == typ)
        s.missed_reasons = _counts(missed)
        s.false_reasons = _counts(false)
        s.missed = _brief(missed, ["id", "mmsi", "other_mmsi", "start", "end", "place", "inferred", "reason"])
        s.false = _brief(false, ["event_id", "mmsi", "other_mmsi", "start", "end", "place", "reason"])
        s.matches = _brief(mm, ["id", "event_id", "visible", "start_error_s", "place", "t_place"])
        out[typ] = s.finish()
    return out


def _counts(df: pl.DataFrame) -> dict[str, int]:
    if df.height == 0:
        return {}
    vc = df.group_by("reason").len().sort(["len", "reason"], descending=[True, False])
    return dict(zip(vc["reason"].to_list(), vc["len"].to_list()))


def _overall(types: dict[str, TypeScore]) -> TypeScore:
    s = TypeScore(type="all")
    for x in types.values():
        for f in ("truth", "visible", "invisible", "detected", "tp", "fp", "fn", "matched_invisible", "inferred_visible", "inferred_tp"):
            setattr(s, f, getattr(s, f) + getattr(x, f))
    return s.finish()


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _f1(tp: int, fp: int, fn: int) -> float | None:
    """2tp / (2tp + fp + fn): the harmonic mean of precision and recall, and 0 (not undefined) when nothing was
    detected but something was missed."""
    return _ratio(2 * tp, 2 * tp + fp + fn)


# ---- cases -----------------------------------------------------------------------------------------------------

_CASE_COLS = {
    "case_id": pl.Utf8,
    "mmsi": pl.Int64,
    "load_place": pl.Utf8,
    "load_start": UTC_TS,
    "load_end": UTC_TS,
    "discharge_place": pl.Utf8,
    "discharge_start": UTC_TS,
    "discharge_end": UTC_TS,
    "barrels_low": pl.Float64,
    "barrels_central": pl.Float64,
    "barrels_high": pl.Float64,
    "destination_country": pl.Utf8,
}


def _score_cases(doc, tev: pl.DataFrame, cases: pl.DataFrame, keymap, nest, cfg: EvalConfig) -> CaseScore:
    missing = {"case_id", "mmsi", "load_start", "barrels_central"} - set(cases.columns)
    if missing:
        raise ShadowfleetError(f"store cases table lacks column(s): {', '.join(sorted(missing))}")
    cases = parse_times(cases, ["load_start", "load_end", "discharge_start", "discharge_end"], "case", "case_id")
    has_destination = "destination_country" in cases.columns
    cases = cases.select(
        [pl.col(c).cast(t, strict=False) if c in cases.columns else pl.lit(None, dtype=t).alias(c) for c, t in _CASE_COLS.items()]
    ).with_columns(
        pl.col("load_end").fill_null(pl.col("load_start")),
        _vessel("mmsi", keymap).alias("k1"),
        ((pl.col("destination_country") == cfg.ledger_country).fill_null(False) if has_destination else pl.lit(True)).alias("claim"),
    )

    voy = truth_voyages(doc)
    ev = tev.select("id", "start", "end", "visible")
    voy = (
        voy.join(ev.rename({"id": "load_event", "start": "l_start", "end": "l_end", "visible": "l_vis"}), on="load_event", how="left")
        .join(ev.rename({"id": "discharge_event", "start": "d_start", "end": "d_end", "visible": "d_vis"}), on="discharge_event", how="left")
        .with_columns(
            (pl.col("l_vis").fill_null(True) & pl.col("d_vis").fill_null(True)).alias("visible"),
            _vessel("mmsi", keymap).alias("k1"),
        )
    )
    tol = cfg.case_time_tolerance_s
    cand = cases.join(voy.rename({"id": "voyage_id", "mmsi": "v_mmsi", "load_place": "v_load_place", "discharge_place": "v_discharge_place"}), on="k1", how="inner")
    if cand.height:
        l_ov = _seconds(pl.min_horizontal("load_end", "l_end") - pl.max_horizontal("load_start", "l_start"))
        l_un = _seconds(pl.max_horizontal("load_end", "l_end") - pl.min_horizontal("load_start", "l_start"))
        l_d = _seconds(pl.col("load_start") - pl.col("l_start")).abs()
        d_ov = _seconds(pl.min_horizontal("discharge_end", "d_end") - pl.max_horizontal("discharge_start", "d_start"))
        d_un = _seconds(pl.max_horizontal("discharge_end", "d_end") - pl.min_horizontal("discharge_start", "d_start"))
        # the discharge belongs to this trip: after the true load began and no later than the tolerance after the
        # true discharge ended (a dark discharge is seen only when AIS returns; a ship may call at the port's
        # anchorage before its berth)
        same_trip = (pl.col("discharge_start") >= pl.coalesce("l_start", "d_start") - dt.timedelta(seconds=tol)) & (
            pl.col("discharge_start") <= pl.col("d_end") + dt.timedelta(seconds=tol)
        )
        either_unknown = pl.col("discharge_start").is_null() | pl.col("d_start").is_null()
        cand = cand.with_columns(
            # a truth voyage without a load event (cargo loaded before the run) is matched on its discharge
            (pl.col("l_start").is_null() | ((l_ov > 0) | (l_d <= tol)).fill_null(False)).alias("_load_ok"),
            (either_unknown | same_trip.fill_null(False)).alias("_dis_ok"),
            (pl.col("load_place").is_null() | pl.col("v_load_place").is_null() | _place_ok("load_place", "v_load_place", nest)).alias("_lp_ok"),
            (pl.col("discharge_place").is_null() | pl.col("v_discharge_place").is_null() | _place_ok("discharge_place", "v_discharge_place", nest)).alias("_dp_ok"),
            (
                pl.when(l_un > 0).then(l_ov.clip(lower_bound=0) / l_un).otherwise(1.0).fill_null(0.0)
                + pl.when(d_un > 0).then(d_ov.clip(lower_bound=0) / d_un).otherwise(1.0).fill_null(0.0)
            ).alias("_score"),
            l_d.alias("_ld"),
        )
        cand = cand.filter(pl.col("_load_ok") & pl.col("_dis_ok") & pl.col("_lp_ok") & pl.col("_dp_ok"))
        cand = cand.sort(["visible", "_score", "_ld", "case_id", "voyage_id"], descending=[True, True, False, False, False])
        m = _greedy(cand, "case_id", "voyage_id")
    else:
        m = cand

    s = CaseScore(voyages=voy.height, cases=cases.height, claims=int(cases["claim"].sum()))
    s.visible = int(voy["visible"].sum()) if voy.height else 0
    s.invisible = s.voyages - s.visible
    mv = m.filter(pl.col("visible")) if m.height else m
    s.tp = mv.height
    s.matched_invisible = m.height - mv.height
    unmatched = cases.filter(~pl.col("case_id").is_in(m["case_id"].to_list() if m.height else []))
    s.fp = int(unmatched["claim"].sum())
    s.unlisted = unmatched.height - s.fp
    s.fn = s.visible - s.tp
    s.precision, s.recall, s.f1 = _ratio(s.tp, s.tp + s.fp), _ratio(s.tp, s.tp + s.fn), _f1(s.tp, s.fp, s.fn)

    pairs = m.select("voyage_id", "case_id", "barrels_low", "barrels_central", "barrels_high") if m.height else pl.DataFrame(
        schema={"voyage_id": pl.Utf8, "case_id": pl.Utf8, "barrels_low": pl.Float64, "barrels_central": pl.Float64, "barrels_high": pl.Float64}
    )
    pv = (
        voy.select(pl.col("id").alias("voyage_id"), "mmsi", "month", "visible", pl.col("barrels").alias("barrels_true"))
        .join(pairs, on="voyage_id", how="left")
        .with_columns((pl.col("barrels_central") - pl.col("barrels_true")).alias("error_bbl"))
        .with_columns(
            pl.when(pl.col("barrels_true") > 0).then(100 * pl.col("error_bbl") / pl.col("barrels_true")).alias("error_pct"),
            ((pl.col("barrels_low") <= pl.col("barrels_true")) & (pl.col("barrels_true") <= pl.col("barrels_high"))).alias("in_range"),
        )
    )
    s.per_voyage = _brief(pv, pv.columns)
    scored = pv.filter(pl.col("case_id").is_not_null())
    if scored.height:
        err = scored["error_pct"].drop_nulls()
        s.median_abs_pct_error = float(err.abs().median()) if err.len() else None
        s.coverage = float(scored["in_range"].fill_null(False).mean())
    s.per_month = _per_month(doc, voy, cases.filter(pl.col("claim")))
    s.false = _brief(unmatched.filter(pl.col("claim")), ["case_id", "mmsi", "load_start", "discharge_start", "destination_country"])
    return s


def _per_month(doc, voy: pl.DataFrame, cases: pl.DataFrame) -> list[dict]:
    """Barrels delivered per month: every case bound for the ledger country (what the ledger would say, false
    cases included), by the month of its discharge, vs the truth's totals."""
    totals = ((doc.get("totals") or {}).get("barrels_delivered_by_month")) or None
    if isinstance(totals, dict) and totals:
        truth = pl.DataFrame({"month": list(totals), "barrels_true": [float(v) for v in totals.values()]})
    else:
        truth = voy.group_by("month").agg(pl.col("barrels").sum().alias("barrels_true")).drop_nulls("month")
    when = pl.coalesce("discharge_start", "load_end", "load_start")
    est = (
        cases.with_columns(when.dt.strftime("%Y-%m").alias("month"))
        .group_by("month")
        .agg(
            pl.col("barrels_low").sum().alias("est_low"),
            pl.col("barrels_central").sum().alias("est_central"),
            pl.col("barrels_high").sum().alias("est_high"),
            pl.len().alias("cases"),
        )
    )
    pm = (
        truth.join(est, on="month", how="full", coalesce=True)
        .with_columns(pl.col("barrels_true", "est_low", "est_central", "est_high").fill_null(0.0), pl.col("cases").fill_null(0))
        .with_columns(
            pl.when(pl.col("barrels_true") > 0).then(100 * (pl.col("est_central") - pl.col("barrels_true")) / pl.col("barrels_true")).alias("error_pct"),
            ((pl.col("est_low") <= pl.col("barrels_true")) & (pl.col("barrels_true") <= pl.col("est_high"))).alias("in_range"),
        )
        .sort("month")
    )
    return _brief(pm, pm.columns)


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and x != x:
        return None
    return _iso(x)
