"""Saved ``dpkg -l`` (``dpkg-query --list``) output: names, versions and states, no relations.

The format is meant for people (dpkg-query(1): "not easily machine-readable"), so this reader is
forgiving about what varies between dpkg versions and strict about what it relies on:

* the three legend lines and the ``||/ Name Version [Architecture] Description`` header, then the
  ``+++-===-...`` ruler whose ``=`` runs give the column widths (dpkg before 1.16.2 has no
  Architecture column and sized columns to the terminal, truncating long names and versions);
* rows ``SSE name version [arch] description`` where S is the desired action (``u i h r p``), the
  second letter the package state (``n c H U F W t i``) and the third the error flag;
* ``name:arch`` for multi-arch packages, ``<none>`` as the version of a not-installed package.

A name that fills its column exactly may have been cut by an old dpkg; such rows are reported as
possibly truncated, so that the caller can resolve them against an index or warn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from depgraph.debian.relations import is_package_name
from depgraph.debian.versions import split
from depgraph.diagnostics import Diagnostics, quoted
from depgraph.model import Origin, Package
from depgraph.sources.files import Kind, read_text

STATE_LETTERS = {
    "n": "not-installed",
    "c": "config-files",
    "H": "half-installed",
    "U": "unpacked",
    "F": "half-configured",
    "W": "triggers-awaited",
    "t": "triggers-pending",
    "i": "installed",
}
DESIRED_LETTERS = {
    "u": "unknown",
    "i": "install",
    "h": "hold",
    "r": "deinstall",
    "p": "purge",
}
_ERRORS = frozenset(" RhxX")


@dataclass(frozen=True, slots=True)
class ListedPackage:
    """A row of ``dpkg -l`` and whether its name may have been cut to the column width."""

    package: Package
    maybe_truncated: bool


def read_dpkg_list(
    path: Path, diagnostics: Diagnostics, option: str | None = "--dpkg-list"
) -> list[ListedPackage]:
    """The packages of a saved ``dpkg -l``; rows before the ruler line are the header."""
    text = read_text(path, Kind.DPKG_LIST, option)
    shown = str(path)
    lines = text.replace("\r\n", "\n").split("\n")
    ruler = next((i for i, line in enumerate(lines) if line.startswith("+++-")), None)
    if ruler is None:
        diagnostics.problem(shown, 0, "no '+++-===' ruler line: not the output of dpkg -l")
        return []
    widths = [len(run) for run in lines[ruler].split("-")[1:]]
    header = lines[ruler - 1] if ruler else ""
    has_arch = "Architecture" in header or "Arch " in header
    result: list[ListedPackage] = []
    for number, line in enumerate(lines[ruler + 1 :], ruler + 2):
        if not line.strip():
            continue
        listed = _row(line, shown, number, has_arch, widths, diagnostics)
        if listed is not None:
            result.append(listed)
    if not result:
        diagnostics.problem(shown, ruler + 1, "no package rows after the header")
    return result


def _row(
    line: str, path: str, number: int, has_arch: bool, widths: list[int], diagnostics: Diagnostics
) -> ListedPackage | None:
    flags = line[:3]
    if len(flags) < 3 or flags[0] not in DESIRED_LETTERS or flags[1] not in STATE_LETTERS:
        diagnostics.problem(path, number, f"not a dpkg -l row: {line[:40]!r}")
        return None
    if flags[2] not in _ERRORS:
        diagnostics.problem(path, number, f"unknown error flag {flags[2]!r}")
        return None
    words = line[3:].split(None, 3 if has_arch else 2)
    if len(words) < 2:
        diagnostics.problem(path, number, "row has no version column")
        return None
    name_field, version = words[0], words[1]
    architecture = words[2] if has_arch and len(words) > 2 else None
    name, _, qualifier = name_field.partition(":")
    if not is_package_name(name):
        diagnostics.problem(path, number, f"invalid package name {quoted(name_field)}")
        return None
    if qualifier:
        architecture = qualifier
    if version == "<none>" or version == "":
        parsed_version = None
    else:
        try:
            split(version)
        except ValueError:
            diagnostics.problem(path, number, f"{name}: invalid version {quoted(version)}")
            return None
        parsed_version = version
    state = STATE_LETTERS[flags[1]]
    if parsed_version is None and state != "not-installed":
        diagnostics.problem(path, number, f"{name}: no version for a package in state {state}")
        return None
    maybe_truncated = (
        bool(widths) and len(name_field) == widths[0] and line[3 + widths[0] : 4 + widths[0]] == " "
    )
    package = Package(
        name=name,
        version=parsed_version,
        architecture=architecture,
        state=state,
        origin=Origin.DPKG_LIST,
        where=f"{path}:{number}",
        want=DESIRED_LETTERS[flags[0]],
        description=_description(words, 3 if has_arch else 2),
    )
    return ListedPackage(package=package, maybe_truncated=maybe_truncated)


def _description(words: list[str], at: int) -> str | None:
    """The row's description column (dpkg cuts it to the terminal's width; ``<none>`` for a
    package dpkg knows nothing more of)."""
    text = words[at].strip() if len(words) > at else ""
    return text if text and text != "<none>" else None
