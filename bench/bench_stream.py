"""Benchmark of the stream engine; writes its section of ``docs/benchmarks.md``.

Run from the repository root::

    python bench/bench_stream.py            # full run; rewrites the stream section
    python bench/bench_stream.py --quick    # smaller sizes, prints only

Measures events per second, on the same synthetic jiangxi-2024 history (orders sent,
responded to and delivered; complaints raised, replied to and resolved; enterprise
quarters closed), of:

- raw durable-rules: durable-rules' own Python host (``durable.engine.Host``) posting
  the same events to a ruleset with the same lifecycle rules, whose actions assert the
  same facts and do nothing else;
- the monitor's durable-rules driver alone (same rules and facts, synchronous, no
  decisions): what the Rete part of the monitor costs;
- the monitor, live: started at the first event, fed every event in time order with a
  tick at the end of every day (every decision made as it arises), then ticked to
  ``as_of``;
- the monitor, replay (``evaluate_stream``): events fed before one tick at ``as_of``;
- the reference engine (``evaluate``) on the same facts, as events per second of the
  history it evaluates.

Every monitor run is checked: its findings equal the reference engine's, ``to_dict()``
for ``to_dict()``, on the rules the stream engine supports. Times are the median and min
of repeated runs (``time.perf_counter``, garbage collected before and disabled during
each run). Only the section between ``<!-- stream:start -->`` and ``<!-- stream:end -->``
is written (``bench/_report.py``); the markers are appended if absent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT / "src"))

from _report import write_section  # noqa: E402 - bench/_report.py, next to this script

from vbp_rules import FactSet, load_pack  # noqa: E402
from vbp_rules.engine.reference import evaluate  # noqa: E402
from vbp_rules.engine.stream import (  # noqa: E402
    Monitor,
    _lifecycles,
    _ruleset,
    _sid,
    evaluate_stream,
    replay_events,
)

TZ = ZoneInfo("Asia/Shanghai")
PACK_ID = "jiangxi-2024"
SEED = 20240607
AS_OF = dt.date(2025, 1, 31)
TARGET = 20_000  # events per second
SECTION = "stream"


# --------------------------------------------------------------------------- history


def history(n_orders: int, seed: int = SEED) -> FactSet:
    """Deterministic facts: orders, a tenth as many complaints, enterprise quarters."""
    rng = random.Random(seed)  # noqa: S311 - deterministic test data
    t0 = dt.datetime(2024, 7, 1, tzinfo=TZ)
    n_ent = max(2, n_orders // 500)
    pairs = [(f"E{e}", f"P{p}") for e in range(n_ent) for p in range(max(2, n_orders // 200))]
    pairs = rng.sample(pairs, k=min(len(pairs), max(1, n_orders // 50)))
    orders = []
    for i in range(n_orders):
        ent, prod = rng.choice(pairs)
        sent = t0 + dt.timedelta(minutes=rng.randrange(184 * 24 * 60))
        responded = (
            None if rng.random() < 0.02 else sent + dt.timedelta(hours=rng.choice((1, 6, 30, 60)))
        )
        delivered = None
        if responded is not None and rng.random() < 0.95:
            delivered = responded + dt.timedelta(hours=rng.randrange(2, 90))
        quantity = rng.randrange(1, 500)
        orders.append(
            {
                "id": f"O{i}",
                "batch_id": "B9",
                "institution_id": f"H{rng.randrange(max(2, n_orders // 100))}",
                "enterprise_id": ent,
                "product_id": prod,
                "sent_at": sent,
                "responded_at": responded,
                "ordered_quantity": quantity,
                "delivery_due_at": sent + dt.timedelta(hours=72),
                "delivered_at": delivered,
                "delivered_quantity": quantity if delivered else 0,
            }
        )
    complaints = []
    for i in range(max(1, n_orders // 10)):
        ent, prod = rng.choice(pairs)
        raised = t0 + dt.timedelta(minutes=rng.randrange(184 * 24 * 60))
        replied = None if rng.random() < 0.05 else raised + dt.timedelta(hours=rng.randrange(90))
        committed = None if replied is None else replied + dt.timedelta(days=rng.randrange(1, 9))
        resolved = None
        if replied is not None and committed is not None and rng.random() < 0.9:
            resolved = replied + dt.timedelta(days=rng.randrange(0, 10))
        complaints.append(
            {
                "id": f"C{i}",
                "institution_id": "H1",
                "enterprise_id": ent,
                "product_id": prod,
                "raised_at": raised,
                "replied_at": replied,
                "committed_resolution_at": committed,
                "resolved_at": resolved,
                "unresolvable": rng.random() < 0.01,
            }
        )
    stats = []
    for e in range(n_ent):
        for q, (start, end) in enumerate(
            [
                (dt.date(2024, 7, 1), dt.date(2024, 9, 30)),
                (dt.date(2024, 10, 1), dt.date(2024, 12, 31)),
            ]
        ):
            n = rng.randrange(50, 500)
            stats.append(
                {
                    "id": f"Q{e}-{q}",
                    "enterprise_id": f"E{e}",
                    "period_start": start,
                    "period_end": end,
                    "orders": n,
                    "responded_orders": n - rng.randrange(0, n // 10),
                    "timely_delivered_orders": n - rng.randrange(0, n // 5),
                }
            )
    return FactSet.from_records(
        {"orders": orders, "complaints": complaints, "enterprise_period_stats": stats}
    )


# --------------------------------------------------------------------------- timing


def measure(fn: Callable[[], object], *, repeat: int) -> tuple[float, float]:
    """Median and min seconds of ``repeat`` runs of ``fn`` (gc off while timing)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        finally:
            gc.enable()
    return statistics.median(times), min(times)


def _supported(findings: Any, rules: set[str]) -> list[str]:
    return sorted(repr(f.to_dict()) for f in findings if f.rule_id in rules)


# --------------------------------------------------------------------------- runs


def run_raw_durable(events: list[tuple[dt.datetime, dict[str, Any]]]) -> int:
    """durable-rules' own host, the monitor's lifecycle rules, actions asserting facts."""
    from durable import engine

    def accept(fact_type: str) -> Callable[[Any], None]:
        def action(c: Any) -> None:
            e = c.e if c.e is not None else c.m
            c.assert_fact({"t": fact_type, "k": e.k})

        return action

    def refuse(_: Any) -> None:
        return None

    actions: dict[str, Callable[[Any], None]] = {}
    for spec, kind in _lifecycles():
        name = f"{spec.name}:{kind}"
        actions[name] = accept(kind if spec.create else f"{name}.done")
        for tail in ("duplicate",) if spec.create else ("repeated", "unknown"):
            actions[f"{name}.{tail}"] = refuse
    definition = _ruleset(actions)
    for name, rule in definition.items():
        rule["run"] = actions[name]
    ruleset = f"bench.raw.{time.perf_counter_ns()}"
    host = engine.Host({ruleset: definition})
    n = 0
    for _, event in events:
        kind = event.get("of") or _kind_of(event["event"])
        n += 1
        host.post(
            ruleset,
            {
                "id": n,
                "sid": _sid(f"{kind}/{event['id']}", 64),
                "t": f"{event['event']}:{kind}",
                "k": str(event["id"]),
                "n": n,
            },
        )
    return n


def run_driver(events: list[tuple[dt.datetime, dict[str, Any]]]) -> int:
    """The monitor's synchronous durable-rules driver with the same rules, no decisions."""
    from vbp_rules.engine._stream_durable import RulesetDriver

    def accept(fact_type: str) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
        return lambda m: [{"t": fact_type, "k": m["e"]["k"]}]

    actions: dict[str, Callable[[dict[str, Any]], list[dict[str, Any]] | None]] = {}
    for spec, kind in _lifecycles():
        name = f"{spec.name}:{kind}"
        actions[name] = accept(kind if spec.create else f"{name}.done")
        for tail in ("duplicate",) if spec.create else ("repeated", "unknown"):
            actions[f"{name}.{tail}"] = lambda _: None
    driver = RulesetDriver(f"bench.driver.{time.perf_counter_ns()}", _ruleset(actions), actions)
    n = 0
    for _, event in events:
        kind = event.get("of") or _kind_of(event["event"])
        n += 1
        driver.post(
            _sid(f"{kind}/{event['id']}", 64),
            {"t": f"{event['event']}:{kind}", "k": str(event["id"]), "n": n},
        )
    driver.close()
    return n


def run_dict(events: list[tuple[dt.datetime, dict[str, Any]]]) -> int:
    """The same accept/reject verdicts from a set of subjects and a set of stage marks:
    what durable-rules' correlation is measured against (no Rete, no C core)."""
    subjects: set[tuple[str, str]] = set()
    marks: set[tuple[str, str, str]] = set()
    accepted = 0
    for _, event in events:
        kind = event.get("of") or _kind_of(event["event"])
        key = (kind, str(event["id"]))
        name = event["event"]
        if name in ("order_sent", "complaint_raised", "settlement_accepted", "period_closed"):
            if key not in subjects:
                subjects.add(key)
                accepted += 1
        elif key in subjects and (name, *key) not in marks:
            marks.add((name, *key))
            accepted += 1
    return accepted


def _kind_of(event: str) -> str:
    return {"order": "orders", "complaint": "complaints", "settlement": "settlements"}[
        event.split("_", 1)[0]
    ]


def run_live(pack: Any, events: list[tuple[dt.datetime, dict[str, Any]]]) -> Any:
    """A monitor fed events in time order, ticking at every local midnight."""
    first = events[0][0]
    with Monitor(pack, now=first) as monitor:
        next_tick = dt.datetime.combine(
            first.astimezone(TZ).date() + dt.timedelta(days=1), dt.time(0), tzinfo=TZ
        )
        for at, event in events:
            while next_tick <= at:
                monitor.tick(next_tick)
                next_tick += dt.timedelta(days=1)
            monitor.post(event)
        monitor.tick(AS_OF)
        return monitor.findings()


# --------------------------------------------------------------------------- report


def bench(sizes: list[int], repeat: int) -> tuple[list[dict[str, Any]], str]:
    pack = load_pack(PACK_ID)
    rows: list[dict[str, Any]] = []
    supported: set[str] = set()
    for n in sizes:
        facts = history(n)
        events = replay_events(facts)
        ref = evaluate(pack, facts, as_of=AS_OF)
        with Monitor(pack) as probe:
            supported = set(probe.supported_rules)
        want = _supported(ref.findings, supported)
        live = run_live(pack, events)
        replayed = evaluate_stream(pack, facts, as_of=AS_OF)
        exact = _supported(live, supported) == want and (
            _supported(replayed.findings, supported) == want
        )
        row: dict[str, Any] = {
            "orders": n,
            "events": len(events),
            "findings": len(want),
            "exact": exact,
            "raw": measure(lambda e=events: run_raw_durable(e), repeat=repeat),
            "driver": measure(lambda e=events: run_driver(e), repeat=repeat),
            "dict": measure(lambda e=events: run_dict(e), repeat=repeat),
            "live": measure(lambda e=events: run_live(pack, e), repeat=repeat),
            "replay": measure(lambda f=facts: evaluate_stream(pack, f, as_of=AS_OF), repeat=repeat),
            "reference": measure(lambda f=facts: evaluate(pack, f, as_of=AS_OF), repeat=repeat),
        }
        rows.append(row)
        print(
            f"{n:>7} orders {len(events):>7} events  "
            + "  ".join(
                f"{k} {len(events) / row[k][0]:>9,.0f} ev/s"
                for k in ("raw", "driver", "dict", "live", "replay", "reference")
            )
            + f"  exact={exact}",
            flush=True,
        )
    return rows, ", ".join(sorted(supported))


def render(rows: list[dict[str, Any]], supported: str, seconds: float, command: str) -> str:
    cores = os.cpu_count() or 0
    lines = [
        "## Stream engine (durable-rules)",
        "",
        f"Generated by `{command}` (do not edit this section by hand; rerun it).",
        "",
        f"- Date: {dt.datetime.now(tz=TZ).date().isoformat()}",
        f"- Machine: {cores} cores, {platform.system()} ({platform.machine()}), "
        f"CPython {platform.python_version()}",
        f"- Run time: {seconds:.0f} s",
        "- History: synthetic jiangxi-2024 facts from `random.Random(20240607)`: N orders "
        "(July–December 2024; sent, responded to unless ~2%, delivered unless ~7%), N/10 "
        "complaints (raised, replied to, resolved), two closed quarters per enterprise; "
        "replayed as events in time order. `as_of` = 2025-01-31.",
        "- Columns: events per second from the median of repeated runs (min in brackets). "
        "*raw durable-rules*: durable-rules' own `Host.post` with the monitor's lifecycle "
        "rules, actions that only assert the same facts. *driver*: the monitor's synchronous "
        "driver of durable-rules' C core with the same rules and facts. *dict*: the same "
        "accept/reject verdicts from two Python sets (subjects, stage marks), no durable-rules. "
        "*live*: a `Monitor` "
        "fed every event in time order with a tick at every midnight, every decision made "
        "as it arises. *replay*: `evaluate_stream` (one tick at `as_of`). *reference*: "
        "`evaluate` on the same facts, every rule of the pack, as events per second of the "
        "history it evaluates.",
        f"- Exact: the monitor's findings equal the reference engine's (`to_dict()`), live "
        f"and replay, on the supported rules: {supported}.",
        f"- Target: ≥ {TARGET:,} events/s with exact results.",
        "",
        "| orders | events | findings | raw durable-rules ev/s | driver ev/s | dict ev/s | "
        "monitor live ev/s | monitor replay ev/s | reference ev/s | exact | live ≥ target |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|",
    ]
    for r in rows:
        ev = r["events"]

        def rate(key: str, ev: int = ev, r: dict[str, Any] = r) -> str:
            med, best = r[key]
            return f"{ev / med:,.0f} ({ev / best:,.0f})"

        met = "met" if ev / r["live"][0] >= TARGET and r["exact"] else "**missed**"
        lines.append(
            f"| {r['orders']:,} | {ev:,} | {r['findings']:,} | {rate('raw')} | {rate('driver')} "
            f"| {rate('dict')} | {rate('live')} | {rate('replay')} | {rate('reference')} | "
            f"{'yes' if r['exact'] else '**no**'} | {met} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes; print, don't write")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    t0 = time.perf_counter()
    sizes, repeat = ([300, 1_000], 2) if args.quick else ([1_000, 5_000, 20_000], 3)
    rows, supported = bench(sizes, repeat)
    command = "python bench/bench_stream.py" + (" --quick" if args.quick else "")
    section = render(rows, supported, time.perf_counter() - t0, command)
    if args.quick:
        print(section)
    else:
        write_section(args.output, SECTION, section)
        print(f"wrote {args.output.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
