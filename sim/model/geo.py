"""Great-circle distances between places given by latitude and longitude (degrees).

Flight times computed from a block speed use the haversine distance on a sphere of
the Earth's mean radius; airways are longer than great circles, which a block
speed (distance flown per hour from chocks off to chocks on) absorbs.
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0
"""Mean radius of the Earth, km."""


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance between two points, km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2.0) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
