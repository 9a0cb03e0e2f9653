"""Satellite imagery: ship detection in radar (Sentinel-1 GRD) and optical (Sentinel-2, RGB GeoTIFF) scenes,
stored as the `scenes` and `detections` tables, and scored against truth. See docs/imagery.md."""

from shadowfleet.imagery.config import ImageryConfig, load_config
from shadowfleet.imagery.main import detect, detect_scene, flag_fixed, read_detections, read_scenes
from shadowfleet.imagery.readers import open_scene

__all__ = ["ImageryConfig", "load_config", "detect", "detect_scene", "flag_fixed", "read_detections",
           "read_scenes", "open_scene"]
