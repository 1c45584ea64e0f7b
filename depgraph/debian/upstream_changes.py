"""OpenSSL's upstream ``CHANGES`` file, as Debian installs it (``/usr/share/doc/PKG/changelog.gz``).

Both layouts are read: the old plain text (`` Changes between 1.0.1f and 1.0.1g  [7 Apr 2014]`` with
``*)`` items) and the Markdown of OpenSSL 3 (``### Changes between 3.0.6 and 3.0.7 [1 Nov 2022]``).
A CVE named under a ``Changes between X and Y`` heading was fixed upstream in release ``Y``. The same
fix is listed under several headings when branches were merged later (CVE-2014-0160 appears under
``1.0.1f and 1.0.1g`` and ``1.0.2h and 1.1.0``), so the fix that counts is the earliest one on the
installed version's branch (1.0.1 for 1.0.1t, 3.0 for 3.0.22), else the earliest release at or below
the installed version from an older branch that the installed branch grew out of.

Upstream versions are compared with dpkg's ordering after writing OpenSSL's pre-releases the Debian
way (``1.0.2-beta1`` -> ``1.0.2~beta1``), as the Debian package versions do.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from depgraph.debian.changelog import CVE
from depgraph.debian.doctext import read_doc_text
from depgraph.debian.versions import compare, split
from depgraph.diagnostics import Diagnostics

_HEADING = re.compile(
    r"^\s*(?:#+\s*)?Changes between\s+(?P<old>\S+)\s+and\s+(?P<new>[^\s\[]+)\s*(?:\[(?P<date>[^\]]*)\])?",
    re.IGNORECASE,
)
_LINK_DEFINITION = re.compile(r"^\s*\[[^\]]+\]:\s*\S")
"""Markdown reference definitions (``[CVE-2014-0160]: https://...``) at the end of the file: they
name every CVE once and belong to no release."""
_PRERELEASE = re.compile(r"-(alpha|beta|pre)", re.IGNORECASE)
OPENSSL_TITLE = b"OpenSSL CHANGES"
"""The first line of OpenSSL's CHANGES, plain text (`` OpenSSL CHANGES``, 0.9 to 1.1.1) or
Markdown (``OpenSSL CHANGES`` over ``===``, 3.x)."""
_HEAD = 512
"""Bytes of the decompressed head looked at for the title."""


def debian_form(version: str) -> str:
    """An OpenSSL release name in dpkg's ordering: ``1.0.2-beta1`` -> ``1.0.2~beta1``."""
    return _PRERELEASE.sub(lambda m: "~" + m.group(1).lower(), version.strip())


def branch(version: str) -> str:
    """OpenSSL's release branch: ``1.0.1`` for ``1.0.1g``, ``3.0`` for ``3.0.22``."""
    match = re.match(r"[0-9]+(?:\.[0-9]+)*", version)
    if match is None:
        return version
    numbers = match.group(0).split(".")
    major = numbers[0].lstrip("0")
    modern = len(major) > 1 or major >= "3"  # no int(): 5,000 digits are more than it takes
    return ".".join(numbers[:2]) if modern else match.group(0)


@dataclass(frozen=True, slots=True)
class Section:
    """One ``Changes between X and Y`` section and the CVEs it names, with their lines."""

    previous: str
    version: str
    date: str | None
    line: int
    heading: str
    cves: tuple[tuple[str, int, str], ...]
    """``(cve, line, text of that line)`` for every mention."""

    def mention(self, cve: str) -> int | None:
        """The first line in this section naming ``cve``."""
        for name, line, _ in self.cves:
            if name == cve:
                return line
        return None

    def mention_text(self, cve: str) -> str:
        """The text of the first line naming ``cve``."""
        for name, _, text in self.cves:
            if name == cve:
                return text
        return ""


@dataclass(frozen=True, slots=True)
class UpstreamFix:
    """Where upstream fixed a CVE, and whether the installed upstream version has it."""

    cve: str
    version: str
    section: Section
    mention_line: int
    included: bool
    rule: str
    path: str


@dataclass(frozen=True, slots=True)
class UpstreamChanges:
    """The sections of an upstream CHANGES file."""

    path: str
    sections: tuple[Section, ...]

    def naming(self, cve: str) -> tuple[Section, ...]:
        """The sections that name ``cve``."""
        return tuple(section for section in self.sections if section.mention(cve) is not None)

    def fixed_in(self, cve: str, installed_upstream: str) -> UpstreamFix | None:
        """The release that fixed ``cve`` for ``installed_upstream``; None when no section names it."""
        named = [s for s in self.naming(cve) if _orderable(s.version)]
        if not named:
            return None
        installed = debian_form(installed_upstream)
        by_age = sorted(named, key=lambda s: _Key(debian_form(s.version)))
        on_branch = [s for s in by_age if branch(s.version) == branch(installed)]
        if on_branch:
            chosen = on_branch[0]
            rule = f"the earliest fix on the installed branch {branch(installed)}"
        else:
            older = [s for s in by_age if compare(debian_form(s.version), installed) <= 0]
            chosen = older[0] if older else by_age[0]
            rule = (
                f"the earliest fix, in a branch before {branch(installed)}"
                if older
                else f"no fix on the {branch(installed)} branch; the earliest release naming it"
            )
        included = compare(debian_form(chosen.version), installed) <= 0
        line = chosen.mention(cve)
        assert line is not None
        return UpstreamFix(cve, chosen.version, chosen, line, included, rule, self.path)


class _Key:
    """Sort key ordering versions like dpkg."""

    __slots__ = ("version",)

    def __init__(self, version: str) -> None:
        self.version = version

    def __lt__(self, other: _Key) -> bool:
        return compare(self.version, other.version) < 0


def _orderable(version: str) -> bool:
    try:
        split(debian_form(version))
    except ValueError:
        return False
    return version[:1].isdigit()


def parse_upstream_changes(lines: Iterable[str], where: str) -> UpstreamChanges:
    """The ``Changes between`` sections of a CHANGES file and the CVEs under each."""
    sections: list[Section] = []
    head: tuple[str, str, str | None, int, str] | None = None
    cves: list[tuple[str, int, str]] = []
    for number, text in enumerate(lines, start=1):
        heading = _HEADING.match(text)
        if heading is not None:
            if head is not None:
                sections.append(Section(*head, cves=tuple(cves)))
            cves = []
            date = (heading.group("date") or "").strip() or None
            new = heading.group("new").rstrip(":")
            head = (heading.group("old"), new, date, number, text.strip(" #"))
            continue
        if head is None or _LINK_DEFINITION.match(text):
            continue
        for match in CVE.finditer(text):
            cves.append((f"CVE-{match.group(1)}-{match.group(2)}", number, text))
    if head is not None:
        sections.append(Section(*head, cves=tuple(cves)))
    return UpstreamChanges(where, tuple(sections))


def is_openssl_changes(path: Path) -> bool:
    """``path`` (plain or gzip) is OpenSSL's CHANGES: its first non-blank line is the title. Only
    the head is read and decompressed, so that ``changelog --all`` can look at every package's
    ``changelog.gz`` cheaply; another project's upstream changelog is not OpenSSL's CHANGES, and
    the branch rules of :meth:`UpstreamChanges.fixed_in` are OpenSSL's. A missing or corrupt file
    is not; one that cannot be read (permission) counts, so that its reader says why."""
    from depgraph.sources.files import InputError, Kind, Why, read_head

    try:
        raw = read_head(path, Kind.CHANGELOG, 4096)
    except InputError as error:
        return error.why not in (Why.MISSING, Why.DIRECTORY)
    if raw.startswith(b"\x1f\x8b"):
        try:
            raw = zlib.decompressobj(wbits=31).decompress(raw, _HEAD)
        except zlib.error:
            return False
    return raw[:_HEAD].lstrip().startswith(OPENSSL_TITLE)


def read_upstream_changes(
    path: Path, diagnostics: Diagnostics, shown: str | None = None
) -> UpstreamChanges | None:
    """The CHANGES file at ``path``; None when missing, unreadable or not in CHANGES form."""
    text = read_doc_text(path, diagnostics, shown)
    if text is None:
        return None
    changes = parse_upstream_changes(text.lines, text.path)
    return changes if changes.sections else None
