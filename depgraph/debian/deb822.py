"""A fast, line-numbered reader of deb822 paragraphs (Debian Policy 5.1, deb822(5)).

dpkg's ``status`` file and apt's ``Packages`` indexes are deb822: paragraphs of ``Field: value`` lines
separated by blank lines, with continuation lines starting with a space or tab. The whole Debian
archive is about 63,000 paragraphs and 50 MB of text, so this reader keeps only the fields the caller
asks for, tracks line numbers for error messages, and does one pass over the lines (python-debian's
``Deb822`` and debian-inspector's reader build every field of every paragraph and are several times
slower on the archive).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from depgraph.errors import ParseError

Paragraph = tuple[int, dict[str, str]]
"""The line number the paragraph starts at, and its wanted fields."""


def iter_paragraphs(
    text: str,
    path: str,
    wanted: frozenset[str],
    *,
    strict: bool,
    warn: Callable[[str, int, str], None],
) -> Iterator[Paragraph]:
    """Yield ``(first_line, fields)`` for every paragraph of ``text``.

    A line that is neither ``Field: value``, a continuation, nor blank is a :class:`ParseError` in
    strict mode; in lenient mode ``warn(path, line, reason)`` is called and the paragraph is skipped.
    Continuation lines of wanted fields are joined with ``\\n``; a field given twice keeps the first
    value (dpkg refuses such a paragraph; lenient mode warns).
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    fields: dict[str, str] = {}
    # Lines of fields with continuation lines, joined when the paragraph ends: adding to a string
    # kept in a dict copies it every time, quadratic in a field of 100,000 lines.
    continued: dict[str, list[str]] = {}
    start = 0
    last: str | None = None
    broken = False
    number = 0
    for number, line in enumerate(text.split("\n"), 1):
        if not line or line.isspace():
            if fields and not broken:
                yield start, _joined(fields, continued)
            fields = {}
            continued = {}
            start = 0
            last = None
            broken = False
            continue
        if broken:
            continue
        if not start:
            start = number
        first = line[0]
        if first == " " or first == "\t":
            if start == number:
                reason = "continuation line outside a field"
            elif last is not None:
                continued.setdefault(last, [fields[last]]).append(line)
                continue
            else:
                continue
        else:
            name, colon, value = line.partition(":")
            if colon and name and " " not in name:
                if name in wanted:
                    if name in fields:
                        reason = f"field {name} given twice in one paragraph"
                    else:
                        fields[name] = value.strip()
                        last = name
                        continue
                else:
                    last = None
                    continue
            else:
                reason = f"not a 'Field: value' line: {_show(line)}"
        if strict:
            raise ParseError(path, number, reason)
        warn(path, number, reason + "; paragraph skipped")
        broken = True
    if fields and not broken:
        yield start, _joined(fields, continued)


def _joined(fields: dict[str, str], continued: dict[str, list[str]]) -> dict[str, str]:
    for name, lines in continued.items():
        fields[name] = "\n".join(lines)
    return fields


def _show(line: str) -> str:
    shown = line if len(line) <= 40 else line[:37] + "..."
    return repr(shown)
