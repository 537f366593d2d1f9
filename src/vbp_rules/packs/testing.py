"""Pack tests: YAML files of facts in and expected findings and skips out.

A pack's tests live in ``policy_packs/<id>/tests/*.yaml``. Each file holds one case or a
list under ``cases:``; each case gives ``as_of``, optional ``interpretations`` and
``parameters`` (overrides), ``facts`` (``{kind: [rows]}``) and ``expect``:

- ``findings``: expected findings, matched by rule and subject (or ``any_subject: true``)
  and period when given; the fields written (``outcome``, ``tier``, ``actions``,
  ``values``, ``flags``) must agree. Every breach or needs_review finding of the case
  must be listed here.
- ``exhaustive``: rule ids whose findings, compliant ones included, must all be listed.
- ``skips``: expected skips (rule, reason; ``subject`` for a skip about one subject).
- ``rejects``: the number of rejected input rows, or the list of them (default 0).

Unknown keys are refused (:mod:`vbp_rules.packs._test_model`).

They run under pytest and with ``vbp-rules test <pack>``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs
from pydantic import BaseModel, ValidationError

from vbp_rules._yaml import Located, YamlError, format_location, read_yaml
from vbp_rules.errors import PackValidationError, VbpRulesError
from vbp_rules.expr import to_fraction
from vbp_rules.facts import FactSet
from vbp_rules.findings import Evaluation, Finding, jsonable
from vbp_rules.packs._test_model import (
    CASE_KEYS,
    SHARED_KEYS,
    ExpectedFinding,
    ExpectedReject,
    ExpectedSkip,
    ExpectModel,
    PackTestCaseModel,
    pack_test_json_schema,
)
from vbp_rules.packs.loader import load_pack
from vbp_rules.packs.pack import Pack

__all__ = [
    "PackTestCase",
    "PackTestResult",
    "collect_pack_tests",
    "pack_test_json_schema",
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

    Each case is validated (:class:`~vbp_rules.packs._test_model.PackTestCaseModel`):
    unknown keys are refused with a did-you-mean, and rule ids must name rules of the
    pack. Every problem of every file is reported at once, located by file, line and
    field.

    Raises:
        PackValidationError: a test file that is not valid YAML, not a mapping, or has
            invalid cases.
    """
    p = pack if isinstance(pack, Pack) else load_pack(pack)
    folder = _pack_dir(p) / "tests"
    cases: list[PackTestCase] = []
    problems: list[tuple[str, str]] = []
    for file in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            doc, where = read_yaml(file)
        except YamlError as exc:
            raise PackValidationError(
                [(f"{file}:{exc.line or ''}", str(exc))], pack_id=p.id, path=str(file)
            ) from exc
        if not isinstance(doc, dict):
            raise PackValidationError(
                [(str(file), "a pack test file is a mapping")], pack_id=p.id, path=str(file)
            )
        found, bad = _file_cases(p, file, doc, where)
        cases.extend(found)
        problems.extend(bad)
    if problems:
        raise PackValidationError(problems, pack_id=p.id)
    return cases


def _file_cases(
    pack: Pack, file: Path, doc: dict[str, Any], where: Located
) -> tuple[list[PackTestCase], list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    items: object = doc.get("cases", [doc])
    allowed = (*SHARED_KEYS, "cases") if "cases" in doc else CASE_KEYS
    problems.extend(
        (format_location(str(file), where, (key,)), _unknown_key(key, allowed))
        for key in doc
        if key not in allowed
    )
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        problems.append(
            (format_location(str(file), where, ("cases",)), "cases is a list of mappings")
        )
        return [], problems
    # unknown top-level keys are reported once, above, not again in every case
    shared = {k: v for k, v in doc.items() if k in allowed and k != "cases"}
    prefix: tuple[str | int, ...] = ("cases",) if "cases" in doc else ()
    cases = []
    for i, item in enumerate(items):
        merged = shared | item
        base = (*prefix, i) if prefix else ()
        loc_of = _locator(item, base)
        try:
            model = PackTestCaseModel.model_validate(merged)
        except ValidationError as exc:
            problems.extend(
                (format_location(str(file), where, loc_of(err["loc"])), _message(err))
                for err in exc.errors(include_url=False)
            )
            continue
        problems.extend(
            (format_location(str(file), where, loc_of(loc)), msg)
            for loc, msg in _unknown_rules(pack, model)
        )
        name = model.name or f"case{i}"
        cases.append(PackTestCase(pack_id=pack.id, file=file, index=i, name=name, doc=merged))
    return cases, problems


def _locator(
    item: Mapping[str, Any], base: tuple[str | int, ...]
) -> Callable[[tuple[str | int, ...]], tuple[str | int, ...]]:
    """Map a location inside the merged case to one inside the file."""

    def loc_of(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
        if loc and loc[0] in item:
            return (*base, *loc)
        return tuple(loc) if loc else base

    return loc_of


def _unknown_key(key: object, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(key), list(allowed), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key {key!r}{hint} (known: {', '.join(allowed)})"


def _message(err: Mapping[str, Any]) -> str:
    loc = err["loc"]
    if err["type"] == "extra_forbidden":
        return _unknown_key(loc[-1], _known_keys(loc[:-1]))
    if err["type"] == "missing":
        return f"missing key {loc[-1]!r}"
    return str(err["msg"]).removeprefix("Value error, ")


def _known_keys(parent: tuple[str | int, ...]) -> tuple[str, ...]:
    names = [p for p in parent if isinstance(p, str)]
    model: type[BaseModel] = PackTestCaseModel
    if names[:1] == ["expect"]:
        by_list: dict[str, type[BaseModel]] = {
            "findings": ExpectedFinding,
            "skips": ExpectedSkip,
            "rejects": ExpectedReject,
        }
        model = by_list.get(names[1] if len(names) > 1 else "", ExpectModel)
    return tuple(model.model_fields)


def _unknown_rules(pack: Pack, model: PackTestCaseModel) -> list[tuple[tuple[str | int, ...], str]]:
    known = [r.id for r in pack.rules]
    out: list[tuple[tuple[str | int, ...], str]] = []
    named: list[tuple[tuple[str | int, ...], str | None]] = [
        (("expect", "findings", i, "rule"), f.rule) for i, f in enumerate(model.expect.findings)
    ]
    named += [(("expect", "skips", i, "rule"), s.rule) for i, s in enumerate(model.expect.skips)]
    named += [(("expect", "exhaustive", i), r) for i, r in enumerate(model.expect.exhaustive)]
    for loc, rule in named:
        if rule is None or rule in known:
            continue
        close = difflib.get_close_matches(rule, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        out.append((loc, f"no rule {rule!r} in pack {pack.id}{hint}"))
    return out


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
    return want is not None and all(str(v) == f_keys.get(k) for k, v in want.items())


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
    """Run one case; never raises for a failing expectation (it is reported).

    The case is checked strictly: every finding of an ``exhaustive`` rule (compliant
    ones included) and every breach or needs_review finding of any rule must be matched
    by an expected finding, an expectation names its
    subject (or says ``any_subject: true``), and rejected input rows fail the case unless
    ``rejects`` expects them.
    """
    from vbp_rules.engine.reference import evaluate  # noqa: PLC0415

    try:
        model = PackTestCaseModel.model_validate(dict(case.doc))
    except ValidationError as exc:
        return PackTestResult(
            case=case,
            problems=tuple(
                f"{'.'.join(str(p) for p in err['loc'])}: {_message(err)}"
                for err in exc.errors(include_url=False)
            ),
        )
    try:
        as_of = _as_of(model.as_of)
        p = pack.with_overrides(model.parameters) if model.parameters else pack
        facts = FactSet.from_records(model.facts or {}, source=f"{case.file.name}#{case.name}")
        ev = evaluate(p, facts, as_of=as_of, interpretations=model.interpretations)
    except (VbpRulesError, ValueError, TypeError) as exc:
        return PackTestResult(case=case, problems=(f"evaluation failed: {exc}",))
    expect = model.expect
    problems: list[str] = []
    used = _match_findings(pack, expect, ev, problems)
    for rule in expect.exhaustive:
        extra = [f for j, f in enumerate(ev.findings) if f.rule_id == rule and j not in used]
        problems.extend(
            _describe(
                pack,
                rule,
                f"unexpected {f.outcome} for {f.subject} {f.period or ''} "
                f"({ {k: jsonable(v) for k, v in f.values} })",
            )
            for f in extra
        )
    exhaustive = set(expect.exhaustive)
    problems.extend(
        _describe(
            pack,
            f.rule_id,
            f"unexpected {f.outcome} for {f.subject} {f.period or ''} "
            f"({ {k: jsonable(v) for k, v in f.values} }): list it under findings",
        )
        for j, f in enumerate(ev.findings)
        if f.outcome in _ALWAYS_EXPECTED and j not in used and f.rule_id not in exhaustive
    )
    problems.extend(_check_skips(pack, expect, ev))
    problems.extend(_check_rejects(expect, ev))
    seen = frozenset(f.rule_id for f in ev.findings) | frozenset(
        s.rule_id
        for s in ev.skips
        if s.rule_id and s.reason not in ("other_interpretation", "documentation_only")
    )
    return PackTestResult(case=case, problems=tuple(problems), evaluation=ev, rules_seen=seen)


def _match_findings(
    pack: Pack, expect: ExpectModel, ev: Evaluation, problems: list[str]
) -> set[int]:
    used: set[int] = set()
    for i, model in enumerate(expect.findings):
        want = model.model_dump(exclude_unset=True)
        rule = model.rule
        candidates = [
            (j, f)
            for j, f in enumerate(ev.findings)
            if f.rule_id == rule
            and (model.any_subject or _matches_subject(model.subject, f.subject.as_dict()))
            and (model.period is None or str(f.period) == model.period)
            and j not in used
        ]
        if not candidates:
            have = [f"{f.subject} {f.period or ''} {f.outcome}" for f in ev.by_rule(rule)]
            problems.append(
                _describe(
                    pack,
                    rule,
                    (
                        f"findings[{i}]: no finding for subject {model.subject} period "
                        f"{model.period} (rule has: {have or 'none'})"
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
    return used


def _check_skips(pack: Pack, expect: ExpectModel, ev: Evaluation) -> list[str]:
    problems = []
    for i, want in enumerate(expect.skips):
        hits = [
            s
            for s in ev.skips
            if s.rule_id == want.rule
            and s.reason == want.reason
            and (
                want.any_subject
                or (
                    s.subject is None
                    if want.subject is None
                    else s.subject is not None
                    and _matches_subject(want.subject, s.subject.as_dict())
                )
            )
            and (want.rows is None or {(k, str(i)) for k, i in want.rows} <= set(s.rows))
        ]
        if not hits:
            have = sorted(
                {
                    f"{s.rule_id}:{s.reason}" + (f" {s.subject}" if s.subject else "")
                    for s in ev.skips
                    if s.rule_id == want.rule
                }
            )
            whom = want.subject or ("any subject" if want.any_subject else "the rule as a whole")
            problems.append(
                _describe(
                    pack,
                    want.rule,
                    f"skips[{i}]: expected skip {want.reason} for {whom} (have {have or 'none'})",
                )
            )
    return problems


def _check_rejects(expect: ExpectModel, ev: Evaluation) -> list[str]:
    if isinstance(expect.rejects, int):
        if expect.rejects == len(ev.rejects):
            return []
        return [
            f"rejects: expected {expect.rejects}, got {len(ev.rejects)}: "
            + "; ".join(str(r) for r in ev.rejects[:3])
        ]
    left = list(ev.rejects)
    problems = []
    for i, want in enumerate(expect.rejects):
        hit = next(
            (
                r
                for r in left
                if r.kind == want.kind
                and (want.id is None or r.row_id == str(want.id))
                and (want.field is None or r.field == want.field)
            ),
            None,
        )
        if hit is None:
            problems.append(f"rejects[{i}]: no rejected {want.kind} row {want.id or ''}")
        else:
            left.remove(hit)
    problems.extend(f"unexpected reject: {r}" for r in left)
    return problems


#: Outcomes every case must expect, whatever its ``exhaustive`` list: an unexpected
#: breach (or call for review) fails the case.
_ALWAYS_EXPECTED = frozenset({"breach", "needs_review"})


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
