"""The schema of a vulnerability profile: every table and key it may hold, each key's type and rules.

A profile is a TOML 1.0 document (read with :mod:`tomllib`). Its values follow:

- package names (``libraries``, ``source_package``, ``[[exposure]]``'s ``package`` and ``via``):
  Debian Policy 5.6.1, lower-case letters, digits, ``+``, ``-`` and ``.``, at least two characters,
  starting with a letter or digit; no architecture qualifier (a profile holds for every one);
- versions (the bounds of ``[[affected]]``, ``[[fixed]]``'s ``version``): Debian Policy 5.6.12 and
  deb-version(5), ``[epoch:]upstream[-revision]``, the upstream part starting with a digit, read by
  :func:`depgraph.debian.versions.split`;
- ranges (``[[affected]]``): OSV's ``introduced`` with ``fixed`` (exclusive) or ``last_affected``
  (inclusive), in dpkg's ordering; a range that holds no version (``introduced`` at or after
  ``fixed``, or after ``last_affected``) is an error, not a profile that matches nothing;
- CVE identifiers: ``CVE-YYYY-NNNN`` (CVE ID syntax, four or more digits);
- text: one line of printable characters. Control characters (C0, DEL, C1), the line and
  paragraph separators and the Unicode bidirectional controls are refused: a profile's strings are
  printed in reports, and a title must not be able to move the cursor or hide text.

Every table and key is known: an unknown one (``[[fixd]]``, ``componnet``) is an error with a "did
you mean" for a near miss, never ignored. tomllib gives no line numbers for keys, so an error names
the key's path instead, the tables of an array counted from 1: ``[[affected]][1].fixd``.
"""

from __future__ import annotations

import datetime
import difflib
import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from depgraph.debian.changelog import normalise_cve
from depgraph.debian.versions import compare, split
from depgraph.formats.escape import UNPRINTABLE
from depgraph.model import IMPACTS

COMPONENTS = ("libssl", "libcrypto", "any")
"""Which part of the library the bug is in: a libssl bug spares programs using libcrypto alone."""

UPSTREAM_CHANGES = ("openssl",)
"""The upstream changelog formats depgraph can read (OpenSSL's CHANGES)."""

ANY = "*"
"""A ``[[fixed]]`` distribution or release that stands for every one."""

MAX_TEXT = 4096
"""The longest string a profile may hold (the built-in profiles' longest is about 200 characters)."""

SHOWN = 60
"""How much of a bad value an error quotes."""

_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+")
_ID = re.compile(r"[a-z0-9][a-z0-9._+-]{0,63}")
_STEP = re.compile(r"[a-z][a-z0-9-]{0,31}")
_RELEASE = re.compile(r"[a-z0-9][a-z0-9._+-]{0,63}|\*", re.IGNORECASE)
_SONAME = re.compile(r"lib[A-Za-z0-9_+.-]*\.so(\.[0-9]+)*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")
_CONTROL = re.compile(f"[\x00-\x1f{UNPRINTABLE}]")
"""What a report would have to escape (C0 and :data:`~depgraph.formats.escape.UNPRINTABLE`)."""


class SchemaError(ValueError):
    """A profile breaks the schema at ``key`` (a key path such as ``[[affected]][1].fixed``)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}" if key else reason)
        self.key = key
        self.reason = reason


class Kind(enum.Enum):
    """What a key's value is; the value is the README's wording."""

    TEXT = "text"
    ID = "profile id"
    PACKAGE = "package name"
    VERSION = "Debian version"
    CVE = "CVE id"
    DATE = "TOML date"
    COMPONENT = "`libssl`, `libcrypto` or `any`"
    IMPACT = "`memory-disclosure`, `denial-of-service`, `code-execution`, `backdoor` or `other`"
    SONAME = "shared object name"
    UPSTREAM_CHANGES = "`openssl`"
    RELEASE = "release name"
    STEP = "step name"


@dataclass(frozen=True, slots=True)
class Key:
    """One key of a table: its kind, whether it is a list of them, whether it must be there."""

    name: str
    kind: Kind
    doc: str
    many: bool = False
    required: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    """The top level (``name`` empty) or one array of tables (``[[name]]``)."""

    name: str
    doc: str
    keys: tuple[Key, ...]

    def key(self, name: str) -> Key | None:
        return next((key for key in self.keys if key.name == name), None)


TOP = Table(
    "",
    "the profile itself (before the first `[[table]]`)",
    (
        Key("id", Kind.ID, "the profile's id, as reports name it", required=True),
        Key("title", Kind.TEXT, "one line saying what the vulnerability is", required=True),
        Key(
            "cves", Kind.CVE, "the CVEs the profile covers, at least one", many=True, required=True
        ),
        Key(
            "libraries",
            Kind.PACKAGE,
            "the library packages (any architecture)",
            many=True,
            required=True,
        ),
        Key("component", Kind.COMPONENT, "the part of the library with the bug (default `any`)"),
        Key("impact", Kind.IMPACT, "what the bug lets an attacker do (default: unknown)"),
        Key(
            "sonames",
            Kind.SONAME,
            "the shared objects that carry the bug (`libssl.so.3`): renamed packages are found by them",
            many=True,
        ),
        Key("source_package", Kind.PACKAGE, "the libraries' source package (`openssl`)"),
        Key("disclosed", Kind.DATE, "the disclosure date (`2014-04-07`, not quoted)"),
        Key(
            "upstream_changes",
            Kind.UPSTREAM_CHANGES,
            "read the upstream `changelog.gz` as its CHANGES",
        ),
        Key("references", Kind.TEXT, "advisories and notices", many=True),
    ),
)

TABLES = (
    Table(
        "affected",
        "one vulnerable range of versions (OSV); none: the changelogs and `[[fixed]]` decide",
        (
            Key("introduced", Kind.VERSION, "the first affected version", required=True),
            Key("fixed", Kind.VERSION, "the first version without the bug (after `introduced`)"),
            Key("last_affected", Kind.VERSION, "or: the last affected version (not both)"),
        ),
    ),
    Table(
        "fixed",
        "the first fixed package version of one release",
        (
            Key("distribution", Kind.RELEASE, "`debian`, `ubuntu`, ... (`*`: any)", required=True),
            Key(
                "release",
                Kind.RELEASE,
                "the codename: `wheezy`, `trusty`, ... (`*`: any)",
                required=True,
            ),
            Key("version", Kind.VERSION, "the first package version with the fix", required=True),
            Key("source", Kind.TEXT, "where the fact comes from (advisory, changelog entry)"),
        ),
    ),
    Table(
        "remediation",
        "one step of what to do, in order",
        (
            Key(
                "step",
                Kind.STEP,
                "`upgrade`, `restart`, ... (lower case, once each)",
                required=True,
            ),
            Key("text", Kind.TEXT, "what to do", required=True),
        ),
    ),
    Table(
        "exposure",
        "a known path to the library that matters (sshd -> libsystemd0 -> liblzma5)",
        (
            Key("package", Kind.PACKAGE, "the exposed package", required=True),
            Key("via", Kind.PACKAGE, "the packages in between", many=True),
            Key("why", Kind.TEXT, "why the path matters"),
        ),
    ),
)


def validate(document: Mapping[str, object]) -> None:
    """:class:`SchemaError` for the first thing in ``document`` (as tomllib read it, in the
    file's order) that the schema does not allow."""
    tables = {table.name: table for table in TABLES}
    for name, value in document.items():
        if name in tables:
            _array(tables[name], value)
            continue
        key = TOP.key(name)
        if key is None:
            raise SchemaError(_top_name(name, value), _unknown(name, value, TOP))
        _check(key, value, name)
    _missing(TOP, document, "")
    _unique(document, "cves", normalise_cve)
    _unique(document, "libraries", str)
    _unique(document, "sonames", str)
    _unique_rows(document, "fixed", ("distribution", "release"))
    _unique_rows(document, "remediation", ("step",))


def _array(table: Table, value: object) -> None:
    shown = f"[[{table.name}]]"
    if not isinstance(value, list):
        raise SchemaError(shown, f"expected an array of tables ({shown}), found {_type(value)}")
    for number, item in enumerate(value, start=1):
        path = f"{shown}[{number}]"
        if not isinstance(item, dict):
            raise SchemaError(path, f"expected a table, found {_type(item)}")
        for name, element in item.items():
            key = table.key(name)
            if key is None:
                hint = _unknown(name, element, table)
                if TOP.key(name) is not None:
                    hint += "; a top-level key must come before the first [[table]]"
                raise SchemaError(f"{path}.{_show_key(name)}", hint)
            _check(key, element, f"{path}.{name}")
        _missing(table, item, f"{path}.")
        if table.name == "affected":
            _range(item, path)


def _missing(table: Table, value: Mapping[str, object], prefix: str) -> None:
    for key in table.keys:
        if key.required and key.name not in value:
            raise SchemaError(prefix + key.name, "missing")


def _check(key: Key, value: object, path: str) -> None:
    """One key's value: a list of the key's kind, or one."""
    if not key.many:
        _value(key, value, path)
        return
    if not isinstance(value, list):
        raise SchemaError(path, f"expected an array of {_plural(key)}, found {_type(value)}")
    if key.required and not value:
        raise SchemaError(path, "must not be empty")
    for number, element in enumerate(value, start=1):
        _value(key, element, f"{path}[{number}]")


def _value(key: Key, value: object, path: str) -> None:
    if key.kind is Kind.DATE:
        if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
            raise SchemaError(path, f"expected a TOML date (2014-04-07), found {_type(value)}")
        return
    if not isinstance(value, str):
        raise SchemaError(path, f"expected a string, found {_type(value)}")
    _text(value, path)
    kind = key.kind
    problem = package_problem(value) if kind is Kind.PACKAGE else None
    if problem is not None:
        raise SchemaError(path, problem)
    if kind is Kind.VERSION:
        _version(value, path)
    if kind is Kind.CVE:
        try:
            normalise_cve(value)
        except ValueError:
            raise SchemaError(path, f"{_show(value)} is not a CVE id (CVE-YYYY-NNNN)") from None
    choices = {
        Kind.COMPONENT: COMPONENTS,
        Kind.IMPACT: IMPACTS,
        Kind.UPSTREAM_CHANGES: UPSTREAM_CHANGES,
    }.get(kind)
    if choices is not None and value not in choices:
        raise SchemaError(path, f"{_show(value)} is not one of {', '.join(choices)}")
    pattern = {Kind.ID: _ID, Kind.STEP: _STEP, Kind.RELEASE: _RELEASE, Kind.SONAME: _SONAME}.get(
        kind
    )
    if pattern is not None and not pattern.fullmatch(value):
        raise SchemaError(path, f"{_show(value)} is not a {kind.value} ({_PATTERN_WORDS[kind]})")


_PATTERN_WORDS = {
    Kind.ID: "lower-case letters, digits, '.', '_', '+' and '-', up to 64",
    Kind.STEP: "a lower-case word, '-' between words, up to 32 characters",
    Kind.RELEASE: "letters, digits, '.', '_', '+' and '-', or '*' for any",
    Kind.SONAME: "lib<name>.so and its version numbers, as libssl.so.3",
}


def _text(value: str, path: str) -> None:
    """Printable text on one line, not blank, not longer than :data:`MAX_TEXT`."""
    if not value.strip():
        raise SchemaError(path, "must not be empty (leave the key out instead)")
    if len(value) > MAX_TEXT:
        raise SchemaError(path, f"longer than {MAX_TEXT} characters")
    control = _CONTROL.search(value)
    if control is not None:
        raise SchemaError(
            path,
            f"control character U+{ord(control.group()):04X} at character {control.start() + 1} "
            "(profile strings are one line of printable text)",
        )


def _version(value: str, path: str) -> None:
    problem = version_problem(value)
    if problem is not None:
        raise SchemaError(path, problem)


def version_problem(value: str) -> str | None:
    """What makes ``value`` no Debian version (Policy 5.6.12 as dpkg enforces it, the upstream
    part starting with a digit), or None: the rule of profiles and of ``--fixed-version`` and
    ``--affected``."""
    try:
        _, upstream, revision = split(value)
    except ValueError:
        return f"{_show(value)} is not a Debian version"
    if value != value.strip():
        return f"{_show(value)} has spaces around it"
    if not upstream[:1].isdigit():
        return f"{_show(value)} is not a Debian version (its upstream part must start with a digit)"
    if value.endswith("-") and not revision:
        return f"{_show(value)} is not a Debian version (empty revision)"
    return None


def package_problem(value: str) -> str | None:
    """What makes ``value`` no Debian package name (Policy 5.6.1), or None."""
    if _PACKAGE.fullmatch(value):
        return None
    return (
        f"{_show(value)} is not a Debian package name (Policy 5.6.1: lower-case letters, "
        "digits, '+', '-' and '.', at least two characters, starting with a letter or digit)"
    )


def _range(entry: Mapping[str, object], path: str) -> None:
    """An OSV range that holds at least one version."""
    introduced, fixed, last = (entry.get(key) for key in ("introduced", "fixed", "last_affected"))
    assert isinstance(introduced, str)
    if fixed is not None and last is not None:
        raise SchemaError(path, "give either fixed or last_affected, not both")
    if isinstance(fixed, str) and compare(introduced, fixed) >= 0:
        raise SchemaError(
            f"{path}.fixed",
            f"{fixed} is not after introduced {introduced}: the range holds no version",
        )
    if isinstance(last, str) and compare(introduced, last) > 0:
        raise SchemaError(
            f"{path}.last_affected",
            f"{last} is before introduced {introduced}: the range holds no version",
        )


def _unique(document: Mapping[str, object], name: str, normal: Callable[[str], str]) -> None:
    """No value of the list ``name`` given twice (compared as ``normal`` makes them)."""
    values = document.get(name, [])
    assert isinstance(values, list)
    seen: dict[str, int] = {}
    for number, value in enumerate(values, start=1):
        norm = normal(str(value))
        if norm in seen:
            raise SchemaError(
                f"{name}[{number}]",
                f"{_show(str(value))} is given twice (also {name}[{seen[norm]}])",
            )
        seen[norm] = number


def _unique_rows(document: Mapping[str, object], table: str, keys: Sequence[str]) -> None:
    rows = document.get(table, [])
    assert isinstance(rows, list)
    seen: dict[tuple[str, ...], int] = {}
    for number, row in enumerate(rows, start=1):
        assert isinstance(row, dict)
        values = tuple(str(row[key]).lower() for key in keys)
        if values in seen:
            named = " ".join(f"{key} {value}" for key, value in zip(keys, values, strict=True))
            raise SchemaError(
                f"[[{table}]][{number}]",
                f"{named} is given twice (also [[{table}]][{seen[values]}])",
            )
        seen[values] = number


def _unknown(name: str, value: object, table: Table) -> str:
    """``unknown key (did you mean 'fixed'?)``, the suggestion from difflib's close matches."""
    known = [key.name for key in table.keys]
    if table is TOP:
        known += [other.name for other in TABLES]
    what = "table" if _is_tables(value) or isinstance(value, dict) else "key"
    hint = f"unknown {what}"
    close = difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.6)
    if close:
        guess = close[0]
        if table is TOP and any(other.name == guess for other in TABLES):
            guess = f"[[{guess}]]"
        hint += f" (did you mean {guess}?)"
    return hint


def _is_tables(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _top_name(name: str, value: object) -> str:
    shown = _show_key(name)
    if _is_tables(value):
        return f"[[{shown}]]"
    if isinstance(value, dict):
        return f"[{shown}]"
    return shown


def _show_key(name: str) -> str:
    """A key as TOML writes it: bare when it can be, else quoted with its escapes shown."""
    return name if _BARE_KEY.fullmatch(name) else _show(name)


def _show(value: str) -> str:
    """A value quoted for an error line: non-printable characters escaped, cut to :data:`SHOWN`."""
    if len(value) > SHOWN:
        return repr(value[:SHOWN]) + f" (and {len(value) - SHOWN} more characters)"
    return repr(value)


def _type(value: object) -> str:
    """The TOML type of a value, as an error names it."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, datetime.datetime):
        return "a date-time"
    if isinstance(value, datetime.date):
        return "a date"
    if isinstance(value, datetime.time):
        return "a time"
    if isinstance(value, list):
        return "an array of tables" if _is_tables(value) else "an array"
    return "a table"


_PLURAL = {Kind.PACKAGE: "package names", Kind.CVE: "CVE ids", Kind.SONAME: "shared object names"}


def _plural(key: Key) -> str:
    return _PLURAL.get(key.kind, "strings")


_PATH = re.compile(
    r"(?:\[\[(?P<table>[A-Za-z0-9_-]+)\]\](?:\[(?P<index>[0-9]+)\])?\.?|\[(?P<single>[A-Za-z0-9_-]+)\])?"
    r"(?P<key>[A-Za-z0-9_-]+)?(?:\[[0-9]+\])?"
)
_HEADER = re.compile(r"\s*\[(\[?)\s*([A-Za-z0-9_-]+)\s*\]")


def locate(text: str, key: str) -> int | None:
    """The line of ``text`` (a profile) where the key path ``key`` of a :class:`SchemaError` is
    written, when the file writes it plainly (a ``[[table]]`` header, a ``key =`` line): tomllib
    keeps no positions, so this finds the header and the key again. None when it cannot tell
    (inline tables, dotted or quoted keys)."""
    match = _PATH.fullmatch(key)
    if match is None or not key:
        return None
    table, index, single, name = match.group("table", "index", "single", "key")
    lines = text.split("\n")
    headers = [
        (number, bool(found.group(1)), found.group(2))
        for number, line in enumerate(lines, start=1)
        if (found := _HEADER.match(line)) is not None
    ]
    if single is not None:
        return next((n for n, double, t in headers if t == single and not double), None)
    if table is None:  # a top-level key, written before the first header
        end = headers[0][0] if headers else len(lines) + 1
        return _key_line(lines, 1, end, name)
    ours = [n for n, double, t in headers if t == table and double]
    if index is None:  # the array itself: its first header, or a [table] or key = in its place
        first = next((n for n, _, t in headers if t == table), None)
        if first is not None:
            return first
        end = headers[0][0] if headers else len(lines) + 1
        return _key_line(lines, 1, end, table)
    if int(index) > len(ours):
        return None
    start = ours[int(index) - 1]
    if name is None:
        return start
    end = next((n for n, _, _ in headers if n > start), len(lines) + 1)
    return _key_line(lines, start + 1, end, name)


def _key_line(lines: Sequence[str], start: int, end: int, name: str | None) -> int | None:
    """The first line from ``start`` up to ``end`` (1-based, exclusive) that sets ``name``."""
    if name is None:
        return None
    setting = re.compile(rf"\s*{re.escape(name)}\s*=")
    return next((n for n in range(start, end) if setting.match(lines[n - 1])), None)


def markdown_table() -> str:
    """The README's table of profile keys, from the schema itself."""
    rows = ["| Table | Key | Value | Required | Meaning |", "|---|---|---|---|---|"]
    for table in (TOP, *TABLES):
        where = f"`[[{table.name}]]`" if table.name else "(top level)"
        rows.append(f"| {where} | | | | {table.doc} |")
        for key in table.keys:
            value = f"list of {_PLURAL.get(key.kind, 'strings')}" if key.many else key.kind.value
            required = "yes" if key.required else ""
            rows.append(
                f"| | `{key.name}` | {value} | {required} | {key.doc} |".replace("|  |", "| |")
            )
    return "\n".join(rows) + "\n"
