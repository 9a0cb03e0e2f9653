"""AIS "type of ship and cargo type" codes (message 5 / 19 / 24B) to a plain category.

Source: ITU-R M.1371-5, Annex 8, Table 53 (first digit: 2 WIG, 4 high-speed craft, 6 passenger, 7 cargo,
8 tanker, 9 other; 30-59 are individual special craft; second digit of 20-99 is the hazardous-cargo category).
"""

from __future__ import annotations

import polars as pl

# Individual codes of the 30s and 50s (Table 53).
_SPECIAL: dict[int, str] = {
    30: "fishing", 31: "towing", 32: "towing", 33: "dredging", 34: "diving", 35: "military", 36: "sailing",
    37: "pleasure", 50: "pilot", 51: "search_and_rescue", 52: "tug", 53: "port_tender", 54: "anti_pollution",
    55: "law_enforcement", 58: "medical", 59: "noncombatant",
}
# By first digit for the ranges 20-29, 40-49, 60-99.
_DECADE: dict[int, str] = {2: "wing_in_ground", 4: "high_speed_craft", 6: "passenger", 7: "cargo", 8: "tanker", 9: "other"}

SHIP_TYPE_CATEGORY: dict[int, str] = {
    **{c: _DECADE[c // 10] for c in range(20, 100) if c // 10 in _DECADE},
    **_SPECIAL,
}
# 0 = not available; 1-19 reserved for future use; 38, 39, 56, 57 reserved for regional use.
UNKNOWN = "unknown"


def ship_type_category(code: int | None) -> str:
    if code is None:
        return UNKNOWN
    return SHIP_TYPE_CATEGORY.get(int(code), UNKNOWN)


def ship_type_category_expr(code: pl.Expr | str = "ship_type") -> pl.Expr:
    """Vectorised ``ship_type_category``: string column "ship_category"."""
    c = (pl.col(code) if isinstance(code, str) else code).cast(pl.Int64, strict=False)
    return c.replace_strict(SHIP_TYPE_CATEGORY, default=UNKNOWN, return_dtype=pl.Utf8).fill_null(UNKNOWN).alias(
        "ship_category"
    )
