"""mkdocs hook: pages generated at build time, so they cannot drift from their sources.

- ``packs/<id>.md``: one bilingual page per shipped pack (metadata, in-force window,
  parameters with citations, rules with the original sentence, unspecified parameters,
  named interpretations), and ``packs/index.md`` listing them;
- ``getting-started.md``: the README's quick start;
- ``notebooks/what-if.md``: the executed notebook ``notebooks/what-if.ipynb`` as
  Markdown (code, text output and PNG plots inlined), so no Jupyter plugin is needed.

Run by ``mkdocs build`` (``hooks:`` in ``mkdocs.yml``); no network. Can also be run as a
script to print a pack's page: ``python docs/gen_pack_pages.py jiangxi-2024``.
"""

# ruff: noqa: E501 - Markdown table rows are built as single long lines
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:  # a source checkout without an install
    sys.path.insert(0, str(ROOT / "src"))

from vbp_rules.packs import list_packs, load_pack  # noqa: E402
from vbp_rules.packs._params import render_parameter  # noqa: E402
from vbp_rules.packs.pack import Pack  # noqa: E402
from vbp_rules.testing.checks import _bounds_of  # noqa: E402
from vbp_rules.vocab import ACTIONS, BOUND_WORDS  # noqa: E402

NOTEBOOK = "notebooks/what-if.ipynb"


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|") if text is not None else ""


def _bound_text(rule: Any) -> str:
    parts = []
    for where, b in _bounds_of(rule):
        what = b.parameter or (str(b.value) if b.value is not None else b.expr) or b.margin
        word = b.word or b.op or ""
        en = BOUND_WORDS[b.word].en if b.word in BOUND_WORDS else ""
        parts.append(f"{where}: {word} ({en}) `{what}`" if en else f"{where}: {word} `{what}`")
    return "<br>".join(_cell(p) for p in parts)


def pack_page(pack: Pack) -> str:
    """The Markdown page of one pack, Chinese and English side by side."""
    m = pack.model
    window = m.in_force
    in_force = (
        f"{window.start} – {window.end or '(open / 未规定)'}" if window else "(not stated / 未规定)"
    )
    out = [
        f"# {m.title.zh}",
        "",
        f"*{m.title.en}*",
        "",
        "| 项目 Field | 内容 Value |",
        "|---|---|",
        f"| 编号 Pack id | `{m.id}` |",
        f"| 文号 Document | {_cell(m.document_number)} |",
        f"| 地区 Jurisdiction | {_cell(m.jurisdiction.zh)} / {_cell(m.jurisdiction.en)} ({m.jurisdiction.level}) |",
        f"| 发文机关 Issuers | {'<br>'.join(_cell(i.zh + ' / ' + i.en) for i in m.issuers)} |",
        f"| 印发日期 Issued | {m.issued_on} |",
        f"| 有效期 In force | {in_force} |",
        f"| 状态 Status | {m.status} |",
        f"| 原文 Source | `{_cell(m.source.file)}` ({'complete 完整' if m.source.complete else 'incomplete 不完整'}) |",
    ]
    if m.extends:
        out.append(f"| 继承 Extends | [{m.extends}]({m.extends}.md) |")
    if m.source.note:
        out.append(f"| 说明 Note | {_cell(m.source.note.zh)}<br>{_cell(m.source.note.en)} |")
    if m.summary:
        out += ["", "## 概要 Summary", "", m.summary.zh, "", m.summary.en]
    if m.adoption:
        out += ["", "## 采纳 Adoption", "", m.adoption.zh, "", m.adoption.en]
    out += [
        "",
        "## 参数 Parameters",
        "",
        "| 名称 Name | 类型 Type | 取值 Value | 条款 Clause | 原文 Source sentence | 说明 Description |",
        "|---|---|---|---|---|---|",
    ]
    for name, p in m.parameters.items():
        value = pack.values.get(name)
        shown = (
            "**未规定 unspecified**" if value is None and p.unspecified else render_parameter(value)
        )
        desc = f"{_cell(p.description.zh)}<br>{_cell(p.description.en)}" if p.description else ""
        if p.per_batch:
            desc += f"<br>per batch: `{p.per_batch}`"
        out.append(
            f"| `{name}` | {p.type} | {_cell(shown)} | {_cell(p.cite.clause)} | {_cell(p.cite.text)} | {desc} |"
        )
    unspecified = [n for n, p in m.parameters.items() if p.unspecified]
    out += ["", "## 原文未规定的参数 Unspecified parameters", ""]
    if unspecified:
        out.append(
            "原文未给出数值；使用这些参数的规则在调用方配置之前记为 `not_configured`。 "
            "The source gives no number; rules using these are skipped as `not_configured` "
            "until a caller sets a value."
        )
        out.append("")
        out += [
            f"- `{n}` ({_cell(m.parameters[n].cite.clause)}): {_cell(m.parameters[n].cite.text)}"
            for n in unspecified
        ]
    else:
        out.append("无 None.")
    out += ["", "## 解释选项 Named interpretations", ""]
    if m.interpretations:
        for name, i in m.interpretations.items():
            out += [f"### `{name}`", "", f"{i.question.zh}", "", f"*{i.question.en}*", ""]
            for opt, text in i.options.items():
                default = " **(默认 default)**" if opt == i.default else ""
                out.append(f"- `{opt}`{default}: {_cell(text.zh)} / {_cell(text.en)}")
            if i.cite:
                out += ["", f"> {_cell(i.cite.clause)} {_cell(i.cite.text)}"]
            out.append("")
    else:
        out.append("无 None.")
    out += [
        "",
        "## 规则 Rules",
        "",
        "| 规则 Rule | 类型 Kind | 标题 Title | 条款 Clause | 原文 Original sentence | 界限 Bound | 措施 Actions |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in pack.rules:
        actions = sorted({*r.actions, *[a for t in getattr(r, "tiers", []) for a in t.actions]})
        acts = "<br>".join(
            f"{ACTIONS[a].zh} {ACTIONS[a].en}" if a in ACTIONS else a for a in actions
        )
        out.append(
            f"| `{r.id}` | {r.kind} | {_cell(r.title.zh)}<br>{_cell(r.title.en)} | "
            f"{_cell(r.cite.clause)} | {_cell(r.cite.text)} | {_bound_text(r)} | {_cell(acts)} |"
        )
    out += [
        "",
        "---",
        "",
        f"Generated from `policy_packs/{m.id}/pack.yaml` at build time. "
        f"Run its tests with `vbp-rules test {m.id} --coverage`.",
        "",
    ]
    return "\n".join(out)


def packs_index(packs: list[Pack]) -> str:
    """The list of packs."""
    out = [
        "# 政策包 Packs",
        "",
        "One page per shipped pack, generated from its `pack.yaml`.",
        "",
        "| Pack | 文号 Document | 地区 Jurisdiction | 有效期 In force | 规则 Rules |",
        "|---|---|---|---|---|",
    ]
    for p in packs:
        w = p.model.in_force
        window = f"{w.start} – {w.end or ''}" if w else ""
        out.append(
            f"| [{p.id}]({p.id}.md) | {_cell(p.model.document_number)} | "
            f"{_cell(p.model.jurisdiction.zh)} {_cell(p.model.jurisdiction.en)} | {window} | {len(p.rules)} |"
        )
    return "\n".join(out) + "\n"


def getting_started(readme: str) -> str:
    """The README's quick start, as a page."""
    start = readme.find("## Quick start")
    end = readme.find("\n## ", start + 3)
    body = readme[start : end if end != -1 else None].replace("## Quick start", "").strip()
    return "\n".join(
        [
            "# Getting started",
            "",
            body,
            "",
            "Next: the [design](design.md) of the library, the [pack format](packs.md), "
            "and the [authoring guide](authoring.md) for writing a new province's pack.",
            "",
        ]
    )


def notebook_markdown(nb: dict[str, Any]) -> str:
    """An executed notebook as Markdown: text, code, text outputs and PNG images."""
    out: list[str] = []
    for cell in nb.get("cells", []):
        source = "".join(cell.get("source", []))
        if cell.get("cell_type") == "markdown":
            out += [source, ""]
            continue
        if cell.get("cell_type") != "code":
            continue
        out += ["```python", source, "```", ""]
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            if o.get("output_type") == "stream":
                out += ["```text", "".join(o.get("text", [])).rstrip(), "```", ""]
            elif "image/png" in data:
                png = data["image/png"]
                png = png if isinstance(png, str) else "".join(png)
                out += [f'<img alt="plot" src="data:image/png;base64,{png.strip()}">', ""]
            elif "text/plain" in data:
                out += ["```text", "".join(data["text/plain"]).rstrip(), "```", ""]
    return "\n".join(out)


def _packs() -> list[Pack]:
    return [load_pack(info.path) for info in list_packs() if info.origin == "builtin"]


# ----------------------------------------------------------------------------- mkdocs


_GENERATED = ("getting-started.md", "packs/index.md", "notebooks/what-if.md")


def _exists(docs: Path, uri: str) -> bool:
    if uri in _GENERATED:
        return uri != "notebooks/what-if.md" or (docs / NOTEBOOK).is_file()
    return (docs / uri).is_file()


def _prune(nav: list[Any], docs: Path) -> list[Any]:
    """The navigation without entries whose page does not exist (yet)."""
    out: list[Any] = []
    for entry in nav:
        if isinstance(entry, dict):
            ((title, target),) = entry.items()
            if isinstance(target, list):
                kept = _prune(target, docs)
                if kept:
                    out.append({title: kept})
            elif "://" in str(target) or _exists(docs, str(target)):
                out.append(entry)
        elif _exists(docs, str(entry)):
            out.append(entry)
    return out


def _listed(nav: list[Any]) -> set[str]:
    found: set[str] = set()
    for entry in nav:
        target = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(target, list):
            found |= _listed(target)
        else:
            found.add(str(target))
    return found


def on_config(config: Any) -> Any:
    """Complete the navigation from what is on disk.

    The docs folder is shared: entries whose page does not exist yet are dropped, pages
    nobody listed are added under "More", and every pack gets a page under "Packs".
    """
    docs = Path(config["docs_dir"])
    nav = _prune(list(config.get("nav") or []), docs)
    for i, entry in enumerate(nav):
        if isinstance(entry, dict) and entry.get("Packs") == "packs/index.md":
            nav[i] = {
                "Packs": [
                    {"Overview": "packs/index.md"},
                    *({p.id: f"packs/{p.id}.md"} for p in _packs()),
                ]
            }
    listed = _listed(nav)
    extra = sorted(
        str(p.relative_to(docs).as_posix())
        for p in docs.rglob("*.md")
        if str(p.relative_to(docs).as_posix()) not in listed
    )
    if extra:
        nav.append({"More": extra})
    config["nav"] = nav
    return config


def _command_doc(cmd: Any, ctx: Any, path: str) -> list[str]:
    ctx_type = type(ctx)
    sub = ctx_type(cmd, info_name=path.rsplit(maxsplit=1)[-1], parent=ctx)
    if hasattr(cmd, "list_commands"):
        out: list[str] = []
        for name in cmd.list_commands(sub):
            child = cmd.get_command(sub, name)
            if child is not None and not getattr(child, "hidden", False):
                out += _command_doc(child, sub, f"{path} {name}")
        return out
    usage = " ".join(cmd.collect_usage_pieces(sub))
    out = [f"## `vbp-rules {path}`", "", "```text", f"vbp-rules {path} {usage}", "```", ""]
    out += [(cmd.help or "").strip(), ""]
    rows = []
    for param in cmd.get_params(sub):
        if getattr(param, "param_type_name", "") == "argument":
            rows.append((str(param.name).upper(), getattr(param, "help", "") or ""))
            continue
        record = param.get_help_record(sub)
        if record is not None:
            rows.append(record)
    if rows:
        out += ["| Argument / option | Meaning |", "|---|---|"]
        out += [f"| `{_cell(a)}` | {_cell(b)} |" for a, b in rows]
        out.append("")
    return out


def cli_reference() -> str:
    """Every ``vbp-rules`` command with its help and options, from the Typer app."""
    import typer  # noqa: PLC0415

    from vbp_rules.cli import _register, app  # noqa: PLC0415

    _register()
    group = typer.main.get_command(app)
    context_type: Any = type(group).context_class
    ctx = context_type(group, info_name="vbp-rules")
    out: list[str] = []
    for name in sorted(group.list_commands(ctx)):  # type: ignore[attr-defined]
        cmd = group.get_command(ctx, name)  # type: ignore[attr-defined]
        if cmd is not None and not getattr(cmd, "hidden", False):
            out += _command_doc(cmd, ctx, name)
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Fill the ``<!-- cli-reference -->`` marker with the generated command reference."""
    del config, files
    if "<!-- cli-reference -->" in markdown:
        return markdown.replace("<!-- cli-reference -->", cli_reference())
    del page
    return markdown


def on_files(files: Any, config: Any) -> Any:
    """Add the generated pages to the site."""
    from mkdocs.structure.files import File  # noqa: PLC0415

    packs = _packs()
    pages = {"packs/index.md": packs_index(packs)}
    pages.update({f"packs/{p.id}.md": pack_page(p) for p in packs})
    pages["getting-started.md"] = getting_started((ROOT / "README.md").read_text(encoding="utf-8"))
    nb = Path(config["docs_dir"]) / NOTEBOOK
    if nb.is_file():
        pages["notebooks/what-if.md"] = notebook_markdown(
            json.loads(nb.read_text(encoding="utf-8"))
        )
    for uri, content in pages.items():
        files.append(File.generated(config, uri, content=content))
    return files


if __name__ == "__main__":
    for pid in sys.argv[1:] or [p.id for p in _packs()]:
        sys.stdout.write(pack_page(load_pack(pid)))
