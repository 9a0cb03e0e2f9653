"""Sea lanes as a small waypoint graph for the Sea of Japan, the Yellow Sea and Korea Bay.

searoute's global marine network is too coarse here (Vostochny to Chongjin snaps to two nodes 80 nm apart),
so the simulator routes on hand-placed offshore waypoints instead ("ours: waypoints placed on open water and
checked against global-land-mask in tests/sim"). Each port place connects to its approach waypoint; the last
leg from the approach waypoint to the berth or anchorage is straight.
"""

from __future__ import annotations

import heapq

import numpy as np

# name: (lat, lon). Approach waypoints (suffix _APP) lie 2-10 km off the harbour entrance in open water.
NODES: dict[str, tuple[float, float]] = {
    # Peter the Great Gulf and Nakhodka Bay
    "VYP_APP": (42.715, 133.00),
    "NAK_APP": (42.74, 132.93),
    "NAK_MOUTH": (42.64, 132.96),
    "PG_EAST": (42.52, 132.95),
    "PG_MID": (42.55, 132.30),
    "USSURI_S": (42.90, 132.05),
    "VVO_APP": (43.03, 131.97),
    "AMUR_S": (42.75, 131.75),
    "SLA_APP": (42.82, 131.45),
    "ZAR_APP": (42.60, 131.08),
    "ZAR_OFF": (42.52, 131.20),
    "PG_SW": (42.35, 131.30),
    # DPRK north-east coast
    "TUMEN_OFF": (42.10, 130.85),
    "SBG_APP": (42.27, 130.50),
    "RJN_APP": (42.17, 130.38),
    "CHO_APP": (41.70, 129.93),
    "KIM_APP": (40.60, 129.32),
    "HGM_APP": (39.72, 127.78),
    "WON_APP": (39.20, 127.70),
    "DPRK_E1": (41.20, 130.15),
    "DPRK_E2": (40.10, 128.90),
    "KIM_OFF": (40.65, 129.75),
    # Sea of Japan open water
    "SOJ_NW": (41.95, 131.40),
    "SOJ_N": (42.20, 132.60),
    "SOJ_C2": (41.30, 130.50),
    "SOJ_E": (42.30, 133.80),
    "SOJ_MID": (40.50, 132.50),
    "SOJ_W": (40.00, 130.20),
    "SOJ_SW": (38.30, 129.70),
    "KOR_E": (36.50, 129.75),
    "PUS_OFF": (35.00, 129.25),
    "KOR_E2": (35.60, 129.70),
    "PUS_APP": (35.05, 129.06),
    "SOJ_SE": (38.80, 135.50),
    "NIG_OFF": (38.10, 138.70),
    "SADO_N": (38.45, 138.60),
    "NIG_APP": (38.00, 139.12),
    "TSUGARU_W": (41.30, 139.50),
    # Korea Strait / Yellow Sea / Korea Bay / Bohai
    "KOR_STRAIT": (34.55, 128.90),
    "JEJU_N": (33.75, 126.60),
    "KOR_S": (33.90, 127.80),
    "YS_S": (34.50, 124.50),
    "YS_MID": (36.50, 124.20),
    "YS_N": (37.80, 124.00),
    "KB_MID": (38.50, 124.50),
    "SOKDO_OFF": (38.684, 124.93),
    "NAM_CH": (38.684, 125.05),
    "NAM_APP": (38.684, 125.32),
    "KB_N": (39.00, 123.50),
    "DLC_OFF": (38.80, 122.20),
    "DLC_APP": (38.945, 121.72),
    "DLC_OFF2": (38.935, 121.90),
    "LAOTIE": (38.55, 121.15),
    "LAOTIE_W": (38.70, 120.95),
    "BOHAI_STR": (38.45, 120.75),
    "LKU_OFF": (37.95, 120.35),
    "BOHAI_C": (38.80, 120.00),
    "YIK_OFF": (39.80, 121.30),
    "YIK_APP": (40.25, 121.95),
    "TSN_APP": (38.95, 117.90),
    "LKU_APP": (37.75, 120.25),
    "YNT_APP": (37.62, 121.45),
    "SHANDONG_E": (37.45, 122.80),
    "SHANDONG_NE": (37.65, 122.30),
}

EDGES: list[tuple[str, str]] = [
    ("VYP_APP", "NAK_MOUTH"), ("NAK_APP", "NAK_MOUTH"), ("NAK_MOUTH", "PG_EAST"), ("PG_EAST", "PG_MID"),
    ("PG_EAST", "SOJ_N"), ("PG_EAST", "SOJ_E"), ("PG_MID", "USSURI_S"), ("USSURI_S", "VVO_APP"),
    ("PG_MID", "AMUR_S"), ("AMUR_S", "SLA_APP"), ("PG_MID", "ZAR_OFF"), ("ZAR_APP", "ZAR_OFF"),
    ("ZAR_OFF", "PG_SW"), ("PG_MID", "PG_SW"), ("PG_SW", "TUMEN_OFF"), ("PG_SW", "SOJ_NW"),
    ("TUMEN_OFF", "SBG_APP"), ("TUMEN_OFF", "RJN_APP"), ("RJN_APP", "SBG_APP"), ("TUMEN_OFF", "SOJ_C2"),
    ("SOJ_C2", "CHO_APP"), ("RJN_APP", "CHO_APP"), ("SOJ_NW", "SOJ_C2"), ("SOJ_NW", "SOJ_N"),
    ("SOJ_N", "PG_MID"), ("SOJ_N", "SOJ_E"), ("SOJ_N", "SOJ_MID"), ("SOJ_C2", "SOJ_W"), ("CHO_APP", "DPRK_E1"),
    ("DPRK_E1", "KIM_OFF"), ("KIM_OFF", "KIM_APP"), ("DPRK_E1", "SOJ_W"), ("KIM_APP", "SOJ_W"), ("KIM_APP", "DPRK_E2"),
    ("DPRK_E2", "HGM_APP"), ("HGM_APP", "WON_APP"), ("WON_APP", "SOJ_SW"), ("HGM_APP", "SOJ_SW"),
    ("DPRK_E2", "SOJ_W"), ("SOJ_W", "SOJ_SW"), ("SOJ_W", "SOJ_MID"), ("SOJ_SW", "KOR_E"), ("KOR_E", "KOR_E2"),
    ("KOR_E2", "PUS_OFF"), ("PUS_OFF", "PUS_APP"), ("PUS_OFF", "KOR_STRAIT"), ("SOJ_MID", "SOJ_SE"),
    ("SOJ_SE", "SADO_N"), ("SADO_N", "NIG_OFF"), ("NIG_OFF", "NIG_APP"), ("SOJ_E", "SOJ_SE"),
    ("SOJ_SE", "KOR_E"), ("SOJ_E", "TSUGARU_W"), ("TSUGARU_W", "SADO_N"), ("SOJ_MID", "SOJ_E"),
    ("KOR_STRAIT", "KOR_S"), ("KOR_S", "JEJU_N"), ("JEJU_N", "YS_S"), ("YS_S", "YS_MID"), ("YS_MID", "YS_N"), ("YS_N", "KB_MID"),
    ("KB_MID", "SOKDO_OFF"), ("SOKDO_OFF", "NAM_CH"), ("NAM_CH", "NAM_APP"), ("KB_MID", "KB_N"),
    ("KB_N", "DLC_OFF"), ("DLC_OFF", "DLC_OFF2"), ("DLC_OFF2", "DLC_APP"), ("DLC_OFF", "LAOTIE"),
    ("YS_N", "SHANDONG_E"), ("SHANDONG_E", "DLC_OFF"), ("SHANDONG_E", "SHANDONG_NE"),
    ("SHANDONG_NE", "YNT_APP"), ("YNT_APP", "LAOTIE"), ("LAOTIE", "BOHAI_STR"), ("BOHAI_STR", "LKU_OFF"),
    ("LKU_OFF", "LKU_APP"), ("BOHAI_STR", "BOHAI_C"), ("LAOTIE", "LAOTIE_W"), ("LAOTIE_W", "BOHAI_C"),
    ("BOHAI_C", "TSN_APP"), ("LAOTIE_W", "YIK_OFF"), ("BOHAI_C", "YIK_OFF"), ("YIK_OFF", "YIK_APP"),
    ("YS_MID", "SHANDONG_E"), ("KB_N", "KB_MID"),
]

# Approach waypoint of each gazetteer place id (docs/CONTRACTS.md); places not listed use the nearest waypoint.
PLACE_APPROACH: dict[str, str] = {
    "RUVYP": "VYP_APP", "RUVYP-OIL": "VYP_APP", "RUVYP-ANCH": "VYP_APP", "RUVYP-COAL": "VYP_APP",
    "RUVYP-CTN": "VYP_APP", "KOZMINO": "VYP_APP", "RUNJK": "NAK_APP", "RUNJK-ANCH": "NAK_APP",
    "RUVVO": "VVO_APP", "RUVVO-ANCH": "VVO_APP", "RUSKA": "SLA_APP", "RUZAR": "ZAR_APP",
    "KPCHO": "CHO_APP", "KPCHO-OIL": "CHO_APP", "KPRJN": "RJN_APP", "KPSBG": "SBG_APP",
    "KPNAM": "NAM_APP", "KPNAM-OIL": "NAM_APP", "KPSGN": "NAM_APP", "KPHGM": "HGM_APP", "KPSON": "KIM_APP",
    "KPWON": "WON_APP", "SOKDO-STS": "SOKDO_OFF", "KRPUS": "PUS_APP", "JPKIJ": "NIG_APP",
    "CNDLC": "DLC_APP", "CNYIK": "YIK_APP", "CNLKU": "LKU_APP", "CNYNT": "YNT_APP", "CNTSN": "TSN_APP",
}


def _gc_nm(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(np.radians, (a[0], a[1], b[0], b[1]))
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return float(2 * 3440.065 * np.arcsin(np.sqrt(h)))


def _adjacency() -> dict[str, list[tuple[str, float]]]:
    adj: dict[str, list[tuple[str, float]]] = {n: [] for n in NODES}
    for a, b in EDGES:
        d = _gc_nm(NODES[a], NODES[b])
        adj[a].append((b, d))
        adj[b].append((a, d))
    return adj


_ADJ = _adjacency()


def lane_path(a: str, b: str) -> list[str]:
    """Shortest waypoint path from node a to node b (Dijkstra on ~60 nodes; ties broken by name)."""
    if a == b:
        return [a]
    dist = {a: 0.0}
    prev: dict[str, str] = {}
    heap = [(0.0, a)]
    while heap:
        d, n = heapq.heappop(heap)
        if n == b:
            break
        if d > dist.get(n, np.inf):
            continue
        for m, w in _ADJ[n]:
            nd = d + w
            if nd < dist.get(m, np.inf) - 1e-12:
                dist[m] = nd
                prev[m] = n
                heapq.heappush(heap, (nd, m))
    if b not in dist:
        raise ValueError(f"no sea lane from {a} to {b}")
    path = [b]
    while path[-1] != a:
        path.append(prev[path[-1]])
    return path[::-1]


def approach_node(place_id: str, lat: float, lon: float) -> str:
    if place_id in PLACE_APPROACH:
        return PLACE_APPROACH[place_id]
    return min(NODES, key=lambda n: (_gc_nm(NODES[n], (lat, lon)), n))

# Waypoints between a place's approach node and the place itself where a straight leg would cut land
# (ours: read off global-land-mask around each harbour).
PLACE_INNER: dict[str, list[tuple[float, float]]] = {
    "RUVYP": [(42.754, 133.04)], "RUVYP-OIL": [(42.754, 133.04)], "RUVYP-COAL": [(42.754, 133.04)],
    "RUVYP-CTN": [(42.754, 133.04)], "CNLKU": [(37.70, 120.18)], "RUVVO": [(43.065, 131.90)],
}
PLACE_APPROACH["SOKDO-STS"] = "NAM_CH"
PLACE_APPROACH["CNLKU"] = "LKU_APP"
