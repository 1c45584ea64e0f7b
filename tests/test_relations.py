"""Relationship fields per Debian Policy 7.1, on real field values from the fixtures."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depgraph.debian.relations import (
    RelationSyntaxError,
    format_group,
    parse_group,
    parse_provides,
    parse_relations,
)
from depgraph.model import Relation


def test_real_depends_field_with_or_group() -> None:
    # libssl1.0.0 in fixtures/heartbleed/ubuntu-12.04.3-armhf (Ubuntu 12.04.3)
    groups = parse_relations(
        "libc6 (>= 2.13-28), zlib1g (>= 1:1.1.4), debconf (>= 0.5) | debconf-2.0"
    )
    assert groups == (
        (Relation("libc6", None, ">=", "2.13-28"),),
        (Relation("zlib1g", None, ">=", "1:1.1.4"),),
        (Relation("debconf", None, ">=", "0.5"), Relation("debconf-2.0")),
    )


def test_arch_qualifiers_restrictions_and_profiles() -> None:
    groups = parse_relations(
        "python3:any (>= 3.9~), foo:native, bar [amd64 !i386] <!nocheck> <cross>"
    )
    assert groups[0] == (Relation("python3", "any", ">=", "3.9~"),)
    assert groups[1] == (Relation("foo", "native"),)
    assert groups[2] == (Relation("bar", None, None, None, ("amd64", "!i386")),)


def test_obsolete_operators_are_written_canonically() -> None:
    assert parse_group("foo (< 1.0)")[0].operator == "<="
    assert parse_group("foo (> 1.0)")[0].operator == ">="
    assert parse_group("foo (<< 1.0)")[0].operator == "<<"


def test_whitespace_and_line_folding() -> None:
    folded = "libc6 (>= 2.34),\n libssl3  ( >= 3.0.0 ) ,\n\tzlib1g"
    assert [g[0].name for g in parse_relations(folded)] == ["libc6", "libssl3", "zlib1g"]
    assert parse_relations("a, , b,") == ((Relation("a"),), (Relation("b"),))


def test_versioned_provides() -> None:
    assert parse_provides("awk, libssl-api (= 3.0.2)") == (
        Relation("awk"),
        Relation("libssl-api", None, "=", "3.0.2"),
    )
    with pytest.raises(RelationSyntaxError):
        parse_provides("a | b")
    with pytest.raises(RelationSyntaxError):
        parse_provides("a (>= 1)")


@pytest.mark.parametrize("bad", ["foo (>= )", "foo (~ 1)", "| foo", "foo |", "(>= 1.0)", "foo bar"])
def test_malformed_relations(bad: str) -> None:
    with pytest.raises(RelationSyntaxError):
        parse_relations(bad)


_name = st.from_regex(r"[a-z0-9][a-z0-9+.-]{1,12}", fullmatch=True)
_version = st.from_regex(r"[0-9][a-z0-9.+~]{0,6}(-[a-z0-9.+~]{1,4})?", fullmatch=True)
_relation = st.builds(
    Relation,
    _name,
    st.sampled_from([None, "any", "native", "amd64"]),
    st.sampled_from([None, "<<", "<=", "=", ">=", ">>"]),
    _version,
).map(lambda r: r if r.operator else Relation(r.name, r.arch_qualifier))


@settings(max_examples=500, deadline=None)
@given(st.lists(_relation, min_size=1, max_size=4))
def test_group_round_trip(group: list[Relation]) -> None:
    text = format_group(tuple(group))
    assert parse_group(text) == tuple(group)
    assert format_group(parse_group(text)) == text


@pytest.mark.parametrize("bad", ["foo (>= 3.0_beta)", "foo (= 1:2:3)", "foo (<< 1.0/2)"])
def test_relation_versions_must_be_debian_versions(bad: str) -> None:
    with pytest.raises(RelationSyntaxError, match="invalid version"):
        parse_relations(bad)
