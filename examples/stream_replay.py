"""Replay procurement history as a live stream and print findings as they arise.

Run from the repository root (needs the ``stream`` extra: ``pip install -e ".[stream]"``)::

    python examples/stream_replay.py                       # examples/jiangxi-2024
    python examples/stream_replay.py path/to/facts --as-of 2025-06-30 --all

The facts of ``examples/jiangxi-2024/`` (or the directory given) are turned into events
(order sent, responded, delivered; complaint raised, replied, resolved; settlement
accepted, paid; period closed) and fed to a :class:`~vbp_rules.engine.stream.Monitor`
in time order, with a clock tick at every local midnight. Each finding is printed when
it arises: a deadline missed at the first tick after it passed, a reply that came late
when it comes, a month's response rate once the month is over, a second quarter below
90% when it closes. Without fact files there, a small built-in history is used.

At the end the monitor's findings are compared with the reference engine's on the same
facts (they are the same, for every rule the stream engine supports).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT / "src"))

from vbp_rules import FactSet, evaluate, load_facts, load_pack  # noqa: E402
from vbp_rules.engine.stream import Monitor, replay_events, state_events  # noqa: E402
from vbp_rules.findings import Finding  # noqa: E402
from vbp_rules.packs.pack import Pack  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
FACT_SUFFIXES = {".json", ".yaml", ".yml", ".csv", ".jsonl", ".parquet"}


def built_in() -> FactSet:
    """A few orders and complaints around the 2024 National Day holiday, two quarters."""

    def at(*args: int) -> dt.datetime:
        return dt.datetime(*args, tzinfo=TZ)

    order = {"institution_id": "H-NC1", "enterprise_id": "E-QL", "product_id": "P-ATV"}
    return FactSet.from_records(
        {
            "orders": [
                {**order, "id": "O-1", "sent_at": at(2024, 9, 26, 10), "ordered_quantity": 40,
                 "responded_at": at(2024, 9, 26, 15)},
                {**order, "id": "O-2", "sent_at": at(2024, 9, 29, 9), "ordered_quantity": 20,
                 "responded_at": at(2024, 10, 1, 9, 1)},  # 48 h and a minute
                {**order, "id": "O-3", "sent_at": at(2024, 9, 30, 16), "ordered_quantity": 10},
            ],
            "complaints": [
                {"id": "C-1", "institution_id": "H-GZ1", "enterprise_id": "E-QL",
                 "raised_at": at(2024, 9, 27, 15, 30), "replied_at": at(2024, 9, 30, 17),
                 "committed_resolution_at": at(2024, 10, 10, 17),
                 "resolved_at": at(2024, 10, 9, 11)},
                {"id": "C-2", "institution_id": "H-GZ1", "enterprise_id": "E-QL",
                 "raised_at": at(2024, 9, 30, 10), "replied_at": at(2024, 10, 9, 9)},
            ],
            "enterprise_period_stats": [
                {"id": "Q3", "enterprise_id": "E-QL", "period_start": "2024-07-01",
                 "period_end": "2024-09-30", "orders": 120, "responded_orders": 118,
                 "timely_delivered_orders": 106},
                {"id": "Q4", "enterprise_id": "E-QL", "period_start": "2024-10-01",
                 "period_end": "2024-12-31", "orders": 100, "responded_orders": 99,
                 "timely_delivered_orders": 89},
            ],
        }
    )  # fmt: skip


def show(f: Finding, *, everything: bool) -> None:
    if f.outcome == "compliant" and not everything:
        return
    when = f" {f.period}" if f.period else ""
    print(f"    -> {f.outcome:<13} {f.rule_id}{when} [{f.subject}]")
    print(f"       {f.message_en}")


def load(path: Path) -> FactSet:
    """The facts in ``path``, or the built-in history if it holds no fact files."""
    files = [p for p in path.glob("*") if p.suffix in FACT_SUFFIXES] if path.is_dir() else []
    if files:
        facts = load_facts(path)
        print(f"facts: {path} ({len(facts)} rows, {len(facts.rejects)} rejected)")
        return facts
    facts = built_in()
    print(f"facts: built-in history ({len(facts)} rows; no fact files in {path})")
    return facts


def stream(
    pack: Pack,
    facts: FactSet,
    events: list[tuple[dt.datetime, dict[str, Any]]],
    as_of: dt.date,
    *,
    everything: bool,
) -> tuple[tuple[Finding, ...], tuple[tuple[str, str], ...]]:
    """Feed the events with a tick at every midnight, printing findings as they arise."""
    current = {"line": "", "shown": False}

    def arose(finding: Finding) -> None:
        if finding.outcome == "compliant" and not everything:
            return
        if not current["shown"]:
            print(current["line"])
            current["shown"] = True
        show(finding, everything=everything)

    def header(line: str) -> None:
        current["line"], current["shown"] = line, False

    first = events[0][0].astimezone(TZ)
    with Monitor(pack, now=first, on_finding=arose) as monitor:
        for fact in state_events(facts):  # agreements, listings, batches, ...: state
            monitor.post(fact)
        print(f"monitor {monitor.name}: {len(monitor.supported_rules)} rules evaluated")
        print("events that raised findings (--all: compliant ones too):")
        midnight = dt.datetime.combine(first.date() + dt.timedelta(days=1), dt.time(0), tzinfo=TZ)
        for at, event in events:
            while midnight <= at:
                header(f"{midnight:%Y-%m-%d %H:%M}  tick")
                monitor.tick(midnight)
                midnight += dt.timedelta(days=1)
            what = event["event"] + (f" ({event['of']})" if "of" in event else "")
            header(f"{at.astimezone(TZ):%Y-%m-%d %H:%M}  {what} {event['id']}")
            if not monitor.post(event):
                print(f"{current['line']}\n    !! rejected: {monitor.rejects[-1].reason}")
        header(f"{as_of} 24:00  tick (as of)")
        monitor.tick(as_of)
        return monitor.findings(), monitor.tick_rules


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("facts", nargs="?", type=Path, default=ROOT / "examples" / "jiangxi-2024")
    parser.add_argument("--pack", default="jiangxi-2024")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--all", action="store_true", help="also print compliant findings")
    args = parser.parse_args()

    facts = load(args.facts)
    pack = load_pack(args.pack)
    events = replay_events(facts)
    if not events:
        print("no streamable facts (orders, complaints, settlements, period statistics)")
        return
    as_of = args.as_of or events[-1][0].astimezone(TZ).date()
    findings, at_ticks = stream(pack, facts, events, as_of, everything=args.all)

    reference = evaluate(pack, facts, as_of=as_of)
    want = sorted(repr(f.to_dict()) for f in reference.findings)
    same = sorted(repr(f.to_dict()) for f in findings) == want
    notable = sum(1 for f in findings if f.outcome != "compliant")
    print(
        f"\n{len(findings)} findings ({notable} not compliant) from {len(events)} events; "
        f"same as the reference engine: {'yes' if same else 'NO'}"
    )
    if at_ticks:
        print("decided at ticks over the whole fact state:")
        for rule_id, reason in at_ticks:
            print(f"  {rule_id}: {reason}")


if __name__ == "__main__":
    main()
