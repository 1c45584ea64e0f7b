"""Relationship fields (Depends, Pre-Depends, Provides, ...) as Debian Policy 7.1 defines them.

``a (>= 1.0) | b:any, c [amd64] <!nocheck>`` becomes OR-groups of :class:`~depgraph.model.Relation`.
Architecture qualifiers (``:any``, ``:native``, ``:amd64``) are kept; architecture restrictions
(``[amd64 !i386]``) are kept; build profiles (``<!nocheck>``) are dropped, since they only matter when
building. Parsing is memoised per alternative because an archive repeats the same few thousand
(``libc6 (>= 2.34)``) hundreds of thousands of times.

debian-inspector's ``deps`` module does not handle architecture qualifiers or build profiles, so this
small parser is written here; version comparison does come from debian-inspector (see ``versions``).
"""

from __future__ import annotations

import functools
import re

from depgraph.debian.versions import split
from depgraph.model import OrGroup, Relation

# Possessive quantifiers (``*+``, ``++``): the optional parts are separated by white space, and with
# plain ``\s*`` a long run of blanks could be split between them in polynomially many ways before
# the match fails (a 2,000-blank field took a minute).
_ALTERNATIVE = re.compile(
    r"""^\s*+
    (?P<name>[A-Za-z0-9][A-Za-z0-9+._-]*+)
    (?::(?P<qual>[A-Za-z0-9_-]++))?+
    \s*+(?:\(\s*+(?P<op><<|<=|>=|>>|=|<|>)\s*+(?P<version>[A-Za-z0-9][^\s()]*+)\s*+\))?+
    \s*+(?:\[(?P<arches>[^\]]*+)\])?+
    \s*+(?:<[^>]*+>\s*+)*+
    $""",
    re.VERBOSE,
)


_OBSOLETE = {"<": "<=", ">": ">="}
"""Policy 7.1: the obsolete ``<`` and ``>`` mean ``<=`` and ``>=``; they are written canonically."""


PACKAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9+._-]*")
"""A package name (Policy 5.6.1 asks for lower case; upper case is accepted from old systems)."""


def is_package_name(text: str) -> bool:
    """``text`` is a well-formed binary package name."""
    return PACKAGE_NAME.fullmatch(text) is not None


class RelationSyntaxError(ValueError):
    """A relationship field that does not follow Policy 7.1; the message quotes the bad part."""


@functools.lru_cache(maxsize=200_000)
def parse_alternative(text: str) -> Relation:
    """One ``name[:qual] [(op version)] [[arches]] [<profiles>]`` item."""
    match = _ALTERNATIVE.match(text)
    if match is None:
        shown = text.strip()
        if len(shown) > 60:
            shown = shown[:57] + "..."
        raise RelationSyntaxError(f"not a package relation: {shown!r}")
    arches = match.group("arches")
    operator = match.group("op")
    version = match.group("version")
    if version is not None:
        try:
            split(version)
        except ValueError:
            raise RelationSyntaxError(f"invalid version in {text.strip()[:60]!r}") from None
    return Relation(
        name=match.group("name"),
        arch_qualifier=match.group("qual"),
        operator=_OBSOLETE.get(operator, operator) if operator else None,
        version=version,
        arch_restrictions=tuple(arches.split()) if arches else (),
    )


@functools.lru_cache(maxsize=200_000)
def parse_group(text: str) -> OrGroup:
    """An OR-group ``a | b | c``."""
    if "|" not in text:
        return (parse_alternative(text),)
    parts = [part.strip() for part in text.split("|")]
    if not all(parts):
        raise RelationSyntaxError(f"empty alternative in {text.strip()[:60]!r}")
    return tuple(map(parse_alternative, parts))


@functools.lru_cache(maxsize=100_000)
def parse_relations(text: str) -> tuple[OrGroup, ...]:
    """A whole relationship field: comma-separated OR-groups; empty items are ignored like dpkg."""
    parts = [part for part in map(str.strip, text.split(",")) if part]
    return tuple(map(parse_group, parts))


def parse_provides(text: str) -> tuple[Relation, ...]:
    """A ``Provides`` field: a list of (possibly ``(= version)``-versioned) names, no alternatives."""
    relations: list[Relation] = []
    for group in parse_relations(text):
        if len(group) != 1:
            raise RelationSyntaxError("Provides cannot have alternatives")
        relation = group[0]
        if relation.operator not in (None, "="):
            raise RelationSyntaxError(f"Provides allows only '=' versions: {relation}")
        relations.append(relation)
    return tuple(relations)


def format_group(group: OrGroup) -> str:
    """The OR-group written back in its canonical form."""
    return " | ".join(str(relation) for relation in group)
