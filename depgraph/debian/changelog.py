"""Debian changelogs (deb-changelog(5), Debian Policy 4.4), with line numbers, through python-debian.

The file is split into entries at heading lines (``package (version) distributions; urgency=...``,
matched with python-debian's own ``topline`` expression), and each entry is parsed on its own by
python-debian's :class:`debian.changelog.Changelog` in strict mode. Splitting first matters:
python-debian reports no line numbers, and in lenient mode a malformed trailer makes it run on into the
next entry, so that entry's CVEs would be credited to the newer version. An entry python-debian
rejects (no trailer line, a bad trailer, stray text) becomes a warning naming the file and line, and
what can still be read of it is kept; an entry whose version is not a valid Debian version
(deb-version(5)) is reported and skipped, since it cannot be ordered. Dates are checked against
RFC 5322, the form deb-changelog(5) requires.

Trimmed changelogs (Debian's ``# Older entries have been removed from this changelog.``, Ubuntu's
``# For older changelog entries, run 'apt-get changelog PKG'``) are recognised, so that the absence of
a CVE can be told apart from the absence of history.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from debian.changelog import ChangeBlock, Changelog, ChangelogParseError, endline, topline

from depgraph.debian.doctext import read_doc_text
from depgraph.debian.versions import split
from depgraph.diagnostics import Diagnostics, quoted

CVE = re.compile(r"\bCVE-(\d{4})-(\d{4,})\b", re.IGNORECASE)
"""A CVE identifier as changelogs write it (upper or lower case)."""

_TRIMMED = re.compile(
    r"^#\s*(older entries have been removed|for older changelog entries)", re.IGNORECASE
)
_QUOTED_LINE = re.compile(r": (.*)$", re.S)


def normalise_cve(text: str) -> str:
    """``cve-2014-0160`` -> ``CVE-2014-0160``; ValueError if it is not a CVE identifier."""
    match = CVE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a CVE identifier: {text!r} (expected CVE-YYYY-NNNN)")
    return f"CVE-{match.group(1)}-{match.group(2)}"


@dataclass(frozen=True, slots=True)
class Entry:
    """One changelog entry: heading, change lines and trailer, with the line each starts at."""

    package: str
    version: str
    distributions: str
    urgency: str | None
    maintainer: str | None
    date: str | None
    when: datetime | None
    line: int
    """The heading line (1-based)."""
    lines: tuple[str, ...]
    """The entry as written, heading to trailer."""
    trailer_line: int | None = None

    def mentions(self, cve: str) -> tuple[int, ...]:
        """Line numbers (in the file) of the lines that name ``cve``."""
        wanted = cve.upper()
        return tuple(
            self.line + offset
            for offset, text in enumerate(self.lines)
            if any(match.group(0).upper() == wanted for match in CVE.finditer(text))
        )

    def cves(self) -> tuple[str, ...]:
        """Every CVE the entry names, in order of first mention."""
        found: dict[str, None] = {}
        for text in self.lines:
            for match in CVE.finditer(text):
                found[f"CVE-{match.group(1)}-{match.group(2)}"] = None
        return tuple(found)

    @property
    def heading(self) -> str:
        """The heading line as written."""
        return self.lines[0]

    def describe(self) -> str:
        """``1.0.1e-2+deb7u5 (wheezy-security, Mon, 07 Apr 2014 22:26:55 +0200, Name <mail>)``."""
        details = [self.distributions or "no distribution"]
        details.append(self.date or "no date")
        if self.maintainer:
            details.append(self.maintainer)
        return f"{self.version} ({', '.join(details)})"


@dataclass(frozen=True, slots=True)
class DebianChangelog:
    """A parsed changelog: its entries, newest first, and how complete it is."""

    path: str
    entries: tuple[Entry, ...]
    trimmed_at: int | None = None
    """The line of a "older entries have been removed" note, when the changelog was cut."""
    truncated: bool = False
    """The file itself ended early (a truncated gzip)."""

    @property
    def complete(self) -> bool:
        """Neither trimmed by the distribution nor cut short: it holds the whole history."""
        return self.trimmed_at is None and not self.truncated and bool(self.entries)

    @property
    def oldest(self) -> Entry | None:
        """The oldest entry kept."""
        return self.entries[-1] if self.entries else None

    def mentioning(self, cve: str) -> tuple[Entry, ...]:
        """The entries that name ``cve``, newest first."""
        return tuple(entry for entry in self.entries if entry.mentions(cve))


def read_changelog(
    path: Path, diagnostics: Diagnostics, shown: str | None = None
) -> DebianChangelog | None:
    """The changelog at ``path`` (plain or gzip); None when missing or unreadable (warned)."""
    text = read_doc_text(path, diagnostics, shown)
    if text is None:
        return None
    return parse_changelog(text.lines, text.path, diagnostics, truncated=text.truncated)


def parse_changelog(
    lines: Iterable[str], where: str, diagnostics: Diagnostics, *, truncated: bool = False
) -> DebianChangelog:
    """Entries from the lines of a changelog; every problem is a warning at ``where:line``."""
    lines = tuple(lines)
    entries: list[Entry] = []
    trimmed_at: int | None = None
    blocks = list(_blocks(lines))
    if not blocks:
        diagnostics.warn(
            where, 0, "no changelog entry (no 'package (version) dist; urgency=' line)"
        )
    elif blocks[0][0] > 0:
        first = next(i for i, text in enumerate(lines) if text.strip())
        if not lines[first].startswith("#"):
            diagnostics.warn(
                where, first + 1, f"text before the first entry: {quoted(lines[first])}; ignored"
            )
    for start, end in blocks:
        # Trailing blank lines and comments (trimming notes, editor variables) belong to no entry.
        # Found by index and cut once: cutting a line at a time is quadratic in the blank lines.
        while end - start > 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
            if _TRIMMED.match(lines[end - 1]):
                trimmed_at = end
            end -= 1
        block = lines[start:end]
        entry = _entry(block, start + 1, where, diagnostics)
        if entry is not None:
            entries.append(entry)
    return DebianChangelog(where, tuple(entries), trimmed_at, truncated)


def _blocks(lines: tuple[str, ...]) -> Iterator[tuple[int, int]]:
    """``(start, end)`` line indexes of each entry: from a heading to the next one."""
    starts = [
        index for index, text in enumerate(lines) if text[:1].isalnum() and topline.match(text)
    ]
    for number, start in enumerate(starts):
        yield start, starts[number + 1] if number + 1 < len(starts) else len(lines)


def _entry(block: tuple[str, ...], line: int, where: str, diagnostics: Diagnostics) -> Entry | None:
    """One entry, parsed by python-debian; malformed parts are warned about and read as they are."""
    parsed: ChangeBlock | None = None
    try:
        parsed = next(iter(Changelog(list(block), strict=True)))
    except ChangelogParseError as error:
        message = str(error).removeprefix("Could not parse changelog: ")
        diagnostics.warn(where, _error_line(message, block, line), _error_text(message))
    except (UnicodeError, ValueError, StopIteration) as error:
        diagnostics.warn(where, line, f"cannot parse this entry: {error}")
    heading = topline.match(block[0])
    assert heading is not None  # _blocks starts entries at headings only
    version = heading.group(2)
    try:
        split(version)
    except ValueError:
        diagnostics.warn(where, line, f"bad version {quoted(version)}; entry skipped")
        return None
    trailer_line: int | None = None
    maintainer: str | None = None
    date: str | None = None
    for offset, text in enumerate(block):
        if text.startswith(" --"):
            trailer_line = line + offset
            match = endline.match(text)
            if match is not None:
                maintainer = f"{match.group(1)} <{match.group(2)}>"
                date = match.group(4).strip()
            else:
                maintainer, date = _loose_trailer(text)
            break
    if parsed is not None:
        maintainer = parsed.author or maintainer
        date = (parsed.date or date or "").strip() or None
    when: datetime | None = None
    if date is not None:
        try:
            when = parsedate_to_datetime(date)
        except (TypeError, ValueError, IndexError, OverflowError):  # year 21111111114: Overflow
            diagnostics.warn(
                where, trailer_line or line, f"bad date {quoted(date)} (not RFC 5322); kept as text"
            )
    distributions = heading.group(3).strip()
    urgency = parsed.urgency if parsed is not None else _urgency(block[0])
    return Entry(
        package=heading.group(1),
        version=version,
        distributions=distributions,
        urgency=urgency,
        maintainer=maintainer,
        date=date,
        when=when,
        line=line,
        lines=block,
        trailer_line=trailer_line,
    )


_LOOSE_TRAILER = re.compile(r"^ --\s*(?P<who>[^<]*<[^>]*>)?\s*(?P<date>.*)$")


def _loose_trailer(text: str) -> tuple[str | None, str | None]:
    """Maintainer and date of a trailer python-debian rejects (one space before the date, ...)."""
    match = _LOOSE_TRAILER.match(text)
    if match is None:
        return None, None
    who = (match.group("who") or "").strip() or None
    date = match.group("date").strip() or None
    return who, date


def _urgency(heading: str) -> str | None:
    match = re.search(r"urgency=(\w+)", heading, re.IGNORECASE)
    return match.group(1) if match else None


def _error_line(message: str, block: tuple[str, ...], line: int) -> int:
    """The file line python-debian's message is about: it quotes the line, or means the end."""
    if message.startswith("Found eof"):
        return line + len(block)  # the line after the entry's text, where the trailer belongs
    match = _QUOTED_LINE.search(message)
    if match is not None:
        quoted_text = match.group(1)
        for offset, text in enumerate(block):
            if text == quoted_text or text.rstrip() == quoted_text.rstrip():
                return line + offset
    return line


def _error_text(message: str) -> str:
    """python-debian's message, one line and short, and what depgraph did about it."""
    if message.startswith("Found eof where expected"):
        return "entry has no trailer line (' -- Name <email>  date'); read without it"
    if message.startswith("Badly formatted trailer line"):
        return "malformed trailer line (deb-changelog(5): ' -- Name <email>  date'); read as it is"
    if message.startswith("Unexpected line"):
        return "unexpected line (not indented change text); read as part of the entry"
    return f"{message.splitlines()[0][:80]}; read as it is"


def entries_after(changelog: DebianChangelog, version: str) -> tuple[Entry, ...]:
    """Entries newer than ``version`` by dpkg ordering (``--since``), newest first."""
    from depgraph.debian.versions import compare

    return tuple(entry for entry in changelog.entries if compare(entry.version, version) > 0)
