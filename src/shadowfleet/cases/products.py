"""Barrels per tonne by product. Every row cites its source (docs/reference.md "Tonnes to barrels")."""

from __future__ import annotations

import polars as pl

from shadowfleet.errors import ShadowfleetError

# product: (low, central, high) barrels per tonne, source
_ROWS: dict[str, tuple[float, float, float, str]] = {
    "lpg": (11.6, 11.6, 11.6, "1718 Committee conversion chart (the only row the Committee confirms)"),
    "motor_gasoline": (8.50, 8.50, 8.50, "UN Statistics Division energy conversion factors"),
    "kerosene": (7.77, 7.77, 7.77, "UN Statistics Division energy conversion factors (kerosene/jet)"),
    # UNSD gives 7.23; industry tables and the Committee's conversions quoted by VOA (8,000 t ≈ 60,000 bbl)
    # give 7.45–7.5, so the row carries 7.23–7.5 around the commonly used 7.45.
    "gas_diesel_oil": (7.23, 7.45, 7.50, "UNSD 7.23; industry tables and 1718 Committee conversions via VOA 7.45–7.5"),
    "residual_fuel_oil": (6.62, 6.62, 6.62, "UN Statistics Division energy conversion factors"),
    # Unknown refined product: the span of the rows above short of LPG; central the midpoint.
    "unknown": (6.6, 7.55, 8.5, "docs/reference.md: range of UNSD rows fuel oil 6.62 … gasoline 8.50"),
    # A DPRK tanker loading at a Russian oil berth: reporting says refined products, mostly diesel, so the
    # central factor is gas/diesel oil while the low–high stays the unknown-product range (the product is not
    # observed from AIS).
    "refined_assumed_diesel": (6.6, 7.45, 8.5, "central gas/diesel oil 7.45 (VOA/industry); range unknown-product 6.6–8.5"),
}


def product_table() -> pl.DataFrame:
    """The factor table: product, bbl_per_t_low, bbl_per_t_central, bbl_per_t_high, source."""
    return pl.DataFrame(
        [(k, *v) for k, v in _ROWS.items()],
        schema=["product", "bbl_per_t_low", "bbl_per_t_central", "bbl_per_t_high", "source"],
        orient="row",
    )


def barrels_per_tonne(product: str) -> tuple[float, float, float]:
    """(low, central, high) barrels per tonne of ``product``."""
    try:
        low, central, high, _ = _ROWS[product]
    except KeyError:
        raise ShadowfleetError(f"unknown product {product!r}; known: {', '.join(_ROWS)}") from None
    return low, central, high


def tonnes_to_barrels(tonnes_low, tonnes_central, tonnes_high, product: str):
    """Barrels (low, central, high): the low tonnes at the low factor, the high at the high (ranges widen)."""
    f_low, f_central, f_high = barrels_per_tonne(product)
    return tonnes_low * f_low, tonnes_central * f_central, tonnes_high * f_high
