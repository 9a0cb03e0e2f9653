"""The cargo model's arithmetic: hull capacity, tonnes per centimetre, tonnes → barrels by product."""

import polars as pl
import pytest

from shadowfleet.cases import DEFAULTS, barrels_per_tonne, hull_estimates, product_table, tonnes_to_barrels
from shadowfleet.errors import ShadowfleetError


def test_tpc_is_waterplane_area_times_sea_water_density_over_100():
    df = hull_estimates(pl.DataFrame({"length": [100.0], "beam": [15.0], "max_draught": [6.0]}))
    lpp = 100.0 * DEFAULTS.lbp_over_loa
    assert df["tpc_central"][0] == pytest.approx(lpp * 15.0 * DEFAULTS.waterplane_coeff_central * 1.025 / 100)
    # 95 m × 15 m × 0.86 × 1.025 / 100 ≈ 12.56 t/cm
    assert df["tpc_central"][0] == pytest.approx(12.56, abs=0.01)
    assert df["tpc_low"][0] < df["tpc_central"][0] < df["tpc_high"][0]


def test_dwt_from_dimensions_is_displacement_less_lightship():
    df = hull_estimates(pl.DataFrame({"length": [100.0], "beam": [15.0], "max_draught": [6.0]}))
    disp = 95.0 * 15.0 * 6.0 * 0.76 * 1.025  # Lpp × B × T × Cb × ρ = 6,660 t
    assert df["hull_dwt_central"][0] == pytest.approx(disp * 0.68)
    assert df["hull_dwt_low"][0] == pytest.approx(95.0 * 15.0 * 6.0 * 0.70 * 1.025 * 0.62)
    assert df["hull_dwt_high"][0] == pytest.approx(95.0 * 15.0 * 6.0 * 0.82 * 1.025 * 0.78)


def test_design_draught_falls_back_to_beam_ratio_and_bad_dimensions_give_null():
    df = hull_estimates(pl.DataFrame({"length": [100.0, 0.0, None], "beam": [15.0, 10.0, 12.0], "max_draught": [None, 5.0, 5.0]}))
    assert df["hull_dwt_central"][0] == pytest.approx(95.0 * 15.0 * (15.0 / 2.5) * 0.76 * 1.025 * 0.68)
    assert df["hull_dwt_central"][1] is None and df["hull_dwt_central"][2] is None
    assert df["tpc_central"][1] is None


def test_every_product_row_cites_a_source_and_ranges_are_ordered():
    t = product_table()
    assert t["source"].str.len_chars().min() > 10
    assert (t["bbl_per_t_low"] <= t["bbl_per_t_central"]).all()
    assert (t["bbl_per_t_central"] <= t["bbl_per_t_high"]).all()


def test_factor_values_from_reference():
    assert barrels_per_tonne("gas_diesel_oil")[1] == 7.45
    assert barrels_per_tonne("motor_gasoline") == (8.5, 8.5, 8.5)
    assert barrels_per_tonne("unknown")[0] == 6.6 and barrels_per_tonne("unknown")[2] == 8.5
    low, central, high = barrels_per_tonne("refined_assumed_diesel")
    assert (low, central, high) == (6.6, 7.45, 8.5)


def test_tonnes_to_barrels_widens_the_range():
    low, central, high = tonnes_to_barrels(7000.0, 7500.0, 8000.0, "refined_assumed_diesel")
    assert central == pytest.approx(7500 * 7.45)
    assert low == pytest.approx(7000 * 6.6) and high == pytest.approx(8000 * 8.5)
    # the VOA check: 8,000 t of diesel ≈ 60,000 bbl
    assert tonnes_to_barrels(8000.0, 8000.0, 8000.0, "gas_diesel_oil")[1] == pytest.approx(59_600)


def test_unknown_product_name_is_a_user_error():
    with pytest.raises(ShadowfleetError, match="unknown product"):
        barrels_per_tonne("jet-a1")


def test_stale_shallow_draught_does_not_shrink_the_hull_below_typical_beam_ratio():
    df = hull_estimates(pl.DataFrame({"length": [100.0, 100.0], "beam": [15.0, 15.0], "max_draught": [3.0, 7.0]}))
    assert df["hull_dwt_central"][0] == pytest.approx(95.0 * 15.0 * 6.0 * 0.76 * 1.025 * 0.68)
    assert df["hull_dwt_central"][1] == pytest.approx(95.0 * 15.0 * 7.0 * 0.76 * 1.025 * 0.68)
