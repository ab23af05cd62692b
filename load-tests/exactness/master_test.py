#!/usr/bin/env python3
"""master.py's bound and plans against brute force, on tiny random streams.

    python3 master_test.py [--streams N] [--seed S]

Each stream has 2–3 locations sharing one stock of 2 SKUs and 2–4 orders. Every plan of every
order is enumerated, and every choice of one plan per order that keeps the stock is priced:
that is the clairvoyant optimum. It must equal the master MILP's over all plans, and the
Lagrangian bound (master.py's, from priced_plans, and hindsight.lagrangian_bound on the same
prices) must never exceed it: at the master LP's prices, at 0, and at random prices. Exit 1 on any
disagreement.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys

from check import Model, build_model, close, compositions, price
from hindsight import Stock, lagrangian_bound, priced_stock
from master import (
    joint_total,
    lp_prices,
    master_milp,
    plan_of,
    priced_plans,
    run_highspy,
)

SKUS = "AB"
TOLERANCE = 1e-6


def random_stream(rng: random.Random) -> list[dict]:
    names = [f"L{k}" for k in range(rng.randint(2, 3))]
    candidates = [
        {
            "location": name,
            "kind": rng.choice(["store", "warehouse"]),
            "position": {"lat": rng.uniform(24.9, 25.1), "lon": rng.uniform(121.4, 121.6)},
            "stock": [
                {"sku": sku, "available": rng.randint(1, 4), "protected": rng.choice([0, 1, 2])}
                for sku in SKUS
            ],
            "handling_per_unit": rng.choice([6.0, 15.0]),
            "handling_hours": rng.choice([0.5, 4.0]),
        }
        for name in names
    ]
    costs = {
        "shipment_fixed": 80.0,
        "shipping_per_unit_km": 0.6,
        "split_penalty": 60.0,
        "wait_per_hour": 10.0,
        "protection_per_unit": 25.0,
    }
    return [random_order(rng, names, candidates, costs) for _ in range(rng.randint(2, 4))]


def random_order(rng: random.Random, names: list[str], candidates: list[dict], costs: dict) -> dict:
    lines = [{"sku": sku, "qty": rng.randint(1, 2)} for sku in rng.sample(SKUS, rng.randint(1, 2))]
    if rng.random() < 0.5:
        destination = {"lat": rng.uniform(24.9, 25.1), "lon": rng.uniform(121.4, 121.6)}
        fulfilment, lanes = {"mode": "ship", "destination": destination}, []
    else:
        store = rng.choice(names)
        fulfilment = {"mode": "pickup", "store": store}
        lanes = [
            {
                "from": other,
                "to": store,
                "cost_fixed": 50.0,
                "cost_per_unit": 2.0,
                "lead_time_hours": rng.choice([2.0, 24.0]),
            }
            for other in names
            if other != store
        ]
    return {
        "lines": lines,
        "fulfilment": fulfilment,
        "candidates": candidates,
        "lanes": lanes,
        "costs": costs,
        "allow_partial": False,
    }


def all_plans(model: Model) -> list:
    """Every distinct plan of the order on the opening stock (price() says what is feasible)."""
    n = len(model.sources)
    per_line = [list(compositions(qty, n)) for _, qty in model.lines]
    plans = set()
    for units in itertools.product(*per_line):
        if price(model, [list(row) for row in units]) is not None:
            plans.add(plan_of(model, [list(row) for row in units]))
    return sorted(plans, key=sorted)


def brute_optimum(models: list[Model], stock: Stock, penalty: float, plans: list[list]) -> float:
    best = float("inf")
    for choice in itertools.product(*plans):
        try:
            best = min(best, joint_total(models, stock, penalty, list(choice)))
        except AssertionError:  # takes more than the stock
            continue
    return best


def check_stream(rng: random.Random, problems: list[dict]) -> list[str] | None:
    """What disagrees on this stream, or None if it has nothing to compare."""
    models = [build_model(problem) for problem in problems]
    if any(not model.sources for model in models):
        return None  # an order no location can serve alone
    stock = Stock()
    for model in models:
        stock.note(model)
    penalty = models[0].protection_per_unit
    plans = [all_plans(model) for model in models]
    optimum = brute_optimum(models, stock, penalty, plans)
    if optimum == float("inf"):
        return None  # the orders cannot all be served together
    m, _, rows = master_milp(models, plans, stock, penalty)
    status, _, master_best, _, _ = run_highspy(m, 60.0)
    wrong = []
    if status != "Optimal" or not close(master_best, optimum):
        wrong.append(f"master {status} {master_best} against brute force {optimum}")
    _, lp_stock, lp_protection = lp_prices(m, rows, penalty)
    random_stock = {k: rng.uniform(0.0, 200.0) for k in stock.available}
    random_protection = {k: rng.uniform(0.0, penalty) for k in stock.available}
    zero = {k: 0.0 for k in stock.available}
    for name, (lam, mu) in {
        "LP": (lp_stock, lp_protection),
        "zero": (zero, zero),
        "random": (random_stock, random_protection),
    }.items():
        plain = [Model(x.lines, x.sources, x.split_penalty, 0.0, None) for x in models]
        prices = {k: p + mu.get(k, 0.0) for k, p in lam.items()}
        bound = priced_plans(plain, prices)[1] + priced_stock(stock, lam, mu)
        again = lagrangian_bound(problems, lam, {k: mu.get(k, 0.0) for k in lam})
        if bound > optimum + TOLERANCE or again > optimum + TOLERANCE:
            wrong.append(f"{name} prices: bounds {bound}, {again} above the optimum {optimum}")
        if not close(bound, again):
            wrong.append(f"{name} prices: master.py's bound {bound}, hindsight.py's {again}")
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=60)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    checked = failed = 0
    for index in range(args.streams):
        problems = random_stream(rng)
        wrong = check_stream(rng, problems)
        if wrong is None:
            continue
        checked += 1
        failed += bool(wrong)
        for line in wrong:
            print(f"stream {index}: {line}")
    print(f"master_test: {checked - failed} of {checked} random streams agree with brute force")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
