#!/usr/bin/env python3
"""The clairvoyant optimum of an order stream: every order decided at once, knowing all of them,
from one opening stock. No policy that decides order by order as they come (Allot's, a peer's)
can cost less, so its dual bound says how far below a peer any policy could get.

    python3 hindsight.py STREAM.jsonl [--time-limit SECONDS] [--best-peer COST]
    python3 hindsight.py STREAM.jsonl --self-test N
    python3 hindsight.py STREAM.jsonl --bid-prices [--prices FILE]
    python3 hindsight.py STREAM.jsonl --lagrangian
    python3 hindsight.py STREAM.jsonl --prices FILE [--best-peer COST]
    python3 hindsight.py STREAM.jsonl --ascend STEPS --upper COST [--theta F] [--best-peer COST]

--bid-prices decides the stream order by order, as Allot does, from the stock left, but charges
each unit the shadow price of its (location, SKU)'s stock in the joint LP relaxation (a bid
price, as airlines price their last seats), then prices every plan with the plain model. With
the stream's own prices this is a clairvoyant policy: its total is a feasible joint plan, an
upper bound on the clairvoyant optimum. Run with prices 0 it is Allot's per-order policy.

--lagrangian prices the LP's shadow prices into each order and solves the orders alone, exactly:
a lower bound for every policy that keeps each order's integrality (lagrangian_bound).
--ascend raises that bound by subgradient steps from the LP's prices (each step solves every
order once); --upper is a known plan's cost, such as Allot's total. --prices FILE computes the
same bound at prices master.py wrote (its column generation finds far better ones than the
compact LP's); with --bid-prices, the run charges those instead.

--self-test solves each of the first N orders alone with this joint model and with check.py's
own (solve_exact): the two must agree, which checks the reformulation.

STREAM.jsonl holds one {"problem": <SourcingProblem>} per order of the stream, each built on the
*opening* stock (`cargo bench --bench peers` writes target/peers-hindsight.jsonl for the balanced
regime). Each order's own costs are check.py's model of the sourcing problem (build_model:
parcels or lanes with the customer's wait, handling, carriage, the split penalty), which is
independent of Allot's code. What couples the orders:
- stock: the units all orders take from a (location, SKU) are at most its opening units;
- protection: a unit taken below the protected level costs the penalty once. Taken order by
  order, the units below the level add up to max(0, taken in all − unprotected), whatever the
  sequence, so the joint term is exact.
The MILP (HiGHS through scipy) links each unit to its source's fixed cost line by line
(x ≤ qty · used), a tighter relaxation than one row per source, so the dual bound is useful
well before the search ends. Prints the best joint plan found (its cost), HiGHS's proven lower
bound, and, with --best-peer, the most any policy could save against that peer.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from scipy.optimize import linprog
from scipy.sparse import coo_array

from check import (
    Columns,
    Milp,
    Model,
    Rows,
    allocation_from,
    build_milp,
    build_model,
    can_give,
    close,
    price,
    read_cases,
    run_highs,
    solve_exact,
)

TIME_LIMIT_S = 600.0
TARGET_SAVING = 0.10


class Stock:
    """Opening units and unprotected units per (location, SKU), the same in every problem."""

    def __init__(self) -> None:
        self.available: dict[tuple[str, str], int] = {}
        self.unprotected: dict[tuple[str, str], int] = {}
        self.takes: dict[tuple[str, str], list[int]] = {}

    @staticmethod
    def opening(problems: list[dict]) -> dict[tuple[str, str], int]:
        stock = Stock()
        for problem in problems:
            stock.note(build_model(problem))
        return stock.available

    def note(self, model: Model) -> None:
        for source in model.sources:
            for sku, units in source.available.items():
                key = (source.location, sku)
                seen = self.available.setdefault(key, units)
                if seen != units:
                    raise ValueError(f"{key}: {seen} units in one problem, {units} in another")
                self.unprotected[key] = source.unprotected[sku]


def add_order(model: Model, m: Milp, stock: Stock) -> None:
    """One order's columns and rows; its units join the stock's takes."""
    if model.unfulfilled_per_unit is not None:
        raise ValueError("partial fulfilment: the stream's orders are all or nothing")
    stock.note(model)
    used = {}
    per_line: list[list[tuple[int, float]]] = [[] for _ in model.lines]
    for i, source in enumerate(model.sources):
        links = []
        for l, (sku, qty) in enumerate(model.lines):
            units = source.available.get(sku, 0)
            if units <= 0:
                continue
            if i not in used:
                used[i] = m.columns.add(source.fixed, 0, 1, True)
            x = m.columns.add(source.unit_cost, 0, min(qty, units), True)
            per_line[l].append((x, 1.0))
            links.append(x)
            m.rows.add([(x, 1.0), (used[i], -float(min(qty, units)))], -np.inf, 0)
            stock.takes.setdefault((source.location, sku), []).append(x)
        if links and source.capacity is not None:
            m.rows.add([(x, 1.0) for x in links] + [(used[i], -float(source.capacity))], -np.inf, 0)
    for (_, qty), terms in zip(model.lines, per_line):
        m.rows.add(terms, qty, qty)
    extra = m.columns.add(model.split_penalty, 0, np.inf, False)
    m.rows.add([(u, 1.0) for u in used.values()] + [(extra, -1.0)], -np.inf, 1)


def add_stock_rows(m: Milp, stock: Stock, protection_per_unit: float) -> dict:
    """The stock rows, and the index of each (location, SKU)'s stock row; its protection row
    follows it."""
    rows = {}
    for key, takes in stock.takes.items():
        terms = [(x, 1.0) for x in takes]
        rows[key] = len(m.rows.lower)
        m.rows.add(terms, -np.inf, stock.available[key])
        below = m.columns.add(protection_per_unit, 0, np.inf, False)
        m.rows.add(terms + [(below, -1.0)], -np.inf, stock.unprotected[key])
    return rows


def joint_milp(problems: list[dict]) -> Milp:
    return joint(problems)[0]


def joint(problems: list[dict]) -> tuple[Milp, dict]:
    m = Milp(Columns(), Rows(), {})
    stock = Stock()
    protection = set()
    for problem in problems:
        model = build_model(problem)
        protection.add(model.protection_per_unit)
        add_order(model, m, stock)
    if len(protection) != 1:
        raise ValueError(f"the stream's orders disagree on the protection penalty: {protection}")
    return m, add_stock_rows(m, stock, protection.pop())


def shadow_prices(problems: list[dict]) -> dict[tuple[str, str], float]:
    """Per (location, SKU), what one more unit of opening stock would save the joint LP."""
    m, stock_rows = joint(problems)
    rows, cols, vals = zip(*m.rows.entries)
    matrix = coo_array((vals, (rows, cols)), shape=(len(m.rows.lower), len(m.columns.cost)))
    matrix = matrix.tocsr()
    lower, upper = np.array(m.rows.lower), np.array(m.rows.upper)
    equal = lower == upper
    ub_index = np.flatnonzero(~equal)
    result = linprog(
        c=np.array(m.columns.cost),
        A_ub=matrix[ub_index],
        b_ub=upper[ub_index],
        A_eq=matrix[np.flatnonzero(equal)],
        b_eq=upper[equal],
        bounds=list(zip(m.columns.lower, m.columns.upper)),
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"the joint LP: {result.message}")
    print(f"joint LP relaxation: {result.fun:.1f}")
    position = {row: k for k, row in enumerate(ub_index)}
    dual = lambda row: -result.ineqlin.marginals[position[row]]  # noqa: E731
    stock = {key: dual(row) for key, row in stock_rows.items()}
    protection = {key: dual(row + 1) for key, row in stock_rows.items()}
    return stock, protection


def lagrangian_bound(problems: list[dict], stock_price: dict, protection_price: dict) -> float:
    """A lower bound for every policy: the stock (and protection) rows priced into each order,
    each order then solved exactly (integer) on its own. For any prices λ ≥ 0 on stock and
    0 ≤ μ ≤ the penalty on protection, Σ_o min(cost_o + (λ + μ)·x_o) − λ·stock − μ·unprotected
    is at most the joint optimum. With μ empty each order pays its protection on the opening
    stock instead, which is no more than its share of the joint term (Σ max(0, x_o − U) ≤
    max(0, Σ x_o − U)); with λ empty too that is the bench's no-depletion bound."""
    return lagrangian(problems, stock_price, protection_price)[0]


def priced_optimum(model: Model, prices: dict) -> tuple[list[list[int]], float]:
    """The order's optimum on its own with every unit also charged its (location, SKU)'s
    price: its allocation, and HiGHS's proven lower bound on it, so that a sum of them is a
    bound too."""
    m = priced_milp(model, prices)
    result = run_highs(m, TIME_LIMIT_S)
    if result.status != 0:
        raise RuntimeError(f"an order's priced optimum: {result.message}")
    return allocation_from(model, m, result.x), result.mip_dual_bound


def priced_stock(opening: Stock, stock_price: dict, protection_price: dict) -> float:
    """The Lagrangian bound's other term: −λ·stock − μ·unprotected."""
    total = -sum(p * opening.available[key] for key, p in stock_price.items())
    return total - sum(p * opening.unprotected[key] for key, p in protection_price.items())


def lagrangian(
    problems: list[dict], stock_price: dict, protection_price: dict
) -> tuple[float, dict[tuple[str, str], int], Stock]:
    """lagrangian_bound's value, the units the orders take per (location, SKU) at it, and the
    opening stock."""
    models = [build_model(problem) for problem in problems]
    opening = Stock()
    for model in models:
        opening.note(model)
    total = priced_stock(opening, stock_price, protection_price)
    prices = {key: stock_price[key] + protection_price.get(key, 0.0) for key in stock_price}
    taken: dict[tuple[str, str], int] = {}
    for model in models:
        if protection_price:
            model.protection_per_unit = 0.0  # paid through μ instead
        allocation, bound = priced_optimum(model, prices)
        total += bound
        for (l, i), units in np.ndenumerate(np.array(allocation)):
            if units:
                key = (model.sources[i].location, model.lines[l][0])
                taken[key] = taken.get(key, 0) + int(units)
    return total, taken, opening


def read_prices(path: Path, problems: list[dict]) -> tuple[dict, dict]:
    """Prices written by master.py: {"stock": [[location, sku, λ], …], "protection": [[…, μ]]}.
    The bound holds only for λ ≥ 0 and 0 ≤ μ ≤ the penalty on (location, SKU)s of the stream:
    anything else is refused, not clipped."""
    penalty = build_model(problems[0]).protection_per_unit
    opening = Stock.opening(problems)
    prices = json.loads(path.read_text())
    stock = {(loc, sku): float(p) for loc, sku, p in prices["stock"]}
    protection = {(loc, sku): float(p) for loc, sku, p in prices["protection"]}
    unknown = [k for k in (*stock, *protection) if k not in opening]
    if unknown:
        raise ValueError(f"{path}: prices for stock the stream does not hold: {unknown[:3]}")
    if any(not (math.isfinite(p) and p >= 0) for p in stock.values()) or any(
        not 0 <= p <= penalty for p in protection.values()
    ):
        raise ValueError(f"{path}: a stock price below 0 or a protection price outside [0, {penalty}]")
    for key in stock:
        protection.setdefault(key, 0.0)
    for key in protection:
        stock.setdefault(key, 0.0)
    return stock, protection


def ascend(
    problems: list[dict], steps: int, upper: float, penalty: float, theta_start: float
) -> float:
    """Subgradient ascent on the Lagrangian from the LP's prices (Polyak steps towards `upper`,
    a known plan's cost); every value is a valid bound, so the best is kept."""
    stock_price, protection_price = shadow_prices(problems)
    best, theta = -np.inf, theta_start
    for step in range(steps + 1):
        value, taken, opening = lagrangian(problems, stock_price, protection_price)
        print(f"step {step}: lower bound for every policy {value:.1f}")
        if value > best:
            best, at_best = value, (stock_price, protection_price, taken)
        else:  # back to the best prices, with half the step
            theta /= 2
            stock_price, protection_price, taken = at_best
        grad_stock = {k: taken.get(k, 0) - opening.available[k] for k in stock_price}
        grad_protect = {k: taken.get(k, 0) - opening.unprotected[k] for k in protection_price}
        # Only the prices a step can move count (projected subgradient): one at 0 with a slack
        # row, or at the penalty with a short one, stays where it is.
        norm = sum(g * g for k, g in grad_stock.items() if g > 0 or stock_price[k] > 0)
        norm += sum(
            g * g
            for k, g in grad_protect.items()
            if (g > 0 and protection_price[k] < penalty) or (g < 0 and protection_price[k] > 0)
        )
        if norm == 0:
            break  # the relaxed plan keeps every coupling row: it is the joint optimum
        t = theta * (upper - value) / norm
        stock_price = {k: max(0.0, p + t * grad_stock[k]) for k, p in stock_price.items()}
        protection_price = {
            k: min(penalty, max(0.0, p + t * grad_protect[k])) for k, p in protection_price.items()
        }
    return best


def protected_levels(problems: list[dict]) -> dict[tuple[str, str], int]:
    levels = {}
    for problem in problems:
        for candidate in problem["candidates"]:
            for level in candidate["stock"]:
                levels[candidate["location"], level["sku"]] = level.get("protected", 0)
    return levels


def on_stock_left(model: Model, left: dict, protected: dict) -> Model:
    """The order's model on the stock left: fewer units, and fewer above the protected level."""
    for source in model.sources:
        for sku in source.available:
            units = left[source.location, sku]
            source.available[sku] = units
            source.unprotected[sku] = max(0, units - protected.get((source.location, sku), 0))
    model.sources = [source for source in model.sources if can_give(source)]
    return model


def priced_milp(model: Model, prices: dict) -> Milp:
    """check.py's MILP of one order, each unit also charged its (location, SKU)'s price."""
    m = build_milp(model)
    for (l, i), col in m.x.items():
        m.columns.cost[col] += prices.get((model.sources[i].location, model.lines[l][0]), 0.0)
    return m


def decide(model: Model, prices: dict) -> list[list[int]] | None:
    """The order's optimum with every unit charged its bid price."""
    m = priced_milp(model, prices)
    result = run_highs(m, TIME_LIMIT_S)
    return allocation_from(model, m, result.x) if result.status == 0 else None


def order_by_order(
    problems: list[dict], prices: dict
) -> Iterator[tuple[Model, list[list[int]] | None]]:
    """Each order in stream order, on the stock the orders before it left, and its optimum
    at these bid prices (None: the stock left cannot serve it)."""
    protected = protected_levels(problems)
    left = dict(Stock.opening(problems))
    for problem in problems:
        model = on_stock_left(build_model(problem), left, protected)
        units = decide(model, prices)
        yield model, units
        for l, (sku, _) in enumerate(model.lines):
            for i, source in enumerate(model.sources):
                if units is not None and units[l][i]:
                    left[source.location, sku] -= units[l][i]


def bid_price_run(problems: list[dict], prices: dict) -> tuple[float, int]:
    """(total of the plain model over the served orders, orders served) in stream order."""
    runs = order_by_order(problems, prices)
    served = [price(model, units) for model, units in runs if units is not None]
    return sum(served), len(served)


def bid_prices(problems: list[dict], path: Path | None) -> int:
    """The stream order by order at no prices, then at the joint LP's shadow prices of stock,
    or with a prices file (master.py's), at its stock prices and at its stock plus protection
    prices."""
    if path is None:
        runs = [("the stream's", shadow_prices(problems)[0])]
    else:
        stock_price, protection_price = read_prices(path, problems)
        both = {k: p + protection_price[k] for k, p in stock_price.items()}
        runs = [(f"{path}'s stock", stock_price), (f"{path}'s stock and protection", both)]
    for name, prices in [("none (per order)", {}), *runs]:
        total, served = bid_price_run(problems, prices)
        print(f"bid prices {name}: {served} orders served, total {total:.1f}")
    return 0


def self_test(problems: list[dict], count: int) -> int:
    """Each order alone: this joint model's optimum equals check.py's."""
    wrong = 0
    for index, problem in enumerate(problems[:count]):
        status, exact = solve_exact(build_model(problem))
        result = run_highs(joint_milp([problem]), TIME_LIMIT_S)
        if status != "optimal" or result.status != 0 or not close(result.fun, exact):
            wrong += 1
            print(f"order {index}: check.py {status} {exact}, joint {result.message} {result.fun}")
    print(f"self-test: {count - wrong} of {count} orders agree with check.py alone")
    return 1 if wrong else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT_S)
    parser.add_argument("--best-peer", type=float, help="the best peer's total on the stream")
    parser.add_argument("--self-test", type=int, metavar="N")
    parser.add_argument("--bid-prices", action="store_true")
    parser.add_argument("--lagrangian", action="store_true")
    parser.add_argument("--ascend", type=int, metavar="STEPS")
    parser.add_argument("--upper", type=float, help="a known plan's cost, for --ascend's steps")
    parser.add_argument("--prices", type=Path, help="the Lagrangian bound at these prices")
    parser.add_argument("--theta", type=float, default=0.5, help="--ascend's first step factor")
    args = parser.parse_args()
    problems = [case["problem"] for case in read_cases(args.stream)]
    if args.self_test:
        return self_test(problems, args.self_test)
    if args.bid_prices:
        return bid_prices(problems, args.prices)
    if args.prices:
        stock_price, protection_price = read_prices(args.prices, problems)
        bound = lagrangian_bound(problems, stock_price, protection_price)
        print(f"lower bound for every policy (the prices in {args.prices}): {bound:.1f}")
        if args.best_peer:
            print(f"at most {1.0 - bound / args.best_peer:.2%} below the best peer")
        return 0
    if args.ascend:
        penalty = build_model(problems[0]).protection_per_unit
        best = ascend(problems, args.ascend, args.upper, penalty, args.theta)
        print(f"best lower bound for every policy: {best:.1f}")
        if args.best_peer:
            print(f"at most {1.0 - best / args.best_peer:.2%} below the best peer")
        return 0
    if args.lagrangian:
        stock_price, protection_price = shadow_prices(problems)
        for name, mu in [("stock and protection", protection_price), ("stock", {})]:
            bound = lagrangian_bound(problems, stock_price, mu)
            print(f"lower bound for every policy (the LP's {name} prices): {bound:.1f}")
        return 0
    m = joint_milp(problems)
    print(
        f"{len(problems)} orders: {len(m.columns.cost)} columns, {len(m.rows.lower)} rows;"
        f" HiGHS for at most {args.time_limit:.0f} s"
    )
    result = run_highs(m, args.time_limit)
    bound = getattr(result, "mip_dual_bound", None)
    plan = result.fun if result.x is not None else None
    print(f"status: {result.message}")
    print(f"best clairvoyant plan found: {plan if plan is None else f'{plan:.1f}'}")
    print(f"lower bound for every policy (HiGHS's dual bound): {bound:.1f}")
    if args.best_peer:
        most = 1.0 - bound / args.best_peer
        verdict = "not ruled out" if most >= TARGET_SAVING else "out of reach for every policy"
        print(
            f"against the best peer's {args.best_peer:.1f}: at most {most:.1%} below it;"
            f" a {TARGET_SAVING:.0%} saving is {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
