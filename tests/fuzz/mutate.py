"""Cheap byte-level mutants of a Hypothesis-made document, and a minimiser for a failing one.

Hypothesis draws a well-formed-ish document in about a millisecond; the parsers take a tenth of
that. So each drawn document is also fed in a number of mutated forms (bytes flipped, inserted,
deleted, lines swapped or repeated, long runs and huge numbers spliced in), which multiplies the
inputs per second without losing the grammar that gets the parsers past their first line. A
mutant that fails is not seen by Hypothesis's shrinker, so :func:`minimise` cuts it down itself.
"""

from __future__ import annotations

import random
from collections.abc import Callable

_INTERESTING = (
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xef\xbb\xbf",
    b"\r",
    b"\n",
    b"\n\n",
    b" ",
    b"\t",
    b":",
    b"|",
    b",",
    b"(",
    b")",
    b"[",
    b"<",
    b"=",
    b"-",
    b"~",
    b"#",
    b"\\",
    b'"',
    b"'",
    b"\xe2\x80\xa8",
    b"\xd9\xa3",
    b"\xc2\xb2",
    b"-1",
    b"0x",
    b"1_0",
    b"9" * 4400,
    b" " * 3000,
    b"|" * 2000,
    b"(" * 1000,
    b"[" * 5000,
    b"{a=" * 2000,
    b"a." * 8000,
)


def mutant(data: bytes, rng: random.Random) -> bytes:
    """``data`` with one to four random edits."""
    for _ in range(rng.randint(1, 4)):
        size = len(data)
        at = rng.randint(0, size)
        operation = rng.randrange(8)
        if operation == 0 and size:
            index = rng.randrange(size)
            data = data[:index] + bytes([data[index] ^ (1 << rng.randrange(8))]) + data[index + 1 :]
        elif operation == 1:
            data = data[:at] + rng.choice(_INTERESTING) + data[at:]
        elif operation == 2:
            data = data[:at] + data[at + rng.randint(1, 16) :]
        elif operation == 3:
            data = data[:at] + data[at : at + rng.randint(1, 64)] * rng.randint(2, 8) + data[at:]
        elif operation == 4:
            lines = data.split(b"\n")
            if len(lines) > 1:
                i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
                data = b"\n".join(lines)
        elif operation == 5:
            lines = data.split(b"\n")
            i = rng.randrange(len(lines))
            data = b"\n".join([*lines[:i], lines[i], *lines[i:]])
        elif operation == 6:
            data = data[:at]
        else:
            data = (
                data[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 4))) + data[at:]
            )
    return data


def minimise(data: bytes, fails: Callable[[bytes], bool], budget: int = 400) -> bytes:
    """A smaller input that still ``fails``: drop runs of lines, then runs of bytes (ddmin)."""
    left = [budget]
    lines = _drop(data.split(b"\n"), b"\n".join, fails, left)
    data = b"\n".join(lines)
    return b"".join(_drop([data[i : i + 1] for i in range(len(data))], b"".join, fails, left))


def _drop(
    parts: list[bytes],
    join: Callable[[list[bytes]], bytes],
    fails: Callable[[bytes], bool],
    left: list[int],
) -> list[bytes]:
    size = max(1, len(parts) // 2)
    while size >= 1 and left[0] > 0:
        index = 0
        changed = False
        while index < len(parts) and left[0] > 0:
            left[0] -= 1
            candidate = parts[:index] + parts[index + size :]
            if fails(join(candidate)):
                parts, changed = candidate, True
            else:
                index += size
        if not changed:
            size //= 2
    return parts
