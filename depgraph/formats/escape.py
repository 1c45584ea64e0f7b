"""Text from the audited data made safe to print: for a terminal, for a spreadsheet, for one error line.

Host names, profile titles, package fields, process names and paths come from files an attacker may
write. Printed raw, an ``ESC`` starts a terminal control sequence (ECMA-48 section 5.3/8.3: CSI,
OSC set the window title or a hyperlink, a cursor move rewrites lines above) and a newline forges a
line of the report. So:

- :func:`terminal` escapes, in one field, every C0 control (U+0000-U+001F, newline and tab
  included), DEL, every C1 control (U+0080-U+009F, ECMA-48 section 5.2: ``U+009B`` is a CSI on its
  own), the bidirectional marks, overrides and isolates (U+061C, U+200E, U+200F, U+202A-U+202E,
  U+2066-U+2069, Unicode UAX #9: text that reads differently than it is) and the line and paragraph separators (U+2028, U+2029);
  ``\\n``, ``\\t``, ``\\r``, ``\\e`` for the common ones, ``\\xNN`` / ``\\uNNNN`` for the rest. A file
  name that is not UTF-8 reaches Python as lone surrogates (PEP 383 ``surrogateescape``): each
  is shown as the byte it stands for, ``\\xff``, instead of failing the UTF-8 output.
- :func:`block` does the same to a whole rendered report but keeps its own newlines.
- :func:`markdown_cell` also escapes ``|``, which would end a GitHub-flavoured table cell.
- :func:`csv_cell` also neutralises a spreadsheet formula (OWASP "CSV Injection"): a cell that
  starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``.
- :func:`json_text` writes the same characters of a JSON document as ``\\uXXXX`` escapes.
- :func:`error_line` makes one line of an error or warning: escaped, each word cut at
  :data:`MAX_WORD` characters and the line at :data:`MAX_LINE` (an argument of 100,000 characters
  is echoed as its start and its length).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_WORD = 200
"""Characters of one word (an echoed argument, a path) in an error line."""
MAX_LINE = 1000
"""Characters of one error or warning line."""

UNPRINTABLE = "\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
"""Beyond C0 (U+0000-U+001F), the characters that must not reach a terminal or a report as they
are (a regular-expression class body): DEL and C1 (Unicode's Cc), the line and paragraph separators
(Zl, Zp), and the bidirectional marks, embeddings, overrides and isolates (Unicode Standard Annex
9). Profiles refuse them (:mod:`depgraph.profiles.schema`); reports escape them."""

_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\x1b": "\\e"}
_OTHERS = UNPRINTABLE + "\udc80-\udcff"  # with the bytes that were not UTF-8 (PEP 383)
_FIELD = re.compile(f"[\x00-\x1f{_OTHERS}]")
_BLOCK = re.compile(f"[\x00-\x09\x0b-\x1f{_OTHERS}]")  # the newline kept
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _one(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the byte that was not UTF-8
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def terminal(text: str) -> str:
    """One field for a terminal: every control character escaped, newlines included."""
    return _FIELD.sub(_one, text)


def block(text: str) -> str:
    """A rendered report for a terminal: every control character escaped except its newlines."""
    return _BLOCK.sub(_one, text)


_JSON = re.compile(f"[{_OTHERS}]")


def json_text(document: str) -> str:
    """A JSON document written with ``ensure_ascii=False``, with the characters :func:`terminal`
    escapes (``json`` already escapes C0) as ``\\uXXXX`` (RFC 8259 section 7): the same JSON
    value, inert when the file is shown on a terminal. Only strings hold such characters."""
    return _JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", document)


def markdown_cell(text: str) -> str:
    """One cell of a Markdown (GFM) table: escaped like :func:`terminal`, its ``|`` too."""
    return terminal(text).replace("|", "\\|")


def csv_cell(text: str) -> str:
    """One CSV cell: escaped like :func:`terminal`, and a formula made plain text (OWASP)."""
    guard = "'" if text.startswith(_FORMULA) else ""
    return guard + terminal(text)


def csv_row(cells: Iterable[object]) -> list[object]:
    """A CSV row: each text cell through :func:`csv_cell`, numbers as they are."""
    return [csv_cell(cell) if isinstance(cell, str) else cell for cell in cells]


def _cut(word: str) -> str:
    if len(word) <= MAX_WORD:
        return word
    return f"{word[:MAX_WORD]}...({len(word) - MAX_WORD} more characters)"


def error_line(text: str) -> str:
    """One line for stderr: escaped, long words and the line itself cut."""
    line = " ".join(_cut(word) for word in terminal(text).split(" "))
    if len(line) > MAX_LINE:
        line = f"{line[:MAX_LINE]}...({len(line) - MAX_LINE} more characters)"
    return line
