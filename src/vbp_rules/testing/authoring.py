"""Authoring aids: scaffold a pack from a notice's text, and lint a pack against it.

:func:`scaffold_pack` writes ``<dest>/<id>/`` with a ``pack.yaml`` holding metadata
placeholders (``TODO``, which lint refuses until they are filled in) and one
``needs_review`` rule per clause of the source (each citing the clause's first
sentence), the notice's text as ``source.txt``, a ``tests/`` folder with an example case,
and a README with a coverage table. :func:`lint_pack` reports what a reviewer would ask
about: placeholders left, clauses with no rule, citations that are empty, not the
source's words or only a heading, unspecified and unused parameters, ratios written as
percentages, and bound words that are not, or contradict, the cited sentence's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Literal

import attrs

from vbp_rules.packs._checks import bound_operator
from vbp_rules.packs.model import BoundSpec, Citation, DeadlineRule, DeterminationRule, Rule
from vbp_rules.packs.pack import Pack
from vbp_rules.testing._source import (
    Clause,
    SourceOutsidePackError,
    find_quote,
    find_source,
    normalize_clause,
    normalize_text,
    split_clauses,
)

__all__ = ["LintIssue", "lint_pack", "scaffold_pack"]

Level = Literal["error", "warning", "info"]


# ---------------------------------------------------------------------------- scaffold

_DOC_NUMBER = re.compile(r"[\u4e00-\u9fa5]{1,12}〔\d{4}〕\d+号")
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")


def _yaml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _leaves(clauses: list[Clause]) -> list[Clause]:
    """Clauses that carry text: sub-clauses, and top-level clauses without any."""
    tops_with_subs = {c.top for c in clauses if c.sub}
    return [c for c in clauses if c.sub or c.top not in tops_with_subs]


def scaffold_pack(pack_id: str, source: Path, dest: Path) -> Path:
    """Write a new pack folder for ``pack_id`` from a notice's text; return its folder.

    Raises:
        FileExistsError: the folder exists already.
        ValueError: the id is not a lower-case, dash-separated name.
    """
    if not re.fullmatch(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*", pack_id):
        msg = f"pack id {pack_id!r} must be lower-case words joined by '-', e.g. 'anhui-2025'"
        raise ValueError(msg)
    folder = dest / pack_id
    if folder.exists():
        msg = f"{folder} exists already; choose another id or --dest"
        raise FileExistsError(msg)
    text = source.read_text(encoding="utf-8")
    clauses = _leaves(split_clauses(text))
    doc_no = _DOC_NUMBER.search(text)
    dates = _DATE.findall(text)
    issued = "2000-01-01  # TODO: the issue date (印发日期)"
    if dates:
        y, m, d = dates[-1]
        issued = f"{int(y):04d}-{int(m):02d}-{int(d):02d}"
    title = next(
        (ln.strip() for ln in text.splitlines() if "通知" in ln and len(ln.strip()) > 8), "TODO"
    )
    lines = [
        f"# {pack_id}: scaffolded by `vbp-rules new-pack` from {source.name}.",
        "# Fill in the TODOs, turn each needs_review rule into a rule of the right kind,",
        "# and run `vbp-rules lint` and `vbp-rules test --coverage` until both are clean.",
        "format: 1",
        f"id: {pack_id}",
        "title:",
        f"  zh: {_yaml_str(title)}",
        "  en: TODO English title",
        "jurisdiction: {zh: TODO, en: TODO, level: province}",
        "issuers:",
        "  - {zh: TODO, en: TODO}",
        f"document_number: {_yaml_str(doc_no.group(0) if doc_no else 'TODO')}",
        f"issued_on: {issued}",
        "status: draft",
        "source:",
        "  file: source.txt",
        "  complete: true",
        "parameters: {}",
        "rules:",
    ]
    for c in clauses:
        top, sub = c.number
        rid = f"clause-{top}-{sub}" if sub else f"clause-{top}"
        sentence = c.first_sentence or c.text or c.label
        lines += [
            f"  - id: {rid}",
            "    kind: needs_review",
            f"    title: {{zh: {_yaml_str(sentence[:40])}, en: TODO}}",
            f"    cite: {{clause: {c.label}, text: {_yaml_str(sentence)}}}",
        ]
    if not clauses:
        lines[-1] = "rules: []"
    folder.mkdir(parents=True)
    (folder / "pack.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "source.txt").write_text(text, encoding="utf-8")
    tests = folder / "tests"
    tests.mkdir()
    first = f"clause-{clauses[0].number[0]}" if clauses else None
    if clauses and clauses[0].sub:
        first = f"clause-{clauses[0].number[0]}-{clauses[0].number[1]}"
    example = [
        "# An example case: replace it with facts on, below and above each bound.",
        "cases:",
        "  - name: documentation-only-clause",
        "    as_of: 2025-01-01",
        "    facts: {}",
        "    expect:",
    ]
    example += (
        [f"      skips: [{{rule: {first}, reason: documentation_only}}]"]
        if first
        else ["      rejects: 0"]
    )
    (tests / "example.yaml").write_text("\n".join(example) + "\n", encoding="utf-8")
    readme = [
        f"# {pack_id}",
        "",
        f"{title} ({doc_no.group(0) if doc_no else 'TODO document number'}).",
        "",
        "## Coverage",
        "",
        "| Clause | First sentence | Rule | Status |",
        "|---|---|---|---|",
    ]
    for c in clauses:
        top, sub = c.number
        rid = f"clause-{top}-{sub}" if sub else f"clause-{top}"
        readme.append(f"| {c.label} | {(c.first_sentence or c.text)[:60]} | `{rid}` | to encode |")
    (folder / "README.md").write_text("\n".join(readme) + "\n", encoding="utf-8")
    return folder


# ---------------------------------------------------------------------------- lint


@attrs.frozen(kw_only=True, slots=True)
class LintIssue:
    """One thing a reviewer should look at."""

    level: Level
    code: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.level:7} {self.code:28} {self.where}: {self.message}"


def _rule_sources(rule: Rule) -> list[str | None]:
    src: list[str | None] = [rule.where, rule.having, *(rule.aggregate or {}).values()]
    for g in rule.group_by or []:
        if isinstance(g, dict):
            src += list(g.values())
    for attr in ("condition", "value", "baseline", "start", "due", "end"):
        v = getattr(rule, attr, None)
        if isinstance(v, str):
            src.append(v)
    metric = getattr(rule, "metric", None)
    if metric is not None:
        src += [
            getattr(metric, "expr", None),
            getattr(metric, "numerator", None),
            getattr(metric, "denominator", None),
        ]
    if isinstance(rule, DeterminationRule):
        for case in [*rule.cases, *([rule.otherwise] if rule.otherwise else [])]:
            src += [case.when, *case.values.values()]
    src += [b.expr for _, b in _bounds(rule)]
    for key in ("start", "end"):
        src.append((getattr(rule, "overlap", None) or {}).get(key))
    return src


def _bounds(rule: Rule) -> list[tuple[str, BoundSpec]]:
    from vbp_rules.testing.checks import _bounds_of  # noqa: PLC0415

    return list(_bounds_of(rule))


def _used_parameters(pack: Pack) -> set[str]:
    used: set[str] = set()
    for rule in pack.rules:
        used |= pack.expression_names(_rule_sources(rule))
        for _, b in _bounds(rule):
            used |= {x for x in (b.parameter, b.margin) if x}
        if isinstance(rule, DeadlineRule) and rule.window:
            used.add(rule.window)
    return used & set(pack.model.parameters)


def _covers(cited: str, clause: str) -> bool:
    """A citation covers a clause it names, or a part of it (四（一）1 covers 四（一）)."""
    c, k = normalize_clause(cited), normalize_clause(clause)
    return c.startswith(k)


def _citations(pack: Pack, own: list[Rule]) -> list[tuple[str, Citation]]:
    """Every citation the pack writes itself: rules, parameters, interpretations."""
    out = [(f"rules.{r.id}.cite", r.cite) for r in own]
    parent = pack.parent.model if pack.parent is not None else None
    for name, p in pack.model.parameters.items():
        before = parent.parameters.get(name) if parent is not None else None
        if before is None or before.cite != p.cite:
            out.append((f"parameters.{name}.cite", p.cite))
    for name, i in pack.model.interpretations.items():
        before_i = parent.interpretations.get(name) if parent is not None else None
        if i.cite is not None and (before_i is None or before_i.cite != i.cite):
            out.append((f"interpretations.{name}.cite", i.cite))
    return out


def _is_heading(quote: str, text: str) -> bool:
    """A quote that is only a clause's heading (强化供应监测。) while the clause says more."""
    q = normalize_text(quote).strip("。")
    for c in split_clauses(text):
        head = normalize_text(c.first_sentence).strip("。")
        if q == head and len(normalize_text(c.text).strip("。")) > len(head):
            return True
    return False


def _strings(value: object, where: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(where, value)]
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in _strings(v, f"{where}.{k}" if where else k)]
    if isinstance(value, list | tuple):
        return [x for i, v in enumerate(value) for x in _strings(v, f"{where}[{i}]")]
    return []


def _todo_issues(pack: Pack) -> list[LintIssue]:
    """Every ``TODO`` the scaffold (or an author) left in a value of the pack."""
    raw = pack.model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return [
        LintIssue(
            level="error",
            code="todo-left",
            where=where,
            message=f"still a placeholder: {value[:60]!r}",
        )
        for where, value in _strings(raw, "")
        if "TODO" in value
    ]


def _ratio_issues(pack: Pack) -> list[LintIssue]:
    """Ratios above 1 whose citation writes the number as a percentage (25 for 25%)."""
    out = []
    for name, p in pack.model.parameters.items():
        v = pack.values.get(name)
        if p.type != "ratio" or not isinstance(v, Fraction) or v <= 1:
            continue
        shown = str(v.numerator) if v.denominator == 1 else f"{float(v):g}"
        pct = v * 100
        as_percent = str(pct.numerator) if pct.denominator == 1 else f"{float(pct):g}"
        cited = normalize_text(p.cite.text)
        if re.search(rf"(?<![\d.]){re.escape(as_percent)}[%％]", cited):
            continue
        percent = re.search(rf"(?<![\d.]){re.escape(shown)}[%％]", cited)
        out.append(
            LintIssue(
                level="error" if percent else "warning",
                code="ratio-not-a-percentage",
                where=f"parameters.{name}.value",
                message=(
                    f"a ratio of {shown} is {as_percent}%"
                    + (
                        f", but the source says {shown}%: write 'value: {shown}%'"
                        if percent
                        else "; write a percentage (25%) or a fraction of 1 (0.25)"
                    )
                ),
            )
        )
    return out


def lint_pack(
    pack: Pack, *, source: Path | None = None, allow: Mapping[str, str] | None = None
) -> list[LintIssue]:
    """What a reviewer of a pack would ask about, most serious first.

    Args:
        pack: a loaded pack.
        allow: issue locations (``rules.my-rule``, ``parameters.x``, a clause label; a
            location also matches what lies under it) mapped to the reason they are
            accepted, added to the pack's own ``lint: allow:``. Such issues are
            reported as ``info`` with the reason; an allowance that matches nothing is
            a warning (``allow-unused``).
        source: the notice's text; default: the pack's ``source.file``, looked up as
            :func:`~vbp_rules.testing._source.find_source` does. Without it the checks
            against the source text are skipped (reported as one warning).
    """
    issues: list[LintIssue] = []
    inherited = {r.id for r in pack.parent.rules} if pack.parent is not None else set()
    own = [r for r in pack.rules if r.id not in inherited]
    path = source
    if path is None and pack.path is not None:
        try:
            path = find_source(pack.path.parent, pack.model.source.file)
        except SourceOutsidePackError as exc:
            issues.append(
                LintIssue(
                    level="error", code="source-outside-pack", where="source.file", message=str(exc)
                )
            )
    text = path.read_text(encoding="utf-8") if path is not None and path.is_file() else None
    issues += _todo_issues(pack)
    issues += _ratio_issues(pack)
    for where, cite in _citations(pack, own):
        quote = cite.text.strip()
        if len(quote) < 4 or quote.upper().startswith("TODO"):
            issues.append(
                LintIssue(
                    level="error",
                    code="rule-without-citation",
                    where=where,
                    message="the citation quotes no sentence of the source",
                )
            )
        elif text is not None and not cite.document and not find_quote(quote, text):
            issues.append(
                LintIssue(
                    level="error",
                    code="citation-not-in-source",
                    where=f"{where}.text",
                    message=(
                        f"{cite.clause}: {quote[:40]}… is not the words of "
                        f"{path.name if path else 'the source'} (quote verbatim; mark cuts "
                        "with ……)"
                    ),
                )
            )
        elif text is not None and not cite.document and _is_heading(quote, text):
            issues.append(
                LintIssue(
                    level="warning",
                    code="citation-is-heading",
                    where=f"{where}.text",
                    message=f"{cite.clause}: {quote!r} is the clause's heading, not a sentence "
                    "that states the rule",
                )
            )
    for rule in own:
        for where, b in _bounds(rule):
            word = b.word
            param = b.parameter
            vague = param in pack.model.parameters and pack.model.parameters[param].unspecified
            # a vague bound (较低, 明显) has no bound word in the source: the pack chooses one
            if word and word not in rule.cite.text and not vague:
                ptext = (
                    pack.model.parameters[param].cite.text if param in pack.model.parameters else ""
                )
                from vbp_rules.testing.checks import _WORD_RE, _point_below  # noqa: PLC0415

                side = _point_below(word)
                same = [
                    w for w in _WORD_RE.findall(rule.cite.text + ptext) if _point_below(w) == side
                ]
                if word not in ptext and not same:
                    issues.append(
                        LintIssue(
                            level="warning",
                            code="bound-word-not-cited",
                            where=f"rules.{rule.id}.{where}",
                            message=(
                                f"{word!r} ({bound_operator(b)}) does not appear in the cited "
                                "sentence"
                            ),
                        )
                    )
    from vbp_rules.testing.checks import check_bound_words_cited  # noqa: PLC0415

    for prob in check_bound_words_cited(pack):
        notes = pack.rule(prob.rule_id).notes or "" if prob.rule_id else ""
        explained = [w for w in prob.source_words if w in notes]
        issues.append(
            LintIssue(
                level="info" if explained else "error",
                code="bound-word-reading-explained"
                if explained
                else "bound-word-contradicts-source",
                where=f"rules.{prob.rule_id}",
                message=(
                    f"{prob.message}; the rule's notes explain the reading of {explained[0]}"
                    if explained
                    else f"{prob.message}; write the source's word, or say in the rule's notes: "
                    "why the pack reads it otherwise"
                ),
            )
        )
    used = _used_parameters(pack)
    for name, p in pack.model.parameters.items():
        if name not in used:
            issues.append(
                LintIssue(
                    level="warning",
                    code="unused-parameter",
                    where=f"parameters.{name}",
                    message="no rule uses this parameter",
                )
            )
        if p.unspecified and pack.values.get(name) is None:
            issues.append(
                LintIssue(
                    level="info",
                    code="unspecified-parameter",
                    where=f"parameters.{name}",
                    message="the source gives no value; rules using it are skipped as "
                    "not_configured until a caller sets it",
                )
            )
    if text is None and not any(i.code == "source-outside-pack" for i in issues):
        issues.append(
            LintIssue(
                level="warning",
                code="source-not-found",
                where="source.file",
                message=f"{pack.model.source.file} is not in the pack folder; ship the "
                "notice's text there (or pass --source) so citations can be checked",
            )
        )
    if text is not None:
        cited = [r.cite.clause for r in pack.rules] + [
            p.cite.clause for p in pack.model.parameters.values()
        ]
        for c in _leaves(split_clauses(text)):
            if not any(_covers(x, c.label) for x in cited):
                issues.append(
                    LintIssue(
                        level="warning",
                        code="clause-without-rule",
                        where=c.label,
                        message=f"no rule or parameter cites it: {c.first_sentence[:50]}",
                    )
                )
    allowed = {**pack.model.lint.allow, **(allow or {})}
    issues = [_allowed(i, allowed) for i in issues]
    used = {w for i in issues for w in allowed if _matches(i.where, w) and "[allowed:" in i.message}
    issues += [
        LintIssue(
            level="warning",
            code="allow-unused",
            where=f"lint.allow.{where}",
            message="no issue is there any more: remove the allowance",
        )
        for where in allowed
        if where not in used
    ]
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(issues, key=lambda i: order[i.level])


def _matches(issue_where: str, where: str) -> bool:
    return issue_where == where or issue_where.startswith((f"{where}.", f"{where}:"))


def _allowed(issue: LintIssue, allow: Mapping[str, str]) -> LintIssue:
    if issue.level == "info":
        return issue
    for where, reason in allow.items():
        if _matches(issue.where, where):
            return attrs.evolve(issue, level="info", message=f"{issue.message} [allowed: {reason}]")
    return issue
