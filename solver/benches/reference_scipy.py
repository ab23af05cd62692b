"""Independent reference for the rebalancing model: the same per-SKU MIP built from the problem
JSON with scipy's HiGHS (scipy.optimize.milp), without the Rust crate's lane pruning.

Usage: python3 reference_scipy.py <rebalancing-problem.json>
Prints one JSON object: {"net_gain": ..., "seconds": ..., "per_sku": [...]}.
"""

import json
import math
import sys
import time

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

EARTH_RADIUS_KM = 6371.0088


def haversine_km(a, b):
    lat_a, lat_b = math.radians(a["lat"]), math.radians(b["lat"])
    half_dlat = (lat_b - lat_a) / 2
    half_dlon = math.radians(b["lon"] - a["lon"]) / 2
    h = math.sin(half_dlat) ** 2 + math.cos(lat_a) * math.cos(lat_b) * math.sin(half_dlon) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def solve_sku(sku, positions, costs, min_qty):
    surplus = [(s["location"], s.get("surplus", 0)) for s in sku["stores"] if s.get("surplus", 0) > 0]
    shortfall = [(s["location"], s.get("shortfall", 0)) for s in sku["stores"] if s.get("shortfall", 0) > 0]
    lanes = []
    for i, (src, spare) in enumerate(surplus):
        for j, (dst, short) in enumerate(shortfall):
            km = haversine_km(positions[src], positions[dst])
            if km <= costs["transfer_km_max"]:
                gain = sku["margin_per_unit"] - costs["transfer_per_unit"] - costs["transfer_per_unit_km"] * km
                lanes.append((i, j, min(spare, short), gain))
    if not lanes:
        return 0.0
    n = len(lanes)
    # Variables: x_0..x_{n-1} (units), then y_0..y_{n-1} (lane used).
    c = np.zeros(2 * n)
    for k, (_, _, _, gain) in enumerate(lanes):
        c[k] = -gain
        c[n + k] = costs["transfer_fixed"]
    rows = len(surplus) + len(shortfall) + 2 * n
    a = lil_matrix((rows, 2 * n))
    lower = np.full(rows, -np.inf)
    upper = np.zeros(rows)
    for k, (i, j, most, _) in enumerate(lanes):
        a[i, k] = 1
        a[len(surplus) + j, k] = 1
        base = len(surplus) + len(shortfall)
        # x - min_qty*y >= 0 and x - most*y <= 0
        a[base + 2 * k, k] = 1
        a[base + 2 * k, n + k] = -min_qty
        lower[base + 2 * k], upper[base + 2 * k] = 0, np.inf
        a[base + 2 * k + 1, k] = 1
        a[base + 2 * k + 1, n + k] = -most
    for i, (_, spare) in enumerate(surplus):
        upper[i] = spare
    for j, (_, short) in enumerate(shortfall):
        upper[len(surplus) + j] = short
    upper_bounds = np.array([lane[2] for lane in lanes] + [1] * n, dtype=float)
    result = milp(
        c,
        constraints=LinearConstraint(a.tocsr(), lower, upper),
        integrality=np.ones(2 * n),
        bounds=Bounds(np.zeros(2 * n), upper_bounds),
        options={"mip_rel_gap": 0.0},
    )
    if not result.success:
        raise RuntimeError(f"sku {sku['sku']}: {result.message}")
    return -result.fun


def main():
    with open(sys.argv[1]) as handle:
        problem = json.load(handle)
    positions = {store["location"]: store["position"] for store in problem["stores"]}
    started = time.perf_counter()
    per_sku = [
        solve_sku(sku, positions, problem["costs"], max(1, problem["min_transfer_qty"]))
        for sku in problem["skus"]
    ]
    seconds = time.perf_counter() - started
    print(json.dumps({"net_gain": sum(per_sku), "seconds": seconds, "per_sku": per_sku}))


if __name__ == "__main__":
    main()
