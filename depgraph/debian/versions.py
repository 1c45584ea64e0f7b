"""Debian version comparison, exactly as dpkg does it (deb-version(5), Debian Policy 5.6.12).

With python-apt present this is ``apt_pkg.version_compare``; without it, the version is split into
epoch, upstream version and revision the way dpkg's ``parseversion`` does, and the parts are compared
with dpkg's ``verrevcmp`` ordering (``~`` before everything, letters before non-letters, digit runs
numerically), written out here in linear time.
"""

from __future__ import annotations

import functools
import re

from depgraph.debian.backend import apt_pkg

_LENIENT = re.compile(r"^(?:([0-9]{1,10}):)?([A-Za-z0-9.+~-]+?)(?:-([A-Za-z0-9.+~]*))?$")

OPERATORS = ("<<", "<=", "=", ">=", ">>", "<", ">")
"""Relationship operators of Policy 7.1; ``<`` and ``>`` are the obsolete spellings of ``<=``, ``>=``."""


def split(version: str) -> tuple[int, str, str]:
    """``(epoch, upstream, revision)`` as dpkg's parseversion splits them; ValueError if malformed.

    dpkg accepts an upstream part that does not start with a digit (with a warning), so this does
    too; characters outside the allowed set are an error.
    """
    match = _LENIENT.match(version.strip())
    if match is None:
        raise ValueError(f"invalid version {version!r}")
    epoch, upstream, revision = match.groups()
    return int(epoch or 0), upstream, revision or ""


def _pure_compare(left: str, right: str) -> int:
    le, lu, lr = split(left)
    re_, ru, rr = split(right)
    if le != re_:
        return -1 if le < re_ else 1
    return verrevcmp(lu, ru) or verrevcmp(lr, rr)


_RUNS = re.compile(r"([^0-9]*)([0-9]*)")


def _order(character: str) -> int:
    """dpkg's ``order()``: ``~`` first, then the end of a part, letters, everything else."""
    if character == "~":
        return -1
    if character.isascii() and character.isalpha():
        return ord(character)
    return ord(character) + 256


def verrevcmp(left: str, right: str) -> int:
    """dpkg's ``verrevcmp`` (lib/dpkg/version.c) on an upstream version or revision: -1, 0 or 1.

    Alternating non-digit and digit runs; non-digit runs compared character by character with
    :func:`_order` (a missing character counts as 0), digit runs by numeric value. Written here
    rather than taken from debian-inspector, whose ``compare_strings`` pops characters off the
    front of a list and builds big integers: quadratic, a minute for a 200 kB version.
    """
    if left == right:
        return 0
    left_runs = _RUNS.findall(left)
    right_runs = _RUNS.findall(right)
    for index in range(max(len(left_runs), len(right_runs))):
        a_text, a_digits = left_runs[index] if index < len(left_runs) else ("", "")
        b_text, b_digits = right_runs[index] if index < len(right_runs) else ("", "")
        if a_text != b_text:
            for position in range(max(len(a_text), len(b_text))):
                a = _order(a_text[position]) if position < len(a_text) else 0
                b = _order(b_text[position]) if position < len(b_text) else 0
                if a != b:
                    return -1 if a < b else 1
        a_digits = a_digits.lstrip("0")
        b_digits = b_digits.lstrip("0")
        if a_digits != b_digits:  # no int(): a digit run may be longer than int() accepts
            return -1 if (len(a_digits), a_digits) < (len(b_digits), b_digits) else 1
    return 0


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
