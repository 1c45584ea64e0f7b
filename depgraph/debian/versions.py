"""Debian version comparison, exactly as dpkg does it (deb-version(5), Debian Policy 5.6.12).

With python-apt present this is ``apt_pkg.version_compare``; without it, the version is split into
epoch, upstream version and revision the way dpkg's ``parseversion`` does, and the parts are compared
with debian-inspector's implementation of dpkg's ``verrevcmp`` ordering (``~`` before everything,
letters before non-letters, digit runs numerically).

A version longer than :data:`MAX_LENGTH` is refused as malformed on both paths: no real one comes
close, and debian-inspector's comparison is quadratic in the length (a minute for a 200 kB version
found by fuzzing), so a hostile package list could otherwise stall a run.
"""

from __future__ import annotations

import functools
import re

from depgraph.debian.backend import apt_pkg

_LENIENT = re.compile(r"^(?:([0-9]{1,10}):)?([A-Za-z0-9.+~-]+?)(?:-([A-Za-z0-9.+~]*))?$")

MAX_LENGTH = 256
"""The longest version accepted (the longest in the bookworm archive is about 70 characters)."""

OPERATORS = ("<<", "<=", "=", ">=", ">>", "<", ">")
"""Relationship operators of Policy 7.1; ``<`` and ``>`` are the obsolete spellings of ``<=``, ``>=``."""


def split(version: str) -> tuple[int, str, str]:
    """``(epoch, upstream, revision)`` as dpkg's parseversion splits them; ValueError if malformed.

    dpkg accepts an upstream part that does not start with a digit (with a warning), so this does
    too; characters outside the allowed set are an error.
    """
    if len(version) > MAX_LENGTH:
        raise ValueError(
            f"invalid version {version[:40]!r}...: longer than {MAX_LENGTH} characters"
        )
    match = _LENIENT.match(version.strip())
    if match is None:
        raise ValueError(f"invalid version {version!r}")
    epoch, upstream, revision = match.groups()
    return int(epoch or 0), upstream, revision or ""


def _pure_compare(left: str, right: str) -> int:
    from debian_inspector.version import compare_strings  # only on the pure path: attrs is slow

    le, lu, lr = split(left)
    re_, ru, rr = split(right)
    if le != re_:
        return -1 if le < re_ else 1
    result = compare_strings(lu, ru)
    if result:
        return int(result)
    return int(compare_strings(lr, rr))


@functools.lru_cache(maxsize=65536)
def compare(left: str, right: str) -> int:
    """Negative, zero or positive as ``left`` sorts before, equal to or after ``right``."""
    module = apt_pkg()
    if module is not None:
        split(left)
        split(right)
        result = int(module.version_compare(left, right))
        return (result > 0) - (result < 0)
    return _pure_compare(left, right)


def satisfies(version: str, operator: str, wanted: str) -> bool:
    """Whether ``version`` satisfies ``(operator wanted)`` of a relationship field (Policy 7.1)."""
    result = compare(version, wanted)
    if operator == "<<":
        return result < 0
    if operator in ("<=", "<"):
        return result <= 0
    if operator == "=":
        return result == 0
    if operator in (">=", ">"):
        return result >= 0
    if operator == ">>":
        return result > 0
    raise ValueError(f"unknown relationship operator {operator!r}")


def sort_key(version: str) -> functools.cmp_to_key:  # type: ignore[valid-type]
    """A key for ``sorted`` that orders versions like dpkg."""
    return functools.cmp_to_key(compare)(version)
