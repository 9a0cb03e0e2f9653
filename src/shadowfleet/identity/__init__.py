"""Vessel identifiers: IMO numbers (check digit), MMSI Maritime Identification Digits (flag state, station kind),
AIS ship-type categories, and the normalisation of broadcast names. Ground floor: imports nothing of shadowfleet.

Scalar functions for one value; ``*_expr`` functions for polars columns (vectorised).
"""

from shadowfleet.identity.imo import imo_valid, imo_valid_expr
from shadowfleet.identity.mid import (
    KINDS,
    MID_COUNTRY,
    MID_FLAG,
    MID_TABLE,
    country_expr,
    country_of,
    flag_expr,
    flag_of,
    is_vessel,
    is_vessel_expr,
    mid_expr,
    mid_of,
    mmsi_kind,
    mmsi_kind_expr,
    mmsi_red_flag,
    red_flag_expr,
)
from shadowfleet.identity.names import clean_text, clean_text_expr
from shadowfleet.identity.ship_type import SHIP_TYPE_CATEGORY, ship_type_category, ship_type_category_expr

__all__ = [
    "KINDS", "MID_COUNTRY", "MID_FLAG", "MID_TABLE", "SHIP_TYPE_CATEGORY",
    "clean_text", "clean_text_expr", "country_expr", "country_of", "flag_expr", "flag_of",
    "imo_valid", "imo_valid_expr", "is_vessel", "is_vessel_expr", "mid_expr", "mid_of", "mmsi_kind", "mmsi_kind_expr", "mmsi_red_flag", "red_flag_expr",
    "ship_type_category", "ship_type_category_expr",
]
