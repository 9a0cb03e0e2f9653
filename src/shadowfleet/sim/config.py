"""Realism defaults of the simulator, each with its source. Override any of them from TOML section [sim]."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SimConfig:
    # --- AIS reporting (ITU-R M.1371-5 Annex 1 Table 1 and 2) -----------------------------------------------
    # ITU-R M.1371 Table 1: Class A reports every 2-10 s underway (by speed and turning), every 3 min at anchor or
    # moored; message 5 every 6 min. Providers deliver thinned archives; ours: by default one position per 5 min
    # underway, one per 15 min stationary and one static report per hour, the density of a down-sampled
    # terrestrial+satellite archive (keeps 31 days x 220 ships near 100 MB; detection definitions need no more:
    # 1 h port calls, 10 min encounter resampling, 6 h gaps). Set 10 / 180 / 360 for ITU rates.
    underway_interval_s: float = 300.0
    moored_interval_s: float = 900.0
    static_interval_s: float = 3600.0
    # ITU-R M.1371 Table 2: Class B "CS" every 30 s above 2 kn, 3 min at or below 2 kn, message 24 every 6 min;
    # thinned like Class A (ours).
    class_b_underway_interval_s: float = 300.0
    class_b_slow_interval_s: float = 900.0
    class_b_static_interval_s: float = 3600.0
    # ours: share of Class A position reports sent as message 3 (assigned/interrogated) rather than 1.
    msg3_share: float = 0.05

    # --- reception -----------------------------------------------------------------------------------------
    # docs/reference.md: VHF shore stations receive ships to about 40 nm (antenna height dependent).
    shore_range_nm: float = 40.0
    # ours: chance a shore station inside its range decodes a given transmission (slot collisions, fading).
    shore_decode_prob: float = 0.92
    # ours: low-orbit AIS satellites: one usable pass over a given sea every ~100 min orbit for ~12 min
    # (a 2,000+ km footprint crossed at 7 km/s), decoding a minority of messages (collisions in dense areas).
    sat_pass_period_s: float = 6000.0
    sat_pass_duration_s: float = 720.0
    sat_decode_prob: float = 0.25
    # ours: jitter between transmission and the receiver's time stamp (c: tag), seconds, uniform [0, max].
    shore_jitter_s: float = 2.0
    sat_jitter_s: float = 4.0
    # ours: share of received sentences damaged in transit (bad character or truncated, checksum kept).
    corrupt_share: float = 0.002

    # --- ship speeds (knots) -------------------------------------------------------------------------------
    # ours: typical service speeds: small coastal tankers 9-11 kn (Vostochny-Chongjin 160 nm in ~15-18 h, docs/reference.md),
    # bulkers 11-13, container feeders 14-17, fishing transit 8-10, trawling 3-4.
    tanker_speed_kn: tuple[float, float] = (9.0, 11.0)
    bulk_speed_kn: tuple[float, float] = (10.5, 13.0)
    container_speed_kn: tuple[float, float] = (14.0, 17.0)
    fishing_transit_kn: tuple[float, float] = (8.0, 10.0)
    fishing_trawl_kn: tuple[float, float] = (2.8, 4.0)
    # ours: ships slow for the last few nm into a port (pilotage) and manoeuvre at 3-6 kn.
    approach_speed_kn: float = 5.0
    approach_nm: float = 3.0
    # ours: reported SOG of a moored/anchored ship (swinging at anchor, GNSS noise) stays under this, well below the
    # 0.5 kn stop rule (definitions: port_call.max_sog_kn).
    stop_drift_kn: float = 0.3

    # --- stop durations (hours) -----------------------------------------------------------------------------
    # ours: loading a 2-3 kt product tanker at a berth ~1-2 days incl. formalities; discharge at Chongjin without
    # shore pumps of capacity ~1-2 days; waiting at anchorage a few hours.
    load_hours: tuple[float, float] = (20.0, 40.0)
    discharge_hours: tuple[float, float] = (24.0, 48.0)
    anchor_wait_hours: tuple[float, float] = (2.0, 10.0)
    cargo_port_hours: tuple[float, float] = (12.0, 48.0)

    # --- DPRK tankers and cargo (docs/reference.md) ---------------------------------------------------------------
    # docs/reference.md "DPRK product tankers 1,000-9,000 dwt, mostly the lower end"; the vostochny scenario
    # uses up to 3,500 dwt. RYE SONG GANG 1 3,003 dwt and KUM UN SAN 3 2,070 dwt from the same table. Unnamed
    # tankers are drawn from a floor to dprk_dwt_max: docs/reference.md "the Vostochny callers are among the largest in
    # the fleet" (ours: 2,000 dwt floor); the Yellow Sea shuttles off Nampo are smaller coasters (ours: 1,500).
    dprk_dwt_max: float = 3500.0
    vostochny_dprk_dwt_min: float = 2000.0
    nampo_dprk_dwt_min: float = 1500.0
    # ours: a product tanker loads 80-95 % of deadweight in cargo (the rest bunkers, stores, ballast margin).
    load_factor: tuple[float, float] = (0.80, 0.95)
    # docs/reference.md tonnes-to-barrels: gas/diesel oil 7.45 (industry, implied by the 1718 Committee's conversions).
    bbl_per_tonne_gasoil: float = 7.45
    # docs/reference.md: motor gasoline 8.50 (UNSD).
    bbl_per_tonne_gasoline: float = 8.50
    # ours: share of DPRK loads that are gasoline rather than gas/diesel oil ("mostly gas/diesel oil").
    gasoline_share: float = 0.15
    # US NSC 2 May 2024 (docs/reference.md): > 165,000 bbl delivered in March 2024; the scenario's March total lies in this
    # range for every seed.
    march_barrels: tuple[float, float] = (150_000.0, 180_000.0)
    # ours: water-plane coefficient of a full-bodied small tanker, for tonnes per cm immersion.
    waterplane_coeff: float = 0.82
    # ours: seawater density t/m3.
    seawater_density: float = 1.025
    # ours: light-ship draught of a small tanker in ballast, metres.
    ballast_draught_m: tuple[float, float] = (2.6, 3.6)
    # VOA 2024 charter notice for Vostochny: draft <= 9 m.
    max_draught_m: float = 9.0

    # --- evasion (docs/reference.md: US maritime advisory May 2020; Panel of Experts) -------------------------------
    # 2024 reporting (docs/reference.md): transponders off near and at the berth on most visits.
    dark_at_berth_share: float = 0.8
    # ours: of the dark visits, this share switch off at the anchorage or within dark_near_nm of the berth (an
    # inferred port call stays possible), the rest dark_far_nm out; of the far ones, spoof_share broadcast a false
    # position instead of going silent.
    dark_near_share: float = 0.6
    dark_near_nm: tuple[float, float] = (0.5, 2.5)
    dark_far_nm: tuple[float, float] = (8.0, 30.0)
    spoof_share: float = 0.3
    # ours: share of laden transits with AIS off for a part (2024 reporting: AIS on for parts of the transit only).
    dark_transit_share: float = 0.5
    # docs/reference.md "DPRK tankers rarely broadcast draught": share that never do / that leave it stale.
    never_draught_share: float = 0.4
    stale_draught_share: float = 0.25

    # the spoofing scenario's late-stamped satellite feed: this receiver's stamps run late_feed_min late (the
    # honest trap of a provider relaying satellite AIS in batches; ours: ~40 min as seen on external traffic)
    late_feed_min: float = 40.0

    # --- imagery ---------------------------------------------------------------------------------------------
    # ours: Sentinel-1 revisit ~6 days per orbit direction (12 days per satellite, two in 2024 counting S1A only ~12);
    # Sentinel-2 ~5 days with two satellites. Footprints here are a site-sized window, not a full swath.
    sar_revisit_days: float = 6.0
    optical_revisit_days: float = 5.0
    # ours: share of optical acquisitions lost to cloud over the sea of Japan in March.
    optical_cloud_share: float = 0.4
    footprint_km: float = 30.0
    # ESA: Sentinel-1 IW GRDH and Sentinel-2's visible/NIR bands have 10 m pixels; larger renders faster
    imagery_pixel_m: float = 10.0
