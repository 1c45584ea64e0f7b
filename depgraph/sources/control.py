"""Turning a deb822 paragraph of a status file or Packages index into a :class:`Package`.

Fields per Debian Policy 5.3 (binary package control files) and dpkg's status file (``Status:
want flag state``, dpkg(1) "Package states").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from depgraph.debian.deb822 import iter_paragraphs
from depgraph.debian.relations import (
    RelationSyntaxError,
    is_package_name,
    parse_provides,
    parse_relations,
)
from depgraph.debian.versions import split
from depgraph.diagnostics import Diagnostics, quoted
from depgraph.model import OrGroup, Origin, Package, RelationKind
from depgraph.sources.files import Kind, read_text

_RELATION_FIELDS = tuple((kind, kind.value) for kind in RelationKind)
RELATION_FIELDS = tuple(field for _kind, field in _RELATION_FIELDS)
WANTED = frozenset(
    (
        "Package",
        "Version",
        "Architecture",
        "Status",
        "Provides",
        "Section",
        "Source",
        "Multi-Arch",
        "Essential",
        "Description",
        *RELATION_FIELDS,
    )
)

DPKG_STATES = frozenset(
    (
        "not-installed",
        "config-files",
        "half-installed",
        "unpacked",
        "half-configured",
        "triggers-awaited",
        "triggers-pending",
        "installed",
    )
)


def read_control_file(
    path: Path, origin: Origin, diagnostics: Diagnostics, option: str | None = None
) -> Iterator[Package]:
    """Every package paragraph of a status file or Packages index (compressed or not); ``option``
    names the command-line option the file came from, in errors."""
    kind = Kind.STATUS if origin is Origin.STATUS else Kind.PACKAGES
    text = read_text(path, kind, option)
    shown = str(path)
    if not text.strip():
        diagnostics.problem(shown, 0, "empty file: no package paragraphs")
        return
    count = 0
    for line, fields in iter_paragraphs(
        text, shown, WANTED, strict=diagnostics.strict, warn=diagnostics.warn
    ):
        package = package_from_fields(fields, shown, line, origin, diagnostics)
        if package is not None:
            count += 1
            yield package
    if count == 0:
        diagnostics.problem(shown, 0, "no package paragraphs found")


def package_from_fields(
    fields: dict[str, str], path: str, line: int, origin: Origin, diagnostics: Diagnostics
) -> Package | None:
    """One paragraph as a Package, or None (with a warning) when lenient and it is malformed."""
    name = fields.get("Package", "").strip()
    if not name:
        diagnostics.problem(path, line, "paragraph has no Package field")
        return None
    if not is_package_name(name):
        diagnostics.problem(path, line, f"invalid package name {quoted(name)}")
        return None
    state: str | None = None
    want: str | None = None
    if origin is Origin.STATUS:
        words = fields.get("Status", "").split()
        if len(words) != 3 or words[2] not in DPKG_STATES:
            diagnostics.problem(path, line, f"package {name}: bad or missing Status field")
            return None
        state = words[2]
        want = words[0]
    version = fields.get("Version") or None
    if version is not None:
        try:
            split(version)
        except ValueError:
            diagnostics.problem(path, line, f"package {name}: invalid Version {quoted(version)}")
            return None
    elif state != "not-installed":
        diagnostics.problem(path, line, f"package {name}: no Version field")
        return None
    relations: list[tuple[RelationKind, tuple[OrGroup, ...]]] = []
    field = "Provides"
    try:
        for kind, field in _RELATION_FIELDS:
            text = fields.get(field)
            if text:
                relations.append((kind, parse_relations(text)))
        field = "Provides"
        provides = parse_provides(fields["Provides"]) if "Provides" in fields else ()
    except RelationSyntaxError as error:
        diagnostics.problem(path, line, f"package {name}, field {field}: {error}")
        return None
    return Package(
        name=name,
        version=version,
        architecture=fields.get("Architecture") or None,
        state=state,
        origin=origin,
        where=f"{path}:{line}",
        relations=tuple(relations),
        provides=provides,
        section=fields.get("Section") or None,
        source=fields.get("Source") or None,
        multi_arch=fields.get("Multi-Arch") or None,
        essential=fields.get("Essential", "").strip().lower() == "yes",
        want=want,
        description=fields.get("Description", "").partition("\n")[0].strip() or None,
    )
