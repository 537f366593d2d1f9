"""Benchmark: validating and encoding orders by columns vs row by row with pydantic.

Synthetic orders are generated with Polars directly (typed columns: aware timestamps,
Int64 quantities, Decimal money, string ids; a few bad rows: naive-looking text is not
possible in a typed column, so bad rows are negative quantities, delivered > ordered and
duplicate ids) and written to Parquet. Each contender runs in its own process, so peak
memory (max RSS) is its own:

- ``scan_facts`` (the columnar path) on 1e6 orders (1e7 with ``--big``);
- ``load_facts`` (pydantic, row by row) on 1e5 orders;
- the columnar path on the same 1e5 orders, for the like-for-like ratio.

It is a script, not a timed test: it prints a Markdown table and writes nothing. Wall
time includes the imports of each process; CPU time (all threads) is less sensitive to
other load on the machine, whose load average the table shows.

    python bench/bench_columnar.py            # 1e5 and 1e6
    python bench/bench_columnar.py --big      # also 1e7 (about 2 GB of RAM)
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def generate(n: int, path: Path, *, seed: int = 7) -> None:
    """``n`` synthetic orders (0.1 % bad) written to ``path`` as Parquet."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    start = 1_704_038_400_000_000  # 2024-01-01T00:00+08:00 in epoch µs
    sent = start + rng.integers(0, 365 * 86_400_000_000, n)
    ordered = rng.integers(1, 500, n)
    delivered = np.minimum(ordered, rng.integers(0, 520, n))
    bad = rng.random(n) < 0.001
    delivered = np.where(bad, ordered + 1, delivered)  # delivered > ordered
    ids = np.arange(n)
    ids = np.where(rng.random(n) < 0.0005, 0, ids)  # duplicate ids
    responded = sent + rng.integers(0, 72 * 3_600_000_000, n)
    lf = pl.DataFrame(
        {
            "id": ids,
            "institution_id": rng.integers(0, 2_000, n),
            "enterprise_id": rng.integers(0, 300, n),
            "product_id": rng.integers(0, 800, n),
            "sent_at": sent,
            "responded_at": responded,
            "answered": rng.random(n) < 0.9,
            "delivered_at": sent + rng.integers(0, 120 * 3_600_000_000, n),
            "delivery_due_at": sent + 48 * 3_600_000_000,
            "ordered_quantity": ordered,
            "delivered_quantity": delivered,
            "amount_fen": ordered * rng.integers(100, 100_000, n),
        }
    ).lazy()
    aware = pl.Datetime("us", "Asia/Shanghai")
    lf.select(
        pl.format("o-{}", "id").alias("id"),
        pl.format("h-{}", "institution_id").alias("institution_id"),
        pl.format("e-{}", "enterprise_id").alias("enterprise_id"),
        pl.format("p-{}", "product_id").alias("product_id"),
        *(
            pl.col(c).cast(pl.Int64).cast(pl.Datetime("us", "UTC")).cast(aware)
            for c in ("sent_at", "delivered_at", "delivery_due_at")
        ),
        pl.when("answered")
        .then(pl.col("responded_at").cast(pl.Datetime("us", "UTC")).cast(aware))
        .alias("responded_at"),
        pl.col("ordered_quantity").cast(pl.Int64),
        pl.col("delivered_quantity").cast(pl.Int64),
        (pl.col("amount_fen").cast(pl.Decimal(20, 0)) / 100)
        .cast(pl.Decimal(20, 2))
        .alias("amount"),
    ).sink_parquet(path)


def columnar(path: str) -> tuple[int, int]:
    from vbp_rules.facts.columnar import scan_facts

    result = scan_facts(path)
    return result.counts()["orders"], len(result.rejects)


def pydantic(path: str) -> tuple[int, int]:
    from vbp_rules.facts import load_facts

    facts = load_facts(path)
    return len(facts.orders), len(facts.rejects)


def _child(name: str, path: str, queue: Any) -> None:
    func = {"columnar": columnar, "pydantic": pydantic}[name]
    start, cpu = time.perf_counter(), time.process_time()
    counts = func(path)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB (Linux)
    queue.put((elapsed, cpu, rss, counts))


def run(name: str, path: Path) -> tuple[float, float, float, tuple[int, int]]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(name, str(path), queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="also 1e7 orders")
    parser.add_argument("--pydantic-size", type=int, default=100_000)
    args = parser.parse_args()
    plan = [("pydantic", args.pydantic_size), ("columnar", args.pydantic_size)]
    plan.append(("columnar", 1_000_000))
    if args.big:
        plan.append(("columnar", 10_000_000))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        files: dict[int, Path] = {}
        for name, n in plan:
            if n not in files:
                files[n] = Path(tmp) / f"orders.{n}.parquet"
                generate(n, files[n])
            elapsed, cpu, rss, (accepted, rejected) = run(name, files[n])
            label = "load_facts (pydantic rows)" if name == "pydantic" else "scan_facts (columns)"
            rows.append((label, n, elapsed, cpu, rss, accepted, rejected))
            print(
                f"{label}: {n:,} orders in {elapsed:.2f} s, peak RSS {rss:,.0f} MiB",
                file=sys.stderr,
            )
    load = os.getloadavg()[0]
    machine = f"{platform.python_version()} on {platform.machine()}, {mp.cpu_count()} cpus"
    print(f"{machine}, load average {load:.1f}\n")
    print("| path | orders | wall s | CPU s | rows/s (wall) | peak RSS MiB | accepted | rejected |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, n, elapsed, cpu, rss, accepted, rejected in rows:
        print(
            f"| {label} | {n:,} | {elapsed:.2f} | {cpu:.2f} | {n / elapsed:,.0f} | {rss:,.0f} "
            f"| {accepted:,} | {rejected:,} |"
        )


if __name__ == "__main__":
    main()
