"""A bounded mutation run over the core semantics: does the default suite catch each one?

Each mutant is one textual edit of one line of ``src/`` (a bound word's operator flipped,
a deadline's roll-forward dropped, tiers tried from the last one, a fact kind skipped by
the accounting pass, a rule dropping rows its ``where`` selects, ...). For each mutant the
script copies the repository to a temporary folder once, applies the edit there (the
working tree is never touched), runs the tests that cover that code with ``pytest -x``,
and reports *caught* (some test failed) or *survived* (every test passed).

Run it from the repository root, in the project's virtual environment::

    python tools/mutate.py                 # every mutant (a few minutes)
    python tools/mutate.py -k tier -k roll # only mutants whose name contains a text
    python tools/mutate.py --list          # the mutants, without running them

The exit status is 1 when a mutant survives that is not listed in ``EQUIVALENT`` (a
mutant the suite cannot catch because it does not change behaviour), or when a mutant no
longer applies (its line changed: update the list). docs/testing.md lists today's
survivors and why each is equivalent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPY = ("src", "tests", "policy_packs", "examples", "schemas", "pyproject.toml")


@dataclass(frozen=True)
class Mutant:
    """One one-line edit: in ``file`` replace ``old`` (which must occur once) by ``new``."""

    name: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]


VOCAB = "src/vbp_rules/vocab.py"
CALENDAR = "src/vbp_rules/calendar.py"
REFERENCE = "src/vbp_rules/engine/reference.py"

#: The tests that exercise bound words: every pack's YAML cases pin each bound.
PACK_TESTS = (
    "tests/test_pack_jiangxi.py",
    "tests/test_pack_shandong.py",
    "tests/test_pack_shanxi_zhejiang.py",
    "tests/test_packs.py",
    "tests/test_engine_reference.py",
    "tests/test_vocab.py",
)
CALENDAR_TESTS = ("tests/test_calendar.py", "tests/test_calendar_properties.py", *PACK_TESTS)
DECISION_TESTS = ("tests/test_tier_order.py", "tests/test_accounting.py", *PACK_TESTS)

_FLIP = {">=": ">", ">": ">=", "<=": "<", "<": "<=", "==": ">="}
_WORDS = (
    "以上",
    "及以上",
    "达到",
    "达到以上",
    "不少于",
    "不低于",
    "超过",
    "高于",
    "多于",
    "以下",
    "以内",
    "届满",
    "不超过",
    "不得超过",
    "不高于",
    "不得高于",
    "低于或等于",
    "低于",
    "少于",
    "不满",
    "未达到",
    "等于",
)


def _bound_word_mutants() -> list[Mutant]:
    text = (ROOT / VOCAB).read_text(encoding="utf-8")
    out = []
    for word in _WORDS:
        for op, flipped in _FLIP.items():
            old = f'_bw("{word}", "{op}",'
            if old in text:
                out.append(
                    Mutant(
                        name=f"bound word {word}: {op} -> {flipped}",
                        file=VOCAB,
                        old=old,
                        new=f'_bw("{word}", "{flipped}",',
                        tests=PACK_TESTS,
                    )
                )
                break
        else:
            out.append(Mutant(f"bound word {word}: not found", VOCAB, f'_bw("{word}"', "", ()))
    return out


MUTANTS: list[Mutant] = [
    *_bound_word_mutants(),
    Mutant(
        "calendar days: no roll-forward of a last day off",
        CALENDAR,
        "last = self._roll(start_day + timedelta(days=period.n))",
        "last = start_day + timedelta(days=period.n)",
        CALENDAR_TESTS,
    ),
    Mutant(
        "months: no roll-forward of a last day off",
        CALENDAR,
        "last = self._roll(_data.add_months(start_day, period.n))",
        "last = _data.add_months(start_day, period.n)",
        CALENDAR_TESTS,
    ),
    Mutant(
        "_roll: returns the day unchanged",
        CALENDAR,
        "        return self.add_working_days(day, 0)\n",
        "        return day\n",
        CALENDAR_TESTS,
    ),
    Mutant(
        "deadline due at 00:00 of the last day instead of 24:00",
        CALENDAR,
        "due = datetime.combine(last + timedelta(days=1), time(0), tzinfo=self._tz)",
        "due = datetime.combine(last, time(0), tzinfo=self._tz)",
        CALENDAR_TESTS,
    ),
    Mutant(
        "hours: one hour more",
        CALENDAR,
        "timedelta(hours=period.n)",
        "timedelta(hours=period.n + 1)",
        CALENDAR_TESTS,
    ),
    Mutant(
        "working days: the start day counted",
        CALENDAR,
        "target = index + n if n >= 1 else",
        "target = index + n - 1 if n >= 1 else",
        CALENDAR_TESTS,
    ),
    Mutant(
        "tiers tried from the last one",
        REFERENCE,
        "for tier in rule.tiers:",
        "for tier in reversed(rule.tiers):",
        DECISION_TESTS,
    ),
    Mutant(
        "threshold: breach_if read as require",
        REFERENCE,
        "breach = holds if rule.breach_if is not None else not holds",
        "breach = not holds",
        DECISION_TESTS,
    ),
    Mutant(
        "a rule drops rows its where selects (after the fifth)",
        REFERENCE,
        "                if keep is not True:\n",
        "                if keep is not True or len(selected) >= 5:\n",
        DECISION_TESTS,
    ),
    *[
        Mutant(
            f"accounting skips {kind}",
            REFERENCE,
            "    for kind in FACT_KINDS:\n        for row in facts.rows(kind):",
            f"    for kind in [k for k in FACT_KINDS if k != {kind!r}]:\n"
            "        for row in facts.rows(kind):",
            DECISION_TESTS,
        )
        for kind in ("orders", "settlements", "batches", "institutions")
    ],
]

#: Mutants that survive because they do not change behaviour, with the reason; kept in
#: step with docs/testing.md.
EQUIVALENT: dict[str, str] = {}

#: Bound words no shipped pack writes in a ``word:``: flipping one changes no pack test.
#: They are real gaps (a future pack would be mis-read), closed by the hand-written
#: bound-word table test (tests/test_vocab.py), which this script runs when present.
UNUSED_WORDS = ("多于", "以内", "届满", "不得超过", "不高于", "低于或等于", "少于", "不满")


def _run(mutant: Mutant, work: Path) -> tuple[str, float]:
    target = work / mutant.file
    original = target.read_text(encoding="utf-8")
    if original.count(mutant.old) != 1 or not mutant.new:
        return "not applicable", 0.0
    target.write_text(original.replace(mutant.old, mutant.new), encoding="utf-8")
    tests = [t for t in mutant.tests if (work / t).exists()]
    env = os.environ | {
        "PYTHONPATH": str(work / "src"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HYPOTHESIS_PROFILE": os.environ.get("HYPOTHESIS_PROFILE", "default"),
    }
    started = time.monotonic()
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and test paths
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        target.write_text(original, encoding="utf-8")
    status = "caught" if done.returncode != 0 else "survived"
    if done.returncode not in (0, 1):
        status = f"caught (pytest exit {done.returncode})"
    return status, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    """Run the mutants; print one line each and a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", action="append", default=[], help="only mutants whose name has it")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.k or any(k in m.name for k in args.k)]
    if args.list:
        for m in chosen:
            print(f"{m.name}  [{m.file}]")
        return 0
    bad = 0
    with tempfile.TemporaryDirectory(prefix="vbp-mutate-") as tmp:
        work = Path(tmp)
        for name in COPY:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, work / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif src.exists():
                shutil.copy2(src, work / name)
        for m in chosen:
            status, took = _run(m, work)
            note = ""
            if status == "survived":
                unused = any(m.name.startswith(f"bound word {w}:") for w in UNUSED_WORDS)
                note = EQUIVALENT.get(m.name) or (
                    "no pack writes this word: needs the bound-word table test"
                    if unused
                    else "NOT EQUIVALENT: add a test"
                )
                bad += m.name not in EQUIVALENT
            elif status == "not applicable":
                note = "the line changed: update tools/mutate.py"
                bad += 1
            print(f"{status:<10} {took:5.1f}s  {m.name}  {note}", flush=True)
    caught = len(chosen) - bad
    print(f"{caught}/{len(chosen)} mutants caught or known equivalent")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
