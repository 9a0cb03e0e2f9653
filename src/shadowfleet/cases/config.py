"""Named defaults of the cases stage (voyages, cargo model, ledger), each with its source.

Override from TOML under ``[cases]``, e.g.::

    [cases]
    max_voyage_days = 30
    load_factor_central = 0.8
"""

from __future__ import annotations

from dataclasses import dataclass

from shadowfleet.config import load_section


@dataclass(frozen=True)
class CasesConfig:
    # --- where a load happens -------------------------------------------------------------------------------
    # Suppliers named in the 1718 Committee's reported-deliveries table (docs/reference.md "Deliveries reported").
    supplier_countries: tuple[str, ...] = ("RU", "CN")
    # Place kinds that count as a load terminal in a supplier country (docs/CONTRACTS.md place kinds); ours:
    # an oil berth or terminal, not a whole port polygon or an anchorage, where loading physically happens.
    load_place_kinds: tuple[str, ...] = ("berth", "terminal")
    # A place whose id/name carries this tag is an oil terminal wherever it is (e.g. RUVYP-OIL); ours.
    oil_terminal_tag: str = "OIL"
    # A dark (inferred) port call can often be placed only in the port, not at the berth: the transponder goes off
    # before the ship reaches it (docs/reference.md: Vostochny 2024). Such a call by a tanker (AIS ship type 80–89, or
    # unknown) at a supplier-country port holding an oil berth counts as a load at that port; ours.
    dark_port_loads: bool = True
    tanker_ship_types: tuple[int, int] = (80, 89)  # ITU-R M.1371 ship type: 80–89 tanker
    # A load can also hide inside an AIS gap: the draught rose ≥ draught_rise_min_m across a gap this long whose
    # reachable places (events' ais_gap details) include a load terminal. GFW counts a gap ≥ 12 h as possible
    # intentional disabling (docs/reference.md); the load place stays unknown (the reachable terminals are listed).
    dark_gap_loads: bool = True
    dark_gap_min_h: float = 12.0
    # ... or, without a draught, when the gap both begins and ends (or a loitering lies) this close to a load
    # terminal; ours: ~32 nm, inside a shore AIS station's ~40 nm range (docs/reference.md), so switching off there
    # hides the approach and the stay at the berth.
    dark_gap_near_km: float = 60.0
    # A draught drop counts as a delivery when it happens within this distance of a place of the destination
    # country (its EEZ, ports, STS areas) or the vessel is destination-flagged or listed; ours: 20 km is about the
    # sea-area precision of the positions we attach to a draught report made with AIS on and off.
    drop_near_km: float = 20.0
    # Berths/terminals whose id or name says they handle dry cargo cannot load petroleum (e.g. RUVYP-COAL,
    # RUVYP-CTN in the built-in gazetteer); ours.
    dry_cargo_tags: tuple[str, ...] = ("COAL", "CTN", "CONTAINER", "GRAIN", "TIMBER", "ORE")
    # Many supplier ports have no oil berth mapped (the Chinese ports of the gazetteer are port discs only). A
    # non-DPRK tanker's port call at a supplier-country *port* counts as a possible load only when the next thing
    # the ship does (before any other port call, within max_voyage_days) is a ship-to-ship transfer with a
    # DPRK-flagged or listed vessel, seen or dark (load → transit → STS); ours.
    supplier_port_loads: bool = True

    # --- where a discharge happens --------------------------------------------------------------------------
    destination_country: str = "KP"  # UNSCR 2397 OP5 caps refined petroleum to the DPRK
    destination_mid: int = 445  # MMSI MID of the DPRK (ITU MID table; docs/reference.md "Identity and flags")
    # Place kinds that cannot host a discharge port call (an EEZ is not a port); ours.
    non_port_kinds: tuple[str, ...] = ("eez", "zone")
    # A screening hit this strong counts as "listed" (exact IMO/MMSI/call-sign matches always count); ours:
    # fuzzy name matches below this are too weak to call a partner vessel sanctioned.
    listed_min_score: float = 90.0
    # Draught drop that marks a discharge at sea; docs/reference.md draught_change (≥ 0.5 m between type-5 reports).
    draught_drop_m: float = 0.5
    # A discharge port call reached with AIS off: a gap ending this close before it, from which the port was
    # reachable, marks where the discharge may really have begun; ours (a few hours of approach/pilotage).
    dark_arrival_h: float = 6.0
    # A ship-to-ship transfer done with AIS off: a non-DPRK ship's AIS gap from which a destination-country STS
    # area was reachable, overlapping by at least this long the time a DPRK-flagged or listed vessel waited
    # there (its loitering at the area, or an AIS gap starting or ending next to it). 2 h is the encounter
    # minimum duration (GFW encounters, docs/reference.md), the least an alongside transfer takes.
    dark_sts: bool = True
    dark_sts_min_overlap_h: float = 2.0
    # Longest load → discharge chain; ours: Vostochny→Chongjin is ~160 nm (a day at 7 kn), and DPRK tankers
    # wait at anchor for days; 20 days covers a Vostochny→Nampo run round Korea (~1,000 nm) with waits.
    max_voyage_days: float = 20.0
    # Two load port calls at the same place closer than this are one stay (a seen call and an inferred one
    # over the same gap, or a short AIS dropout); ours.
    load_merge_gap_h: float = 12.0

    # --- draught evidence -----------------------------------------------------------------------------------
    # A draught rise counts for a load when it starts within this window around the load port call; ours: crews
    # type the draught by hand and often update it hours after leaving the berth.
    draught_before_load_h: float = 6.0
    draught_after_load_h: float = 72.0
    draught_rise_min_m: float = 0.5  # docs/reference.md draught_change threshold
    # Type-5 draught is in tenths of a metre (ITU-R M.1371 message 5), so each reading is ±0.05 m: ±0.1 m on a
    # difference of two readings.
    draught_resolution_m: float = 0.1

    # --- hull form (capacity and tonnes per centimetre from AIS dimensions) --------------------------------
    # Block coefficient; ours: full-form large tankers reach 0.80–0.85, small coastal product tankers (the DPRK
    # fleet: 1–9 kt dwt, mostly the lower end, docs/reference.md) are finer: 0.70–0.82, central 0.76.
    block_coeff_low: float = 0.70
    block_coeff_central: float = 0.76
    block_coeff_high: float = 0.82
    # Water-plane area coefficient; ours: usual range 0.82–0.90 for full-form tankers.
    waterplane_coeff_low: float = 0.82
    waterplane_coeff_central: float = 0.86
    waterplane_coeff_high: float = 0.90
    sea_water_density: float = 1.025  # t/m³, standard sea water used in every TPC formula
    # AIS length is overall; length between perpendiculars is ~0.95 of it for small tankers; ours.
    lbp_over_loa: float = 0.95
    # Deadweight as a share of full-load displacement (deadweight coefficient); ours: large tankers reach 0.8+,
    # but the DPRK fleet is small (1–9 kt dwt, mostly the lower end) and 20+ years old (docs/reference.md), and small,
    # old hulls carry a relatively heavy lightship (~30 % of displacement): 0.62–0.78, central 0.68.
    # Check: an 85 m × 13.5 m × 5.5 m coastal tanker (~3,000 dwt) gives 0.76 × 0.68 × 6,164 t ≈ 3,190 t.
    dwt_over_displacement_low: float = 0.62
    dwt_over_displacement_central: float = 0.68
    dwt_over_displacement_high: float = 0.78
    # Design draught when none was broadcast: beam / this ratio; ours: B/T ≈ 2.2–2.8 for small tankers.
    beam_over_draught: float = 2.5

    # --- capacity from list data ----------------------------------------------------------------------------
    # GRT → dwt for tankers; ours: small product tankers commonly carry ~1.5–1.7 t deadweight per gross ton
    # (a rule of thumb, not checked against a registry here).
    grt_to_dwt_low: float = 1.5
    grt_to_dwt_central: float = 1.6
    grt_to_dwt_high: float = 1.7
    # Published "tonnage" is usually dwt but sometimes gross; ours: carry ±10 %.
    list_tonnage_spread: float = 0.10
    # A user vessel table's dwt is taken as stated ±2 % (rounding in registries); ours.
    user_dwt_spread: float = 0.02

    # --- cargo as a share of capacity (no draught broadcast) ------------------------------------------------
    # Cargo loaded / dwt. Ours, reasoned from docs/reference.md: the Vostochny→Nampo charter asked 7,000–8,000 t with
    # draft ≤ 9 m from ships of ~8–9,000 dwt (≈ 0.85–0.95); the rough check of 43 loads and > 1 M bbl gives
    # ≥ 3,100 t a load for 2–5,000 dwt ships; dwt also covers bunkers, water and stores (5–10 %), and old hulls
    # often sail part-laden. Hence 0.70–0.95, central 0.85.
    load_factor_low: float = 0.70
    load_factor_central: float = 0.85
    load_factor_high: float = 0.95
    # When nothing is known of the hull: docs/reference.md "DPRK product tankers: 1,000–9,000 dwt, mostly the lower
    # end"; central from the rough check ≈ 3,100 t a load.
    unknown_tonnes_low: float = 1000.0
    unknown_tonnes_central: float = 3100.0
    unknown_tonnes_high: float = 8000.0

    # --- confidence (weights sum to 1.0; imagery's add to them, capped at 1); ours, ordered by how directly each
    # shows a transfer --------------------------------------------------------------------------------------
    w_load_seen: float = 0.25  # ours: the ship was seen stationary at the terminal
    w_load_inferred: float = 0.15  # ours: dark call, arrival and departure seen at the place
    w_load_dark_gap: float = 0.10  # ours: loaded somewhere during a gap (draught rose / switched off nearby)
    w_load_supplier_port: float = 0.10  # ours: a call at a supplier port with no oil berth mapped, then an STS
    w_discharge_port: float = 0.30  # ours: a DPRK port call is the delivery itself
    w_discharge_sts: float = 0.25  # ours: transfer to a DPRK-flagged or listed ship (UNSCR 2375 OP11)
    w_discharge_sts_dark: float = 0.15  # ours: the transfer itself unseen, only both ships' presence at the area
    w_discharge_draught: float = 0.15  # ours: cargo left the ship, recipient unseen
    w_flag_dprk: float = 0.15  # ours: MMSI MID 445 (flags can be false)
    w_listed: float = 0.15  # ours: a strong sanctions-list hit
    w_draught_evidence: float = 0.15  # ours: draught rose after the load (cargo really taken on)

    # --- satellite imagery (tables `detections` and `matches` of the imagery stage) --------------------------
    # A detection's length is consistent with the vessel's AIS (type-5) length when detected / AIS lies in
    # [min, max]: radar understates a hull far more than it overstates it (docs/imagery.md: the demo's 20 m scenes
    # measured 200 m tankers at 60-90 m; Skylight's median length error is 27 m). The matcher ties a track to a
    # detection up to 2x (docs/imagery.md "Matching with AIS"); naming a dark ship by its length alone asks more:
    # ours, 1.5x (+40 m on the DPRK fleet's 80-90 m hulls, beyond Skylight's median error).
    imagery_length_ratio_min: float = 0.25
    imagery_length_ratio_max: float = 1.5
    # Where a dark detection corroborates a load or discharge: inside a berth or terminal of the call's place
    # (ours: loading and discharging happen alongside, not at anchor; an anchorage only shows the ship waited).
    imagery_place_kinds: tuple[str, ...] = ("berth", "terminal")
    # A dark detection in an STS area corroborates a transfer when another ship lies within this many km of it;
    # 0 = the encounter distance of the event definitions (GFW encounters: <= 0.5 km, docs/reference.md).
    imagery_alongside_km: float = 0.0
    # Confidence added (ours, the same scale as the weights above): an image of an unbroadcasting ship of the
    # right length at the berth while the vessel was dark there is about as strong as a seen load ...
    w_imagery_dark_load: float = 0.15
    w_imagery_dark_discharge: float = 0.10
    w_imagery_dark_sts: float = 0.15
    # ... an image of the vessel itself (matched to its AIS) at the call confirms what AIS already showed.
    w_imagery_matched: float = 0.05
    # A detection the matcher left ambiguous (a track could have moved there, or two fit alike) may still be the
    # dark vessel: it corroborates at this share of the weight (ours: as likely one as the other), or not at all.
    imagery_ambiguous: bool = True
    imagery_ambiguous_factor: float = 0.5
    # Two dark tankers that could both be a detection: it goes to the one whose length fits better and whose AIS
    # went silent nearer to it; ours: this many km from that position weigh like a length off by a factor e.
    imagery_assign_km: float = 10.0
    # A silence whose last report before and first after lie within imagery_stayed_m of each other is a ship that
    # stayed there unheard (GPS scatter of a moored ship is tens of metres; re-anchoring on the same spot is rare):
    # it is no candidate for a detection farther than imagery_stayed_radius_m from it (ours: the GFW base gate of
    # 200 m plus a berth).
    imagery_stayed_m: float = 100.0
    imagery_stayed_radius_m: float = 1000.0

    # --- the cap --------------------------------------------------------------------------------------------
    annual_cap_bbl: float = 500_000.0  # UNSCR 2397 (2017) OP5: refined petroleum to the DPRK per 12 months


DEFAULTS = CasesConfig()


def load_config(path=None) -> CasesConfig:
    """Defaults with the ``[cases]`` section of a TOML file applied."""
    return load_section(DEFAULTS, "cases", path)
