"""A pytest plugin that collects pack tests (``<pack>/tests/*.yaml``) as test items.

Enable it with ``-p vbp_rules.testing.plugin`` (or through the ``pytest11`` entry point
of an installed ``vbp-rules``), then switch collection on:

- ``pytest --vbp-packs``: every discoverable pack (built-in ``policy_packs/`` and the
  packs other packages publish under the ``vbp_rules.packs`` entry points) plus the
  folders of the ``vbp_pack_paths`` ini option;
- ``pytest --vbp-packs path/to/packs``: the YAML tests under the paths given;
- ini ``vbp_packs = true``: as ``--vbp-packs``, for a province's own package.

Collection is off unless asked for, so the library's own ``tests/test_pack_*.py``
modules (which run the same YAML cases through :func:`~vbp_rules.packs.testing.run_pack_test`)
do not run twice in a plain ``pytest``. Each case is one item named after the case; a
failure shows the expected and the actual findings of the rules involved, each with its
citation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vbp_rules.errors import VbpRulesError
from vbp_rules.packs.loader import list_packs, load_pack
from vbp_rules.packs.pack import Pack
from vbp_rules.packs.testing import (
    PackTestCase,
    PackTestResult,
    collect_pack_tests,
    run_pack_test,
)

__all__ = ["PackTestFailure", "PackTestFile", "PackTestItem"]

_ENABLED = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--vbp-packs`` and the ``vbp_packs`` / ``vbp_pack_paths`` ini options."""
    group = parser.getgroup("vbp-rules", "vbp_rules policy-pack tests")
    group.addoption(
        "--vbp-packs",
        action="store_true",
        default=False,
        help="collect policy-pack YAML tests (<pack>/tests/*.yaml); with no path given, "
        "of every installed pack",
    )
    parser.addini("vbp_packs", "collect policy-pack YAML tests", type="bool", default=False)
    parser.addini(
        "vbp_pack_paths",
        "extra folders holding pack folders (or one pack folder) whose tests to collect",
        type="paths",
        default=[],
    )


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("--vbp-packs") or config.getini("vbp_packs"))


def _pack_roots(config: pytest.Config) -> list[Path]:
    roots = [info.path.parent for info in list_packs()]
    roots += [Path(p) for p in config.getini("vbp_pack_paths")]
    return roots


def pytest_configure(config: pytest.Config) -> None:
    """When enabled and no path names a pack, add every pack folder to the collection."""
    config.stash[_ENABLED] = _enabled(config)
    if not config.stash[_ENABLED]:
        return
    given = [Path(a.split("::")[0]).resolve() for a in config.args]
    explicit = [g for g in given if _has_packs(g)]
    paths = [Path(p) for p in config.getini("vbp_pack_paths")]
    extra = paths if explicit else _pack_roots(config)
    for root in extra:
        r = root.resolve()
        if r.exists() and not any(r == g or g in r.parents for g in given):
            config.args.append(str(r))
            given.append(r)


def _has_packs(path: Path) -> bool:
    if (path / "pack.yaml").is_file() or (
        path.name == "tests" and (path.parent / "pack.yaml").is_file()
    ):
        return True
    if path.is_file():
        return _is_pack_test(path)
    return path.is_dir() and any((p / "pack.yaml").is_file() for p in path.iterdir() if p.is_dir())


def _is_pack_test(path: Path) -> bool:
    return (
        path.suffix in (".yaml", ".yml")
        and path.parent.name == "tests"
        and (path.parent.parent / "pack.yaml").is_file()
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect ``<pack>/tests/*.yaml`` files when pack collection is on."""
    if parent.config.stash.get(_ENABLED, False) and _is_pack_test(file_path):
        return PackTestFile.from_parent(parent, path=file_path)
    return None


_PACKS: dict[Path, Pack] = {}


def _pack_for(folder: Path) -> Pack:
    key = folder.resolve()
    if key not in _PACKS:
        _PACKS[key] = load_pack(key)
    return _PACKS[key]


class PackTestFile(pytest.File):
    """One pack test file: its cases become items."""

    def collect(self) -> Iterator[pytest.Item]:
        """One item per case of this file."""
        try:
            pack = _pack_for(self.path.parent.parent)
            cases = [c for c in collect_pack_tests(pack) if c.file.resolve() == self.path.resolve()]
        except VbpRulesError as exc:
            raise self.CollectError(str(exc)) from exc
        for case in cases:
            yield PackTestItem.from_parent(self, name=case.name, case=case, pack=pack)


class PackTestFailure(Exception):  # noqa: N818 - pytest's own naming for failure signals
    """A pack test case whose expectations were not met."""

    def __init__(self, result: PackTestResult) -> None:
        self.result = result
        super().__init__("\n".join(result.problems))


class PackTestItem(pytest.Item):
    """One pack test case, run with the reference engine."""

    def __init__(self, *, case: PackTestCase, pack: Pack, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.pack = pack

    def runtest(self) -> None:
        """Run the case; raise :class:`PackTestFailure` when an expectation fails."""
        result = run_pack_test(self.pack, self.case)
        if not result.passed:
            raise PackTestFailure(result)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        """Expected vs actual findings of the rules involved, with their citations."""
        if not isinstance(excinfo.value, PackTestFailure):
            return str(super().repr_failure(excinfo, style=style))
        return failure_report(self.pack, excinfo.value.result)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the case lives, for pytest's report."""
        return self.path, None, f"{self.case.test_id}"


def _expected_lines(doc: Any) -> tuple[list[str], set[str]]:
    lines: list[str] = []
    rules: set[str] = set()
    expect = doc.get("expect") or {}
    for want in expect.get("findings") or []:
        rules.add(str(want.get("rule")))
        shown = {k: v for k, v in want.items() if k != "rule"}
        lines.append(f"  {want.get('rule')}: {shown}")
    for want in expect.get("skips") or []:
        rules.add(str(want.get("rule")))
        lines.append(f"  {want.get('rule')}: skip {want.get('reason')} {want.get('subject') or ''}")
    rules.update(str(r) for r in expect.get("exhaustive") or [])
    return lines, rules


def failure_report(pack: Pack, result: PackTestResult) -> str:
    """A readable failure: problems, expected vs actual findings, citations."""
    case = result.case
    out = [f"pack test {case.test_id} failed ({case.file.name}, case {case.index})", ""]
    out += [f"- {p}" for p in result.problems]
    expected, rules = _expected_lines(case.doc)
    out += ["", "expected:", *(expected or ["  (nothing)"])]
    out.append("actual:")
    ev = result.evaluation
    if ev is None:
        out.append("  (the case did not evaluate)")
    else:
        shown = [f for f in ev.findings if f.rule_id in rules]
        for f in shown:
            vals = ", ".join(f"{k}={v}" for k, v in f.values)
            tier = f" [{f.tier}]" if f.tier else ""
            period = f" {f.period}" if f.period else ""
            out.append(f"  {f.rule_id}: {f.outcome}{tier} {f.subject}{period} ({vals})")
        skips = [s for s in ev.skips if s.rule_id in rules]
        out += [f"  {s.rule_id}: skip {s.reason} {s.subject or ''} — {s.detail}" for s in skips]
        if not shown and not skips:
            out.append("  (no finding or skip for these rules)")
    out += ["", "cited:"]
    for rid in sorted(rules):
        try:
            r = pack.rule(rid)
        except KeyError:
            out.append(f"  {rid}: no such rule in {pack.id}")
            continue
        out.append(
            f"  {rid} — {r.cite.document or pack.model.document_number} "
            f"{r.cite.clause}: {r.cite.text}"
        )
    return "\n".join(out)
