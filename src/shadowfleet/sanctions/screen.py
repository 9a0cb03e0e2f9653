"""Screening the vessel registry — every identity each MMSI used over time — against the loaded lists.

Keys, strongest first: IMO (check digit valid) → MMSI → call sign (weak alone) → normalised fuzzy name, which
needs corroboration (flag, type, DPRK MID) and more of it for a common name. Each hit gets a score, a
plain-language explanation and the list version it came from; each vessel gets a risk with its reasons.
Scoring is documented in docs/sanctions.md.
"""

from __future__ import annotations

import json

import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.identity import mid_expr
from shadowfleet.sanctions.config import COMMON_VESSEL_NAMES, ScreeningConfig
from shadowfleet.sanctions.names import name_keys, normalise, similar_pairs
from shadowfleet.sanctions.store_io import list_entries
from shadowfleet.store import TABLES, Store, conform, empty

TABLE = "screening"

# List vessel types (free text) → the AIS categories of shadowfleet.identity.ship_type (ITU-R M.1371 Table 53).
_TYPE_WORDS = (("TANKER", "tanker"), ("TUG", "tug"), ("FISH", "fishing"), ("PASSENGER", "passenger"),
               ("CARGO", "cargo"), ("BULK", "cargo"), ("CONTAINER", "cargo"), ("ROLL-ON", "cargo"),
               ("PALLET", "cargo"), ("REEFER", "cargo"))
_AIS_CATEGORY = {"towing": "tug"}  # AIS "towing" (31, 32) and "tug" (52) are one kind of ship for matching


def screen(store: Store, config: ScreeningConfig | None = None) -> pl.DataFrame:
    """Screen the store's registry against its loaded lists; writes and returns table ``screening``."""
    from shadowfleet.registry.identities import identity_history  # the registry: one row per stay in an identity

    entries = list_entries(store)
    if entries.height == 0:
        raise ShadowfleetError(f"no sanctions lists in {store.root}; load some with `shadowfleet lists load`")
    result = screen_identities(identity_history(store), entries, config)
    store.replace(TABLE, result)
    return result


def screen_identities(
    identities: pl.DataFrame, entries: pl.DataFrame, config: ScreeningConfig | None = None
) -> pl.DataFrame:
    """Screening rows for identities (registry.identity_history columns: mmsi, name, imo, imo_valid, callsign,
    ship_category, flag, first_seen, last_seen) against list entries (table ``list_entries``)."""
    cfg = config or ScreeningConfig()
    ids = _identities(identities, cfg)
    vessels = _vessel_entries(entries, cfg)
    if ids.height == 0:
        return empty("screening")

    names = _name_pairs(ids, vessels, cfg)
    cand = pl.concat(
        [
            _exact(ids.filter(pl.col("imo_valid")), vessels.filter(pl.col("imo").is_not_null()), "imo", "imo"),
            _exact(ids, vessels.filter(pl.col("mmsi").is_not_null()), "mmsi", "mmsi"),
            _exact(ids.filter(pl.col("cs_key") != ""), vessels.filter(pl.col("cs_key") != ""), "cs_key", "callsign"),
            names.select("i", "e", pl.lit("name").alias("match_on")),
        ],
        how="vertical",
    ).unique(["i", "e", "match_on"])
    cand = (
        cand.join(ids, on="i")
        .join(vessels, on="e", suffix="_entry")
        .join(names.select("i", "e", "similarity", "matched_name", "via"), on=["i", "e"], how="left")
    )
    hits = _score(cand, cfg).filter(pl.col("score") >= cfg.min_report_score)
    hits = _explain(hits)
    per_entry = _best_per_entry(hits)
    return _with_risk(per_entry, ids, cfg)


# ---- inputs ------------------------------------------------------------------------------------------------------


def _cs_key(col: str) -> pl.Expr:
    return pl.col(col).fill_null("").str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")


def _identities(history: pl.DataFrame, cfg: ScreeningConfig) -> pl.DataFrame:
    """Distinct identities per MMSI (stays of the same identity merged), with keys and the MID."""
    if history.height == 0:
        return pl.DataFrame(schema={"i": pl.UInt32})
    keys = ["mmsi", "name", "imo", "callsign", "ship_category", "flag"]
    df = (
        history.with_columns(pl.col("ship_category").replace(_AIS_CATEGORY))
        .group_by(keys)
        .agg(pl.col("imo_valid").first(), pl.col("first_seen").min(), pl.col("last_seen").max())
        .sort(["mmsi", "first_seen"])
        .with_columns(mid_expr("mmsi"), _cs_key("callsign").alias("cs_key"))
        .with_row_index("i")
    )
    # a name broadcast by many MMSIs, or a listed common name, is no evidence on its own
    letters = pl.Series([normalise(n)[0] for n in df["name"].to_list()], dtype=pl.Utf8)
    df = df.with_columns(letters.alias("letters"))
    common_letters = [normalise(n)[0] for n in COMMON_VESSEL_NAMES]
    many = pl.col("mmsi").n_unique().over("letters") >= cfg.common_name_min_mmsis
    return df.with_columns(
        (pl.col("letters").is_in(common_letters) | (many & (pl.col("letters") != ""))).alias("common_name"),
        (pl.col("mid") == cfg.dprk_mid).fill_null(False).alias("dprk_mid"),
    )


def _vessel_entries(entries: pl.DataFrame, cfg: ScreeningConfig) -> pl.DataFrame:
    latest = pl.col("version_date") == pl.col("version_date").max().over("list_name")
    all_e = entries.with_columns(latest.alias("current_version"))
    dprk_owner = _dprk_linked_owner(all_e, cfg)
    category = pl.lit(None, dtype=pl.Utf8)
    for word, cat in reversed(_TYPE_WORDS):
        category = pl.when(pl.col("vessel_type").str.to_uppercase().str.contains(word)).then(pl.lit(cat)).otherwise(category)
    v = (
        all_e.filter(pl.col("entity_type") == "vessel")
        .with_columns(
            category.alias("entry_category"),
            _cs_key("callsign").alias("cs_key"),
            pl.col("former_flags").str.json_decode(pl.List(pl.Utf8)).alias("former_flag_list"),
            pl.col("programs").fill_null("").str.contains("DPRK").alias("dprk_programme"),
        )
        .with_row_index("e")
    )
    return v.join(dprk_owner, on="e", how="left").with_columns(pl.col("dprk_owner").fill_null(False))


def _dprk_linked_owner(entries: pl.DataFrame, cfg: ScreeningConfig) -> pl.DataFrame:
    """Vessel entries whose owner or link is itself a DPRK-programme entry of any loaded list (by normalised name)."""
    v = entries.filter(pl.col("entity_type") == "vessel").with_row_index("e")
    owners = v.select(
        "e", pl.concat_list(pl.col("owner").fill_null(""), pl.col("linked_to").fill_null("").str.split(";").list.first())
        .alias("owner_name")
    ).explode("owner_name").filter(pl.col("owner_name") != "")
    orgs = entries.filter(
        pl.col("entity_type").is_in(["company", "other"]) & pl.col("programs").fill_null("").str.contains("DPRK")
    ).select(pl.concat_list(pl.col("name"), pl.col("aliases").str.json_decode(pl.List(pl.Utf8))).alias("org_name"))
    orgs = orgs.explode("org_name").filter(pl.col("org_name").is_not_null()).unique()
    schema = {"e": pl.UInt32, "dprk_owner": pl.Boolean, "dprk_owner_name": pl.Utf8}
    if owners.height == 0 or orgs.height == 0:
        return pl.DataFrame(schema=schema)
    ok = name_keys(owners["owner_name"])
    org = name_keys(orgs["org_name"])
    pairs = similar_pairs(ok, org, cfg.owner_min_similarity)  # owners must name the listed company, not resemble it
    if pairs.height == 0:
        return pl.DataFrame(schema=schema)
    linked = owners[pairs["i"].to_list()].unique("e", keep="first")
    return linked.select("e", pl.lit(True).alias("dprk_owner"), pl.col("owner_name").alias("dprk_owner_name")).cast(schema)


def _name_pairs(ids: pl.DataFrame, vessels: pl.DataFrame, cfg: ScreeningConfig) -> pl.DataFrame:
    """Best name similarity per (identity, entry) over the entry's name, aliases and former names."""
    schema = {"i": pl.UInt32, "e": pl.UInt32, "similarity": pl.Float64, "matched_name": pl.Utf8, "via": pl.Utf8}
    enames = pl.concat(
        [
            vessels.select("e", pl.col("name").alias("ename"), pl.lit("name").alias("via")),
            *[
                vessels.select("e", pl.col(col).str.json_decode(pl.List(pl.Utf8)).alias("ename"), pl.lit(via).alias("via"))
                .explode("ename")
                for col, via in (("aliases", "alias"), ("former_names", "former name"))
            ],
        ]
    ).filter(pl.col("ename").is_not_null())
    inames = ids.select("name").drop_nulls().unique()
    if enames.height == 0 or inames.height == 0:
        return pl.DataFrame(schema=schema)
    ik = name_keys(inames["name"]).with_row_index("ni")
    ek_names = enames.select("ename").unique()
    ek = name_keys(ek_names["ename"]).with_row_index("nj")
    ik_ok = ik.filter(pl.col("letters") != "")
    pairs = similar_pairs(ik_ok, ek, cfg.name_min_similarity)
    if pairs.height == 0:
        return pl.DataFrame(schema=schema)
    pairs = pairs.select(
        ik_ok["name"].gather(pairs["i"]).alias("name"), ek["name"].gather(pairs["j"]).alias("ename"), "similarity"
    )
    out = (
        pairs.join(enames, on="ename")
        .join(ids.select("i", "name"), on="name")
        .sort("similarity", descending=True)
        .unique(["i", "e"], keep="first")
        .select("i", "e", "similarity", pl.col("ename").alias("matched_name"), "via")
    )
    return out.cast(schema)


def _exact(ids: pl.DataFrame, vessels: pl.DataFrame, key: str, match_on: str) -> pl.DataFrame:
    return ids.select("i", key).join(vessels.select("e", key), on=key).select("i", "e", pl.lit(match_on).alias("match_on"))


# ---- scoring -------------------------------------------------------------------------------------------------------


def _score(c: pl.DataFrame, cfg: ScreeningConfig) -> pl.DataFrame:
    name_agrees = pl.col("similarity").is_not_null()
    no_name = pl.col("name").is_null()
    flag_agrees = pl.col("flag").is_not_null() & (
        (pl.col("flag") == pl.col("flag_iso2")).fill_null(False)
        | pl.col("former_flag_list").list.contains(pl.col("flag")).fill_null(False)
    )
    type_agrees = (pl.col("ship_category") == pl.col("entry_category")).fill_null(False)
    # a DPRK MID on a vessel of a DPRK programme corroborates even when the list gives another flag (flag hopping)
    dprk_link = pl.col("dprk_mid") & pl.col("dprk_programme") & ~flag_agrees
    corr = flag_agrees.cast(pl.Int32) + type_agrees.cast(pl.Int32) + dprk_link.cast(pl.Int32)
    imo_conflict = (
        pl.col("imo_valid") & pl.col("imo_entry").is_not_null() & (pl.col("imo") != pl.col("imo_entry"))
    ).fill_null(False)
    # a conflicting IMO asks for one more corroboration; a common name is never enough, whatever corroborates it
    # (Panama flag + cargo type fits thousands of ships named MARIA)
    needed = cfg.name_min_corroborations + imo_conflict.cast(pl.Int32)
    name_score = (
        cfg.score_name_per_similarity * pl.col("similarity").fill_null(0)
        + cfg.score_name_per_corroboration * corr
        + cfg.score_name_imo_conflict * imo_conflict.cast(pl.Float64)
    )
    score = (
        pl.when(pl.col("match_on") == "imo")
        .then(
            pl.when(name_agrees).then(cfg.score_imo_same_name).when(no_name).then(cfg.score_imo_no_name)
            .otherwise(cfg.score_imo_other_name)
        )
        .when(pl.col("match_on") == "mmsi")
        .then(
            pl.when(name_agrees).then(cfg.score_mmsi_same_name).otherwise(pl.min_horizontal(
                cfg.score_mmsi_other_name + cfg.score_mmsi_per_corroboration * corr, cfg.score_mmsi_other_name_max))
        )
        .when(pl.col("match_on") == "callsign")
        # a call sign alone (35) is not reported; with the same flag it is (55); type alone adds little (45)
        .then(pl.when(name_agrees).then(cfg.score_callsign_same_name).otherwise(
            cfg.score_callsign_alone + cfg.score_callsign_same_flag * flag_agrees.cast(pl.Float64)
            + cfg.score_callsign_same_type * type_agrees.cast(pl.Float64)
            + cfg.score_callsign_dprk_link * dprk_link.cast(pl.Float64)))
        .otherwise(
            # too short a name ("SEA 1") is too unspecific to match on, though it still confirms an IMO hit
            pl.when((corr >= needed) & ~pl.col("common_name") & (pl.col("letters").str.len_chars() >= cfg.name_min_letters))
            .then(pl.min_horizontal(name_score, cfg.score_name_max)).otherwise(0.0)
        )
    )
    return c.with_columns(
        score.alias("score"),
        ((pl.col("match_on") == "imo") & ~name_agrees & ~no_name).alias("laundering_suspected"),
        flag_agrees.alias("flag_agrees"),
        type_agrees.alias("type_agrees"),
        dprk_link.alias("dprk_link"),
        imo_conflict.alias("imo_conflict"),
    )


def _explain(h: pl.DataFrame) -> pl.DataFrame:
    """A plain-language sentence per hit (hits are few: a Python pass over them is not a hot path)."""
    out = []
    for r in h.iter_rows(named=True):
        seen = f"{r['first_seen']:%Y-%m-%d}–{r['last_seen']:%Y-%m-%d}" if r["first_seen"] else "time unknown"
        as_name = f"'{r['name']}'" if r["name"] else "no name"
        listing = (
            f"listed by {r['list_name']} {r['version_date']} as {r['name_entry']}"
            f"{' (IMO ' + str(r['imo_entry']) + ')' if r['imo_entry'] and r['match_on'] != 'imo' else ''}"
            f"{' [' + r['programs'] + ']' if r['programs'] else ''}"
        )
        m = r["match_on"]
        if m == "imo":
            s = f"IMO {r['imo']} broadcast by MMSI {r['mmsi']} (as {as_name}, {seen}) is {listing}"
        elif m == "mmsi":
            s = f"MMSI {r['mmsi']} (as {as_name}, {seen}) is {listing}"
        elif m == "callsign":
            s = f"call sign {r['callsign']} broadcast by MMSI {r['mmsi']} (as {as_name}, {seen}) is {listing}"
        else:
            via = "" if r["via"] == "name" else f" (its {r['via']} {r['matched_name']})"
            s = (f"name {as_name} broadcast by MMSI {r['mmsi']} ({seen}) resembles a vessel {listing}{via}, "
                 f"similarity {r['similarity']:.0f}")
        if m != "name" and r["similarity"] is not None and r["via"] != "name":
            s += f"; the broadcast name is its {r['via']} {r['matched_name']}"
        if r["laundering_suspected"]:
            s += f"; broadcast name {r['name']} differs: possible identity laundering"
        if m in ("mmsi", "callsign") and r["similarity"] is None:
            s += "; names differ (the identifier may have been reassigned)"
        support = [x for x, ok in (
            (f"flag {r['flag']}", r["flag_agrees"]),
            (f"type {r['ship_category']}", r["type_agrees"]),
            (f"DPRK MID {r['mid']} on a DPRK-programme vessel", r["dprk_link"]),
        ) if ok]
        if m != "imo" and support:
            s += "; corroborated by " + ", ".join(support)
        if r["imo_conflict"]:
            s += (f"; but it broadcasts IMO {r['imo']} where the list gives {r['imo_entry']}: another ship of that "
                  "name, or a false IMO")
        out.append(s)
    return h.with_columns(pl.Series("explanation", out, dtype=pl.Utf8))


def _best_per_entry(h: pl.DataFrame) -> pl.DataFrame:
    """One row per (MMSI, list version, entry): the best-scoring key, other keys' findings appended."""
    if h.height == 0:
        return h.with_columns(pl.lit(None, dtype=pl.Utf8).alias("entry_name"))
    h = h.sort(["score", "match_on"], descending=[True, False])
    return (
        h.group_by(["mmsi", "list_id", "entry_id"], maintain_order=True)
        .agg(
            pl.col("version_date", "list_name", "current_version", "match_on", "score", "programs", "dprk_owner",
                   "dprk_owner_name", "name_entry", "imo_entry").first(),
            pl.col("name").first().alias("vessel_name"),
            pl.col("imo").first().alias("vessel_imo"),
            pl.col("callsign").first().alias("vessel_callsign"),
            pl.col("laundering_suspected").any(),
            pl.col("explanation").first(),
            # other keys' findings matter only when they warn (laundering, a conflicting IMO)
            pl.col("explanation").slice(1).filter(
                pl.col("laundering_suspected").slice(1) | pl.col("imo_conflict").slice(1)
            ).unique(maintain_order=True).alias("__warn"),
        )
        .with_columns(
            pl.when(pl.col("__warn").list.len() > 0)
            .then(pl.concat_str(pl.col("explanation"), pl.lit("; also: "), pl.col("__warn").list.join("; also: ")))
            .otherwise(pl.col("explanation"))
            .alias("explanation")
        )
        .drop("__warn")
        .rename({"name_entry": "entry_name", "imo_entry": "entry_imo"})
    )


def _with_risk(hits: pl.DataFrame, ids: pl.DataFrame, cfg: ScreeningConfig) -> pl.DataFrame:
    """Per-vessel risk 0–100 with its reasons; vessels with a reason but no hit get one row without a list."""
    reasons: dict[int, list[dict]] = {}

    def add(mmsi, reason, points, detail):
        reasons.setdefault(int(mmsi), []).append({"reason": reason, "points": round(float(points), 1), "detail": detail})

    # per-vessel aggregates, vectorised; the reason lists are then assembled over vessels that have any
    if hits.height:
        cur = hits.filter(pl.col("current_version")).sort(["score", "list_id"], descending=[True, False])
        cur = cur.unique("mmsi", keep="first")
        for r in cur.select("mmsi", "score", "list_id", "entry_name", "match_on").iter_rows(named=True):
            add(r["mmsi"], "list_hit", cfg.risk_per_hit_score * r["score"],
                f"{r['entry_name']} on {r['list_id']} by {r['match_on']} (score {r['score']:.0f})")
        for m in hits.filter(pl.col("laundering_suspected"))["mmsi"].unique().to_list():
            add(m, "laundering_suspected", cfg.risk_laundering, "broadcasts a listed IMO under another name")
        own = hits.filter(pl.col("dprk_owner")).unique("mmsi", keep="first")
        for r in own.iter_rows(named=True):
            add(r["mmsi"], "dprk_owner", cfg.risk_dprk_owner,
                f"{r['entry_name']}: owner or linked company {r['dprk_owner_name']} is listed in a DPRK programme")
        has_current = hits.group_by(["mmsi", "list_name"]).agg(pl.col("current_version").any().alias("any_cur"))
        past = hits.join(has_current, on=["mmsi", "list_name"]).filter(~pl.col("any_cur")).unique("mmsi", keep="first")
        for r in past.iter_rows(named=True):
            add(r["mmsi"], "past_designation", cfg.risk_past_designation,
                f"{r['entry_name']} on {r['list_id']}, not in the latest {r['list_name']}")
    for m in ids.filter(pl.col("dprk_mid"))["mmsi"].unique().to_list():
        add(m, "dprk_mid", cfg.risk_dprk_mid, f"MMSI {m} carries MID {cfg.dprk_mid} (DPRK flag)")
    changes = ids.group_by("mmsi").agg(
        *[(pl.col(k).drop_nulls().n_unique() > 1).alias(k) for k in ("name", "imo", "callsign")]
    ).filter(pl.any_horizontal("name", "imo", "callsign"))
    for r in changes.iter_rows(named=True):
        kinds = [k for k in ("name", "imo", "callsign") if r[k]]
        add(r["mmsi"], "identity_change", cfg.risk_identity_change * len(kinds), "changed " + ", ".join(kinds))

    risk = pl.DataFrame(
        {
            "mmsi": list(reasons),
            "risk": [min(100.0, sum(x["points"] for x in v)) for v in reasons.values()],
            "risk_reasons": [json.dumps(v, ensure_ascii=False) for v in reasons.values()],
        },
        schema={"mmsi": pl.Int64, "risk": pl.Float64, "risk_reasons": pl.Utf8},
    )
    with_hits = hits.join(risk, on="mmsi", how="left") if hits.height else empty("screening")
    no_hit = risk.filter(~pl.col("mmsi").is_in(hits["mmsi"].to_list() if hits.height else []))
    no_hit = no_hit.with_columns(
        pl.format("no list hit; risk from: {}", pl.col("risk_reasons").str.json_decode(
            pl.List(pl.Struct({"reason": pl.Utf8, "points": pl.Float64, "detail": pl.Utf8}))
        ).list.eval(pl.element().struct.field("detail")).list.join("; ")).alias("explanation"),
        pl.lit(False).alias("laundering_suspected"),
    )
    out = pl.concat([conform(with_hits, "screening"), conform(no_hit, "screening")], how="diagonal_relaxed")
    out = conform(out, "screening").select(list(TABLES["screening"]))
    return out.sort(["risk", "mmsi", "score"], descending=[True, False, True], nulls_last=True)
