"""Great-circle helpers, land mask and sea routes."""

from __future__ import annotations

import numpy as np
import pytest

from shadowfleet.errors import ShadowfleetError
from shadowfleet.places import bearing_deg, destination_point, haversine_km, on_land, sea_route_coords, sea_route_nm


def test_haversine_vostochny_chongjin_is_157_nm():
    # docs/reference.md: WPI points, 157 nm great-circle
    nm = haversine_km(42.75, 133.0833, 41.7667, 129.8167) / 1.852
    assert nm == pytest.approx(157, abs=1.5)


def test_one_degree_of_latitude_is_60_nm_and_arrays_broadcast():
    d = haversine_km(np.array([0.0, 10.0, np.nan]), 0.0, np.array([1.0, 11.0, 1.0]), 0.0)
    assert d[:2] / 1.852 == pytest.approx([60.04, 60.04], abs=0.05)
    assert np.isnan(d[2])


def test_destination_point_inverts_bearing_and_distance():
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(-70, 70, 500), rng.uniform(-180, 180, 500)
    brg, dist = rng.uniform(0, 360, 500), rng.uniform(0.1, 500, 500)
    la2, lo2 = destination_point(lat, lon, brg, dist)
    assert np.allclose(haversine_km(lat, lon, la2, lo2), dist, rtol=1e-9, atol=1e-9)
    back = bearing_deg(lat, lon, la2, lo2)
    assert np.allclose((back - brg + 180) % 360 - 180, 0, atol=1e-6)
    assert bearing_deg(0, 0, 1, 0) == pytest.approx(0) and bearing_deg(0, 0, 0, 1) == pytest.approx(90)


def test_on_land_knows_sea_from_land_and_rejects_nan():
    # Pyongyang and Vladivostok's hinterland on land; the Sea of Japan and the Yellow Sea not
    got = on_land([39.03, 43.3, 40.5, 37.0, np.nan, 95.0], [125.75, 132.2, 131.0, 123.0, 10.0, 0.0])
    assert got.tolist() == [True, True, False, False, False, False]
    assert on_land(39.03, 125.75) is np.True_ or on_land(39.03, 125.75) == True  # noqa: E712 - scalar in, scalar out


def test_sea_route_vostochny_chongjin_goes_by_sea_and_is_not_shorter_than_great_circle():
    coords = sea_route_coords(133.08, 42.75, 129.82, 41.77)
    assert coords[0] == (133.08, 42.75) and coords[-1] == (129.82, 41.77)
    nm = sea_route_nm(133.08, 42.75, 129.82, 41.77)
    gc = haversine_km(42.75, 133.08, 41.77, 129.82) / 1.852
    assert gc <= nm < 1.5 * gc
    # interior waypoints are at sea
    inner = np.asarray(coords[1:-1])
    assert not on_land(inner[:, 1], inner[:, 0]).any()


def test_sea_route_rejects_invalid_positions():
    with pytest.raises(ShadowfleetError, match="invalid position"):
        sea_route_nm(133.08, 95.0, 129.82, 41.77)


def test_on_land_answers_as_global_land_mask_does_everywhere():
    from global_land_mask import globe

    rng = np.random.default_rng(11)
    lat = np.concatenate([rng.uniform(-90, 90, 20_000), rng.uniform(41, 44, 20_000), [90.0, -90.0, 0.0]])
    lon = np.concatenate([rng.uniform(-180, 179.999, 20_000), rng.uniform(129, 134, 20_000), [179.9999, -180.0, 0.0]])
    assert np.array_equal(on_land(lat, lon), globe.is_land(lat, lon))
