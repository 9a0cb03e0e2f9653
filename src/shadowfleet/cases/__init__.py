"""Voyages and cases (load → transit → discharge), the cargo model (tonnes and barrels with uncertainty), and
the 500,000-barrel ledger of UNSCR 2397 OP5."""

from shadowfleet.cases.config import DEFAULTS, CasesConfig, load_config
from shadowfleet.cases.particulars import hull_estimates, read_vessel_table, vessel_particulars
from shadowfleet.cases.products import barrels_per_tonne, product_table, tonnes_to_barrels
from shadowfleet.cases.voyages import CASES_SCHEMA, build_cases, read_cases, voyages

__all__ = [
    "CASES_SCHEMA", "CasesConfig", "DEFAULTS", "barrels_per_tonne", "build_cases", "hull_estimates",
    "load_config", "product_table", "read_cases", "read_vessel_table", "tonnes_to_barrels", "vessel_particulars",
    "voyages",
]
