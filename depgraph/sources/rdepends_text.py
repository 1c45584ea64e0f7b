"""Saved ``apt-cache rdepends`` output (apt-cache(8)), plain or ``--recurse``.

Each block is the package name on its own line, ``Reverse Depends:``, then one indented line per
reverse dependency; a leading ``|`` marks a dependency that is one alternative of an OR-group.
``--recurse`` output repeats blocks for every package reached. The output carries no versions and no
relationship kinds, so every line becomes a ``Depends`` of unknown version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from depgraph.debian.relations import is_package_name
from depgraph.diagnostics import Diagnostics, quoted
from depgraph.sources.files import read_text

_HEADER = "Reverse Depends:"


@dataclass(frozen=True, slots=True)
class ReverseDependency:
    """``dependent`` depends on ``target`` (as one alternative of an OR-group when ``alternative``)."""

    dependent: str
    target: str
    alternative: bool
    where: str


def read_rdepends(path: Path, diagnostics: Diagnostics) -> list[ReverseDependency]:
    """Every ``dependent -> target`` line of the saved output, in file order."""
    text = read_text(path)
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
        alternative = entry.startswith("|")
        dependent = entry[1:] if alternative else entry
        if not is_package_name(dependent):
            diagnostics.problem(shown, number, f"not a package name: {entry[:40]!r}")
            continue
        result.append(ReverseDependency(dependent, target, alternative, f"{shown}:{number}"))
    if expect_header:
        # apt-cache prints the header right after the name, so the saved output was cut off here.
        diagnostics.problem(
            shown, target_line, f"file ends before {_HEADER!r} of {quoted(target or '')}"
        )
        target = None
    if not result and target is None:
        diagnostics.problem(shown, 0, "no 'PACKAGE / Reverse Depends:' block found")
    return result
