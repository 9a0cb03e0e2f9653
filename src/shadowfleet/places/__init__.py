"""Places: the gazetteer of ports, berths, anchorages, terminals, STS areas and EEZs, and geography helpers."""

from shadowfleet.places.gazetteer import (
    KINDS,
    NEST_MIN_AREA_SHARE,
    PORT_KINDS,
    Places,
    area_km2,
    as_places,
    load_places,
    places_from_geojson,
)
from shadowfleet.places.geo import (
    EARTH_RADIUS_KM,
    KM_PER_DEG_LAT,
    KM_PER_NM,
    bearing_deg,
    destination_point,
    haversine_km,
    on_land,
    sea_route_coords,
    sea_route_nm,
)

__all__ = [
    "KINDS",
    "NEST_MIN_AREA_SHARE",
    "PORT_KINDS",
    "Places",
    "area_km2",
    "as_places",
    "load_places",
    "places_from_geojson",
    "EARTH_RADIUS_KM",
    "KM_PER_DEG_LAT",
    "KM_PER_NM",
    "bearing_deg",
    "destination_point",
    "haversine_km",
    "on_land",
    "sea_route_coords",
    "sea_route_nm",
]
