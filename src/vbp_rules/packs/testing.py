"""Pack tests: YAML files of facts in and expected findings and skips out.

A pack's tests live in ``policy_packs/<id>/tests/*.yaml``. Each file holds one case or a
list under ``cases:``; each case gives ``as_of``, optional ``interpretations`` and
``parameters`` (overrides), ``facts`` (``{kind: [rows]}``) and ``expect``:

- ``findings``: expected findings, matched by rule and subject (and period when given);
  the fields written (``outcome``, ``tier``, ``actions``, ``values``, ``flags``) must agree.
- ``exhaustive``: rule ids whose non-compliant findings must all be listed.
- ``skips``: expected skips (rule, reason, and optionally subject).
- ``rejects``: the number of rejected input rows.

They run under pytest and with ``vbp-rules test <pack>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs

from vbp_rules._yaml import YamlError, read_yaml
from vbp_rules.errors import PackValidationError, VbpRulesError
from vbp_rules.expr import to_fraction
from vbp_rules.facts import FactSet
from vbp_rules.findings import Evaluation, Finding, jsonable
from vbp_rules.packs.loader import load_pack
from vbp_rules.packs.pack import Pack

__all__ = [
    "PackTestCase",
    "PackTestResult",
    "collect_pack_tests",
    "rule_coverage",
    "run_pack_test",
    "run_pack_tests",
]


@attrs.frozen(kw_only=True, slots=True)
class PackTestCase:
    """One case of a pack test file."""

    pack_id: str
    file: Path
    index: int
    name: str
    doc: Mapping[str, Any]

    @property
    def test_id(self) -> str:
        """A readable id: ``pack/file::name``."""
        return f"{self.pack_id}/{self.file.stem}::{self.name}"


@attrs.frozen(kw_only=True, slots=True)
class PackTestResult:
    """The outcome of one case: the problems found (none means passed)."""

    case: PackTestCase
    problems: tuple[str, ...]
    evaluation: Evaluation | None = None
    rules_seen: frozenset[str] = frozenset()

    @property
    def passed(self) -> bool:
        """True when no problem was found."""
        return not self.problems


def _pack_dir(pack: Pack) -> Path:
    if pack.path is None:
        raise PackValidationError(
            [("", "pack has no folder; pack tests need one")], pack_id=pack.id
        )
    return pack.path.parent


def collect_pack_tests(pack: Pack | str | Path) -> list[PackTestCase]:
    """Every case of every ``tests/*.yaml`` file of a pack, in file order.

    Raises:
        PackValidationError: a test file that is not valid YAML or not a mapping.
    """
    p = pack if isinstance(pack, Pack) else load_pack(pack)
    folder = _pack_dir(p) / "tests"
    cases: list[PackTestCase] = []
    for file in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            doc, _ = read_yaml(file)
        except YamlError as exc:
            raise PackValidationError(
                [(f"{file}:{exc.line or ''}", str(exc))], pack_id=p.id, path=str(file)
            ) from exc
        if not isinstance(doc, dict):
            raise PackValidationError(
                [(str(file), "a pack test file is a mapping")], pack_id=p.id, path=str(file)
            )
        items = doc.get("cases", [doc])
        shared = {k: v for k, v in doc.items() if k != "cases"}
        for i, item in enumerate(items):
            merged = shared | item
            name = str(merged.get("name", f"case{i}"))
            cases.append(PackTestCase(pack_id=p.id, file=file, index=i, name=name, doc=merged))
    return cases


def _same(expected: object, actual: object) -> bool:
    if (
        isinstance(actual, Fraction | int)
        and not isinstance(actual, bool)
        and isinstance(expected, str | int | Fraction)
        and not isinstance(expected, bool)
    ):
        try:
            return to_fraction(expected) == actual
        except (ValueError, TypeError):
            return False
    if isinstance(actual, datetime | date):
        if isinstance(expected, datetime | date):
            return expected == actual
        forms = {actual.isoformat()}
        if isinstance(actual, datetime):
            forms.add(actual.isoformat(timespec="minutes"))
        return str(expected) in forms
    if isinstance(expected, list) and isinstance(actual, list | tuple):
        return [str(x) for x in expected] == [str(x) for x in actual]
    return expected == actual or str(expected) == str(jsonable(actual))


def _matches_subject(want: Mapping[str, Any] | None, f_keys: Mapping[str, str]) -> bool:
    return want is None or all(str(v) == f_keys.get(k) for k, v in want.items())


def _check_finding(want: Mapping[str, Any], f: Finding) -> list[str]:
    problems = [
        f"{field}: expected {want[field]!r}, got {getattr(f, field)!r}"
        for field in ("outcome", "tier")
        if field in want and not _same(want[field], getattr(f, field))
    ]
    if "actions" in want and sorted(want["actions"]) != sorted(f.actions):
        problems.append(f"actions: expected {sorted(want['actions'])}, got {sorted(f.actions)}")
    for name, value in (want.get("values") or {}).items():
        try:
            got = f.value(name)
        except KeyError:
            problems.append(f"value {name!r} not recorded (have {[k for k, _ in f.values]})")
            continue
        if not _same(value, got):
            problems.append(f"value {name}: expected {value!r}, got {jsonable(got)!r}")
    problems.extend(
        f"flag {flag!r} missing (have {sorted(f.flags)})"
        for flag in want.get("flags") or []
        if flag not in f.flags
    )
    if "flags" in want and not want["flags"] and f.flags:
        problems.append(f"flags: expected none, got {sorted(f.flags)}")
    return problems


def run_pack_test(pack: Pack, case: PackTestCase) -> PackTestResult:
    """Run one case; never raises for a failing expectation (it is reported)."""
    from vbp_rules.engine.reference import evaluate  # noqa: PLC0415

    doc = case.doc
    try:
        as_of = _as_of(doc["as_of"])
        p = pack.with_overrides(doc["parameters"]) if doc.get("parameters") else pack
        facts = FactSet.from_records(doc.get("facts") or {}, source=f"{case.file.name}#{case.name}")
        ev = evaluate(p, facts, as_of=as_of, interpretations=doc.get("interpretations"))
    except KeyError as exc:
        return PackTestResult(case=case, problems=(f"missing key {exc} in the test case",))
    except (VbpRulesError, ValueError, TypeError) as exc:
        return PackTestResult(case=case, problems=(f"evaluation failed: {exc}",))
    expect = doc.get("expect") or {}
    problems: list[str] = []
    used: set[int] = set()
    for i, want in enumerate(expect.get("findings") or []):
        rule = want.get("rule")
        candidates = [
            (j, f)
            for j, f in enumerate(ev.findings)
            if f.rule_id == rule
            and _matches_subject(want.get("subject"), f.subject.as_dict())
            and ("period" not in want or str(f.period) == str(want["period"]))
            and j not in used
        ]
        if not candidates:
            have = [f"{f.subject} {f.period or ''} {f.outcome}" for f in ev.by_rule(str(rule))]
            problems.append(
                _describe(
                    pack,
                    rule,
                    (
                        f"findings[{i}]: no finding for subject {want.get('subject')} period "
                        f"{want.get('period')} (rule has: {have or 'none'})"
                    ),
                )
            )
            continue
        errs_by_candidate = [(j, f, _check_finding(want, f)) for j, f in candidates]
        ok = [c for c in errs_by_candidate if not c[2]]
        if ok:
            used.add(ok[0][0])
        else:
            j, f, errs = errs_by_candidate[0]
            used.add(j)
            problems.append(
                _describe(
                    pack, rule, f"findings[{i}] {f.subject} {f.period or ''}: " + "; ".join(errs)
                )
            )
    for rule in expect.get("exhaustive") or []:
        listed = set(used)
        extra = [
            f
            for j, f in enumerate(ev.findings)
            if f.rule_id == rule and f.outcome != "compliant" and j not in listed
        ]
        problems.extend(
            _describe(
                pack,
                rule,
                f"unexpected {f.outcome} for {f.subject} {f.period or ''} "
                f"({ {k: jsonable(v) for k, v in f.values} })",
            )
            for f in extra
        )
    for i, want in enumerate(expect.get("skips") or []):
        hits = [
            s
            for s in ev.skips
            if s.rule_id == want.get("rule")
            and s.reason == want.get("reason")
            and (s.subject is None or _matches_subject(want.get("subject"), s.subject.as_dict()))
        ]
        if not hits:
            have = sorted(
                {f"{s.rule_id}:{s.reason}" for s in ev.skips if s.rule_id == want.get("rule")}
            )
            problems.append(
                _describe(
                    pack,
                    want.get("rule"),
                    (
                        f"skips[{i}]: expected skip {want.get('reason')} for {want.get('subject')}"
                        f" (have {have or 'none'})"
                    ),
                )
            )
    if "rejects" in expect and int(expect["rejects"]) != len(ev.rejects):
        problems.append(
            f"rejects: expected {expect['rejects']}, got {len(ev.rejects)}: "
            + "; ".join(str(r) for r in ev.rejects[:3])
        )
    seen = frozenset(f.rule_id for f in ev.findings) | frozenset(
        s.rule_id
        for s in ev.skips
        if s.rule_id and s.reason not in ("other_interpretation", "documentation_only")
    )
    return PackTestResult(case=case, problems=tuple(problems), evaluation=ev, rules_seen=seen)


def _as_of(value: object) -> date | datetime:
    """A case's ``as_of``: a date, or an ISO instant with its offset (quoted or not)."""
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str):
        text = value.strip()
        return (
            datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)
        )
    msg = f"as_of must be a date or an ISO instant, got {value!r}"
    raise TypeError(msg)


def _describe(pack: Pack, rule: object, text: str) -> str:
    try:
        r = pack.rule(str(rule))
    except KeyError:
        return f"{rule}: {text}"
    return f"{rule} [{r.cite.clause} {r.cite.text[:40]}…]: {text}"


def run_pack_tests(pack: Pack | str | Path, *, only: Sequence[str] = ()) -> list[PackTestResult]:
    """Run every case of a pack's tests (optionally only those whose name contains a text)."""
    p = pack if isinstance(pack, Pack) else load_pack(pack)
    results = []
    for case in collect_pack_tests(p):
        if only and not any(o in case.test_id for o in only):
            continue
        results.append(run_pack_test(p, case))
    return results


def rule_coverage(
    pack: Pack, results: Sequence[PackTestResult]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the rules a pack's tests can reach, those no case exercised), in pack order.

    A rule counts when a case produced a finding or a skip for it (not merely "another
    interpretation" or "documentation only"); an exemption counts when a case exempted
    something with it. Rules with no ``over`` (documentation only) are left out.
    """
    seen: set[str] = set()
    for r in results:
        seen |= r.rules_seen
        if r.evaluation is not None:
            seen |= {s.exemption for s in r.evaluation.skips if s.exemption}
    reachable = tuple(r.id for r in pack.rules if r.over is not None)
    return reachable, tuple(rid for rid in reachable if rid not in seen)
