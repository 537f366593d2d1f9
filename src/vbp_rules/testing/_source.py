"""Reading a notice's source text: its clauses (一、 （一） (十二)) and their first sentences."""

from __future__ import annotations

import re
from pathlib import Path

import attrs

from vbp_rules.errors import VbpRulesError

__all__ = [
    "Clause",
    "SourceOutsidePackError",
    "find_quote",
    "find_source",
    "normalize_clause",
    "normalize_text",
    "split_clauses",
]

_NUM = "一二三四五六七八九十百零〇"
_TOP = re.compile(rf"^\s*([{_NUM}]+)\s*、\s*(.*)$")
_SUB = re.compile(rf"^\s*[（(]\s*([{_NUM}]+)\s*[）)]\s*(.*)$")
_PAGE = re.compile(r"^\s*[—－-]\s*\d+\s*[—－-]\s*$")
_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


@attrs.frozen(kw_only=True, slots=True)
class Clause:
    """One clause of a notice: its label as packs cite it (``一（三）``) and its text."""

    label: str
    top: str
    sub: str | None
    text: str
    line: int
    heading: str = ""

    @property
    def first_sentence(self) -> str:
        """The text up to and including the first 。; a heading line without one by itself."""
        if self.heading and "。" not in self.heading:
            return self.heading.strip()
        head, sep, _ = self.text.partition("。")
        return (head + sep).strip()

    @property
    def number(self) -> tuple[int, int]:
        """(top, sub) as integers, for ids (``clause-1-3``)."""
        return chinese_number(self.top), chinese_number(self.sub) if self.sub else 0


def chinese_number(text: str) -> int:
    """一 → 1, 十二 → 12, 二十一 → 21 (the numbers clause markers use)."""
    if not text:
        return 0
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_DIGITS.get(tens, 1) if tens else 1) * 10 + (_DIGITS.get(ones, 0) if ones else 0)
    return _DIGITS.get(text, 0)


def split_clauses(source: str) -> list[Clause]:
    """The clauses of a notice, in order: top-level ``一、`` and sub-clauses ``（一）``.

    A top-level clause with sub-clauses is listed too (its text is its heading line).
    Page markers (``— 3 —``) and line breaks inside sentences are removed.
    """
    out: list[Clause] = []
    top: str | None = None
    current: dict[str, object] | None = None
    buffer: list[str] = []

    def close() -> None:
        if current is not None:
            text = "".join(buffer).strip()
            heading = buffer[0] if buffer else ""
            out.append(Clause(text=text, heading=heading, **current))  # type: ignore[arg-type]

    for n, raw in _lines(source):
        if _PAGE.match(raw):
            continue
        m_top, m_sub = _TOP.match(raw), _SUB.match(raw)
        if m_top:
            close()
            top = m_top.group(1)
            current = {"label": top, "top": top, "sub": None, "line": n}
            buffer = [m_top.group(2).strip()]
        elif m_sub:
            close()
            sub = m_sub.group(1)
            label = f"{top or ''}（{sub}）"
            current = {"label": label, "top": top or "", "sub": sub, "line": n}
            buffer = [m_sub.group(2).strip()]
        elif current is not None:
            buffer.append(raw.strip())
    close()
    return out


_INLINE_SUB = re.compile(rf"(?<=[。；;])\s*(?=[（(][{_NUM}]+[）)])")


def _lines(source: str) -> list[tuple[int, str]]:
    """Lines, with sub-clause markers that follow a sentence or a heading on a new line."""
    out: list[tuple[int, str]] = []
    for n, raw in enumerate(source.splitlines(), start=1):
        line = raw
        m = _TOP.match(raw)
        if m:
            rest = m.group(2)
            sub = re.search(rf"[（(][{_NUM}]+[）)]", rest)
            if sub and "。" not in rest[: sub.start()]:
                out.append((n, raw[: len(raw) - len(rest) + sub.start()]))
                line = rest[sub.start() :]
        out.extend((n, part) for part in _INLINE_SUB.split(line))
    return out


def normalize_clause(label: str) -> str:
    """A clause label with full-width brackets and no spaces: ``一 (三)`` → ``一（三）``."""
    return re.sub(r"\s+", "", label).replace("(", "（").replace(")", "）")


_PUNCT = str.maketrans({"，": ",", "；": ";", "：": ":", "（": "(", "）": ")", "“": '"', "”": '"'})


def normalize_text(text: str) -> str:
    """Text for containment tests: no whitespace, no page markers, ASCII punctuation."""
    kept = [line for line in text.splitlines() if not _PAGE.match(line)]
    return re.sub(r"\s+", "", "".join(kept)).translate(_PUNCT)


class SourceOutsidePackError(VbpRulesError, ValueError):
    """A pack's ``source.file`` that names a file outside the pack's folder."""


def find_source(pack_dir: Path, file: str) -> Path | None:
    """Where a pack's ``source.file`` is: a path relative to the pack's folder, inside it.

    The source text ships with the pack (``source.txt`` beside ``pack.yaml``), so that
    anyone can lint its citations; ``None`` when the file is not there.

    Raises:
        SourceOutsidePackError: the path is absolute or leaves the pack's folder
            (``../x.txt``), which would make the pack depend on where it is installed.
    """
    rel = Path(file)
    root = pack_dir.resolve()
    target = (root / rel).resolve()
    if rel.is_absolute() or not target.is_relative_to(root):
        msg = (
            f"source.file {file!r} leaves the pack folder; put the notice's text beside "
            "pack.yaml (e.g. source.txt) and write its name"
        )
        raise SourceOutsidePackError(msg)
    return target if target.is_file() else None


def find_quote(quote: str, source: str) -> bool:
    """Whether ``quote`` is the source's words: every part between ellipses (……, …), in order.

    Whitespace, line breaks and page markers are ignored, and full-width and ASCII
    punctuation (，and ,) are the same; anything else must be verbatim.

    >>> find_quote("配送率低于90%……暂停挂网。", "配送率低于90%的企业，暂停挂网。")
    True
    """
    flat = normalize_text(source)
    start = 0
    for part in re.split(r"…+|\.{3,}", quote):
        piece = normalize_text(part)
        if not piece:
            continue
        at = flat.find(piece, start)
        if at < 0:
            return False
        start = at + len(piece)
    return True
