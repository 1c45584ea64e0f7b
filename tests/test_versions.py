"""Version comparison: dpkg's ordering, pure-Python against python-apt on generated versions."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depgraph.debian import versions
from tests.conftest import oracle_apt_pkg

# (smaller, larger) pairs taken from deb-version(5) and from the Heartbleed data in fixtures/.
ORDERED = [
    ("1.0~rc1", "1.0"),
    ("1.0", "1.0+b1"),
    ("1.0-1", "1.0-1+b1"),
    ("2.0", "1:0.1"),
    ("1.0.1e-2+deb7u4", "1.0.1e-2+deb7u5"),
    ("1.0.1-4ubuntu5.11", "1.0.1-4ubuntu5.12"),
    ("1.0.1-4ubuntu5.10", "1.0.1-4ubuntu5.12"),
    ("1.0.1f-1ubuntu1", "1.0.1f-1ubuntu2"),
    ("1.0.1f-1", "1.0.1g-1"),
    ("1.0.2k-1~bpo8+1", "1.0.2k-1"),
    ("1.0.2~beta1-1", "1.0.2"),
    ("1.0.1e-2+deb7u5", "1.0.1e-2+rvt+deb7u11"),
    ("3.0.11-1~deb12u2", "3.0.11-1"),
    ("a", "b"),
    ("1.0~~", "1.0~~a"),
    ("1.0~~a", "1.0~"),
    ("1.0~", "1.0"),
    ("1.0", "1.0a"),
    ("1.2.3", "1.2.10"),
]


@pytest.mark.parametrize(("smaller", "larger"), ORDERED)
def test_known_order_pure(smaller: str, larger: str) -> None:
    assert versions._pure_compare(smaller, larger) < 0
    assert versions._pure_compare(larger, smaller) > 0
    assert versions._pure_compare(smaller, smaller) == 0


@pytest.mark.parametrize(("smaller", "larger"), ORDERED)
def test_known_order_selected_backend(smaller: str, larger: str) -> None:
    assert versions.compare(smaller, larger) == -1
    assert versions.compare(larger, smaller) == 1


def test_equal_spellings() -> None:
    assert versions._pure_compare("0:1.0", "1.0") == 0
    assert versions._pure_compare("1.0-0", "1.0") == 0
    assert versions._pure_compare("1.00", "1.0") == 0


@pytest.mark.parametrize(
    ("version", "operator", "wanted", "expected"),
    [
        ("1.0.1e-2+deb7u5", ">=", "1.0.1e-2+deb7u5", True),
        ("1.0.1e-2+deb7u4", ">=", "1.0.1e-2+deb7u5", False),
        ("1.0", "<<", "1.0", False),
        ("1.0", "<=", "1.0", True),
        ("1.0", "<", "1.0", True),  # obsolete spelling of <= (Policy 7.1)
        ("1.0", ">", "1.0", True),
        ("1.1", ">>", "1.0", True),
        ("1:1.0", "=", "1:1.0", True),
    ],
)
def test_satisfies(version: str, operator: str, wanted: str, expected: bool) -> None:
    assert versions.satisfies(version, operator, wanted) is expected


@pytest.mark.parametrize("bad", ["", "1.0 beta", "1:", "1.0/2", "ü1"])
def test_invalid_versions_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        versions.split(bad)


_part = st.text(alphabet="0123456789abcz.+~", min_size=1, max_size=8)
_version = st.builds(
    lambda epoch, upstream_digit, upstream, revision: (
        (f"{epoch}:" if epoch else "")
        + upstream_digit
        + upstream
        + (f"-{revision}" if revision else "")
    ),
    st.integers(min_value=0, max_value=3),
    st.sampled_from("0123456789"),
    st.text(alphabet="0123456789abz.+~", max_size=8),
    st.one_of(st.none(), _part),
)


@settings(max_examples=2000, deadline=None)
@given(_version, _version)
def test_pure_compare_agrees_with_apt_pkg(left: str, right: str) -> None:
    apt_pkg = oracle_apt_pkg()
    expected = apt_pkg.version_compare(left, right)
    expected = (expected > 0) - (expected < 0)
    assert versions._pure_compare(left, right) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(_version, min_size=2, max_size=6))
def test_sort_key_is_a_total_order(items: list[str]) -> None:
    ordered = sorted(items, key=versions.sort_key)
    for before, after in itertools.pairwise(ordered):
        assert versions.compare(before, after) <= 0
