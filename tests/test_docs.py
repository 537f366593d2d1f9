"""The documentation: the site builds with ``mkdocs build --strict`` (a page per pack),
the what-if notebook executes, and the authoring walkthrough is true: its pack and tests,
rebuilt from the page, pass every command the page runs.

The site and notebook tests need the ``docs`` extra (mkdocs-material, mkdocstrings) and
nbclient, ipykernel, matplotlib; they are skipped without them.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from vbp_rules.cli import main
from vbp_rules.packs import list_packs, load_pack

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTEBOOK = DOCS / "notebooks" / "what-if.ipynb"


def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_pack_pages", DOCS / "gen_pack_pages.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ generated pages


@pytest.mark.parametrize("pack_id", [i.id for i in list_packs()])
def test_pack_page_lists_every_rule_parameter_and_citation(pack_id: str) -> None:
    pack = load_pack(pack_id)
    page = _hook().pack_page(pack)
    assert page.startswith(f"# {pack.model.title.zh}")
    assert pack.model.document_number in page
    for rule in pack.rules:
        assert f"`{rule.id}`" in page
        assert " ".join(rule.cite.text.split()).replace("|", "\\|") in page
    for name in pack.model.parameters:
        assert f"`{name}`" in page
    for name in pack.unspecified():
        assert f"- `{name}`" in page
    for name in pack.model.interpretations:
        assert f"### `{name}`" in page


def test_getting_started_is_the_readme_quick_start() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    page = _hook().getting_started(readme)
    commands = re.findall(
        r"```bash\n(.*?)\n```", readme.split("## Quick start")[1].split("\n## ")[0], re.S
    )
    assert commands
    for command in commands:
        assert command in page


def test_the_committed_notebook_is_executed() -> None:
    import json

    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in code)
    images = [o for c in code for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 2
    assert not [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    markdown = _hook().notebook_markdown(nb)
    assert markdown.count("data:image/png;base64,") == len(images)


# ------------------------------------------------------------------ the site


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    pytest.importorskip("mkdocstrings_handlers.python")
    site = tmp_path / "site"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_MKDOCS_2_WARNING": "1"}
    run = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-q",
            "-f",
            str(ROOT / "mkdocs.yml"),
            "-d",
            str(site),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    for info in list_packs():
        page = site / "packs" / info.id / "index.html"
        assert page.is_file(), info.id
        assert load_pack(info.id).model.document_number in page.read_text(encoding="utf-8")
    assert "vbp-rules lint" in (site / "cli" / "index.html").read_text(encoding="utf-8")
    assert "data:image/png" in (site / "notebooks" / "what-if" / "index.html").read_text(
        encoding="utf-8"
    )
    assert "vbp_rules.testing.checks.run_checks" in (site / "api" / "index.html").read_text(
        encoding="utf-8"
    )


def test_notebook_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    pytest.importorskip("polars")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # the kernel runs in tmp_path: make a source checkout importable there too
    paths = [
        str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p
    ]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "src"), *paths]))
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "supply-score-penalty-tiers" in text


# ------------------------------------------------------------------ the walkthrough


def _titled_blocks(markdown: str) -> dict[str, str]:
    return {
        m.group(1): m.group(2)
        for m in re.finditer(r'```[a-z]+ title="([^"]+)"\n(.*?)\n```', markdown, re.S)
    }


def test_authoring_walkthrough_runs_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = (DOCS / "authoring.md").read_text(encoding="utf-8")
    blocks = _titled_blocks(page)
    source = tmp_path / "example-2024.txt"
    source.write_text(blocks.pop("example-2024.txt") + "\n", encoding="utf-8")
    packs = tmp_path / "policy_packs"
    assert main(["new-pack", "example-2024", "--from", str(source), "--dest", str(packs)]) == 0
    folder = packs / "example-2024"
    assert (folder / "source.txt").read_text(encoding="utf-8") == source.read_text(encoding="utf-8")
    assert main(["test", str(folder)]) == 0  # the scaffold's example case passes as it is
    capsys.readouterr()
    assert main(["lint", str(folder)]) == 1  # ... but its TODOs fail lint
    assert "todo-left" in capsys.readouterr().out
    for title, text in blocks.items():
        target = tmp_path / title
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text + "\n", encoding="utf-8")
    (folder / "tests" / "example.yaml").unlink()
    capsys.readouterr()
    assert main(["validate", str(folder)]) == 0
    assert main(["lint", str(folder), "--strict"]) == 0
    capsys.readouterr()
    assert main(["test", str(folder), "--coverage"]) == 0
    shown = re.search(r"```text\n(PASS .*?)\n```", page, re.S)
    assert shown is not None
    assert capsys.readouterr().out.strip() == shown.group(1).replace("policy_packs/", "").strip()
    assert main(["check", str(folder)]) == 0
    # the pack declares its own action code and uses 不得低于
    pack = load_pack(folder)
    assert pack.actions["bad_record"].zh == "记入企业不良记录"
    assert pack.rule("response-rate").require.word == "不得低于"  # type: ignore[union-attr]
    # the city extends the province's pack by path and ships its own notice
    city = packs / "example-city-2024"
    assert main(["validate", str(city)]) == 0
    assert main(["lint", str(city), "--strict"]) == 0
    city_pack = load_pack(city)
    assert city_pack.lineage() == ("example-city-2024", "example-2024")
    assert str(city_pack.value("interview_below")) == "23/25"
    capsys.readouterr()
    _lint_catches_the_pages_mistakes(folder, capsys)
    shutil.rmtree(folder)


def test_frame_page_names_every_parameter_of_evaluate_frame() -> None:
    pytest.importorskip("polars")
    import inspect

    from vbp_rules.engine.frame import evaluate_frame

    page = (DOCS / "frame.md").read_text(encoding="utf-8")
    signature = " ".join(page.split("`vbp_rules.engine.frame.evaluate_frame(", 1)[1].split())
    signature = signature.split(") -> Evaluation`", 1)[0]
    documented = [p.strip().split("=")[0] for p in signature.split(",")]
    assert [d for d in documented if d != "*"] == list(inspect.signature(evaluate_frame).parameters)


#: The mistakes the page says lint catches: (what is written, what replaces it, code).
MISTAKES = [
    (
        "require: {word: 不得低于, parameter: response_floor}",
        "require: {word: 超过, parameter: response_floor}",
        "bound-word-contradicts-source",
    ),
    (
        "text: 配送率低于90%的企业，予以约谈}",
        "text: 配送率低于90%的企业，应予约谈}",
        "citation-not-in-source",
    ),
    ("    value: 30%\n", "    value: 30\n", "ratio-not-a-percentage"),
    ("  en: Notice on securing", "  en: TODO Notice on securing", "todo-left"),
]


def _lint_catches_the_pages_mistakes(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack_file = folder / "pack.yaml"
    good = pack_file.read_text(encoding="utf-8")
    for before, after, code in MISTAKES:
        assert before in good, before
        assert good.count(before) == 1, before
        bad = good.replace(before, after)
        pack_file.write_text(bad, encoding="utf-8")
        assert main(["lint", str(folder)]) == 1, code
        out = capsys.readouterr().out
        assert f"error   {code}" in out, out
    pack_file.write_text(good, encoding="utf-8")
