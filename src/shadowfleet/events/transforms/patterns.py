"""Pattern spoofing: positions on figures no ship sails (SkyTruth and C4ADS on circle spoofing; UN PoE).

Each MMSI's kept reports are cut into windows of ``pattern_window_h`` (per segment); in each window:
- circle: the reports lie on one circle (algebraic least-squares fit, Kåsa 1976) of radius circle_min_km to
  circle_max_km, within circle_max_rms of its radius, moving at >= circle_min_kn, and go round it at least
  circle_min_turns times;
- repeated: most moving reports repeat, to the micro-degree, a position the MMSI reported earlier (a replayed
  recording);
- grid: most distinct moving positions sit exactly on one lattice (a spacing and origin found from the data,
  any spacing of at least grid_min_spacing_deg), in rows and columns, too many of them for a real track's
  coordinates to fall there by chance (a binomial null).
Everything is columnar: the circle fit's normal equations are window sums, solved for every window at once.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from shadowfleet.events.config import SpoofingConfig
from shadowfleet.places import KM_PER_DEG_LAT as KM_PER_DEG
from shadowfleet.events.transforms.common import KM_PER_NM, empty_events, hours, to_events

_DETAILS = ["kind", "pattern", "n_positions", "explanation"]


def find_patterns(p: pl.DataFrame, cfg: SpoofingConfig) -> pl.DataFrame:
    cols = ["mmsi", "ts", "lat", "lon", "segment"] + [c for c in ("sog", "cog", "msg_type", "receiver")
                                                       if c in p.columns]
    t = p.select(cols)
    if "msg_type" in t.columns:
        t = t.filter(pl.col("msg_type").fill_null(0) != 27)  # long-range reports are rounded to 1/10 minute
    if t.height < cfg.pattern_min_points:
        return empty_events()
    for c, dtype in (("sog", pl.Float32), ("cog", pl.Float32), ("receiver", pl.Utf8)):
        if c not in t.columns:
            t = t.with_columns(pl.lit(None, dtype).alias(c))
    win_us = int(cfg.pattern_window_h * 3_600_000_000)
    t = t.sort(["mmsi", "ts"]).with_columns((pl.col("ts").dt.epoch("us") // win_us).cast(pl.Utf8).alias("_win"))
    # a circle is sailed by one segment; a replay or a grid may jump about, so every report counts
    kept = t.filter(pl.col("segment").is_not_null()).with_columns(
        pl.concat_str([pl.col("segment"), pl.col("_win")], separator="/").alias("_win"))
    return pl.concat([_circles(kept, cfg), _repeats(t, cfg), _grid(t, cfg)])


def _summary(df: pl.DataFrame, pattern: str, text: str, extra: dict[str, str] | None = None) -> pl.DataFrame:
    """One event per run of consecutive windows showing the pattern; ``extra``: window columns to report, each
    with how windows combine ("sum" or "first")."""
    extra = extra or {}
    out = (
        df.group_by(["mmsi", "_win"], maintain_order=True)
        .agg(pl.col("ts").min().alias("start"), pl.col("ts").max().alias("end"), pl.col("lat").mean(),
             pl.col("lon").mean(), pl.len().alias("n_positions"), *[pl.col(c).first() for c in extra])
        .sort(["mmsi", "start"])
    )
    # consecutive windows of one pattern are one event
    gap = (pl.col("start") - pl.col("end").shift(1).over("mmsi")) > pl.duration(hours=1)
    out = out.with_columns((gap.fill_null(True) | (pl.col("mmsi") != pl.col("mmsi").shift(1)).fill_null(True))
                           .cum_sum().alias("_ev"))
    ev = out.group_by("_ev", maintain_order=True).agg(
        pl.col("mmsi").first(), pl.col("start").min(), pl.col("end").max(), pl.col("lat").mean(),
        pl.col("lon").mean(), pl.col("n_positions").sum(),
        *[pl.col(c).sum() if how == "sum" else pl.col(c).first() for c, how in extra.items()],
    ).with_columns(pl.lit("pattern").alias("kind"), pl.lit(pattern).alias("pattern"),
                   pl.lit(text).alias("explanation"))
    return to_events(ev, "spoofing", _DETAILS + list(extra))


def _circles(t: pl.DataFrame, cfg: SpoofingConfig) -> pl.DataFrame:
    lat0 = pl.col("lat").first().over("_win", "mmsi")
    lon0 = pl.col("lon").first().over("_win", "mmsi")
    w = t.with_columns(
        ((pl.col("lon") - lon0) * KM_PER_DEG * lat0.radians().cos()).alias("_x"),
        ((pl.col("lat") - lat0) * KM_PER_DEG).alias("_y"),
    ).with_columns((pl.col("_x") ** 2 + pl.col("_y") ** 2).alias("_z"))
    x, y, z = pl.col("_x"), pl.col("_y"), pl.col("_z")
    sums = w.group_by(["mmsi", "_win"]).agg(
        pl.len().alias("n"), x.sum().alias("sx"), y.sum().alias("sy"), (x * x).sum().alias("sxx"),
        (y * y).sum().alias("syy"), (x * y).sum().alias("sxy"), z.sum().alias("sz"), (x * z).sum().alias("sxz"),
        (y * z).sum().alias("syz"),
    ).filter(pl.col("n") >= cfg.pattern_min_points)
    if sums.height == 0:
        return empty_events()
    g = {c: sums[c].to_numpy().astype(np.float64) for c in ("n", "sx", "sy", "sxx", "syy", "sxy", "sz", "sxz", "syz")}
    # x^2 + y^2 + D x + E y + F = 0, least squares in (D, E, F): one 3x3 system per window
    m = np.stack([np.stack([g["sxx"], g["sxy"], g["sx"]], -1), np.stack([g["sxy"], g["syy"], g["sy"]], -1),
                  np.stack([g["sx"], g["sy"], g["n"]], -1)], 1)
    rhs = -np.stack([g["sxz"], g["syz"], g["sz"]], -1)
    ok = np.abs(np.linalg.det(m)) > 1e-9
    sol = np.full((len(m), 3), np.nan)
    if ok.any():
        sol[ok] = np.linalg.solve(m[ok], rhs[ok][..., None])[..., 0]
    cx, cy = -sol[:, 0] / 2, -sol[:, 1] / 2
    r = np.sqrt(np.maximum(cx * cx + cy * cy - sol[:, 2], 0))
    fits = sums.select("mmsi", "_win").with_columns(pl.Series("_cx", cx), pl.Series("_cy", cy), pl.Series("_r", r))
    fits = fits.filter(pl.col("_r").is_between(cfg.circle_min_km, cfg.circle_max_km))
    if fits.height == 0:
        return empty_events()
    w = w.join(fits, on=["mmsi", "_win"]).sort(["mmsi", "ts"])
    ang = pl.arctan2(pl.col("_y") - pl.col("_cy"), pl.col("_x") - pl.col("_cx"))
    dang = (ang - ang.shift(1).over("mmsi", "_win") + np.pi) % (2 * np.pi) - np.pi
    step_km = ((pl.col("_x") - pl.col("_x").shift(1).over("mmsi", "_win")) ** 2
               + (pl.col("_y") - pl.col("_y").shift(1).over("mmsi", "_win")) ** 2).sqrt()
    w = w.with_columns(
        ((((pl.col("_x") - pl.col("_cx")) ** 2 + (pl.col("_y") - pl.col("_cy")) ** 2).sqrt() - pl.col("_r")) ** 2)
        .alias("_res2"),
        dang.alias("_dang"), step_km.alias("_step"),
    )
    stats = w.group_by(["mmsi", "_win"]).agg(
        (pl.col("_res2").mean().sqrt() / pl.col("_r").first()).alias("_rms"),
        (pl.col("_dang").sum().abs() / (2 * np.pi)).alias("turns"),
        (pl.col("_step").sum() / KM_PER_NM / hours(pl.col("ts").max() - pl.col("ts").min())).alias("_kn"),
        pl.col("_r").first().round(2).alias("radius_km"),
    ).filter(
        (pl.col("_rms") <= cfg.circle_max_rms) & (pl.col("turns") >= cfg.circle_min_turns)
        & (pl.col("_kn") >= cfg.circle_min_kn)
    )
    if stats.height == 0:
        return empty_events()
    hit = w.join(stats.select("mmsi", "_win", "radius_km", pl.col("turns").round(1)), on=["mmsi", "_win"])
    return _summary(hit, "circle", "positions going round a small circle at a steady speed, turn after turn",
                    {"radius_km": "first", "turns": "sum"})


def _moving(t: pl.DataFrame) -> pl.Expr:
    return pl.col("sog").fill_null(0.0) >= 1.0  # unknown speed: not known to move


def _repeats(t: pl.DataFrame, cfg: SpoofingConfig) -> pl.DataFrame:
    """Repeats of a position first reported through the same receiver, heading the same way: a ferry sailing
    back along its line heads the other way, and a late feed's copies come through another receiver."""
    key = [pl.col("lat").round(6).alias("_la"), pl.col("lon").round(6).alias("_lo")]
    moving = t.filter(_moving(t)).with_columns(*key)
    first = moving.sort("ts").group_by(["mmsi", "_la", "_lo"]).agg(
        pl.col("ts").first().alias("_first"), pl.col("receiver").first().alias("_rx0"),
        pl.col("cog").first().alias("_cog0"))
    off = (pl.col("cog") - pl.col("_cog0")).abs() % 360
    w = moving.join(first, on=["mmsi", "_la", "_lo"]).with_columns(
        (((pl.col("ts") - pl.col("_first")) >= pl.duration(seconds=int(cfg.repeat_min_gap_min * 60)))
         & pl.col("receiver").eq_missing(pl.col("_rx0"))
         & (pl.min_horizontal(off, 360 - off) <= 90).fill_null(True)).alias("_rep"))
    # many distinct positions: a replayed track, not GPS switching between two fixes (the real DMA drift track)
    share = w.group_by(["mmsi", "_win"]).agg(
        pl.col("_rep").mean().alias("_share"), pl.struct("_la", "_lo").filter(pl.col("_rep")).n_unique().alias("_n"),
    ).filter((pl.col("_share") >= cfg.repeat_min_share) & (pl.col("_n") >= cfg.pattern_min_points))
    if share.height == 0:
        return empty_events()
    return _summary(w.join(share.select("mmsi", "_win"), on=["mmsi", "_win"]).filter(pl.col("_rep")), "repeated",
                    "a moving ship reporting again, exactly, positions it reported before (a replayed track)")


# ITU-R M.1371 reports latitude and longitude in 1/10,000 minute: positions are whole numbers of these units, so
# a lattice test is exact integer arithmetic whatever decimal or minute spacing the lattice has
_UNITS_PER_DEG = 600_000


def _grid(t: pl.DataFrame, cfg: SpoofingConfig) -> pl.DataFrame:
    """Moving positions snapped to a lattice of unknown spacing and origin. Per window and axis the spacing is the
    greatest common divisor of the two commonest steps between the distinct coordinates (a lattice's rows are a
    whole number of spacings apart), the origin the commonest remainder; a position is on the lattice when both
    its coordinates have that remainder. Null hypothesis, a real track: a coordinate given to the coarsest
    rounding a public feed uses (grid_null_quantum_deg) falls on a lattice of spacing s with probability
    quantum / s, so the number of distinct latitudes (longitudes) on it is binomial; the window is a grid when
    its share of positions on the lattice is at least grid_min_share, in >= 3 rows and >= 3 columns spread over
    an area (not one line), and those counts are improbable under the null (grid_max_null_p, allowing for the
    origin chosen from the data)."""
    key = ["mmsi", "_win"]
    w = t.filter(_moving(t) & pl.col("lat").is_finite() & pl.col("lon").is_finite()).with_columns(
        (pl.col("lat") * _UNITS_PER_DEG).round(0).cast(pl.Int64).alias("_ua"),
        (pl.col("lon") * _UNITS_PER_DEG).round(0).cast(pl.Int64).alias("_uo"))
    stats = lattice_windows(w, cfg, key)
    stats = stats.filter((pl.col("_k") >= cfg.grid_min_share * pl.col("_n")) & (pl.col("_rows") >= 3)
                         & (pl.col("_cols") >= 3) & (pl.col("_flat") >= cfg.grid_min_spread)
                         & (pl.col("null_p") <= cfg.grid_max_null_p))
    if stats.height == 0:
        return empty_events()
    shown = pl.Series("null_p", [float(f"{x:.2g}") for x in stats["null_p"]])  # one per window found
    hit = w.join(stats.with_columns(shown).select(
        *key, (pl.col("_s_ua") / _UNITS_PER_DEG).round(6).alias("spacing_lat_deg"),
        (pl.col("_s_uo") / _UNITS_PER_DEG).round(6).alias("spacing_lon_deg"), "null_p"), on=key)
    return _summary(hit, "grid", "moving positions snapped to a lattice of points, as no ship sails",
                    {"spacing_lat_deg": "first", "spacing_lon_deg": "first", "null_p": "first"})


def lattice_windows(w: pl.DataFrame, cfg: SpoofingConfig, key: list[str]) -> pl.DataFrame:
    """Per window of >= pattern_min_points distinct positions (_ua, _uo in M.1371 units) whose lattice spacing
    is at least grid_min_spacing_deg along both axes: _n distinct positions, _k on the lattice, its _rows and
    _cols, spacings _s_ua/_s_uo, _flat (spread) and null_p."""
    from scipy.stats import binom

    q = max(int(round(cfg.grid_null_quantum_deg * _UNITS_PER_DEG)), 1)
    s_min = int(round(cfg.grid_min_spacing_deg * _UNITS_PER_DEG))
    d = w.unique([*key, "_ua", "_uo"]).filter(pl.len().over(key) >= cfg.pattern_min_points)
    for axis in ("_ua", "_uo"):
        d = d.join(_lattice(d, axis, key), on=key, how="left")
    d = d.filter((pl.col("_s_ua") >= s_min) & (pl.col("_s_uo") >= s_min))
    on_a, on_o = (pl.col("_ua") % pl.col("_s_ua")) == pl.col("_r_ua"), (pl.col("_uo") % pl.col("_s_uo")) == pl.col("_r_uo")
    # spread in two dimensions (smaller/larger eigenvalue of the positions' covariance): evenly spaced reports of
    # a ship at a steady speed on a straight line are a lattice of their own step, and are a ship
    x = (pl.col("_uo") - pl.col("_uo").first().over(key)).cast(pl.Float64) * pl.col("lat").radians().cos()
    d = d.with_columns(on_a.alias("_on_a"), on_o.alias("_on_o"), (on_a & on_o).alias("_on"), x.alias("_x"),
                       pl.col("_ua").cast(pl.Float64).alias("_y"))
    vx, vy, cxy = pl.col("_x").var(), pl.col("_y").var(), pl.cov("_x", "_y")
    half_tr, root = (vx + vy) / 2, (((vx - vy) / 2) ** 2 + cxy**2).sqrt()
    stats = d.group_by(key).agg(
        pl.len().alias("_n"), pl.col("_on").sum().alias("_k"),
        pl.col("_ua").filter(pl.col("_on")).n_unique().alias("_rows"),
        pl.col("_uo").filter(pl.col("_on")).n_unique().alias("_cols"),
        pl.col("_ua").n_unique().alias("_m_a"), pl.col("_ua").filter(pl.col("_on_a")).n_unique().alias("_k_a"),
        pl.col("_uo").n_unique().alias("_m_o"), pl.col("_uo").filter(pl.col("_on_o")).n_unique().alias("_k_o"),
        pl.col("_s_ua").first(), pl.col("_s_uo").first(), ((half_tr - root) / (half_tr + root)).alias("_flat"),
    )
    # the null, per axis: each distinct coordinate of a real track (a slow ship repeats its latitude, so values,
    # not positions, are the independent draws) lands on the lattice with probability quantum / spacing; the
    # origin was picked from the data among spacing / quantum possible ones (a Bonferroni allowance)
    null_p = np.ones(stats.height)
    for ax in ("a", "o"):
        p_on = np.minimum(q / stats[f"_s_u{ax}"].to_numpy().astype(float), 1.0)
        null_p *= np.minimum(binom.sf(stats[f"_k_{ax}"].to_numpy() - 1, stats[f"_m_{ax}"].to_numpy(), p_on) / p_on, 1.0)
    return stats.with_columns(pl.Series("null_p", null_p, dtype=pl.Float64))


def _lattice(d: pl.DataFrame, axis: str, key: list[str]) -> pl.DataFrame:
    """Per window: the lattice spacing along one axis (gcd of the two commonest steps between its distinct
    coordinates, the second left out when only the first recurs; in M.1371 units) and the commonest remainder modulo it."""
    vals = d.select(*key, axis).unique().sort([*key, axis])
    steps = vals.with_columns(pl.col(axis).diff().over(key).alias("_step")).filter(pl.col("_step") > 0)
    top = (steps.group_by([*key, "_step"]).len()
           .sort([*key, "len", "_step"], descending=[False] * len(key) + [True, False])
           .group_by(key, maintain_order=True).agg(pl.col("_step").head(2), pl.col("len").head(2).alias("_count")))
    if top.height == 0:
        return pl.DataFrame(schema={**{k: d.schema[k] for k in key}, f"_s{axis}": pl.Int64, f"_r{axis}": pl.Int64})
    a = top["_step"].list.get(0)
    # a second step that does not recur beside one that does is an off-lattice position's; where no step recurs
    # the two smallest stand (a real track: their gcd is near its rounding)
    second = top["_step"].list.get(1, null_on_oob=True)
    b = pl.when((top["_count"].list.get(0) >= 2) & (top["_count"].list.get(1, null_on_oob=True) < 2)).then(a) \
        .otherwise(second.fill_null(a))
    a, b = a.to_numpy(), top.select(b.alias("b"))["b"].to_numpy()
    spacing = top.select(*key).with_columns(pl.Series(f"_s{axis}", np.gcd(a, b), dtype=pl.Int64))
    rem = (vals.join(spacing, on=key).with_columns((pl.col(axis) % pl.col(f"_s{axis}")).alias(f"_r{axis}"))
           .group_by([*key, f"_s{axis}", f"_r{axis}"]).len()
           .sort([*key, "len", f"_r{axis}"], descending=[False] * len(key) + [True, False])
           .group_by(key, maintain_order=True).agg(pl.col(f"_s{axis}").first(), pl.col(f"_r{axis}").first()))
    return rem
