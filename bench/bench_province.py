"""Benchmark: the whole jiangxi-2024 pack over a synthetic province-year, on one machine.

Writes a synthetic province (``vbp_rules.synth``: orders plus every other fact kind,
scaled with them) as Parquet files, then, in a fresh process, evaluates the whole pack
with the frame engine from that folder: validation by columns, every rule decided in the
backend, findings counted from the columns. Reports wall time, peak RSS and the size of
the orders table in memory. Writes the ``province`` section of ``docs/benchmarks.md``.

    python bench/bench_province.py --orders 10000000
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
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section

AS_OF = date(2025, 7, 31)


def _child(folder: str, q: Any) -> None:
    from vbp_rules import load_pack
    from vbp_rules.engine.frame import evaluate_frame

    t0 = time.perf_counter()
    ev = evaluate_frame(load_pack("jiangxi-2024"), folder, as_of=AS_OF)
    summary = ev.summary()
    secs = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fallback = dict(ev.metadata)["fallback_rules"]
    q.put((secs, rss, summary, fallback))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--out", default=str(Path(__file__).parent.parent / "docs" / "benchmarks.md"))
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).parent.parent / "src"))
    from vbp_rules.synth import synthesize

    with tempfile.TemporaryDirectory() as tmp:
        tables = synthesize(orders=args.orders, seed=7)
        rows = {kind: frame.height for kind, frame in tables.items()}
        orders_mib = tables["orders"].estimated_size() / 2**20
        all_mib = sum(frame.estimated_size() for frame in tables.values()) / 2**20
        for kind, frame in tables.items():
            frame.write_parquet(Path(tmp) / f"{kind}.parquet")
        del tables
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        p = ctx.Process(target=_child, args=(tmp, q))
        p.start()
        secs, rss, summary, fallback = q.get()
        p.join()
    breaches = summary.get("breach", 0)
    findings = sum(v for k, v in summary.items() if not k.startswith(("skip:", "rejected")))
    counts = ", ".join(f"{k} {v:,}" for k, v in rows.items() if v)
    head = (
        "| orders | seconds | peak RSS MiB | orders table MiB | all tables MiB | findings "
        "| breaches | rules falling back |"
    )
    lines = [
        "## A province-year: the whole jiangxi-2024 pack (bench/bench_province.py)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}. Synthetic facts ({counts}) "
        "as Parquet files; one fresh process evaluates the whole pack from the folder "
        "(validation by columns, every rule decided in the backend, counts from the columns).",
        "",
        head,
        "|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {args.orders:,} | {secs:.1f} | {rss:.0f} | {orders_mib:.0f} | {all_mib:.0f} | "
        f"{findings:,} | {breaches:,} | {len(fallback)} |",
        "",
        f"Target: peak ≤ 2× the input tables plus the interpreter: {rss:.0f} MiB against "
        f"2 × {all_mib:.0f} MiB + ~150 MiB = {2 * all_mib + 150:.0f} MiB — "
        f"{'met' if rss <= 2 * all_mib + 150 else '**missed**'}.",
    ]
    print("\n".join(lines))
    write_section(Path(args.out), "province", "\n".join(lines))


if __name__ == "__main__":
    main()
