"""Defaults of ship detection in satellite scenes, each with its public source. TOML sections [imagery.sar],
[imagery.optical], [imagery.persistence], [imagery.evaluate], [imagery.match], [imagery.structures] override them.

Sources: GFW = Global Fishing Watch's Sentinel-1 detector (Paolo et al. 2024, Nature 625, "Satellite mapping
reveals extensive industrial activity at sea", methods); SNAP = ESA SNAP's Ocean Tools "Adaptive Thresholding"
operator (two-parameter CFAR) defaults; xView3 = the xView3-SAR challenge (Paolo et al. 2022, NeurIPS datasets
track) metric; ESA = Sentinel-1 and Sentinel-2 user guides (product facts); "ours" gives a reason.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from pathlib import Path

from shadowfleet import config as _config
from shadowfleet.errors import ShadowfleetError


@dataclass(frozen=True)
class SarConfig:
    # GFW: background statistics from a ring between 200 m and 600 m around the pixel under test (the target
    # itself and its sidelobes stay inside the ring's hole)
    ring_inner_m: float = 200.0
    ring_outer_m: float = 600.0
    # GFW: a pixel is a target when it exceeds the ring's mean by 22 standard deviations (on VH)
    k_sigma: float = 22.0
    # polarisations tested; a pixel bright in either is a candidate (GFW detects on VH, where sea clutter is
    # lowest; VV adds hulls that VH misses in calm water)
    polarisations: tuple[str, ...] = ("VH", "VV")
    # ESA Sentinel-1 user guide: IW GRDH equivalent number of looks ~4.4. A perfectly flat background (no-data
    # fill, a constant test product) would have a zero standard deviation: the ring's std is never taken below
    # that of fully developed speckle, mean / sqrt(ENL).
    enl: float = 4.4
    # ours: background statistics are gathered on blocks of this size (5 x 5 pixels at 10 m); the ring is
    # 40-120 pixels across, so block sums change its area by under 1 % and cut the work ~25 times
    block_m: float = 50.0
    # ours: candidate pixels closer than this are one object (a hull broken by speckle into pieces)
    merge_m: float = 20.0
    # ours: objects smaller than this many pixels are speckle spikes, larger than max_length_m are not ships
    # (the largest tankers are ~380 m: ESA/IMO ship size classes)
    min_pixels: int = 2
    max_length_m: float = 450.0
    # ours: the fine coastline (places.coast) is accurate to tens of metres, so a 60 m buffer keeps quays and
    # their fenders out while leaving a ship moored alongside in (GFW's 1 km global mask needs far more)
    shore_buffer_m: float = 60.0
    # ours: pixels read per window (edge); larger windows use more memory, smaller ones re-read more halo
    window_px: int = 2048
    # ours: heading is estimated only for objects at least this elongated (length / width)
    min_elongation_heading: float = 1.5


@dataclass(frozen=True)
class OpticalConfig:
    # ours: a pixel is anomalous when a band's value exceeds the ring's mean by this many standard deviations
    # (ring 100-300 m: wider than a hull's half-length at 10 m). Chosen on the real Galveston tiles (docs/imagery.md:
    # 6 let sediment streaks and wave crests through, 8 keeps precision >= 0.9 at the same recall)
    k_sigma: float = 8.0
    ring_inner_m: float = 100.0
    ring_outer_m: float = 300.0
    # ours: ... and by at least this much reflectance-like brightness (0-1) above it, so calm dark water with a
    # tiny spread does not turn ripples into ships
    min_contrast: float = 0.035
    # McFeeters 1996: NDWI = (green - NIR) / (green + NIR) > 0 is open water
    ndwi_water: float = 0.0
    # ours: clouds and haze: bright (brightness > cloud_brightness) and grey (saturation < cloud_saturation)
    # areas; wider than cloud_min_m they are cloud, not hulls, and are skipped with a margin of cloud_margin_m
    cloud_brightness: float = 0.35
    cloud_saturation: float = 0.25
    cloud_min_m: float = 500.0
    cloud_margin_m: float = 200.0
    # ours: a scene more than this share cloud is skipped whole (recorded in `scenes`)
    max_cloud_share: float = 0.8
    merge_m: float = 10.0
    min_pixels: int = 3
    max_length_m: float = 450.0
    shore_buffer_m: float = 60.0
    window_px: int = 2048
    min_elongation_heading: float = 1.5


@dataclass(frozen=True)
class PersistenceConfig:
    # ours: a bright object within this distance of one in other scenes of the same spot is the same object ...
    radius_m: float = 50.0
    # ... and it is fixed (platform, buoy, jetty head) when seen at min_scenes distinct acquisition times and in
    # at least min_share of the acquisitions covering it; ships at anchor move > 50 m between revisits as they swing
    min_scenes: int = 4
    min_share: float = 0.75
    # ... over at least this many days: longer than ships stay on one spot (DPRK tankers loaded at Vostochny in a
    # day or three in 2024 reporting; ships at anchor swing tens of metres), while a jetty head stays for years
    min_span_days: float = 20.0


@dataclass(frozen=True)
class StructuresConfig:
    # ours: a known-structures GeoJSON (platforms, buoys, jetty heads) applied like `detect --structures`; a
    # relative path is taken from the TOML file's folder ("" = none)
    file: str = ""
    # ours: a detection within this distance of a known structure is that structure: half a pixel of
    # geolocation error each way at 10-20 m plus the structure's own size (a jetty head is tens of metres)
    radius_m: float = 50.0


@dataclass(frozen=True)
class EvaluateConfig:
    match_m: float = 200.0  # xView3: a detection matches a true vessel within 200 m (one-to-one, Hungarian)
    close_to_shore_km: float = 2.0  # xView3: "close to shore" = within 2 km of the shoreline
    min_length_m: float = 0.0  # truth ships shorter than this are left out of the score (0: all)
    # ours: length classes for the breakdown (metres)
    length_classes: tuple[float, ...] = (50.0, 100.0, 200.0)
    # ours: wind classes (m/s) for the breakdown by sea state (Beaufort 3 ends at 5.4 m/s, 5 at 10.7 m/s)
    wind_classes: tuple[float, ...] = (5.4, 10.7)


@dataclass(frozen=True)
class MatchConfig:
    base_m: float = 200.0  # GFW (Kroodsma 2022, Paolo 2024): 200 m ...
    m_per_minute: float = 500.0  # ... plus 0.5 km per minute between the image and the nearest AIS report
    # ours: 0.5 km/min is a ship at 16 kn; a ship reported slower within the last few minutes cannot have moved
    # that far: up to speed_gate_max_min the growth is its reported speed (at least min_speed_kn) times
    # speed_margin; past that a stopped ship may have got under way, and GFW's growth applies
    min_speed_kn: float = 1.0
    speed_margin: float = 1.5
    speed_gate_max_min: float = 10.0
    window_h: float = 2.0  # ours: AIS reports farther than this from the image do not place a ship in it
    # ours: a ship that reported itself moored or at anchor (ITU-R M.1371 navigational status 5 / 1) and stopped
    # is taken to be still there up to this long after (or, reported so after the image, already there before):
    # port stays last a day or more, and a moored class A ship reports only every 3 min, a satellite hears it
    # far more rarely
    moored_window_h: float = 6.0
    # ours: stopped (at most this speed) in both the report before and the one after the image, less than
    # base_m apart, the ship is taken not to have moved in between: its gate does not grow with the time
    stopped_kn: float = 1.0
    # ours: faster than merchant ships go (high-speed ferries ~40 kn): reports before and after the image farther
    # apart than this speed allows are not one ship's track (one of them spoofed): only the nearer one is used
    max_speed_kn: float = 50.0
    # ITU-R M.1371 (Dimension A/B): AIS gives the position of the GNSS antenna, which can sit anywhere along the
    # hull, and the detection's centre is the hull's: two tracks whose distances to a detection differ by less
    # than this cannot be told apart (the detection is then "ambiguous", neither matched nor dark)
    tie_m: float = 50.0
    # ours: two detections are pieces of one hull (a dim midship section, a hull cut by the shore buffer) when
    # their axes agree within this many degrees, the line between them runs along that axis and their ends lie
    # within split_gap_px pixels; beside a matched ship, a piece along its axis that fits with it in its AIS length
    split_axis_deg: float = 20.0
    split_gap_px: float = 3.0
    # ours: lengths agree when detected / AIS length lies in [length_ratio_min, length_ratio_max]. Radar
    # overstates a hull little (Skylight's median length error is 27 m) but can understate it a lot when only
    # part of the hull clears the threshold (the demo's 20 m scenes measured 200 m tankers at 60-90 m)
    length_ratio_max: float = 2.0
    length_ratio_min: float = 0.25
    # ours: a detection shorter than this many pixels is a hull's brightest point (superstructure, a corner
    # reflector) more often than the whole hull: only the upper bound of the length rule applies to it
    length_min_px: float = 3.0
    # ours: a share of the predicted radar azimuth shift added to the gate (R/V and the AIS speed are both
    # approximate)
    shift_tolerance: float = 0.25
    # unconfirmed_position: only where the AIS position is well known (a report within this many minutes), the
    # ship long enough for the detector's measured recall (docs/imagery.md: >= 0.9 at >= 50 m) ...
    unconfirmed_max_minutes: float = 10.0
    unconfirmed_min_length_m: float = 50.0
    expected_recall: float = 0.9
    # ... and away from the footprint's edge (the CFAR ring needs water around)
    edge_margin_m: float = 600.0


@dataclass(frozen=True)
class SatelliteRule:
    """How a satellite whose name matches ``pattern`` (shell wildcards, case-insensitive) images: its swath width
    on the ground, whether it needs daylight (optical), and where the swath lies: centred under the track
    (``look = "nadir"``) or to one side of it (``"right"``/``"left"`` of the direction of flight), starting where
    the radar meets the ground at ``near_incidence_deg``."""

    pattern: str = ""
    swath_km: float = 0.0
    optical: bool = False
    look: str = "nadir"
    near_incidence_deg: float = 0.0


# ESA: Sentinel-1 Interferometric Wide swath mode: 250 km swath, incidence from about 29 degrees at its near edge
# to 46 at its far edge (Sentinel-1 SAR user guide), with a right-looking antenna (ESA, Sentinel-1 instrument
# payload); Sentinel-2 MSI: 290 km centred under the track (Sentinel-2 user handbook). Radar sees by night and
# through cloud; the MSI needs the Sun up.
# TOML: [imagery.plan.satellites.NAME] pattern / swath_km / optical / look / near_incidence_deg (a new NAME adds
# a rule).
DEFAULT_SATELLITES: tuple[tuple[str, SatelliteRule], ...] = (
    ("sentinel-1", SatelliteRule("SENTINEL-1*", 250.0, False, "right", 29.1)),
    ("sentinel-2", SatelliteRule("SENTINEL-2*", 290.0, True, "nadir", 0.0)),
)


@dataclass(frozen=True)
class PlanConfig:
    """Tasking: which open questions an image would settle, how they rank, and the pass search."""

    # an AIS gap is a question from this long on: GFW counts gaps >= 12 h as possible intentional disabling
    min_gap_h: float = 12.0
    # ours: a gap (or spoofed stretch) starting or ending this close to a supplier's oil berth or terminal may
    # hide a load there; 50 km: the demo's tankers' last true report before loading dark at Vostochny lies
    # 30-50 km off it (going dark at sea, or a false track beginning, well before the berth)
    near_terminal_km: float = 50.0
    # the suppliers of the 1718 Committee's reported-deliveries table (docs/reference.md), as the cases stage's
    # supplier_countries (imagery runs upstream of cases and cannot import it); the place kinds where loading
    # physically happens
    terminal_countries: tuple[str, ...] = ("RU", "CN")
    terminal_kinds: tuple[str, ...] = ("berth", "terminal")
    # a berth or terminal is an oil one when its id or name carries this word (case-insensitive; the cases
    # stage's oil_terminal_tag): RUVYP-OIL, "Kozmino crude oil terminal"; a coal or container quay is not
    oil_tag: str = "oil"
    # ours: the fastest a laden tanker is assumed to go while dark (a product tanker's service speed is 12-15 kn);
    # a ship dark for T hours lies within reach_speed_kn * T / 2 of the midpoint of its last and next reports
    reach_speed_kn: float = 12.0
    # ours: an AIS gap of either vessel within this many hours of an encounter in an STS area makes it a dark one
    dark_side_margin_h: float = 6.0
    # ours: a stored usable scene answers a question when it shows at least this share of the area in the window
    answered_min_share: float = 0.9
    # rank = kind weight x stake x imageability (docs/imagery.md "Tasking"); ours
    w_dark_port_call: float = 1.0
    w_sts: float = 1.0
    w_gap_at_terminal: float = 0.8
    w_listed_dark: float = 0.6
    w_listed: float = 2.0  # a listed vessel triples the stake (1 + 2)
    barrels_unit: float = 50_000.0  # each 50,000 bbl of estimated cargo adds 1 to the stake (10 % of the cap)
    scene_km: float = 250.0  # imageability: share of the area one scene this wide (Sentinel-1 IW) can show
    # ours: an element set is used up to this many days from its epoch (SGP4's error grows with the time from
    # epoch, Vallado et al. 2006; CelesTrak publishes fresh sets daily)
    max_epoch_days: float = 14.0
    # pass search: coarse step (30 s = ~200 km of ground track), minima refined to 1 s; ours
    step_s: float = 30.0
    refine_step_s: float = 1.0
    satellites: tuple[tuple[str, SatelliteRule], ...] = DEFAULT_SATELLITES


@dataclass(frozen=True)
class ImageryConfig:
    sar: SarConfig = field(default_factory=SarConfig)
    optical: OpticalConfig = field(default_factory=OpticalConfig)
    persistence: PersistenceConfig = field(default_factory=PersistenceConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    match: MatchConfig = field(default_factory=MatchConfig)
    plan: PlanConfig = field(default_factory=PlanConfig)
    structures: StructuresConfig = field(default_factory=StructuresConfig)


def load_config(path: str | Path | None | ImageryConfig = None) -> ImageryConfig:
    """The defaults with the [imagery.*] sections of a TOML file applied."""
    if isinstance(path, ImageryConfig):
        return path
    o = _config.load_overrides(path)
    d = ImageryConfig()
    cfg = ImageryConfig(
        sar=_config.apply(d.sar, _config.section(o, "imagery.sar"), "imagery.sar"),
        optical=_config.apply(d.optical, _config.section(o, "imagery.optical"), "imagery.optical"),
        persistence=_config.apply(d.persistence, _config.section(o, "imagery.persistence"), "imagery.persistence"),
        evaluate=_config.apply(d.evaluate, _config.section(o, "imagery.evaluate"), "imagery.evaluate"),
        match=_config.apply(d.match, _config.section(o, "imagery.match"), "imagery.match"),
        plan=_plan_config(d.plan, o),
        structures=_config.apply(d.structures, _config.section(o, "imagery.structures"), "imagery.structures"),
    )
    if cfg.structures.file and not Path(cfg.structures.file).is_absolute() and path is not None:
        cfg = replace(cfg, structures=replace(cfg.structures, file=str(Path(path).parent / cfg.structures.file)))
    m = cfg.match
    if not 0 < m.length_ratio_min <= 1 <= m.length_ratio_max:
        raise ShadowfleetError("[imagery.match] length_ratio_min must lie in (0, 1] and length_ratio_max be >= 1, got "
                               f"{m.length_ratio_min} and {m.length_ratio_max}")
    if not 0 < m.expected_recall <= 1:
        raise ShadowfleetError(f"[imagery.match] expected_recall must lie in (0, 1], got {m.expected_recall}")
    return cfg


def _plan_config(d: PlanConfig, o: dict) -> PlanConfig:
    if not isinstance(_config.section(o, "imagery.plan").get("satellites", {}), dict):
        raise ShadowfleetError("[imagery.plan] satellites must be tables: [imagery.plan.satellites.NAME]")
    plan = _config.apply(d, _config.section(o, "imagery.plan"), "imagery.plan")
    rules = dict(plan.satellites)
    for key, values in _config.section(o, "imagery.plan.satellites").items():
        if not isinstance(values, dict):
            raise ShadowfleetError(f"[imagery.plan.satellites] {key} must be a table with pattern, swath_km, optical")
        name = f"imagery.plan.satellites.{key}"
        rule = _config.apply(rules.get(key, SatelliteRule()), values, name)
        if not rule.pattern.strip() or not 0 < rule.swath_km <= 5000:
            raise ShadowfleetError(f"[{name}] needs a pattern and a swath_km in (0, 5000], got "
                                   f"{rule.pattern!r} and {rule.swath_km}")
        if rule.look not in ("nadir", "right", "left") or not 0 <= rule.near_incidence_deg < 80:
            raise ShadowfleetError(f"[{name}] look must be nadir, right or left and near_incidence_deg lie in "
                                   f"[0, 80), got {rule.look!r} and {rule.near_incidence_deg}")
        rules[key] = rule
    # ours: at most 120 refined samples a coarse step (the refinement holds candidates x samples positions)
    if not 0 < plan.step_s <= 120 or not plan.step_s / 120 <= plan.refine_step_s <= plan.step_s:
        raise ShadowfleetError(f"[imagery.plan] step_s must lie in (0, 120] and refine_step_s in [step_s / 120, "
                               f"step_s], got {plan.step_s} and {plan.refine_step_s}")
    if not 0 < plan.answered_min_share <= 1 or plan.scene_km <= 0 or plan.barrels_unit <= 0:
        raise ShadowfleetError("[imagery.plan] answered_min_share must lie in (0, 1]; scene_km and barrels_unit "
                               "must be > 0")
    return dataclasses.replace(plan, satellites=tuple(rules.items()))
