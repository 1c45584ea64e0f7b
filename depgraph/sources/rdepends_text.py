"""Saved ``apt-cache rdepends`` output (apt-cache(8)), plain or ``--recurse``.

Each block is the package name on its own line, ``Reverse Depends:``, then one indented line per
reverse dependency, as apt's ``ShowDepends`` writes it (apt 0.8 to 2.x, ``cmdline/apt-cache.cc``):
`` |`` instead of two spaces marks a dependency that is one alternative of an OR-group; with
``-o APT::Cache::ShowDependencyType=1`` the relationship kind follows (``Depends:``,
``PreDepends:``, ``Recommends:``, ``Suggests:``, ``Breaks:``, ``Conflicts:``, ``Replaces:``,
``Obsoletes:``, ``Enhances:``); then the dependent's name, in ``<...>`` when it is virtual and with
``:arch`` when it is of a foreign architecture; with ``-o APT::Cache::ShowVersion=1`` the version
constraint on the target, `` (>= 3.0.0)``. ``--recurse`` output repeats blocks for every package
reached. A line without a kind says only that some relationship exists: apt lists Recommends,
Suggests, Breaks, Conflicts, Replaces and Enhances too unless ``--no-recommends`` ... were given,
so such a line is kept as a ``Depends`` of unknown kind (``kind`` None) and the reader of the
universe says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from depgraph.debian.relations import is_package_name
from depgraph.debian.versions import split
from depgraph.diagnostics import Diagnostics, quoted
from depgraph.model import APT_KINDS, RelationKind
from depgraph.sources.files import Kind, read_text

_HEADER = "Reverse Depends:"

_KINDS = {
    **APT_KINDS,
    "Pre-Depends": RelationKind.PRE_DEPENDS,
    "Obsoletes": RelationKind.CONFLICTS,
}
"""apt's ``DepType()`` words (untranslated); Obsoletes, an rpm relationship, acts as Conflicts."""

_LINE = re.compile(
    r"(?:(?P<kind>[A-Za-z-]+): )?(?P<virtual><)?(?P<name>[^\s<>():]+)(?::(?P<arch>[a-z0-9-]+))?>?"
    r"(?: \((?P<op><<|<=|=|>=|>>|<|>) (?P<version>[^\s()]+)\))?"
)


@dataclass(frozen=True, slots=True)
class ReverseDependency:
    """``dependent`` depends on ``target`` (as one alternative of an OR-group when ``alternative``).

    ``kind`` is the relationship when the output says it (None: a plain output, which does not);
    ``operator`` and ``version`` the constraint on ``target`` when it was printed.
    """

    dependent: str
    target: str
    alternative: bool
    where: str
    kind: RelationKind | None = None
    operator: str | None = None
    version: str | None = None


def is_recursive(lines: list[ReverseDependency]) -> bool:
    """The output holds a block for a reverse dependency of another block (``--recurse``), so
    more than the direct dependents are known."""
    dependents = {line.dependent for line in lines}
    return any(line.target in dependents for line in lines)


def has_kinds(lines: list[ReverseDependency]) -> bool:
    """apt printed the relationship kinds (``-o APT::Cache::ShowDependencyType=1``)."""
    return any(line.kind is not None for line in lines)


def read_rdepends(
    path: Path, diagnostics: Diagnostics, option: str | None = "--rdepends"
) -> list[ReverseDependency]:
    """Every ``dependent -> target`` line of the saved output, in file order."""
    text = read_text(path, Kind.RDEPENDS, option)
    shown = str(path)
    lines = text.replace("\r\n", "\n").split("\n")
    result: list[ReverseDependency] = []
    target: str | None = None
    target_line = 0
    expect_header = False
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip()
        if not line:
            continue
        if expect_header:
            if line.strip() != _HEADER:
                diagnostics.problem(
                    shown, number, f"expected {_HEADER!r} after {quoted(target or '')}"
                )
                target = None
            expect_header = False
            continue
        if not line[0].isspace():
            name = line.strip()
            if not is_package_name(name):
                diagnostics.problem(shown, number, f"not a package name: {line[:40]!r}")
                target = None
                continue
            target = name
            target_line = number
            expect_header = True
            continue
        if target is None:
            diagnostics.problem(shown, number, "reverse dependency before any package line")
            continue
        entry = line.strip()
        parsed = _entry(entry, target, f"{shown}:{number}")
        if parsed is None:
            diagnostics.problem(shown, number, f"not a package name: {entry[:40]!r}")
            continue
        result.append(parsed)
    if expect_header:
        # apt-cache prints the header right after the name, so the saved output was cut off here.
        diagnostics.problem(
            shown, target_line, f"file ends before {_HEADER!r} of {quoted(target or '')}"
        )
        target = None
    if not result and target is None:
        diagnostics.problem(shown, 0, "no 'PACKAGE / Reverse Depends:' block found")
    return result


def _entry(entry: str, target: str, where: str) -> ReverseDependency | None:
    alternative = entry.startswith("|")
    match = _LINE.fullmatch(entry[1:] if alternative else entry)
    if match is None or not is_package_name(match.group("name")):
        return None
    word = match.group("kind")
    kind = _KINDS.get(word) if word is not None else None
    if word is not None and kind is None:
        return None
    version = match.group("version")
    if version is not None:
        try:
            split(version)
        except ValueError:
            return None
    return ReverseDependency(
        match.group("name"),
        target,
        alternative,
        where,
        kind,
        match.group("op"),
        version,
    )


def limits(lines: list[ReverseDependency]) -> list[str]:
    """What the saved output cannot tell, in words, when it is the only source of relationships:
    the kinds of a plain output, the dependents beyond the first level of a single block."""
    said = []
    if lines and not has_kinds(lines):
        said.append(
            "apt-cache printed no relationship kinds, so every line is taken as Depends; unless it "
            "ran with --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces "
            "--no-enhances, Recommends, Suggests, Breaks, Conflicts, Replaces and Enhances are "
            "among them (save it with -o APT::Cache::ShowDependencyType=1 to tell them apart)"
        )
    if lines and not is_recursive(lines):
        targets = ", ".join(dict.fromkeys(line.target for line in lines))
        said.append(
            f"only the direct dependents of {targets} are known (one level, no block for a "
            "dependent): save 'apt-cache rdepends --recurse' or give --packages"
        )
    return said
