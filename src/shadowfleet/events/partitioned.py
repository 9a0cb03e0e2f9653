"""`detect` cut into partition tasks for an engine (shadowfleet.engine): the same kernels, the same events.

Three kinds of task, each a plain function of tables:

1. a vessel bucket (MMSI modulo the number of buckets): read its positions and static reports from the store's
   files, merge multi-receiver copies, segment, and run every detector that needs one vessel's track only
   (port calls, loitering, draught, spoofing); hand back its reception cells and its slow 10-min grid;
2. gaps of a vessel bucket, once the reception cells of all buckets are known (coverage is everyone's);
3. an encounter bucket: slow grid points of one (UTC day x cell) bucket plus those of neighbouring cells within
   the encounter distance, so a pair across a cell edge is found (in the bucket of its lower MMSI's point).

Identity changes need every vessel's type-5 reports at once ("one IMO on two MMSIs"): they run on the client
from the static table, with the positions of the vessels concerned gathered from the buckets. Results are
assembled and numbered exactly as `detect_events` does, so both engines give the same events.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import polars as pl

from shadowfleet.engine import bucket_of, n_partitions
from shadowfleet.events.config import EventsConfig
from shadowfleet.places import KM_PER_DEG_LAT as KM_PER_DEG, Places
from shadowfleet.events.transforms.common import EVENT_COLUMNS
from shadowfleet.events.transforms.draught import find_draught_changes
from shadowfleet.events.transforms.encounters import (
    CELL_MARGIN,
    encounter_pairs,
    encounters_from_pairs,
    resample,
)
from shadowfleet.events.transforms.gaps import find_gaps, reception_cells
from shadowfleet.events.transforms.identity import find_identity_changes
from shadowfleet.events.transforms.loitering import find_loitering
from shadowfleet.events.transforms.port_calls import find_port_calls
from shadowfleet.events.transforms.spoofing import find_spoofing
from shadowfleet.identity import is_vessel_expr
from shadowfleet.store import dedupe_reports

# ours: encounter buckets of 1 degree (about 110 km) by one UTC day hold a busy anchorage whole, and only
# points within the encounter distance of a bucket edge are copied to the neighbour
ENCOUNTER_CELL_DEG = 1.0
US_PER_DAY = 86_400_000_000


@dataclasses.dataclass
class DetectJob:
    """What every vessel-bucket task needs: lazy scans of the store's files (read on the worker), settings."""

    store: Any  # the client's store: a worker stages its bucket's segments under the client's writer id
    positions: pl.LazyFrame
    static: pl.LazyFrame
    position_columns: list[str]
    segment_columns: list[str]
    n_buckets: int
    places: Places
    cfg: EventsConfig
    tracks_cfg: Any
    receivers: pl.DataFrame | None = None


def _read_bucket(lf: pl.LazyFrame, k: int, n: int) -> pl.DataFrame:
    """Like Store.read: copies of one transmission merged (they share an MMSI), sorted by vessel and time."""
    df = lf.filter(bucket_of("mmsi", n) == k).collect()
    if "dup_key" in df.columns:
        df = dedupe_reports(df)
    return df.sort(["mmsi", "ts"]) if df.height else df


def read_task(k: int, job: DetectJob) -> dict:
    """Kernel 1: one vessel bucket read, cleaned (`tracks.prepare`) and measured against the other feeds (how
    late each receiver's reports lie on the others' track of the same ship)."""
    from shadowfleet.tracks import TracksConfig, feed_lags, prepare

    positions = _read_bucket(job.positions, k, job.n_buckets)
    positions = positions.select([c for c in job.position_columns if c in positions.columns])
    counts: dict[str, int] = {}
    if positions.height == 0:
        prepared, lags = positions, feed_lags(positions)
    else:
        prepared = prepare(positions, counts)
        lags = feed_lags(prepared, job.tracks_cfg or TracksConfig())
    return {"k": k, "prepared": prepared, "lags": lags, "counts": counts,
            "static": _read_bucket(job.static, k, job.n_buckets)}


def vessel_task(bucket: dict, job: DetectJob, delays: pl.DataFrame) -> dict:
    """Kernel 2: one vessel bucket segmented (late feeds' stamps moved back first) and run through the detectors
    that need one vessel's track only; its reception cells and slow 10-min grid for the cross-vessel steps."""
    from shadowfleet.events.main import _back_to_mmsi, _per_ship, shared_tracks
    from shadowfleet.tracks import TracksConfig, correct_late_feeds, segment_all

    k, prepared, counts = bucket["k"], bucket["prepared"], dict(bucket["counts"])
    if prepared.height == 0:
        segmented = prepared.with_columns(pl.lit(None, pl.Utf8).alias("segment"))
    else:
        segmented = segment_all(correct_late_feeds(prepared, delays), job.tracks_cfg or TracksConfig())
        counts["not_a_vessel"] = int(segmented.select((~is_vessel_expr("mmsi")).sum()).item())
    track = segmented.filter(is_vessel_expr("mmsi"))
    static = bucket["static"]
    static_v = static.filter(is_vessel_expr("mmsi")) if "mmsi" in static.columns else static
    cfg = job.cfg
    spoofing = find_spoofing(track, cfg.spoofing, job.places, job.receivers)
    # stand-in keys of shared tracks, unique across buckets (key -i in bucket k becomes -i * B - k)
    ships = shared_tracks(spoofing)
    ships = ships.with_columns((pl.col("ship_key") * job.n_buckets - k).alias("ship_key"))
    moving = _per_ship(track, ships)
    clean = moving.filter(pl.col("segment").is_not_null()).sort(["mmsi", "ts"])
    clean_mmsi = track.filter(pl.col("segment").is_not_null()).sort(["mmsi", "ts"])
    events = [_back_to_mmsi(p.select(EVENT_COLUMNS), ships) for p in (
        find_port_calls(clean, job.places, cfg.port_call), find_loitering(clean, job.places, cfg.loitering))]
    events += [find_draught_changes(static_v, clean_mmsi, cfg.draught_change), spoofing]
    # the bucket's part of the segments table, written here and committed by the client with all the others
    staged = job.store.transaction()
    staged.replace("segments", segmented.select([c for c in job.segment_columns if c in segmented.columns]))
    return {
        "segments": staged,
        "n_segmented": segmented.height,
        "events": events,
        "counts": counts,
        "ships": ships,
        "moving": moving,
        "clean_mmsi": clean_mmsi,
        "coverage": reception_cells(track, cfg.ais_gap.coverage_cell_deg),
        "grid": resample(clean, cfg.encounter),
    }


def gaps_task(bucket: dict, job: DetectJob, coverage: pl.DataFrame) -> pl.DataFrame:
    """Kernel 3: AIS gaps of one vessel bucket against everyone's reception cells."""
    from shadowfleet.events.main import _back_to_mmsi

    gaps = find_gaps(bucket["moving"].sort(["mmsi", "ts"]), job.cfg.ais_gap, job.places, coverage)
    return _back_to_mmsi(gaps.select(EVENT_COLUMNS), bucket["ships"])


def positions_of_task(bucket: dict, mmsis: list[int]) -> pl.DataFrame:
    """The de-noised positions of the given vessels held by one bucket (for placing identity changes)."""
    return bucket["clean_mmsi"].filter(pl.col("mmsi").is_in(mmsis))


def encounter_task(part: pl.DataFrame, cfg: EventsConfig) -> pl.DataFrame:
    """Kernel 4: close pairs of one group of encounter buckets; a pair belongs to the bucket of the point of its
    lower MMSI, so pairs found again through a neighbour's copied points are not counted twice."""
    pairs = encounter_pairs(part.select("mmsi", "t", "lat", "lon", "sog"), cfg.encounter)
    own = part.filter(pl.col("own")).select("mmsi", "t").unique()
    return pairs.join(own, on=["mmsi", "t"], how="semi")


def encounter_buckets(grid: pl.DataFrame, n_tasks: int, cfg: EventsConfig) -> list[pl.DataFrame]:
    """Slow grid points cut into ``n_tasks`` groups of (UTC day x 1-degree cell) buckets; a point within the
    encounter distance of a cell edge is also given, not owned, to the bucket across that edge."""
    m = cfg.encounter.max_distance_km * CELL_MARGIN / KM_PER_DEG  # degrees of latitude
    d = ENCOUNTER_CELL_DEG
    # a degree of longitude shrinks with latitude: widen the margin by the cosine at the pole-ward edge
    m_lon = m / (((pl.col("lat").abs() + m).clip(0.0, 89.0)).radians().cos())
    g = grid.with_columns(
        (pl.col("t") // US_PER_DAY).alias("_day"),
        (pl.col("lat") / d).floor().cast(pl.Int64).alias("_r"),
        (pl.col("lon") / d).floor().cast(pl.Int64).alias("_c"),
        pl.concat_list(((pl.col("lat") - m) / d).floor(), ((pl.col("lat") + m) / d).floor())
        .list.eval(pl.element().cast(pl.Int64)).list.unique().alias("_rs"),
        pl.concat_list(((pl.col("lon") - m_lon) / d).floor(), ((pl.col("lon") + m_lon) / d).floor())
        .list.eval(pl.element().cast(pl.Int64)).list.unique().alias("_cs"),
    )

    def task_of(day: pl.Expr, r: pl.Expr, c: pl.Expr) -> pl.Expr:
        key = day * 1_000_003 + (r + 91) * 1_009 + (c + 181)
        return (key.hash(seed=0) % n_tasks).cast(pl.Int64)

    g = g.with_columns(task_of(pl.col("_day"), pl.col("_r"), pl.col("_c")).alias("_own_task"))
    copies = (
        g.explode("_rs").explode("_cs")
        .with_columns(task_of(pl.col("_day"), pl.col("_rs"), pl.col("_cs")).alias("_task"))
        .with_columns((pl.col("_task") == pl.col("_own_task")).alias("own"))
        # a point copied into its own group through a neighbour cell is the owned point, once
        .sort("own", descending=True)
        .unique(["_task", "mmsi", "t"], keep="first")
    )
    parts = {k: p for (k,), p in copies.partition_by("_task", as_dict=True).items()}
    cols = ["mmsi", "t", "lat", "lon", "sog", "own"]
    return [parts[k].select(cols) if k in parts else copies.clear().select(cols) for k in range(n_tasks)]


def detect_partitioned(eng, store, positions: pl.LazyFrame, static: pl.LazyFrame, places: Places,
                       cfg: EventsConfig, tracks_cfg, position_columns: list[str], segment_columns: list[str],
                       counts: dict | None = None, receivers: pl.DataFrame | None = None,
                       ) -> tuple[list, int, list[pl.DataFrame], pl.DataFrame]:
    """Run detection as partition tasks on ``eng``. Returns (the workers' staged segments transactions, rows
    segmented, event parts, feed delays) for the caller to number and commit as `detect` does."""
    from shadowfleet.events.main import _back_to_mmsi
    from shadowfleet.tracks import TracksConfig, delays_from_lags

    n = n_partitions(eng)
    job = eng.share(DetectJob(store, positions, static, position_columns, segment_columns, n, places, cfg,
                              tracks_cfg, receivers))
    read = eng.map(read_task, range(n), job)
    delays = delays_from_lags(pl.concat(list(eng.results(eng.pick(read, "lags")))), tracks_cfg or TracksConfig())
    buckets = eng.map(vessel_task, read, job, eng.share(delays))

    events: list[pl.DataFrame] = []
    for part, c in zip(eng.results(eng.pick(buckets, "events")), eng.results(eng.pick(buckets, "counts"))):
        events.extend(part)
        if counts is not None:
            for key, v in c.items():
                counts[key] = counts.get(key, 0) + v

    coverage = pl.concat(list(eng.results(eng.pick(buckets, "coverage")))).unique()
    gaps = eng.map(gaps_task, buckets, job, eng.share(coverage))

    grid = pl.concat(list(eng.results(eng.pick(buckets, "grid"))))
    ships = pl.concat(list(eng.results(eng.pick(buckets, "ships"))))
    if grid.height:
        pairs = pl.concat(list(eng.results(eng.map(encounter_task, encounter_buckets(grid, n, cfg),
                                                   eng.share(cfg)))))
        found = encounters_from_pairs(pairs, grid, cfg.encounter, places)
        events.append(_back_to_mmsi(found.select(EVENT_COLUMNS), ships))

    static_all = static.collect()
    if "dup_key" in static_all.columns:
        static_all = dedupe_reports(static_all)
    if static_all.height:
        static_all = static_all.sort(["mmsi", "ts"]).filter(is_vessel_expr("mmsi"))
        found = find_identity_changes(static_all, None, cfg.identity_change)
        if found.height:
            mmsis = found["mmsi"].unique().to_list()
            near = pl.concat(list(eng.results(eng.map(positions_of_task, buckets, eng.share(mmsis)))))
            found = find_identity_changes(static_all, near, cfg.identity_change)
        events.append(found)

    events.extend(eng.results(gaps))
    n_segmented = sum(eng.results(eng.pick(buckets, "n_segmented")))
    return list(eng.results(eng.pick(buckets, "segments"))), n_segmented, events, delays
