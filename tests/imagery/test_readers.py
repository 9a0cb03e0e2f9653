"""Opening scenes: every input format, geolocation, time, and one clear error per bad scene."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile

import numpy as np
import pytest
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.transform import from_origin

from shadowfleet.errors import ShadowfleetError
from shadowfleet.imagery import open_scene
from tests.shared_data import shared_file

S1 = "imagery/sentinel1/S1B_IW_GRDH_1SDV_20210401T052623_20210401T052648_026269_032297_ECC8.SAFE"
TILE = "imagery/sentinel2/houston_20190409/T15RUN_20190409T164849_1005.tif"


def test_real_sentinel1_safe_is_geolocated_from_its_annotation_grid():
    s = open_scene(shared_file(S1))
    assert s.sensor == "sar" and (s.width, s.height) == (25788, 16685)
    assert set(s.bands) == {"VV"}
    # the annotation's first grid point: line 0, pixel 0 at 47.11703 N 12.43267 E
    lat, lon = s.latlon(np.array([0.0]), np.array([0.0]))
    assert lat[0] == pytest.approx(47.117028, abs=1e-5) and lon[0] == pytest.approx(12.432669, abs=1e-5)
    # scene middle time from adsHeader start/stop (05:26:23.79 .. 05:26:48.79)
    assert s.acquired.isoformat().startswith("2021-04-01T05:26:36")
    assert s.pixel_m == pytest.approx(10.0)
    assert 100 < s.range_over_velocity_s < 130  # ~850 km / 7.6 km/s
    assert s.track_bearing_deg == pytest.approx(194.35, abs=0.1)  # descending pass


def test_sentinel1_zip_opens_like_its_folder(tmp_path):
    safe = shared_file(S1)
    z = tmp_path / (safe.name.replace(".SAFE", ".zip"))
    with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
        for f in safe.rglob("*"):
            if f.is_file():
                zf.write(f, f"{safe.name}/{f.relative_to(safe)}")
    s = open_scene(z)
    assert s.bands["VV"].path.startswith("/vsizip/")
    assert (s.width, s.height) == (25788, 16685)
    with rasterio.open(s.bands["VV"].path) as src:
        assert src.read(1, window=((0, 2), (0, 2))).shape == (2, 2)


def test_real_rgba_tile_opens_as_optical_with_time_from_its_name():
    s = open_scene(shared_file(TILE))
    assert s.sensor == "optical" and list(s.bands) == ["R", "G", "B", "A"]
    assert s.acquired == dt.datetime(2019, 4, 9, 16, 48, 49, tzinfo=dt.timezone.utc)
    assert s.pixel_m == pytest.approx(10.0, abs=0.1)
    lon0, lat0, lon1, lat1 = s.footprint().bounds
    assert lat0 < 29.3525 < lat1 and lon0 < -94.7518 < lon1  # label c0122 lies in this tile


def _radar_tif(path, data, **kw):
    prof = dict(driver="GTiff", width=data.shape[-1], height=data.shape[-2], count=data.shape[0] if data.ndim == 3 else 1,
                dtype=str(data.dtype))
    prof.update(kw)
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(data if data.ndim == 3 else data[None])
    return path


def test_bare_geotiff_with_gcps_is_geolocated_from_them(tmp_path):
    gcps = [GroundControlPoint(row=r, col=c, x=133.0 + c * 1e-4, y=42.8 - r * 1e-4) for r in (0, 99) for c in (0, 99)]
    p = _radar_tif(tmp_path / "s1a-iw-grd-vh-20240307t084012-x.tiff", np.full((100, 100), 50, np.uint16),
                   gcps=gcps, crs="EPSG:4326")
    s = open_scene(p)
    assert s.sensor == "sar" and list(s.bands) == ["VH"] and s.scale == "amplitude"
    lat, lon = s.latlon(np.array([49.5]), np.array([49.5]))
    assert lat[0] == pytest.approx(42.8 - 49.5e-4) and lon[0] == pytest.approx(133.0 + 49.5e-4)
    assert s.acquired == dt.datetime(2024, 3, 7, 8, 40, 12, tzinfo=dt.timezone.utc)


def test_radar_in_db_is_recognised_and_converted_to_linear(tmp_path):
    p = _radar_tif(tmp_path / "scene.tif", np.full((64, 64), -20.0, np.float32), crs="EPSG:32653",
                   transform=from_origin(500000, 4700000, 10, 10))
    s = open_scene(p, time=dt.datetime(2024, 3, 7, tzinfo=dt.timezone.utc))
    assert s.scale == "db"
    x = s.read("VV", ((0, 4), (0, 4)))
    assert np.allclose(x, 0.01)


def test_sentinel2_band_files_are_found_beside_the_one_named(tmp_path):
    t = from_origin(500000, 4700000, 10, 10)
    for b, v in (("B02", 700), ("B03", 500), ("B04", 300), ("B08", 200)):
        drv = "JP2OpenJPEG" if b == "B04" else "GTiff"
        ext = "jp2" if b == "B04" else "tif"
        _radar_tif(tmp_path / f"T53TPN_20240307T021011_{b}.{ext}", np.full((32, 32), v, np.uint16), crs="EPSG:32653",
                   transform=t, driver=drv, **({"QUALITY": 100, "REVERSIBLE": "YES"} if b == "B04" else {}))
    s = open_scene(tmp_path / "T53TPN_20240307T021011_B04.jp2")
    assert set(s.bands) == {"R", "G", "B", "N"} and s.sensor == "optical"
    assert s.read("R", ((0, 2), (0, 2)))[0, 0] == pytest.approx(0.03)


def test_sentinel2_safe_folder_reads_offset_and_time_from_its_metadata(tmp_path):
    safe = tmp_path / "S2B_MSIL1C_20240307T021011_N0510_R003_T53TPN_20240307T040000.SAFE"
    img = safe / "GRANULE" / "L1C_T53TPN" / "IMG_DATA"
    img.mkdir(parents=True)
    t = from_origin(500000, 4700000, 10, 10)
    for b in ("B02", "B03", "B04", "B08"):
        _radar_tif(img / f"T53TPN_20240307T021011_{b}.jp2", np.full((16, 16), 1300, np.uint16), crs="EPSG:32653",
                   transform=t, driver="JP2OpenJPEG", QUALITY=100, REVERSIBLE="YES")
    (safe / "MTD_MSIL1C.xml").write_text(
        "<root><PRODUCT_START_TIME>2024-03-07T02:10:11.024Z</PRODUCT_START_TIME>"
        "<RADIO_ADD_OFFSET band_id='0'>-1000</RADIO_ADD_OFFSET></root>")
    s = open_scene(safe)
    assert s.acquired.isoformat().startswith("2024-03-07T02:10:11")
    assert s.read("G", ((0, 1), (0, 1)))[0, 0] == pytest.approx(0.03)  # (1300 - 1000) / 10000


@pytest.mark.parametrize("make, message", [
    (lambda p: _radar_tif(p, np.ones((8, 8), np.uint16)), "not georeferenced"),
    (lambda p: p.write_bytes(b""), "cannot read|not a readable"),
    (lambda p: p.write_bytes(b"II*\x00garbage" * 10), "cannot read|not a readable"),
])
def test_a_bad_scene_is_one_error_naming_it(tmp_path, make, message):
    import re

    p = tmp_path / "bad_20240307T084012.tif"
    make(p)
    with pytest.raises(ShadowfleetError) as e:
        open_scene(p)
    assert str(e.value).startswith(str(p)) and re.search(message, str(e.value))


def test_a_scene_without_any_time_needs_time(tmp_path):
    p = _radar_tif(tmp_path / "scene.tif", np.ones((8, 8), np.uint16), crs="EPSG:32653",
                   transform=from_origin(500000, 4700000, 10, 10))
    with pytest.raises(ShadowfleetError, match="give --time"):
        open_scene(p)
    assert open_scene(p, time=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)).acquired.year == 2024


def test_a_safe_without_its_annotation_is_refused(tmp_path):
    safe = shared_file(S1)
    copy = tmp_path / safe.name
    shutil.copytree(safe, copy, ignore=shutil.ignore_patterns("annotation"))
    with pytest.raises(ShadowfleetError, match="annotation"):
        open_scene(copy)


def test_radar_in_linear_float_is_read_as_intensity(tmp_path):
    p = _radar_tif(tmp_path / "scene_20240307T084012.tif", np.full((64, 64), 0.02, np.float32), crs="EPSG:32653",
                   transform=from_origin(500000, 4700000, 10, 10))
    s = open_scene(p)
    assert s.sensor == "sar" and s.scale == "intensity"
    assert np.allclose(s.read("VV", ((0, 4), (0, 4))), 0.02)


def test_sentinel2_l2a_safe_reads_its_10m_bands_and_boa_offset(tmp_path):
    safe = tmp_path / "S2A_MSIL2A_20240307T021011_N0510_R003_T53TPN_20240307T050000.SAFE"
    r10 = safe / "GRANULE" / "L2A_T53TPN_A045000_20240307T021011" / "IMG_DATA" / "R10m"
    r20 = r10.parent / "R20m"
    r10.mkdir(parents=True)
    r20.mkdir()
    t = from_origin(500000, 4700000, 10, 10)
    for b in ("B02", "B03", "B04", "B08"):
        _radar_tif(r10 / f"T53TPN_20240307T021011_{b}_10m.jp2", np.full((16, 16), 1500, np.uint16), crs="EPSG:32653",
                   transform=t, driver="JP2OpenJPEG", QUALITY=100, REVERSIBLE="YES")
    # a 20 m band of the same name must not be taken for the 10 m one
    _radar_tif(r20 / "T53TPN_20240307T021011_B02_20m.jp2", np.full((8, 8), 9000, np.uint16), crs="EPSG:32653",
               transform=from_origin(500000, 4700000, 20, 20), driver="JP2OpenJPEG", QUALITY=100, REVERSIBLE="YES")
    (safe / "MTD_MSIL2A.xml").write_text(
        "<root><PRODUCT_START_TIME>2024-03-07T02:10:11.024Z</PRODUCT_START_TIME>"
        "<BOA_ADD_OFFSET band_id='0'>-1000</BOA_ADD_OFFSET></root>")
    s = open_scene(safe)
    assert s.sensor == "optical" and set(s.bands) == {"R", "G", "B", "N"} and s.pixel_m == pytest.approx(10, abs=0.1)
    assert s.read("B", ((0, 1), (0, 1)))[0, 0] == pytest.approx(0.05)  # (1500 - 1000) / 10000


def test_metadata_declaring_entities_is_refused(tmp_path):
    safe = tmp_path / "S2B_MSIL1C_20240307T021011_N0510_R003_T53TPN_20240307T040000.SAFE"
    img = safe / "GRANULE" / "L1C_T53TPN" / "IMG_DATA"
    img.mkdir(parents=True)
    for b in ("B02", "B03", "B04"):
        _radar_tif(img / f"T53TPN_20240307T021011_{b}.jp2", np.full((16, 16), 1300, np.uint16), crs="EPSG:32653",
                   transform=from_origin(500000, 4700000, 10, 10), driver="JP2OpenJPEG", QUALITY=100, REVERSIBLE="YES")
    (safe / "MTD_MSIL1C.xml").write_text('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
                                         '<!ENTITY b "&a;&a;&a;&a;&a;">]><r>&b;</r>')
    with pytest.raises(ShadowfleetError, match="entit"):
        open_scene(safe)


def test_a_scene_whose_every_pixel_is_no_data_is_one_error_and_the_others_go_through(tmp_path):
    from shadowfleet.imagery import detect
    from shadowfleet.store import Store

    empty = tmp_path / "empty_20240307T084012.tif"
    _radar_tif(empty, np.zeros((64, 64), np.uint16), crs="EPSG:32653", transform=from_origin(500000, 4700000, 10, 10),
               nodata=0)
    good = _radar_tif(tmp_path / "sea_20240307T084012.tif", np.full((64, 64), 100, np.uint16), crs="EPSG:32653",
                      transform=from_origin(500000, 4700000, 10, 10), nodata=0)
    errors = []
    run = detect([empty, good], Store(tmp_path / "st"), on_error=errors.append)
    assert run.scenes == 1 and len(errors) == 1
    assert errors[0].startswith(str(empty)) and "every pixel is no-data" in errors[0]


def test_an_rgb_geotiff_without_alpha_opens_as_optical(tmp_path):
    rgb = np.stack([np.full((32, 32), v, np.uint8) for v in (40, 60, 80)])
    p = _radar_tif(tmp_path / "tile_20240307T021011.tif", rgb, crs="EPSG:32653",
                   transform=from_origin(500000, 4700000, 10, 10), photometric="RGB")
    s = open_scene(p)
    assert s.sensor == "optical" and {"R", "G", "B"} <= set(s.bands) and "A" not in s.bands
    assert s.read("R", ((0, 1), (0, 1)))[0, 0] == pytest.approx(40 / 255)
