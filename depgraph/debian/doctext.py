"""Reading a package's text documentation (``/usr/share/doc/PKG/*``), plain or gzip, defensively.

Debian Policy 12.7 installs changelogs gzip-compressed (``gzip -9n``) and deb-changelog(5) says they
are UTF-8. Files on real systems are not always that: a copied image can hold a truncated ``.gz``,
old changelogs are in Latin-1, and a hostile tree can hold a gzip bomb. None of these stop the
analysis: each becomes a warning naming the file (and the line, when there is one) and whatever could
be read is used. Warnings, not errors, even in strict mode, because documentation is supporting
evidence (the dpkg status is the input; a damaged changelog must not hide the rest of a report).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from depgraph.diagnostics import Diagnostics
from depgraph.sources.files import InputError, Kind, Where, Why, iter_chunks, open_input

MAX_TEXT_BYTES = Kind.CHANGELOG.limit
"""Decompressed size limit (16 MiB). The largest real changelog on a bookworm system is ~1.5 MB,
OpenSSL's upstream CHANGES ~0.8 MB; anything past 16 MiB is a bomb or not a changelog."""


@dataclass(frozen=True, slots=True)
class DocText:
    """The lines of one documentation file, and whether the file ended early."""

    path: str
    lines: tuple[str, ...]
    truncated: bool = False


def read_bytes(
    path: Path, diagnostics: Diagnostics, shown: str | None = None
) -> tuple[bytes, bool] | None:
    """The (decompressed) content of ``path`` and whether it was cut short; None if unreadable.

    A missing file is not a warning (most packages have no upstream changelog); an unreadable one
    is. Read through :mod:`depgraph.sources.files` (a FIFO or device is refused, the size limit is
    ``Kind.CHANGELOG``'s); a ``.gz`` may hold several members (``gzip`` concatenation), all read.
    """
    where = shown or str(path)
    parts: list[bytes] = []
    try:
        with open_input(path, Kind.CHANGELOG) as handle:
            for chunk in iter_chunks(handle, Kind.CHANGELOG, Where(path, None)):
                parts.append(chunk)
    except InputError as error:
        return _partial(error, b"".join(parts), where, diagnostics)
    return b"".join(parts), False


def _partial(
    error: InputError, text: bytes, where: str, diagnostics: Diagnostics
) -> tuple[bytes, bool] | None:
    """What is kept of a file that could not be read whole, with the warning that says so."""
    line = text.count(b"\n") + 1 if text else 0
    if error.why is Why.MISSING:
        return None
    if error.why is Why.OPEN:
        diagnostics.warn(where, 0, f"cannot read: {error.detail}")
        return None
    if error.why is Why.TRUNCATED:
        diagnostics.warn(
            where, line, "truncated gzip: the file ends here; the lines before it are used"
        )
        return text, True
    if error.why is Why.CORRUPT:
        diagnostics.warn(where, line, f"{error.reason}; read up to here")
        return (text, True) if text else None
    if error.why is Why.GARBAGE:
        diagnostics.warn(where, line, error.reason)
        return text, False
    diagnostics.warn(where, 0, f"{error.reason}; not read")
    return None


def decode(data: bytes, where: str, diagnostics: Diagnostics) -> tuple[str, ...]:
    """The lines of ``data`` as UTF-8 (deb-changelog(5)); a line that is not UTF-8 is read as
    Latin-1 (what older changelogs used) with one warning naming the first such line."""
    try:
        return tuple(data.decode("utf-8").splitlines())
    except UnicodeDecodeError:
        pass
    lines: list[str] = []
    first_bad = 0
    bad = 0
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(raw.decode("latin-1"))
            bad += 1
            first_bad = first_bad or number
    if lines and lines[-1] == "":
        lines.pop()
    more = f" (and {bad - 1} more lines)" if bad > 1 else ""
    diagnostics.warn(where, first_bad, f"not UTF-8{more}; read as Latin-1")
    return tuple(line.rstrip("\r") for line in lines)


def read_doc_text(path: Path, diagnostics: Diagnostics, shown: str | None = None) -> DocText | None:
    """The lines of a documentation file; None when it is missing or cannot be read at all.

    ``shown`` is the name used in warnings (the path as the audited tree sees it).
    """
    where = shown or str(path)
    content = read_bytes(path, diagnostics, where)
    if content is None:
        return None
    data, truncated = content
    if b"\0" in data[:4096]:
        diagnostics.warn(where, 0, "binary data, not a text file; not read")
        return None
    return DocText(path=where, lines=decode(data, where, diagnostics), truncated=truncated)
