"""Finding, reading and validating packs: built-in ones and those of other packages.

A pack id is looked up on a search path, first match wins: the folders given to the call
(``packs_dirs=``, the CLI's ``--packs-dir``), then those of ``$VBP_RULES_PACKS``
(separated like ``PATH``), then the built-in packs (``policy_packs/<id>/pack.yaml``,
shipped inside the wheel as ``vbp_rules/policy_packs``), then other packages' packs,
published through the entry-point group ``vbp_rules.packs``: each entry point names an
object that is, or returns, a directory holding pack folders (or one pack folder). An
entry point that fails to load is reported as a warning and skipped.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib.metadata
import importlib.resources
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import attrs
from pydantic import ValidationError

from vbp_rules._yaml import Located, YamlError, format_location, read_yaml
from vbp_rules.errors import PackNotFoundError, PackValidationError, VbpRulesWarning
from vbp_rules.packs._checks import check_pack
from vbp_rules.packs.model import PackModel
from vbp_rules.packs.pack import Pack
from vbp_rules.vocab import RULE_KINDS

__all__ = [
    "ENTRY_POINT_GROUP",
    "PACKS_ENV",
    "PackDiscoveryWarning",
    "PackInfo",
    "builtin_packs_dir",
    "find_pack",
    "list_packs",
    "load_pack",
    "load_pack_file",
    "packs_search_path",
]

ENTRY_POINT_GROUP = "vbp_rules.packs"
PACK_FILE = "pack.yaml"
#: Environment variable: folders of local packs, searched before the built-in ones.
PACKS_ENV = "VBP_RULES_PACKS"

_DIRS: ContextVar[tuple[Path, ...]] = ContextVar("vbp_rules_packs_dirs", default=())


class PackDiscoveryWarning(VbpRulesWarning):
    """A source of packs (an entry point of another package) that could not be read."""


@attrs.frozen(kw_only=True, slots=True)
class PackInfo:
    """A discovered pack: its id, where it is and who ships it."""

    id: str
    path: Path
    origin: str


def builtin_packs_dir() -> Path:
    """The folder of built-in packs (inside the installed package, or the source tree)."""
    shipped = importlib.resources.files("vbp_rules") / "policy_packs"
    if shipped.is_dir():
        return Path(str(shipped))
    # Editable installs and source checkouts: policy_packs/ sits at the repository root.
    return Path(__file__).resolve().parents[3] / "policy_packs"


def _pack_dirs(root: Path) -> list[Path]:
    if (root / PACK_FILE).is_file():
        return [root]
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / PACK_FILE).is_file())


def _entry_point_roots() -> list[tuple[str, Path]]:
    roots: list[tuple[str, Path]] = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj: Any = ep.load()
            if callable(obj) and not isinstance(obj, str | Path):
                obj = obj()
            items = obj if isinstance(obj, list | tuple) else [obj]
            found = [Path(str(item)) for item in items]
        except Exception as exc:  # another package's code: report it and carry on
            warnings.warn(
                f"entry point {ep.name!r} ({ep.value}) of group {ENTRY_POINT_GROUP} failed to "
                f"load and is skipped: {type(exc).__name__}: {exc}",
                PackDiscoveryWarning,
                stacklevel=3,
            )
            continue
        roots.extend((f"entry point {ep.name}", root) for root in found)
    return roots


@contextlib.contextmanager
def packs_search_path(dirs: Sequence[str | Path]) -> Iterator[None]:
    """Search these folders for pack ids first, inside the ``with`` block.

    The CLI's ``--packs-dir`` uses it; a call's own ``packs_dirs=`` comes first still.
    """
    token = _DIRS.set(tuple(Path(d) for d in dirs))
    try:
        yield
    finally:
        _DIRS.reset(token)


def _roots(packs_dirs: Sequence[str | Path] | None) -> list[tuple[str, Path]]:
    local = [("packs dir", Path(d)) for d in packs_dirs or ()]
    local += [("packs dir", d) for d in _DIRS.get()]
    env = os.environ.get(PACKS_ENV, "")
    local += [(f"${PACKS_ENV}", Path(d)) for d in env.split(os.pathsep) if d]
    return [*local, ("builtin", builtin_packs_dir()), *_entry_point_roots()]


def list_packs(*, packs_dirs: Sequence[str | Path] | None = None) -> list[PackInfo]:
    """Every discoverable pack on the search path, by id (the first of a name wins)."""
    found: dict[str, PackInfo] = {}
    for origin, root in _roots(packs_dirs):
        for d in _pack_dirs(root):
            pid = d.name
            if pid not in found:
                found[pid] = PackInfo(id=pid, path=d / PACK_FILE, origin=origin)
    return sorted(found.values(), key=lambda i: i.id)


def find_pack(pack_id: str, *, packs_dirs: Sequence[str | Path] | None = None) -> PackInfo:
    """The discovered pack with this id (its folder's name).

    Raises:
        PackNotFoundError: no such pack (the message lists close matches).
    """
    packs = {i.id: i for i in list_packs(packs_dirs=packs_dirs)}
    if pack_id in packs:
        return packs[pack_id]
    close = difflib.get_close_matches(pack_id, list(packs))
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    known = ", ".join(sorted(packs)) or "none"
    raise PackNotFoundError(f"no pack {pack_id!r}{hint} (installed: {known})")


_CACHE: dict[tuple[str, float], Pack] = {}


def load_pack(
    pack: str | Path,
    *,
    overrides: Mapping[str, object] | None = None,
    packs_dirs: Sequence[str | Path] | None = None,
) -> Pack:
    """Load a pack by id (``"jiangxi-2024"``) or from a ``pack.yaml`` path or folder.

    Loading never runs code: safe YAML, whitelisted expressions. Validated packs are
    cached by path and modification time.

    >>> load_pack("jiangxi-2024").model.document_number
    '赣医保字〔2024〕22号'

    Args:
        pack: a pack id, or the path of a pack folder or ``pack.yaml``.
        overrides: parameter values that replace the pack's.
        packs_dirs: folders searched for pack ids before ``$VBP_RULES_PACKS``, the
            built-in packs and the entry points (for the id and for ``extends:``).

    Raises:
        PackNotFoundError: no pack with this id.
        PackValidationError: the pack is invalid (every problem located by file, line
            and field).
    """
    path = Path(pack)
    if isinstance(pack, str) and not (path.suffix in (".yaml", ".yml") or path.exists()):
        path = find_pack(pack, packs_dirs=packs_dirs).path
    elif path.is_dir():
        path = path / PACK_FILE
    if packs_dirs:
        with packs_search_path([*packs_dirs, *_DIRS.get()]):
            loaded = load_pack_file(path)
    else:
        loaded = load_pack_file(path)
    return loaded.with_overrides(overrides) if overrides else loaded


def _is_path(ref: str) -> bool:
    return "/" in ref or "\\" in ref or ref.startswith(".") or ref.endswith((".yaml", ".yml"))


def _parent_path(base: str, path: Path, loc: str) -> Path:
    """The ``pack.yaml`` that ``extends: base`` names, for the pack at ``path``."""
    file = str(path)
    if _is_path(base):
        ref = Path(base)
        if ref.is_absolute():
            msg = f"extends: {base!r} is absolute; write a path relative to this pack's file"
            raise PackValidationError([(loc, msg)], path=file)
        target = path.parent / ref
        if target.is_dir():
            target /= PACK_FILE
        if not target.is_file():
            msg = (
                f"extends: no pack at {base!r} (looked for {target}); a path is relative to "
                "this pack's file, e.g. ../example-2024"
            )
            raise PackValidationError([(loc, msg)], path=file)
        return target
    sibling = path.parent.parent / base / PACK_FILE
    if path.parent.parent != path.parent and sibling.is_file():
        return sibling
    try:
        return find_pack(base).path
    except PackNotFoundError as exc:
        raise PackValidationError([(loc, f"extends: {exc}")], path=file) from exc


def load_pack_file(
    path: Path, *, _chain: tuple[tuple[Path, str], ...] = (), _name: str | None = None
) -> Pack:
    """Load and validate one ``pack.yaml`` (resolving ``extends``).

    ``extends:`` names the parent by a path relative to this file (``../example-2024``)
    or by id: a sibling folder of this pack's folder, then the search path of
    :func:`find_pack`. A cycle is reported with the names used to find each pack.
    """
    try:
        resolved = path.resolve()
        key = (str(resolved), path.stat().st_mtime)
    except OSError as exc:
        raise PackValidationError(
            [(str(path), f"cannot read: {exc.strerror or exc}")], path=str(path)
        ) from exc
    if key in _CACHE and not _chain:
        return _CACHE[key]
    file = str(path)
    try:
        raw, where = read_yaml(path)
    except YamlError as exc:
        loc = f"{file}:{exc.line}" if exc.line else file
        raise PackValidationError([(loc, str(exc))], path=file) from exc
    if not isinstance(raw, dict):
        raise PackValidationError(
            [(file, "a pack is a YAML mapping (id:, title:, rules: …)")], path=file
        )
    parent: Pack | None = None
    doc = raw
    base = raw.get("extends")
    if base is not None:
        loc = format_location(file, where, ("extends",))
        if not isinstance(base, str) or not base:
            raise PackValidationError(
                [(loc, "extends names a pack: its id, or a path relative to this file")],
                path=file,
            )
        chain = (*_chain, (resolved, _name or str(path)))
        parent_path = _parent_path(base, path, loc)
        if parent_path.resolve() in [p for p, _ in chain]:
            shown = " -> ".join([*(name for _, name in chain), base])
            msg = f"extends cycle: {shown} (each pack named as it was looked up)"
            raise PackValidationError([(loc, msg)], path=file)
        parent = load_pack_file(parent_path, _chain=chain, _name=base)
        doc = _merge(parent.model, raw)
    model = _validate(doc, where, file)
    try:
        pack = Pack.build(model, path=path, parent=parent)
    except PackValidationError as exc:  # name the file and line of each bad value
        located = [
            (format_location(file, where, tuple(loc.split("."))) if loc else loc, msg)
            for loc, msg in exc.problems
        ]
        raise PackValidationError(located, pack_id=exc.pack_id, path=file) from None
    check_pack(pack, where=where, file=file)
    if not _chain:
        _CACHE[key] = pack
    return pack


def _validate(doc: dict[str, Any], where: Located, file: str) -> PackModel:
    try:
        return PackModel.model_validate(doc)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(p for p in err["loc"] if not _is_union_tag(p))
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = f"unknown key {loc[-1]!r}" + _did_you_mean_key(exc, loc)
            elif err["type"] == "union_tag_invalid":
                msg = f"unknown rule kind; {msg}"
            problems.append((format_location(file, where, loc), msg))
        raise PackValidationError(
            problems, pack_id=doc.get("id") if isinstance(doc.get("id"), str) else None, path=file
        ) from exc


def _is_union_tag(part: object) -> bool:
    return isinstance(part, str) and part in RULE_KINDS


def _did_you_mean_key(exc: ValidationError, loc: tuple[Any, ...]) -> str:
    del exc
    known = {
        "rules": _rule_keys(),
        "parameters": set(_model_fields("Parameter")),
    }
    name = str(loc[-1])
    candidates: set[str] = set(PackModel.model_fields) | known["rules"] | known["parameters"]
    close = difflib.get_close_matches(name, sorted(candidates), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _model_fields(name: str) -> list[str]:
    from vbp_rules.packs import model as m  # noqa: PLC0415

    cls: Any = getattr(m, name)
    return [f.alias or n for n, f in cls.model_fields.items()]


def _rule_keys() -> set[str]:
    out: set[str] = set()
    for cls in (
        "ThresholdRule",
        "TiersRule",
        "ChangeBandRule",
        "DeadlineRule",
        "StreakRule",
        "RelativeRule",
        "ExemptionRule",
        "DeterminationRule",
        "Tier",
        "BoundSpec",
        "Citation",
        "MetricSpec",
    ):
        out.update(_model_fields(cls))
    return out


def _merge(parent: PackModel, child: dict[str, Any]) -> dict[str, Any]:
    """The document of a pack that extends ``parent``: the child's keys win.

    Parameters merge key by key (a child may give only ``value``); interpretations,
    declared action codes and lint allowances are replaced by name; rules are inherited
    and the child's own are appended; notes add up.
    """
    base: dict[str, Any] = parent.model_dump(
        by_alias=True, exclude_none=True, exclude_defaults=False, mode="python"
    )
    out = dict(base)
    for key, value in child.items():
        if key == "parameters" and isinstance(value, dict):
            params = {k: dict(v) for k, v in base.get("parameters", {}).items()}
            for name, entry in value.items():
                if isinstance(entry, dict) and name in params:
                    merged = params[name] | entry
                    if "value" in entry:
                        merged.pop("unspecified", None)
                    params[name] = merged
                else:
                    params[name] = entry
            out["parameters"] = params
        elif key == "lint" and isinstance(value, dict) and isinstance(value.get("allow"), dict):
            allow = dict(base.get("lint", {}).get("allow", {})) | value["allow"]
            out["lint"] = {**value, "allow": allow}
        elif key == "actions" and isinstance(value, dict):
            out["actions"] = dict(base.get("actions", {})) | value
        elif key == "interpretations" and isinstance(value, dict):
            out["interpretations"] = dict(base.get("interpretations", {})) | value
        elif key == "rules" and isinstance(value, list):
            out["rules"] = [*base.get("rules", []), *value]
        elif key == "notes" and isinstance(value, list):
            out["notes"] = [*base.get("notes", []), *value]
        else:
            out[key] = value
    return out
