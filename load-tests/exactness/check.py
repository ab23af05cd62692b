#!/usr/bin/env python3
"""Independent exactness check for Allot's order-sourcing optimiser.

Re-implements the sourcing model (module doc of solver/src/sourcing/mod.rs, pricing of
solver/src/sourcing/valid.rs) from scratch and solves it with HiGHS through
scipy.optimize.milp, then compares the proven optimum with the total Allot reported.

    python3 check.py RESULTS.jsonl [--time-limit SECONDS]
    python3 check.py --self-test

Each input line is {"problem": <SourcingProblem>, "allot_total": <float>,
"allot_status": "optimal" | "fallback_greedy" | "infeasible" | ...}; an optional "name" labels
the line in the output. Exit codes: 0 all good, 1 a mismatch (an "optimal" total off by more
than the tolerance, a plan cheaper than the proven optimum, or a feasibility disagreement),
2 no mismatch but some problem could not be solved within the time limit.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

# Same constant as solver/src/geo.rs, so distances (hence per-km costs) agree to the last bits.
EARTH_RADIUS_KM = 6371.0088
REL_TOL = 1e-4  # 0.01 %
ABS_TOL = 1e-6
TIME_LIMIT_S = 60.0
SAMPLE = Path(__file__).with_name("sample.jsonl")


# ---------------------------------------------------------------------------------------------
# The model: the problem reduced to sources, as Sourcing::parse does.
# ---------------------------------------------------------------------------------------------


@dataclass
class Source:
    location: str
    fixed: float  # paid once if used: parcel or lane fixed cost, plus the customer's wait
    unit_cost: float  # handling plus carriage, per unit
    available: dict[str, int]  # per order SKU
    unprotected: dict[str, int]  # units per SKU above the protected level
    capacity: int | None  # None: no daily limit


@dataclass
class Model:
    lines: list[tuple[str, int]]  # (sku, qty); lines with the same SKU share its stock
    sources: list[Source]
    split_penalty: float
    protection_per_unit: float
    unfulfilled_per_unit: float | None  # None unless partial fulfilment is allowed

    def lines_of_sku(self) -> dict[str, list[int]]:
        lines: dict[str, list[int]] = {}
        for l, (sku, _) in enumerate(self.lines):
            lines.setdefault(sku, []).append(l)
        return lines

    def total_qty(self) -> int:
        return sum(qty for _, qty in self.lines)


def haversine_km(a: dict, b: dict) -> float:
    """geo::haversine_km, operation for operation (note dlon is converted after subtracting)."""
    lat_a, lat_b = math.radians(a["lat"]), math.radians(b["lat"])
    half_dlat = (lat_b - lat_a) / 2.0
    half_dlon = math.radians(b["lon"] - a["lon"]) / 2.0
    h = math.sin(half_dlat) ** 2 + math.cos(lat_a) * math.cos(lat_b) * math.sin(half_dlon) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(math.sqrt(h), 1.0))


def stock_of(candidate: dict, skus: set[str]) -> tuple[dict[str, int], dict[str, int]]:
    available, unprotected = {}, {}
    for level in candidate["stock"]:
        if level["sku"] in skus:
            units = level["available"]
            available[level["sku"]] = units
            # Protected above available: every unit taken is below the protected level.
            unprotected[level["sku"]] = max(0, units - level.get("protected", 0))
    return available, unprotected


def make_source(candidate: dict, skus: set[str], fixed: float, carriage: float) -> Source:
    available, unprotected = stock_of(candidate, skus)
    return Source(
        location=candidate["location"],
        fixed=fixed,
        unit_cost=candidate["handling_per_unit"] + carriage,
        available=available,
        unprotected=unprotected,
        capacity=candidate.get("capacity_units"),
    )


def ship_sources(problem: dict, skus: set[str]) -> list[Source]:
    costs = problem["costs"]
    destination = problem["fulfilment"]["destination"]
    wait = costs.get("wait_per_hour", 0.0)
    sources = []
    for candidate in problem["candidates"]:
        km = haversine_km(candidate["position"], destination)
        fixed = costs["shipment_fixed"] + wait * candidate.get("handling_hours", 0.0)
        carriage = costs.get("shipping_per_unit", 0.0) + costs["shipping_per_unit_km"] * km
        sources.append(make_source(candidate, skus, fixed, carriage))
    return sources


def pickup_sources(problem: dict, skus: set[str]) -> list[Source]:
    store = problem["fulfilment"]["store"]
    if store not in {c["location"] for c in problem["candidates"]}:
        raise ValueError(f"pickup store {store} is not among the candidates")
    wait = problem["costs"].get("wait_per_hour", 0.0)
    lanes = {lane["from"]: lane for lane in problem.get("lanes", []) if lane["to"] == store}
    sources = []
    for candidate in problem["candidates"]:
        hours = candidate.get("handling_hours", 0.0)
        if candidate["location"] == store:
            sources.append(make_source(candidate, skus, wait * hours, 0.0))
        elif (lane := lanes.get(candidate["location"])) is not None:
            fixed = lane["cost_fixed"] + wait * (hours + lane["lead_time_hours"])
            sources.append(make_source(candidate, skus, fixed, lane["cost_per_unit"]))
        # A candidate with no lane into the store cannot serve a pickup order.
    return sources


def can_give(source: Source) -> bool:
    return source.capacity != 0 and any(units > 0 for units in source.available.values())


def build_model(problem: dict) -> Model:
    lines = [(line["sku"], line["qty"]) for line in problem["lines"]]
    skus = {sku for sku, _ in lines}
    mode = problem["fulfilment"]["mode"]
    sources = ship_sources(problem, skus) if mode == "ship" else pickup_sources(problem, skus)
    costs = problem["costs"]
    partial = problem.get("allow_partial", False)
    unfulfilled = costs.get("unfulfilled_per_unit", 0.0)
    if partial and unfulfilled == 0.0:
        raise ValueError("allow_partial with unfulfilled_per_unit 0 (Allot rejects it)")
    return Model(
        lines=lines,
        # Dropping sources with nothing to give changes no optimum, only the model's size.
        sources=[source for source in sources if can_give(source)],
        split_penalty=costs["split_penalty"],
        protection_per_unit=costs.get("protection_per_unit", 0.0),
        unfulfilled_per_unit=unfulfilled if partial else None,
    )


# ---------------------------------------------------------------------------------------------
# Pricing one integer allocation (units[l][i]): the cost function every answer is judged by.
# ---------------------------------------------------------------------------------------------


def taken_per_sku(model: Model, units: list[list[int]], i: int) -> dict[str, int]:
    taken: dict[str, int] = {}
    for l, (sku, _) in enumerate(model.lines):
        taken[sku] = taken.get(sku, 0) + units[l][i]
    return taken


def source_cost(model: Model, source: Source, taken: dict[str, int]) -> float | None:
    """Cost of one used source, or None if it breaks stock or capacity."""
    total = sum(taken.values())
    if source.capacity is not None and total > source.capacity:
        return None
    if any(n > source.available.get(sku, 0) for sku, n in taken.items()):
        return None
    below = sum(max(0, n - source.unprotected.get(sku, 0)) for sku, n in taken.items())
    return source.fixed + source.unit_cost * total + model.protection_per_unit * below


def shortfall_cost(model: Model, units: list[list[int]]) -> float | None:
    short = [qty - sum(row) for (_, qty), row in zip(model.lines, units)]
    if any(s < 0 for s in short):
        return None
    if model.unfulfilled_per_unit is None:
        return None if any(short) else 0.0
    return model.unfulfilled_per_unit * sum(short)


def price(model: Model, units: list[list[int]]) -> float | None:
    """Total cost of the allocation, or None if it is infeasible."""
    total = shortfall_cost(model, units)
    if total is None:
        return None
    used = 0
    for i, source in enumerate(model.sources):
        taken = taken_per_sku(model, units, i)
        if sum(taken.values()) == 0:
            continue
        cost = source_cost(model, source, taken)
        if cost is None:
            return None
        total += cost
        used += 1
    return total + model.split_penalty * max(0, used - 1)


# ---------------------------------------------------------------------------------------------
# The MILP, in HiGHS through scipy.
# ---------------------------------------------------------------------------------------------


class Columns:
    """Variables of the MILP: objective coefficient, bounds and integrality per column."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []

    def add(self, cost: float, lower: float, upper: float, integer: bool) -> int:
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(upper)
        self.integer.append(1 if integer else 0)
        return len(self.cost) - 1


class Rows:
    """Sparse constraint rows lower ≤ Σ coef·column ≤ upper."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, int, float]] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(self, terms: list[tuple[int, float]], lower: float, upper: float) -> None:
        row = len(self.lower)
        self.entries.extend((row, column, coef) for column, coef in terms)
        self.lower.append(lower)
        self.upper.append(upper)


@dataclass
class Milp:
    columns: Columns
    rows: Rows
    x: dict[tuple[int, int], int]  # (line, source) -> column, only where the source has the SKU


def add_unit_columns(model: Model, cols: Columns) -> dict[tuple[int, int], int]:
    x = {}
    for l, (sku, qty) in enumerate(model.lines):
        for i, source in enumerate(model.sources):
            if source.available.get(sku, 0) > 0:
                x[l, i] = cols.add(source.unit_cost, 0, qty, True)
    return x


def add_cover_rows(model: Model, m: Milp) -> None:
    """Σ_i x[l][i] + short[l] = qty[l]; short exists only with partial fulfilment."""
    per_line: list[list[tuple[int, float]]] = [[] for _ in model.lines]
    for (l, _), col in m.x.items():
        per_line[l].append((col, 1.0))
    for (_, qty), terms in zip(model.lines, per_line):
        if model.unfulfilled_per_unit is not None:
            terms.append((m.columns.add(model.unfulfilled_per_unit, 0, qty, True), 1.0))
        m.rows.add(terms, qty, qty)


def add_source_rows(model: Model, m: Milp, i: int, lines_of_sku: dict[str, list[int]]) -> int:
    """Stock, protection, and capacity linked to used[i]; returns the used column."""
    source = model.sources[i]
    cap = model.total_qty() if source.capacity is None else source.capacity
    used = m.columns.add(source.fixed, 0, 1, True)
    units = []
    for sku, lines in lines_of_sku.items():
        terms = [(m.x[l, i], 1.0) for l in lines if (l, i) in m.x]
        if not terms:
            continue
        units.extend(terms)
        m.rows.add(terms, -np.inf, source.available[sku])
        # below ≥ taken − unprotected, below ≥ 0; minimisation makes it the max.
        below = m.columns.add(model.protection_per_unit, 0, np.inf, False)
        m.rows.add(terms + [(below, -1.0)], -np.inf, source.unprotected[sku])
    m.rows.add(units + [(used, -float(cap))], -np.inf, 0)
    return used


def build_milp(model: Model) -> Milp:
    m = Milp(Columns(), Rows(), {})
    m.x = add_unit_columns(model, m.columns)
    add_cover_rows(model, m)
    lines_of_sku = model.lines_of_sku()
    used = [add_source_rows(model, m, i, lines_of_sku) for i in range(len(model.sources))]
    # extra ≥ Σ used − 1 and extra ≥ 0 is max(0, Σ used − 1): no credit when nothing is used.
    extra = m.columns.add(model.split_penalty, 0, np.inf, False)
    m.rows.add([(u, 1.0) for u in used] + [(extra, -1.0)], -np.inf, 1)
    return m


def run_highs(m: Milp, time_limit: float):
    rows, cols, vals = zip(*m.rows.entries) if m.rows.entries else ((), (), ())
    shape = (len(m.rows.lower), len(m.columns.cost))
    matrix = coo_array((vals, (rows, cols)), shape=shape).tocsr()
    return milp(
        c=np.array(m.columns.cost),
        integrality=np.array(m.columns.integer),
        bounds=Bounds(np.array(m.columns.lower), np.array(m.columns.upper)),
        constraints=LinearConstraint(matrix, np.array(m.rows.lower), np.array(m.rows.upper)),
        # HiGHS stops at a 0.01 % gap by default, exactly the tolerance we test: ask for 0.
        options={"time_limit": time_limit, "mip_rel_gap": 0.0, "disp": False},
    )


def allocation_from(model: Model, m: Milp, values) -> list[list[int]]:
    units = [[0] * len(model.sources) for _ in model.lines]
    for (l, i), col in m.x.items():
        units[l][i] = int(round(values[col]))
    return units


def solve_exact(model: Model, time_limit: float = TIME_LIMIT_S) -> tuple[str, float | None]:
    """("optimal", total) | ("infeasible", None) | ("time_limit", None)."""
    m = build_milp(model)
    result = run_highs(m, time_limit)
    if result.status == 2:
        return "infeasible", None
    if result.status != 0:
        return "time_limit", None
    # Re-price the rounded plan with the plain cost function, so the total is exact and any
    # modelling slip between the MILP and the pricing shows up here.
    total = price(model, allocation_from(model, m, result.x))
    if total is None or not close(total, result.fun):
        raise AssertionError(f"MILP objective {result.fun} but its plan prices at {total}")
    return "optimal", total


# ---------------------------------------------------------------------------------------------
# Comparing with Allot.
# ---------------------------------------------------------------------------------------------


def close(a: float, b: float) -> bool:
    return abs(a - b) <= max(ABS_TOL, REL_TOL * abs(b))


def relative_gap(allot: float, exact: float) -> float:
    """Signed: positive when Allot's plan costs more than the optimum."""
    if abs(allot - exact) <= ABS_TOL:
        return 0.0
    return (allot - exact) / max(abs(exact), ABS_TOL)


@dataclass
class Outcome:
    name: str
    allot_status: str
    allot_total: float | None
    exact_status: str
    exact_total: float | None
    gap: float | None
    matches: bool  # same feasibility and, if feasible, total within the tolerance
    verdict: str  # "ok" | "MISMATCH" | "unchecked" | "invalid"


def status_name(status) -> str:
    # Accept the SolveStatus object ({"status": "optimal", ...}) as well as its tag.
    return status.get("status", "?") if isinstance(status, dict) else str(status)


Answer = tuple[str, float | None]  # (status, total): ("optimal", 12.5), ("infeasible", None)


def judge(
    allot_status: str, allot_total: float | None, exact: Answer
) -> tuple[float | None, bool, str]:
    """(signed gap, whether Allot matches the exact answer, verdict)."""
    exact_status, exact_total = exact
    if exact_status == "time_limit":
        return None, False, "unchecked"
    if exact_status == "infeasible":
        # Allot may give up (unsolved) but must never return a plan for an uncoverable order.
        agrees = allot_status == "infeasible"
        return None, agrees, "ok" if agrees or allot_status == "unsolved" else "MISMATCH"
    if allot_status == "infeasible":
        return None, False, "MISMATCH"
    if allot_total is None or allot_status == "unsolved":
        return None, False, "ok"  # no plan to compare; counted as non-optimal
    gap = relative_gap(allot_total, exact_total)
    matches = close(allot_total, exact_total)
    below = allot_total < exact_total - max(ABS_TOL, REL_TOL * abs(exact_total))
    # A plan cheaper than the proven optimum means one of the two models is wrong; a fallback
    # plan may cost more than the optimum, an "optimal" one may not.
    bad = below or (allot_status == "optimal" and not matches)
    return gap, matches, "MISMATCH" if bad else "ok"


def check_case(index: int, case: dict, time_limit: float) -> Outcome:
    name = case.get("name", f"#{index}")
    allot_status = status_name(case.get("allot_status"))
    allot_total = case.get("allot_total")
    try:
        exact = solve_exact(build_model(case["problem"]), time_limit)
    except ValueError as error:
        invalid = f"invalid: {error}"
        return Outcome(name, allot_status, allot_total, invalid, None, None, False, "invalid")
    gap, matches, verdict = judge(allot_status, allot_total, exact)
    return Outcome(name, allot_status, allot_total, exact[0], exact[1], gap, matches, verdict)


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.6f}"


def print_outcome(o: Outcome) -> None:
    gap = "-" if o.gap is None else f"{o.gap:+.3e}"
    print(
        f"{o.name:<28} allot={fmt(o.allot_total):>16} ({o.allot_status})"
        f"  exact={fmt(o.exact_total):>16} ({o.exact_status})  gap={gap:>10}  {o.verdict}"
    )


def summarise(outcomes: list[Outcome]) -> int:
    n = len(outcomes)
    matched = sum(1 for o in outcomes if o.matches)
    gaps = [abs(o.gap) for o in outcomes if o.gap is not None]
    non_optimal = sum(1 for o in outcomes if o.allot_status != "optimal")
    statuses: dict[str, int] = {}
    for o in outcomes:
        statuses[o.allot_status] = statuses.get(o.allot_status, 0) + 1
    mismatches = sum(1 for o in outcomes if o.verdict == "MISMATCH")
    unchecked = sum(1 for o in outcomes if o.verdict in ("unchecked", "invalid"))
    print(
        f"checked {n}: {matched} match within {REL_TOL:.2%} relative or {ABS_TOL:g} absolute,"
        f" {mismatches} mismatch, {unchecked} unchecked; max |gap| {max(gaps, default=0.0):.3e};"
        f" fallback share (status != optimal) {non_optimal}/{n}"
        f" = {non_optimal / max(n, 1):.1%}; statuses {statuses}"
    )
    return 1 if mismatches else 2 if unchecked else 0


def read_cases(path: Path) -> list[dict]:
    with path.open() as file:
        return [json.loads(line) for line in file if line.strip()]


def check_file(path: Path, time_limit: float) -> int:
    outcomes = []
    for index, case in enumerate(read_cases(path), start=1):
        outcomes.append(check_case(index, case, time_limit))
        print_outcome(outcomes[-1])
    return summarise(outcomes)


# ---------------------------------------------------------------------------------------------
# Self-test: the MILP against hand-computed optima and against brute force.
# ---------------------------------------------------------------------------------------------


def compositions(total: int, parts: int):
    """Every way to write total as an ordered sum of `parts` non-negative integers."""
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in compositions(total - first, parts - 1):
            yield (first, *rest)


def brute_force(model: Model) -> tuple[str, float | None]:
    """Tries every integer allocation; only for tiny problems. Same result shape as the MILP."""
    n = len(model.sources)
    # One extra slot per line for its unfulfilled units; price() rejects it unless allowed.
    per_line = [[c[:n] for c in compositions(qty, n + 1)] for _, qty in model.lines]
    if math.prod(len(options) for options in per_line) > 2_000_000:
        raise ValueError("too large to brute force")
    best = None
    for units in itertools.product(*per_line):
        cost = price(model, [list(row) for row in units])
        if cost is not None and (best is None or cost < best):
            best = cost
    return ("infeasible", None) if best is None else ("optimal", best)


def random_candidate(rng: random.Random, name: str) -> dict:
    stock = [
        {"sku": sku, "available": rng.randint(0, 3), "protected": rng.choice([0, 0, 1, 2, 4])}
        for sku in "AB"
        if rng.random() < 0.8
    ]
    candidate = {
        "location": name,
        "kind": rng.choice(["store", "warehouse"]),
        "position": {"lat": rng.uniform(24.0, 25.0), "lon": rng.uniform(121.0, 122.0)},
        "stock": stock,
        "handling_per_unit": rng.choice([1.0, 3.0, 6.0, 15.0]),
        "handling_hours": rng.choice([0.0, 0.5, 4.0]),
    }
    if rng.random() < 0.4:
        candidate["capacity_units"] = rng.randint(0, 3)
    return candidate


def random_fulfilment(rng: random.Random, names: list[str]) -> tuple[dict, list[dict]]:
    if rng.random() < 0.5:
        destination = {"lat": rng.uniform(24.0, 25.0), "lon": rng.uniform(121.0, 122.0)}
        return {"mode": "ship", "destination": destination}, []
    store = rng.choice(names)
    lanes = [
        {"from": other, "to": store, "cost_fixed": rng.choice([0.0, 20.0, 50.0]),
         "cost_per_unit": rng.choice([0.0, 1.0, 2.0]), "lead_time_hours": rng.choice([2.0, 24.0])}
        for other in names
        if other != store and rng.random() < 0.7
    ]
    return {"mode": "pickup", "store": store}, lanes


def random_problem(rng: random.Random) -> dict:
    names = [f"L{k}" for k in range(rng.randint(1, 3))]
    fulfilment, lanes = random_fulfilment(rng, names)
    lines = [{"sku": rng.choice("AB"), "qty": rng.randint(1, 3)} for _ in range(rng.randint(1, 2))]
    partial = rng.random() < 0.4
    costs = {
        "shipment_fixed": rng.choice([0.0, 10.0, 80.0]),
        "shipping_per_unit": rng.choice([0.0, 0.0, 2.0]),
        "shipping_per_unit_km": rng.choice([0.0, 0.6]),
        "split_penalty": rng.choice([0.0, 5.0, 60.0]),
        "wait_per_hour": rng.choice([0.0, 0.0, 10.0]),
        "protection_per_unit": rng.choice([0.0, 25.0]),
        "unfulfilled_per_unit": rng.choice([5.0, 100.0, 1000.0]) if partial else 0.0,
    }
    candidates = [random_candidate(rng, name) for name in names]
    return {"lines": lines, "fulfilment": fulfilment, "candidates": candidates,
            "lanes": lanes, "costs": costs, "allow_partial": partial}


def solve_checked(model: Model) -> tuple[str, float | None]:
    try:
        return solve_exact(model)
    except AssertionError as error:  # the MILP's objective and its plan's price disagree
        return f"error: {error}", None


def same_answer(a: tuple[str, float | None], b: tuple[str, float | None]) -> bool:
    return a[0] == b[0] and (a[1] is None or close(a[1], b[1]))


def self_test_samples() -> int:
    """Every sample's MILP optimum equals its hand-computed total and the brute-force one."""
    failures = 0
    for index, case in enumerate(read_cases(SAMPLE), start=1):
        model = build_model(case["problem"])
        exact, brute = solve_checked(model), brute_force(model)
        hand_total = None if case["allot_status"] == "infeasible" else case["allot_total"]
        hand = (status_name(case["allot_status"]), hand_total)
        ok = same_answer(exact, hand) and same_answer(brute, hand)
        failures += not ok
        print(f"  {case.get('name', index):<28} hand={fmt(hand[1]):>12}  milp={fmt(exact[1]):>12}"
              f"  brute={fmt(brute[1]):>12}  {'ok' if ok else 'FAIL'}")
    return failures


def self_test_random(count: int = 300, seed: int = 7) -> int:
    rng = random.Random(seed)
    failures = 0
    for k in range(count):
        problem = random_problem(rng)
        model = build_model(problem)
        exact, brute = solve_checked(model), brute_force(model)
        if not same_answer(exact, brute):
            failures += 1
            print(f"  random #{k}: milp {exact} brute {brute}\n  {json.dumps(problem)}")
    print(f"  {count} random tiny problems (seed {seed}): {count - failures} agree")
    return failures


def self_test_distance() -> int:
    # The same check as geo.rs's own test: Taipei to Kaohsiung is about 297 km.
    km = haversine_km({"lat": 25.0330, "lon": 121.5654}, {"lat": 22.6273, "lon": 120.3014})
    ok = abs(km - 297.0) < 3.0
    print(f"  haversine Taipei-Kaohsiung {km:.3f} km  {'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


def self_test() -> int:
    print("self-test: samples (hand-computed optimum vs MILP vs brute force)")
    failures = self_test_samples()
    print("self-test: random tiny problems (MILP vs brute force)")
    failures += self_test_random()
    failures += self_test_distance()
    print(f"self-test: {'passed' if failures == 0 else f'{failures} FAILED'}")
    return 0 if failures == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="?", type=Path, help="JSON-lines file to check")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT_S, help="seconds per MILP")
    parser.add_argument("--self-test", action="store_true", help="test the checker itself")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    if args.results is None:
        parser.error("a results file is required (or --self-test)")
    return check_file(args.results, args.time_limit)


if __name__ == "__main__":
    sys.exit(main())
