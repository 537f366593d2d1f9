"""How ``vbp-rules evaluate`` presents an evaluation.

stdout gets the result: a per-rule summary and the breaches, one line per finding (or
every finding with ``--all``). stderr always gets the accounting: the files read and
skipped (with the reason), the counts of findings by outcome, skips and rejects, and the
first rejects with how many more were cut. Nothing here interprets text as markup.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text

from vbp_rules.cli._common import EXIT_FAILED, cli_words, err_console, fail
from vbp_rules.vocab import ACTIONS

if TYPE_CHECKING:
    from vbp_rules.facts import FactSet, RejectedInput
    from vbp_rules.findings import Evaluation, Finding
    from vbp_rules.packs import Pack

__all__ = [
    "FailOn",
    "exit_status",
    "print_accounting",
    "print_findings",
    "print_rejects",
    "print_sources",
    "print_summary",
    "require_facts",
]

#: Outcome columns of the per-rule summary, in this order.
OUTCOMES = ("breach", "determination", "needs_review", "compliant")

_CONTROL = str.maketrans({"\n": " ", "\r": " ", "\t": " "})


class FailOn(str, Enum):
    """What makes ``evaluate`` exit with status 1 (``--fail-on``)."""

    breach = "breach"
    reject = "reject"


def exit_status(ev: Evaluation, fail_on: Iterable[FailOn]) -> int:
    """1 when a ``--fail-on`` condition holds (a breach, a rejected input), else 0."""
    wanted = set(fail_on)
    if FailOn.breach in wanted and any(f.outcome == "breach" for f in ev.findings):
        return EXIT_FAILED
    if FailOn.reject in wanted and ev.rejects:
        return EXIT_FAILED
    return 0


def _one_line(text: str) -> str:
    return text.translate(_CONTROL)


def finding_line(finding: Finding, actions: Mapping[str, Any] | None = None) -> str:
    """One finding on one line: outcome [flags], rule, clause, subject, period, tier, ..."""
    from vbp_rules.engine.semantics import format_display as _fmt  # noqa: PLC0415

    outcome: str = finding.outcome
    if finding.flags:
        outcome += f" [{','.join(sorted(finding.flags))}]"
    parts = [outcome, finding.rule_id, finding.citation.clause, str(finding.subject)]
    if finding.period is not None:
        parts.append(str(finding.period))
    if finding.tier:
        parts.append(f"tier={finding.tier}")
    if finding.actions:
        known = ACTIONS if actions is None else actions  # the pack's own codes included
        shown = ", ".join(known[a].en if a in known else a for a in finding.actions)
        parts.append(f"actions: {shown}")
    if finding.values:
        parts.append(", ".join(f"{k}={_fmt(v)}" for k, v in finding.values))
    return _one_line("  ".join(parts))


def _aligned(rows: list[list[str]], right: set[int]) -> list[str]:
    """Rows as lines of columns two spaces apart (widths in terminal cells: 中 is two)."""
    widths = [max(cell_len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - cell_len(cell))
            cells.append(pad + cell if i in right else cell + pad)
        lines.append("  ".join(cells).rstrip())
    return lines


def print_summary(pack: Pack, ev: Evaluation) -> None:
    """The per-rule summary, one line per rule: counts by outcome, skips, flags seen."""
    counts: dict[str, Counter[str]] = {}
    flags: dict[str, set[str]] = {}
    clauses = {r.id: r.cite.clause for r in pack.rules}
    for f in ev.findings:
        counts.setdefault(f.rule_id, Counter())[f.outcome] += 1
        flags.setdefault(f.rule_id, set()).update(f.flags)
        clauses.setdefault(f.rule_id, f.citation.clause)
    for s in ev.skips:
        rule = s.rule_id or "(no rule)"
        counts.setdefault(rule, Counter())["skipped"] += 1
    order = {r.id: i for i, r in enumerate(pack.rules)}
    rules = sorted(counts, key=lambda r: (order.get(r, len(order)), r))
    columns = (*OUTCOMES, "skipped")
    rows = [["rule", "clause", *columns, "flags"]]
    for rule in rules:
        c = counts[rule]
        rows.append(
            [
                _one_line(rule),
                _one_line(clauses.get(rule, "")),
                *[str(c[o]) if c[o] else "-" for o in columns],
                ",".join(sorted(flags.get(rule, ()))),
            ]
        )
    out = sys.stdout
    out.write(f"{ev.pack_id} as of {ev.as_of.isoformat()} (engine: {ev.engine})\n")
    out.writelines(line + "\n" for line in _aligned(rows, set(range(2, 2 + len(columns)))))
    seen = sorted(set().union(*flags.values())) if flags else []
    if seen:
        out.write(f"flags on findings: {', '.join(seen)}\n")


def print_findings(
    ev: Evaluation, *, limit: int, everything: bool, actions: Mapping[str, Any] | None = None
) -> None:
    """The breaches, one line each, at most ``limit``; every finding with ``everything``."""
    if everything:
        chosen = list(ev.findings)
        heading = f"all {len(chosen)} findings:"
    else:
        chosen = [f for f in ev.findings if f.outcome == "breach"]
        shown = min(limit, len(chosen))
        heading = f"breaches ({shown} of {len(chosen)} shown):"
        if shown < len(chosen):
            heading = (
                f"breaches ({shown} of {len(chosen)} shown; --limit N shows more, "
                "--all every finding):"
            )
        chosen = chosen[:limit]
    out = sys.stdout
    out.write(heading + "\n")
    out.writelines(finding_line(f, actions) + "\n" for f in chosen)
    out.flush()


def _count_text(counter: Counter[str], order: Iterable[str]) -> str:
    keys = [k for k in order if counter[k]] + sorted(k for k in counter if k not in order)
    return ", ".join(f"{k}={counter[k]}" for k in keys) or "none"


def print_sources(facts: FactSet) -> None:
    """On stderr: every file read, and every folder entry skipped with the reason."""
    for source in facts.sources:
        err_console.print(Text(_one_line(f"read {source}")))
    for skipped in facts.skipped:
        err_console.print(Text(_one_line(f"skipped {skipped}")))


def require_facts(facts: FactSet, paths: Iterable[object]) -> None:
    """Exit with status 2 when nothing was read from ``paths``: an empty input is an error."""
    if facts.total_rows() == 0:
        print_sources(facts)
        fail(
            f"no facts in {', '.join(map(str, paths))}: {len(facts.sources)} file(s) read, "
            f"{len(facts.skipped)} skipped"
        )


def print_rejects(rejects: Sequence[RejectedInput], *, limit: int) -> None:
    """On stderr: the first ``limit`` rejected inputs, then how many more were cut."""
    for reject in rejects[:limit]:
        err_console.print(Text(_one_line(cli_words(f"rejected: {reject}"))))
    cut = len(rejects) - limit
    if cut > 0:
        err_console.print(
            Text(
                f"... {cut} more rejects not shown (--limit N shows more; --format json lists all)"
            )
        )


def print_accounting(facts: FactSet, ev: Evaluation, *, limit: int) -> None:
    """On stderr: files read and skipped, counts by outcome, skips and rejects."""
    print_sources(facts)
    outcomes: Counter[str] = Counter(f.outcome for f in ev.findings)
    skips: Counter[str] = Counter(s.reason for s in ev.skips)
    err_console.print(
        Text(
            f"findings: {sum(outcomes.values())} ({_count_text(outcomes, OUTCOMES)}); "
            f"skips: {len(ev.skips)} ({_count_text(skips, ())}); "
            f"rejects: {len(ev.rejects)}; files: {len(facts.sources)} read, "
            f"{len(facts.skipped)} skipped"
        )
    )
    print_rejects(ev.rejects, limit=limit)
