"""The answers of ``depgraph changelog``, as values, and their text and JSON renderings.

The text's lines are escaped for a terminal (:func:`depgraph.formats.escape.terminal`).

JSON carries ``"schema": "depgraph/changelog/v1"``. ``--all`` first looks for the CVE's bytes in each
decompressed ``changelog.Debian.gz`` (what ``zgrep -l`` does, without a process per file) and parses
only the changelogs that name it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from debian.changelog import topline

from depgraph.commands import Outcome
from depgraph.debian.changelog import (
    DebianChangelog,
    Entry,
    entries_after,
    normalise_cve,
    parse_changelog,
    read_changelog,
)
from depgraph.debian.doctext import decode, read_bytes
from depgraph.debian.upstream_changes import (
    UpstreamChanges,
    UpstreamFix,
    is_openssl_changes,
    parse_upstream_changes,
)
from depgraph.debian.versions import split
from depgraph.diagnostics import Diagnostics
from depgraph.errors import SourceError, UsageError
from depgraph.fixcheck import (
    ChangelogFinding,
    changelog_finding,
    read_package_docs,
    upstream_version,
)
from depgraph.formats.escape import terminal
from depgraph.model import Package
from depgraph.rootpath import resolve_in_root

SCHEMA = "depgraph/changelog/v1"
QUOTE_LIMIT = 24
"""Entries longer than this are quoted as heading, the lines naming the CVE, and trailer."""


def cve_argument(text: str) -> str:
    """``--cve``, normalised; a usage error when it is not a CVE identifier."""
    try:
        return normalise_cve(text)
    except ValueError as error:
        raise UsageError(f"--cve: {error}") from None


@dataclass(frozen=True, slots=True)
class Answer:
    """Whether one package (or file) has the fix for one CVE, and the evidence."""

    subject: str
    version: str | None
    architecture: str | None
    cve: str
    finding: ChangelogFinding | None
    changelog: DebianChangelog | None
    upstream: UpstreamFix | None
    notes: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        """``fixed`` (Debian changelog), ``fixed-upstream``, ``not-fixed`` or ``not-named``."""
        if self.finding is not None and self.finding.entry is not None:
            return "fixed"
        if self.upstream is not None:
            return "fixed-upstream" if self.upstream.included else "not-fixed"
        if self.finding is not None and self.finding.newer:
            return "not-fixed"
        return "not-named"

    @property
    def status(self) -> int:
        """Exit status: 0 the fix is in, 1 it is not or the CVE is named nowhere."""
        return 0 if self.verdict in ("fixed", "fixed-upstream") else 1


def answer_package(
    root: Path,
    name: str,
    cve: str | None,
    since: str | None,
    output: str,
    diagnostics: Diagnostics,
) -> Outcome:
    """``depgraph changelog PACKAGE``: the installed package's changelogs under ``root``."""
    package = _installed(root, name, diagnostics)
    bare = name.split(":", 1)[0]
    version = package.version if package is not None else None
    architecture = package.architecture if package is not None else None
    upstream_path = resolve_in_root(root, f"usr/share/doc/{bare}/changelog.gz")
    openssl = upstream_path is not None and is_openssl_changes(upstream_path)
    docs = read_package_docs(
        root, bare, version, architecture, diagnostics, upstream_changes=openssl
    )
    if docs.changelog is None and docs.upstream is None:
        where = resolve_in_root(root, f"usr/share/doc/{bare}") or root / "usr/share/doc" / bare
        if package is None:
            raise UsageError(f"{name} is not installed under {root} and has no changelog")
        why = next((w for w in diagnostics.warnings if w.where.startswith(str(where))), None)
        if why is not None:  # unreadable rather than absent: say so (one line, so not as a warning)
            raise SourceError(why.where, f"{why.message}: no changelog of {name} can be read")
        raise SourceError(where, f"no readable changelog.Debian.gz for {name}")
    notes = tuple(e.detail for e in docs.evidence)
    if package is None:
        notes += (f"{name} is not installed under {root}: the changelog alone is answered",)
    if since is not None:
        return _since(docs.changelog, f"{bare}", since, output, diagnostics)
    assert cve is not None
    answer = _answer(bare, version, architecture, cve, docs.changelog, docs.upstream, notes)
    return Outcome(_render(answer, output, diagnostics), answer.status)


def _answer(
    subject: str,
    version: str | None,
    architecture: str | None,
    cve: str,
    changelog: DebianChangelog | None,
    upstream_changes: UpstreamChanges | None,
    notes: tuple[str, ...] = (),
) -> Answer:
    """One package's answer, the same for ``changelog PACKAGE`` and each row of ``--all``: the
    Debian changelog's entry at or below the installed version, else OpenSSL's CHANGES."""
    finding = changelog_finding(changelog, cve, version) if changelog else None
    upstream: UpstreamFix | None = None
    if (finding is None or finding.entry is None) and upstream_changes is not None and version:
        upstream = upstream_changes.fixed_in(cve, upstream_version(version)[1])
    return Answer(subject, version, architecture, cve, finding, changelog, upstream, notes)


def answer_file(
    path: Path, cve: str | None, since: str | None, output: str, diagnostics: Diagnostics
) -> Outcome:
    """``depgraph changelog --file PATH``: a changelog file or a source tree's debian/changelog."""
    from depgraph.sources.files import Kind, open_input

    if path.is_dir():
        path = path / "debian" / "changelog"
    open_input(
        path, Kind.CHANGELOG, "--file"
    ).close()  # a FIFO or device is an error, not "missing"
    changelog = read_changelog(path, diagnostics)
    if changelog is None or not changelog.entries:
        why = next((w.message for w in diagnostics.warnings if w.where.startswith(str(path))), "")
        raise SourceError(path, why or "no readable changelog entry")
    if since is not None:
        return _since(changelog, changelog.entries[0].package, since, output, diagnostics)
    assert cve is not None
    finding = changelog_finding(changelog, cve, None)
    answer = Answer(str(path), None, None, cve, finding, changelog, None)
    return Outcome(_render(answer, output, diagnostics), answer.status)


def _installed(root: Path, name: str, diagnostics: Diagnostics) -> Package | None:
    from depgraph.load import SourceOptions, open_index

    index = open_index(SourceOptions(root=None if root == Path("/") else root), diagnostics)
    package = index.lookup(name)
    return package if package is not None and package.installed else None


def _since(
    changelog: DebianChangelog | None,
    subject: str,
    since: str,
    output: str,
    diagnostics: Diagnostics,
) -> Outcome:
    try:
        split(since)
    except ValueError:
        raise UsageError(f"--since: {since!r} is not a Debian version") from None
    if changelog is None:
        raise UsageError(f"{subject} has no Debian changelog to list")
    rows = []
    for entry in entries_after(changelog, since):
        for cve in entry.cves():
            line = entry.mentions(cve)[0]
            rows.append((cve, entry, line))
    if output == "json":
        document = {
            "schema": SCHEMA,
            "subject": subject,
            "since": since,
            "changelog": _changelog_json(changelog),
            "fixed": [
                {"cve": cve, **_entry_json(entry), "line": line, "path": changelog.path}
                for cve, entry, line in rows
            ],
            "warnings": [str(w) for w in diagnostics.warnings],
        }
        return Outcome(json.dumps(document, indent=2) + "\n")
    out = [f"{subject}: CVEs named in the changelog after {since} ({changelog.path})"]
    for cve, entry, line in rows:
        out.append(f"  {cve:<16} {entry.version:<24} {entry.date or '(no date)'}  line {line}")
    if not rows:
        out.append("  none")
    oldest = changelog.oldest
    if changelog.trimmed_at is not None and oldest is not None and _after(oldest.version, since):
        out.append(
            f"  note: the changelog is trimmed at {oldest.version} (line "
            f"{changelog.trimmed_at}): entries between {since} and it are missing"
        )
    return Outcome(_lines(out))


def _after(version: str, since: str) -> bool:
    from depgraph.debian.versions import compare

    return compare(version, since) > 0


def _entry_json(entry: Entry) -> dict[str, object]:
    return {
        "version": entry.version,
        "distribution": entry.distributions,
        "urgency": entry.urgency,
        "date": entry.date,
        "maintainer": entry.maintainer,
        "entry_line": entry.line,
    }


def _changelog_json(changelog: DebianChangelog | None) -> dict[str, object] | None:
    if changelog is None:
        return None
    return {
        "path": changelog.path,
        "entries": len(changelog.entries),
        "newest": changelog.entries[0].version if changelog.entries else None,
        "oldest": changelog.oldest.version if changelog.oldest else None,
        "trimmed_at": changelog.trimmed_at,
        "truncated": changelog.truncated,
    }


def _render(answer: Answer, output: str, diagnostics: Diagnostics) -> str:
    if output == "json":
        return json.dumps(_answer_json(answer, diagnostics), indent=2) + "\n"
    return _answer_text(answer)


def _answer_json(answer: Answer, diagnostics: Diagnostics) -> dict[str, object]:
    finding = answer.finding
    entry = finding.entry if finding else None
    upstream = answer.upstream
    return {
        "schema": SCHEMA,
        "subject": answer.subject,
        "version": answer.version,
        "architecture": answer.architecture,
        "cve": answer.cve,
        "answer": answer.verdict,
        "fixed_in": (
            entry.version if entry else (upstream.version if upstream is not None else None)
        ),
        "entry": (
            {
                **_entry_json(entry),
                "path": answer.changelog.path if answer.changelog else None,
                "lines": list(finding.lines) if finding else [],
                "text": list(entry.lines),
            }
            if entry is not None
            else None
        ),
        "newer_entries": [
            {**_entry_json(e), "lines": list(e.mentions(answer.cve))}
            for e in (finding.newer if finding else ())
        ],
        "upstream": (
            {
                "version": upstream.version,
                "previous": upstream.section.previous,
                "date": upstream.section.date,
                "heading": upstream.section.heading,
                "heading_line": upstream.section.line,
                "line": upstream.mention_line,
                "text": upstream.section.mention_text(answer.cve),
                "path": upstream.path,
                "included": upstream.included,
                "rule": upstream.rule,
            }
            if upstream is not None
            else None
        ),
        "changelog": _changelog_json(answer.changelog),
        "notes": list(answer.notes),
        "warnings": [str(w) for w in diagnostics.warnings],
    }


def _lines(out: list[str]) -> str:
    """The text report: each line escaped for a terminal (a changelog, a package's name or a path
    holding a newline or an ``ESC`` forges no line and reaches no terminal: formats/escape.py)."""
    return "".join(terminal(line) + "\n" for line in out)


def _answer_text(answer: Answer) -> str:
    out: list[str] = []
    subject = answer.subject
    if answer.version:
        subject += f" {answer.version}"
        if answer.architecture:
            subject += f" ({answer.architecture})"
    verdict = answer.verdict
    finding = answer.finding
    changelog = answer.changelog
    entry = finding.entry if finding else None
    if entry is not None and changelog is not None:
        has = (
            f"the installed {answer.version} has it"
            if answer.version
            else "first fixed in this version"
        )
        out.append(f"{subject}: {answer.cve} fixed in {entry.version} ({has})")
        out.append(f"  version:      {entry.version}")
        out.append(f"  distribution: {entry.distributions}")
        out.append(f"  date:         {entry.date or '(none)'}")
        out.append(f"  maintainer:   {entry.maintainer or '(none)'}")
        out.append(f"  changelog:    {changelog.path}, line {finding.lines[0]}")  # type: ignore[union-attr]
        out.append("")
        out.extend(_quote(entry, finding.lines if finding else ()))
        later = [e for e in changelog.mentioning(answer.cve) if e is not entry]
        if later:
            out.append("")
            out.append(
                "  also named in: "
                + ", ".join(f"{e.version} (line {e.mentions(answer.cve)[0]})" for e in later)
            )
    else:
        if changelog is None:
            out.append(f"{subject}: no readable Debian changelog")
        else:
            silent = f"not named in the Debian changelog {changelog.path}"
            if changelog.trimmed_at is not None and changelog.oldest is not None:
                silent += (
                    f" (trimmed at {changelog.oldest.version}, line {changelog.trimmed_at}: "
                    "older entries were removed, so this is not evidence)"
                )
            elif finding is not None and finding.newer:
                silent = "named only in entries newer than the installed version: " + ", ".join(
                    f"{e.version} (line {e.mentions(answer.cve)[0]})" for e in finding.newer
                )
            out.append(f"{subject}: {answer.cve} {silent}")
        upstream = answer.upstream
        if upstream is not None:
            section = upstream.section
            state = (
                f"the installed upstream version has it ({upstream.rule})"
                if upstream.included
                else f"the installed upstream version is older ({upstream.rule})"
            )
            out.append(f"{subject}: {answer.cve} fixed upstream in {upstream.version}: {state}")
            out.append(f"  upstream changelog: {upstream.path}")
            out.append(f"  {section.line:>7} | {section.heading}")
            if upstream.mention_line != section.line + 1:
                out.append("          | ...")
            out.append(f"  {upstream.mention_line:>7} | {section.mention_text(answer.cve)}")
        elif verdict == "not-named":
            out.append(
                f"{subject}: {answer.cve} is named in neither the Debian changelog nor an upstream "
                "changelog"
            )
    for note in answer.notes:
        out.append(f"  note: {note}")
    return _lines(out)


def _quote(entry: Entry, lines: tuple[int, ...]) -> list[str]:
    """The entry with file line numbers; long entries keep heading, the CVE lines and trailer."""
    numbered = list(enumerate(entry.lines, start=entry.line))
    while numbered and not numbered[-1][1].strip():
        numbered.pop()
    if len(numbered) > QUOTE_LIMIT:
        keep = {numbered[0][0], numbered[-1][0]}
        for line in lines:
            keep.update(range(line - 1, line + 2))
        shown: list[str] = []
        previous = None
        for number, text in numbered:
            if number in keep:
                if previous is not None and number != previous + 1:
                    shown.append("          | ...")
                shown.append(f"  {number:>7} | {text}")
                previous = number
        return shown
    return [f"  {number:>7} | {text}" for number, text in numbered]


# --- --all: every package's changelog -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    """A package whose Debian changelog, or OpenSSL's CHANGES in its doc directory, names the CVE."""

    package: str
    path: str
    entry: Entry | None
    """The oldest Debian changelog entry naming the CVE (whatever the installed version)."""
    lines: tuple[int, ...]
    changelog: DebianChangelog | None = None
    upstream: UpstreamChanges | None = None
    """OpenSSL's CHANGES (``changelog.gz``), when it is the package's and names the CVE."""


def scan_changelogs(root: Path, cve: str, diagnostics: Diagnostics) -> tuple[Hit, ...]:
    """The packages under ``root`` whose Debian changelog or OpenSSL CHANGES names ``cve``.

    Each ``usr/share/doc/*/changelog.Debian.gz`` (or, for a native package, ``changelog.gz``) is
    decompressed in memory and searched for the CVE's bytes; only the few that contain it are
    parsed. A non-native package's ``changelog.gz`` is OpenSSL's CHANGES when its head says so (a
    few hundred bytes decompressed: :func:`is_openssl_changes`), and only then searched, as
    ``changelog PACKAGE`` reads it. A doc directory that is a symlink to another's is read once.
    """
    pattern = re.compile(re.escape(cve).encode() + rb"(?!\d)", re.IGNORECASE)  # not CVE-…-34490
    doc = resolve_in_root(root, "usr/share/doc")
    if doc is None or not os.path.isdir(doc):
        raise SourceError(root / "usr/share/doc", "no such directory")
    seen: set[str] = set()
    hits: list[Hit] = []
    try:
        with os.scandir(doc) as entries:
            names = sorted(entry.name for entry in entries)
    except OSError as error:
        raise SourceError(doc, f"cannot list: {error.strerror or error}") from None
    for name in names:
        path = _changelog_path(root, doc, name)
        if path is None:
            continue
        key = os.path.realpath(path)
        if key in seen:
            continue
        seen.add(key)
        name = Path(key).parent.name  # the package whose directory it is, not a symlink to it
        changelog = _named_in(Path(path), pattern, diagnostics)
        upstream = None
        if path.endswith("changelog.Debian.gz"):
            upstream = _openssl_changes(Path(key).parent / "changelog.gz", pattern, diagnostics)
        if changelog is None and upstream is None:
            continue
        finding = changelog_finding(changelog, cve, None) if changelog is not None else None
        entry = finding.entry if finding is not None else None
        lines = finding.lines if finding is not None else ()
        where = path if changelog is not None or upstream is None else upstream.path
        hits.append(Hit(name, where, entry, lines, changelog, upstream))
    return tuple(hits)


def _named_in(
    path: Path, pattern: re.Pattern[bytes], diagnostics: Diagnostics
) -> DebianChangelog | None:
    """The Debian changelog at ``path``, parsed only when its bytes name the CVE."""
    content = read_bytes(path, diagnostics)
    if content is None:
        return None
    data, truncated = content
    if pattern.search(data) is None:
        return None
    lines = decode(data, str(path), diagnostics)
    if not lines or not topline.match(lines[0]):
        return None
    return parse_changelog(lines, str(path), diagnostics, truncated=truncated)


def _openssl_changes(
    path: Path, pattern: re.Pattern[bytes], diagnostics: Diagnostics
) -> UpstreamChanges | None:
    """OpenSSL's CHANGES at ``path``, parsed only when it is OpenSSL's and its bytes name the CVE."""
    if not is_openssl_changes(path):
        return None
    content = read_bytes(path, diagnostics)
    if content is None or pattern.search(content[0]) is None:
        return None
    changes = parse_upstream_changes(decode(content[0], str(path), diagnostics), str(path))
    return changes if changes.sections else None


def _changelog_path(root: Path, doc: Path, name: str) -> str | None:
    if root == Path("/"):
        for candidate in ("changelog.Debian.gz", "changelog.gz"):
            path = f"{doc}/{name}/{candidate}"
            if os.path.isfile(path):
                return path
        return None
    for candidate in ("changelog.Debian.gz", "changelog.gz"):
        resolved = resolve_in_root(root, f"usr/share/doc/{name}/{candidate}")
        if resolved is not None and os.path.isfile(resolved):
            return str(resolved)
    return None


@dataclass(frozen=True, slots=True)
class _Row:
    hit: Hit
    answer: Answer

    @property
    def upstream(self) -> UpstreamFix | None:
        """OpenSSL's CHANGES, when the answer rests on it (no Debian entry at or below the
        installed version), as in ``changelog PACKAGE``."""
        return self.answer.upstream

    @property
    def fixed_version(self) -> str | None:
        """The release that fixed it: upstream's when the answer rests on it, else the oldest
        Debian entry naming the CVE (report ``fixed_in``, as ``changelog PACKAGE``'s)."""
        if self.upstream is not None:
            return self.upstream.version
        return self.hit.entry.version if self.hit.entry is not None else None

    @property
    def fixed_in(self) -> str | None:
        """:attr:`fixed_version` in words for the table."""
        if self.upstream is not None:
            return f"{self.upstream.version} (upstream)"
        return self.fixed_version

    @property
    def has_fix(self) -> bool | None:
        """The installed version has the fix, as ``changelog PACKAGE`` answers; None when not
        installed or when nothing readable names it."""
        if self.answer.version is None or self.fixed_version is None:
            return None
        return self.answer.status == 0

    @property
    def path(self) -> str:
        return self.upstream.path if self.upstream is not None else self.hit.path

    @property
    def line(self) -> int | None:
        if self.upstream is not None:
            return self.upstream.mention_line
        return self.hit.lines[0] if self.hit.lines else None

    @property
    def where(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


def answer_all(root: Path, cve: str, output: str, diagnostics: Diagnostics) -> Outcome:
    """``depgraph changelog --all --cve``: every package whose changelog names the CVE, with the
    entry that fixed it and whether the installed version has it, each answered as
    ``changelog PACKAGE`` would (the Debian entry at or below the installed version, else OpenSSL's
    CHANGES). Exit status 0 when some changelog names the CVE and every installed package among
    them has the fix; 1 when none names it, or an installed one lacks the fix or cannot be told."""
    hits = scan_changelogs(root, cve, diagnostics)
    installed: dict[str, Package | None] = {}
    if hits:
        from depgraph.load import SourceOptions, open_index

        index = open_index(SourceOptions(root=None if root == Path("/") else root), diagnostics)
        for hit in hits:
            installed[hit.package] = index.lookup(hit.package)
    rows = []
    for hit in hits:
        package = installed.get(hit.package)
        present = package is not None and package.installed
        version = package.version if package is not None and present else None
        architecture = package.architecture if package is not None and present else None
        answer = _answer(hit.package, version, architecture, cve, hit.changelog, hit.upstream)
        rows.append(_Row(hit, answer))
    lacking = [row for row in rows if row.answer.version is not None and row.has_fix is not True]
    status = 0 if rows and not lacking else 1
    diagnostics.summary = f"{len(hits)} changelogs under {root} name {cve}"
    if output == "json":
        document = {
            "schema": SCHEMA,
            "cve": cve,
            "root": str(root),
            "packages": [
                {
                    "package": row.hit.package,
                    "installed_version": row.answer.version,
                    "answer": row.answer.verdict if row.answer.version else "not-installed",
                    "fixed_in": row.fixed_version,
                    "date": row.hit.entry.date if row.hit.entry and not row.upstream else None,
                    "has_fix": row.has_fix,
                    "path": row.path,
                    "line": row.line,
                }
                for row in rows
            ],
            "warnings": [str(w) for w in diagnostics.warnings],
        }
        return Outcome(json.dumps(document, indent=2) + "\n", status)
    out = []
    for row in rows:
        if row.answer.version is None:
            state = "not installed"
        elif row.has_fix is None:
            state = "entry unreadable"
        else:
            state = "has the fix" if row.has_fix else "older than the fix"
        out.append(
            f"{row.hit.package:<28} {row.answer.version or '-':<24} fixed in "
            f"{row.fixed_in or '?':<24} {state:<18} {row.where}"
        )
    if not hits:
        out.append(f"no changelog under {root} names {cve}")
    return Outcome(_lines(out), status)
