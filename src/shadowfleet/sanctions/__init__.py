"""Sanctions lists (OFAC SDN, UN consolidated XML, UN 1718 vessels, OpenSanctions FtM, simple CSV) and screening of
the vessel registry against them. See docs/sanctions.md."""

from shadowfleet.sanctions.config import ScreeningConfig, screening_config
from shadowfleet.sanctions.lists import KINDS, ListVersion, detect_kind, load_list
from shadowfleet.sanctions.names import normalise
from shadowfleet.sanctions.store_io import list_entries, loaded_lists, save_list

__all__ = [
    "KINDS",
    "ListVersion",
    "ScreeningConfig",
    "detect_kind",
    "list_entries",
    "load_list",
    "loaded_lists",
    "normalise",
    "save_list",
    "screening_config",
]
