"""Vessel particulars for the cargo model: capacity (dwt low/central/high) and tonnes per centimetre immersion.

Capacity comes from, in order: a user vessel table (``--vessels CSV``), list data (``list_entries`` tonnage;
then the shipped table of particulars published for vessels named in reporting; then GRT × a GRT→dwt ratio), or an
estimate from the AIS dimensions (block-coefficient model). Each vessel says
which source was used, and every estimate carries its range.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from shadowfleet.cases.config import DEFAULTS, CasesConfig
from shadowfleet.errors import ShadowfleetError

PARTICULARS_SCHEMA = {
    "mmsi": pl.Int64,
    "imo": pl.Int64,
    "name": pl.Utf8,
    "callsign": pl.Utf8,
    "length": pl.Float64,
    "beam": pl.Float64,
    "max_draught": pl.Float64,
    "ship_type": pl.Int64,  # most frequent AIS ship type broadcast
    "dwt_low": pl.Float64,
    "dwt_central": pl.Float64,
    "dwt_high": pl.Float64,
    "capacity_source": pl.Utf8,  # user, list_tonnage, reference_dwt, list_grt, reference_gt, ais_dimensions, or null
    "tpc_low": pl.Float64,  # tonnes per centimetre immersion
    "tpc_central": pl.Float64,
    "tpc_high": pl.Float64,
}


def _number(col: str) -> pl.Expr:
    """A number out of free text such as '3,003', '2070 DWT' or '962.0' (null if none or not positive)."""
    v = (
        pl.col(col)
        .cast(pl.Utf8)
        .str.replace_all(",", "")
        .str.extract(r"(\d+(?:\.\d+)?)", 1)
        .cast(pl.Float64, strict=False)
    )
    # a leading minus ('-5') is a negative number, not 5; a hyphen inside ('IMO-9123456') is not a sign
    negative = pl.col(col).cast(pl.Utf8).str.contains(r"^\s*-\s*\d")
    return pl.when((v > 0) & ~negative.fill_null(False)).then(v).otherwise(None)


def hull_estimates(df: pl.DataFrame, cfg: CasesConfig = DEFAULTS) -> pl.DataFrame:
    """Add dwt_{low,central,high} and tpc_{low,central,high} from ``length``, ``beam`` and ``max_draught``.

    Displacement = Lpp × B × T × Cb × ρ with Lpp = LOA × lbp_over_loa and T the deepest broadcast draught or
    B / beam_over_draught, whichever is deeper; dwt = displacement × (dwt/displacement). TPC = Awp × ρ / 100 with Awp = Lpp × B × Cwp.
    The low end takes every low coefficient, the high end every high one.
    """
    lpp = pl.col("length") * cfg.lbp_over_loa
    # The deepest broadcast draught is a lower bound of the design draught (a ship may never sail full, or leave
    # a stale ballast draught set), so never go below the typical B/T of small tankers.
    draught = pl.max_horizontal(pl.col("max_draught"), pl.col("beam") / cfg.beam_over_draught)
    ok = (pl.col("length") > 0) & (pl.col("beam") > 0)
    disp = lpp * pl.col("beam") * draught * cfg.sea_water_density
    awp = lpp * pl.col("beam") * cfg.sea_water_density / 100.0
    out = {}
    for end, cb, ratio, cwp in (
        ("low", cfg.block_coeff_low, cfg.dwt_over_displacement_low, cfg.waterplane_coeff_low),
        ("central", cfg.block_coeff_central, cfg.dwt_over_displacement_central, cfg.waterplane_coeff_central),
        ("high", cfg.block_coeff_high, cfg.dwt_over_displacement_high, cfg.waterplane_coeff_high),
    ):
        out[f"hull_dwt_{end}"] = pl.when(ok).then(disp * cb * ratio).otherwise(None)
        out[f"tpc_{end}"] = pl.when(ok).then(awp * cwp).otherwise(None)
    return df.with_columns(**out)


def read_vessel_table(path: str | Path) -> tuple[pl.DataFrame, dict[str, int]]:
    """The user's vessel table (CSV with imo and/or mmsi, dwt; optional name, length, beam, draught).

    Returns (rows, rejected-by-reason). A missing file or missing columns is a ShadowfleetError; a bad row is
    counted and set aside.
    """
    p = Path(path)
    if not p.is_file():
        raise ShadowfleetError(f"vessel table not found: {p}")
    try:
        raw = pl.read_csv(p, infer_schema=False, truncate_ragged_lines=True)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, UnicodeDecodeError) as exc:
        raise ShadowfleetError(f"{p}: not a readable CSV: {str(exc).splitlines()[0]}") from None
    raw = raw.rename({c: c.strip().lower() for c in raw.columns})
    if "dwt" not in raw.columns or not ({"imo", "mmsi"} & set(raw.columns)):
        raise ShadowfleetError(f"{p}: needs a 'dwt' column and an 'imo' or 'mmsi' column; has {', '.join(raw.columns)}")
    for c in ("imo", "mmsi", "name", "length", "beam", "draught"):
        if c not in raw.columns:
            raw = raw.with_columns(pl.lit(None, dtype=pl.Utf8).alias(c))
    df = raw.select(
        _number("mmsi").cast(pl.Int64).alias("mmsi"),
        _number("imo").cast(pl.Int64).alias("imo"),
        pl.col("name").str.strip_chars(),
        _number("dwt").alias("dwt"),
        _number("length").alias("length"),
        _number("beam").alias("beam"),
        _number("draught").alias("draught"),
    )
    no_id = df["mmsi"].is_null() & df["imo"].is_null()
    no_dwt = df["dwt"].is_null()
    rejects = {"no imo or mmsi": int(no_id.sum()), "dwt missing or not a positive number": int((no_dwt & ~no_id).sum())}
    return df.filter(~no_id & ~no_dwt), {k: v for k, v in rejects.items() if v}


def ais_particulars(store) -> pl.DataFrame:
    """Per MMSI from the type-5/24 static reports: latest name, IMO, call sign; median length and beam;
    deepest draught broadcast."""
    static = store.read("static", columns=None) if store.files("static") else None
    if static is None or static.height == 0:
        return pl.DataFrame(schema={k: PARTICULARS_SCHEMA[k] for k in ("mmsi", "imo", "name", "callsign", "length", "beam", "max_draught", "ship_type")})
    static = static.sort(["mmsi", "ts"])
    return static.group_by("mmsi").agg(
        pl.col("imo").filter(pl.col("imo") > 0).last().cast(pl.Int64),
        pl.col("name").filter(pl.col("name").str.len_chars() > 0).last(),
        pl.col("callsign").filter(pl.col("callsign").str.len_chars() > 0).last(),
        pl.col("length").filter(pl.col("length") > 0).median().cast(pl.Float64),
        pl.col("beam").filter(pl.col("beam") > 0).median().cast(pl.Float64),
        pl.col("draught").filter(pl.col("draught") > 0).max().cast(pl.Float64).alias("max_draught"),
        pl.col("ship_type").filter(pl.col("ship_type") > 0).mode().first().cast(pl.Int64).alias("ship_type"),
    )


def _list_capacity(store) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(by imo, by mmsi) capacities from list_entries: tonnage taken as dwt, else GRT."""
    empty = pl.DataFrame(schema={"key": pl.Int64, "list_tonnage": pl.Float64, "list_grt": pl.Float64})
    if not store.files("list_entries"):
        return empty, empty
    le = store.read("list_entries")
    cols = set(le.columns)
    if not {"tonnage", "grt"} & cols:
        return empty, empty
    le = le.with_columns(
        (_number("tonnage") if "tonnage" in cols else pl.lit(None, pl.Float64)).alias("list_tonnage"),
        (_number("grt") if "grt" in cols else pl.lit(None, pl.Float64)).alias("list_grt"),
    ).filter(pl.col("list_tonnage").is_not_null() | pl.col("list_grt").is_not_null())
    out = []
    for key in ("imo", "mmsi"):
        if key not in cols:
            out.append(empty)
            continue
        k = le.with_columns(_number(key).cast(pl.Int64).alias("key")).filter(pl.col("key").is_not_null())
        # Several lists may give a figure: take the largest (a vessel cannot carry more than it is built for,
        # and lists more often omit than inflate).
        out.append(k.group_by("key").agg(pl.col("list_tonnage").max(), pl.col("list_grt").max()))
    return out[0], out[1]


def reference_vessels() -> pl.DataFrame:
    """Particulars published for vessels named in reporting (shipped with the package; every row cites its
    source): imo, name, dwt, gt, source."""
    from importlib import resources

    raw = resources.files("shadowfleet.cases").joinpath("data", "reference_vessels.csv").read_bytes()
    return pl.read_csv(raw, schema_overrides={"imo": pl.Int64, "dwt": pl.Float64, "gt": pl.Float64})


def vessel_particulars(store, vessels: str | Path | pl.DataFrame | None = None, cfg: CasesConfig = DEFAULTS,
                       mmsis: list[int] | None = None) -> pl.DataFrame:
    """Capacity and TPC per MMSI (schema PARTICULARS_SCHEMA), choosing user → list → AIS dimensions."""
    ais = ais_particulars(store)
    if mmsis is not None:
        ais = pl.DataFrame({"mmsi": pl.Series(mmsis, dtype=pl.Int64).unique()}).join(ais, on="mmsi", how="left")
    df = ais
    if isinstance(vessels, (str, Path)):
        vessels, _ = read_vessel_table(vessels)
    if vessels is not None and vessels.height:
        user = vessels
        by_mmsi = user.filter(pl.col("mmsi").is_not_null()).unique("mmsi", keep="last")
        by_imo = user.filter(pl.col("imo").is_not_null()).unique("imo", keep="last")
        df = df.join(
            by_mmsi.select("mmsi", pl.col("dwt").alias("u_dwt_m"), pl.col("length").alias("u_len_m"),
                           pl.col("beam").alias("u_beam_m"), pl.col("draught").alias("u_dr_m"), pl.col("name").alias("u_name_m")),
            on="mmsi", how="left",
        ).join(
            by_imo.select("imo", pl.col("dwt").alias("u_dwt_i"), pl.col("length").alias("u_len_i"),
                          pl.col("beam").alias("u_beam_i"), pl.col("draught").alias("u_dr_i"), pl.col("name").alias("u_name_i")),
            on="imo", how="left",
        ).with_columns(
            pl.coalesce("u_dwt_m", "u_dwt_i").alias("user_dwt"),
            pl.coalesce("length", "u_len_m", "u_len_i").alias("length"),
            pl.coalesce("beam", "u_beam_m", "u_beam_i").alias("beam"),
            pl.coalesce("max_draught", "u_dr_m", "u_dr_i").alias("max_draught"),
            pl.coalesce("name", "u_name_m", "u_name_i").alias("name"),
        )
    else:
        df = df.with_columns(pl.lit(None, pl.Float64).alias("user_dwt"))
    by_imo, by_mmsi = _list_capacity(store)
    df = df.join(by_imo.rename({"key": "imo", "list_tonnage": "lt_i", "list_grt": "lg_i"}), on="imo", how="left")
    df = df.join(by_mmsi.rename({"key": "mmsi", "list_tonnage": "lt_m", "list_grt": "lg_m"}), on="mmsi", how="left")
    df = df.with_columns(pl.coalesce("lt_i", "lt_m").alias("list_tonnage"), pl.coalesce("lg_i", "lg_m").alias("list_grt"))
    ref = reference_vessels().select("imo", pl.col("dwt").alias("ref_dwt"), pl.col("gt").alias("ref_gt")).unique("imo")
    df = df.join(ref, on="imo", how="left")
    df = hull_estimates(df, cfg)

    u, t, g = pl.col("user_dwt"), pl.col("list_tonnage"), pl.col("list_grt")
    rd, rg = pl.col("ref_dwt"), pl.col("ref_gt")
    source = (
        pl.when(u.is_not_null()).then(pl.lit("user"))
        .when(t.is_not_null()).then(pl.lit("list_tonnage"))
        .when(rd.is_not_null()).then(pl.lit("reference_dwt"))
        .when(g.is_not_null()).then(pl.lit("list_grt"))
        .when(rg.is_not_null()).then(pl.lit("reference_gt"))
        .when(pl.col("hull_dwt_central").is_not_null()).then(pl.lit("ais_dimensions"))
        .otherwise(None)
    )

    def pick(end: str, user_f: float, ton_f: float, grt_f: float) -> pl.Expr:
        return (
            pl.when(u.is_not_null()).then(u * user_f)
            .when(t.is_not_null()).then(t * ton_f)
            .when(rd.is_not_null()).then(rd * user_f)  # a published dwt: as exact as a user's
            .when(g.is_not_null()).then(g * grt_f)
            .when(rg.is_not_null()).then(rg * grt_f)
            .otherwise(pl.col(f"hull_dwt_{end}"))
            .alias(f"dwt_{end}")
        )

    df = df.with_columns(
        source.alias("capacity_source"),
        pick("low", 1 - cfg.user_dwt_spread, 1 - cfg.list_tonnage_spread, cfg.grt_to_dwt_low),
        pick("central", 1.0, 1.0, cfg.grt_to_dwt_central),
        pick("high", 1 + cfg.user_dwt_spread, 1 + cfg.list_tonnage_spread, cfg.grt_to_dwt_high),
    )
    return df.select([pl.col(k).cast(v) for k, v in PARTICULARS_SCHEMA.items()])
