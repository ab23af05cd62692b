#!/usr/bin/env python3
"""The clairvoyant optimum of an order stream, bounded from both sides by column generation.

    python3 master.py STREAM.jsonl [--rounds N] [--columns FILE] [--prices-out FILE]
                      [--time-limit SECONDS] [--best-peer COST] [--report]

Each order gets candidate plans (columns): the plans it got in two order-by-order runs (prices
0, which is Allot's policy, and the joint LP's bid prices), and its own optimum on the opening
stock with each unit charged the joint LP's shadow price times 0, ½, 1, 1½ and 2. The master
picks one plan per order so that the orders together keep every (location, SKU)'s opening
stock, the protection penalty charged jointly as in hindsight.py.

Each round of --rounds solves the master's LP relaxation and prices every order, exactly and on
its own, at the LP's prices: λ per unit of a (location, SKU)'s stock and μ per unit below its
protected level. Each order's new optimum joins its columns. The same solves give a **lower
bound for every policy, a clairvoyant one included**: Σ_o min(cost_o + (λ + μ)·x_o) − λ·stock
− μ·unprotected over all of each order's plans, not just the master's (hindsight.py's
lagrangian_bound; valid for any λ ≥ 0, 0 ≤ μ ≤ the penalty). When no order has a cheaper plan
at the prices, the bound meets the LP. --prices-out writes the best bound's prices, so that
`hindsight.py STREAM --prices FILE` computes it again.

Then the master MILP over all the columns gives a joint plan, re-priced with the plain model:
an upper bound on the clairvoyant optimum only, which an order-by-order policy need not reach.
--report sets it beside Allot's order-by-order plans. master_test.py checks all of it against
brute force on tiny streams.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import highspy
import numpy as np
from scipy.sparse import coo_array

from check import Columns, Milp, Model, Rows, build_model, read_cases
from hindsight import Stock, order_by_order, priced_optimum, priced_stock, shadow_prices

TIME_LIMIT_S = 600.0
PRICE_SCALES = (0.0, 0.5, 1.0, 1.5, 2.0)

Plan = frozenset  # of ((location, sku), units)


def run_highspy(m: Milp, time_limit: float, relaxed: bool = False):
    """(status, dual bound, objective, column values, row duals) from HiGHS itself, which
    scipy's milp does not give duals of; `relaxed` drops every integrality (the LP)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", time_limit)
    h.setOptionValue("mip_rel_gap", 0.0)
    rows, cols, vals = zip(*m.rows.entries)
    shape = (len(m.rows.lower), len(m.columns.cost))
    matrix = coo_array((vals, (rows, cols)), shape=shape).tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = shape[1], shape[0]
    lp.col_cost_ = np.array(m.columns.cost)
    lp.col_lower_, lp.col_upper_ = np.array(m.columns.lower), np.array(m.columns.upper)
    lp.row_lower_, lp.row_upper_ = np.array(m.rows.lower), np.array(m.rows.upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_ = matrix.indptr, matrix.indices
    lp.a_matrix_.value_ = matrix.data
    kinds = [highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger]
    lp.integrality_ = [kinds[0 if relaxed else k] for k in m.columns.integer]
    h.passModel(lp)
    h.run()
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    solution = h.getSolution()
    objective = info.objective_function_value
    return status, info.mip_dual_bound, objective, solution.col_value, solution.row_dual


def plan_of(model: Model, units: list[list[int]]) -> Plan:
    taken: dict[tuple[str, str], int] = {}
    for l, (sku, _) in enumerate(model.lines):
        for i, source in enumerate(model.sources):
            if units[l][i]:
                key = (source.location, sku)
                taken[key] = taken.get(key, 0) + units[l][i]
    return Plan(taken.items())


def plan_cost(model: Model, plan: Plan) -> float:
    """The plan's cost on the opening stock without the protection penalty (charged jointly)."""
    sources = {source.location: source for source in model.sources}
    per_location: dict[str, int] = {}
    for (location, _), units in plan:
        per_location[location] = per_location.get(location, 0) + units
    total = sum(sources[loc].fixed + sources[loc].unit_cost * n for loc, n in per_location.items())
    return total + model.split_penalty * max(0, len(per_location) - 1)


def priced_plans(models: list[Model], prices: dict) -> tuple[list[Plan], float]:
    """Each order's optimum at these unit prices, and the sum of HiGHS's proven lower bounds
    on those optima (each within its tolerances of the optimum itself)."""
    optima = [priced_optimum(model, prices) for model in models]
    plans = [plan_of(model, units) for model, (units, _) in zip(models, optima)]
    return plans, sum(bound for _, bound in optima)


def run_plans(problems: list[dict], prices: dict) -> list[Plan]:
    """Each order's plan when the stream is decided order by order from the stock left."""
    plans = []
    for model, units in order_by_order(problems, prices):
        if units is None:
            raise RuntimeError("an order went unserved in the order-by-order run")
        plans.append(plan_of(model, units))
    return plans


def master_milp(
    models: list[Model], columns: list[list[Plan]], stock: Stock, penalty: float
) -> tuple[Milp, list[list[int]], dict[tuple[str, str], int]]:
    """The choice of one plan per order, and each (location, SKU)'s stock row (its protection
    row follows it)."""
    m = Milp(Columns(), Rows(), {})
    rows = {}
    takes: dict[tuple[str, str], list[tuple[int, float]]] = {}
    index = []
    for model, plans in zip(models, columns):
        cols = [m.columns.add(plan_cost(model, plan), 0, 1, True) for plan in plans]
        m.rows.add([(z, 1.0) for z in cols], 1, 1)
        for z, plan in zip(cols, plans):
            for key, n in plan:
                takes.setdefault(key, []).append((z, float(n)))
        index.append(cols)
    for key, terms in takes.items():
        rows[key] = len(m.rows.lower)
        m.rows.add(terms, -np.inf, stock.available[key])
        below = m.columns.add(penalty, 0, np.inf, False)
        m.rows.add(terms + [(below, -1.0)], -np.inf, stock.unprotected[key])
    return m, index, rows


def lp_prices(
    m: Milp, rows: dict[tuple[str, str], int], penalty: float
) -> tuple[float, dict, dict]:
    """The master's LP relaxation and, per (location, SKU), what one more unit of its stock
    (λ) and one more unprotected unit (μ, at most the penalty) would save it."""
    _, _, value, _, duals = run_highspy(m, TIME_LIMIT_S, relaxed=True)
    stock = {k: max(0.0, -duals[r]) for k, r in rows.items()}
    # μ ≤ the penalty in exact arithmetic (a unit below the level costs no more); kept so.
    return value, stock, {k: min(penalty, max(0.0, -duals[r + 1])) for k, r in rows.items()}


def joint_total(models: list[Model], stock: Stock, penalty: float, plans: list[Plan]) -> float:
    """A joint plan's cost: the plans' own costs and the protection penalty once per unit taken
    below the protected level in all."""
    taken: dict[tuple[str, str], int] = {}
    for plan in plans:
        for key, n in plan:
            taken[key] = taken.get(key, 0) + n
    if any(n > stock.available[key] for key, n in taken.items()):
        raise AssertionError("the joint plan takes more than the opening stock")
    below = sum(max(0, n - stock.unprotected[key]) for key, n in taken.items())
    return sum(plan_cost(m, p) for m, p in zip(models, plans)) + penalty * below


def first_columns(problems: list[dict], models: list[Model], stock: Stock) -> list[set[Plan]]:
    """The two order-by-order runs' plans, and each order's own plan at scaled LP prices."""
    penalty = models[0].protection_per_unit
    stock_price, protection_price = shadow_prices(problems)
    columns: list[set[Plan]] = [set() for _ in problems]
    for name, prices in [("Allot's policy", {}), ("bid prices", stock_price)]:
        plans = run_plans(problems, prices)
        print(f"order by order, {name}: {joint_total(models, stock, penalty, plans):.1f}")
        for column, plan in zip(columns, plans):
            column.add(plan)
    lp = {k: p + protection_price.get(k, 0.0) for k, p in stock_price.items()}
    for scale in PRICE_SCALES:
        add_priced(models, columns, {k: scale * p for k, p in lp.items()})
    return columns


def add_priced(models: list[Model], columns: list[set[Plan]], prices: dict) -> tuple[int, float]:
    """Each order's own optimum at these unit prices, the protection penalty left to the
    master: (how many of them are new columns, the sum of their proven lower bounds)."""
    plain = [Model(m.lines, m.sources, m.split_penalty, 0.0, None) for m in models]
    plans, bound = priced_plans(plain, prices)
    new = 0
    for column, plan in zip(columns, plans):
        new += plan not in column
        column.add(plan)
    return new, bound


def write_prices(path: Path, stock_price: dict, protection_price: dict) -> None:
    """The prices of the best bound so far, for `hindsight.py --prices` to check again."""

    def rows(prices: dict) -> list:
        return [[*k, p] for k, p in sorted(prices.items()) if p > 0]

    path.write_text(json.dumps({"stock": rows(stock_price), "protection": rows(protection_price)}))


def save(path: Path, columns: list[set[Plan]]) -> None:
    path.write_text(json.dumps([[sorted(list(k) + [n] for k, n in p) for p in c] for c in columns]))


def load(path: Path) -> list[set[Plan]]:
    return [
        {Plan(((loc, sku), n) for loc, sku, n in p) for p in c}
        for c in json.loads(path.read_text())
    ]


def describe(problems: list[dict], models: list[Model], plans: list[Plan]) -> dict[str, float]:
    """Per fulfilment mode: orders, own cost (no protection), sources used, units from the
    pickup store's own shelf, and units from warehouses."""
    out: dict[str, float] = {}
    kinds = {c["location"]: c["kind"] for p in problems for c in p["candidates"]}
    for problem, model, plan in zip(problems, models, plans):
        mode = problem["fulfilment"]["mode"]
        store = problem["fulfilment"].get("store")
        figures = {
            "orders": 1,
            "cost": plan_cost(model, plan),
            "sources": len({loc for (loc, _), _ in plan}),
            "units from own shelf": sum(n for (loc, _), n in plan if loc == store),
            "units from warehouses": sum(n for (loc, _), n in plan if kinds[loc] == "warehouse"),
        }
        for name, value in figures.items():
            out[f"{mode} {name}"] = out.get(f"{mode} {name}", 0) + value
    return out


def column_rounds(
    models: list[Model], columns: list[set[Plan]], stock: Stock, args: argparse.Namespace
) -> float:
    """Column generation (the module's doc); returns the best lower bound it proved."""
    penalty = models[0].protection_per_unit
    best = -np.inf
    for round_ in range(args.rounds):
        m, _, rows = master_milp(models, [sorted(c, key=sorted) for c in columns], stock, penalty)
        value, stock_price, protection_price = lp_prices(m, rows, penalty)
        prices = {k: p + protection_price[k] for k, p in stock_price.items()}
        new, orders = add_priced(models, columns, prices)
        # hindsight.py's lagrangian_bound, `orders` over all of each order's plans.
        bound = orders + priced_stock(stock, stock_price, protection_price)
        print(
            f"round {round_}: master LP {value:.1f} over {sum(map(len, columns))} plans, {new} new;"
            f" lower bound for every policy at its prices {bound:.1f}"
        )
        if bound > best:
            best = bound
            if args.prices_out:
                write_prices(args.prices_out, stock_price, protection_price)
        if args.columns:
            save(args.columns, columns)
        if new == 0:
            break
    return best


def best_joint_plan(
    models: list[Model], columns: list[set[Plan]], stock: Stock, time_limit: float
) -> tuple[float, list[Plan]]:
    """The master MILP's best choice within the time limit, re-priced with the plain model."""
    penalty = models[0].protection_per_unit
    listed = [sorted(column, key=sorted) for column in columns]
    m, index, _ = master_milp(models, listed, stock, penalty)
    print(
        f"master: {sum(map(len, listed))} plans for {len(listed)} orders;"
        f" HiGHS for at most {time_limit:.0f} s"
    )
    status, dual, best, values, _ = run_highspy(m, time_limit)
    chosen = [
        plans[int(np.argmax([values[z] for z in cols]))] for plans, cols in zip(listed, index)
    ]
    total = joint_total(models, stock, penalty, chosen)  # re-priced, not HiGHS's objective
    print(
        f"status: {status}; best joint plan {total:.1f} (HiGHS: {best:.1f});"
        f" dual bound over these plans only {dual:.1f}"
    )
    return total, chosen


def report(problems: list[dict], models: list[Model], stock: Stock, chosen: list[Plan]) -> None:
    allot = run_plans(problems, {})
    penalty = models[0].protection_per_unit
    print(f"Allot's policy: {joint_total(models, stock, penalty, allot):.1f}")
    for name, plans in [("clairvoyant", chosen), ("Allot's policy", allot)]:
        for key, value in sorted(describe(problems, models, plans).items()):
            print(f"  {name:<15} {key:<28} {value:12.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT_S)
    parser.add_argument("--rounds", type=int, default=0, help="column generation rounds")
    parser.add_argument("--columns", type=Path, help="read the columns here if it exists; write")
    parser.add_argument("--prices-out", type=Path, help="write the best bound's prices here")
    parser.add_argument("--report", action="store_true", help="where the two plans differ")
    parser.add_argument("--best-peer", type=float, help="the best peer's total on the stream")
    args = parser.parse_args()
    problems = [case["problem"] for case in read_cases(args.stream)]
    models = [build_model(problem) for problem in problems]
    stock = Stock()
    for model in models:
        stock.note(model)
    if args.columns and args.columns.exists():
        columns = load(args.columns)
    else:
        columns = first_columns(problems, models, stock)
    bound = column_rounds(models, columns, stock, args)
    total, chosen = best_joint_plan(models, columns, stock, args.time_limit)
    if args.best_peer:
        print(f"the best joint plan is {1.0 - total / args.best_peer:.2%} below the best peer")
        if args.rounds:
            print(f"no policy can be more than {1.0 - bound / args.best_peer:.2%} below it")
    if args.report:
        report(problems, models, stock, chosen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
