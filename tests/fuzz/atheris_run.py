"""One target under atheris (coverage-guided, libFuzzer): ``python -m tests.fuzz.atheris_run NAME
SCRATCH SEEDS [libFuzzer options]``, started by ``python -m tests.fuzz --engine atheris``.

depgraph's modules are instrumented for coverage; the seed corpus is a few hundred inputs drawn from
the target's Hypothesis strategy plus ``tests/corpus/NAME/``, so that libFuzzer starts from
documents that get past the first line. An input that lets anything but depgraph's own errors out
is written by libFuzzer to ``-artifact_prefix`` (the runner points it at ``tests/corpus/NAME/``).
atheris is optional (``pip install atheris``; wheels exist for CPython 3.11 on x86_64).
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["depgraph"]):
    from tests.fuzz.targets import TARGETS, check


def main() -> None:
    name, scratch, seeds, *options = sys.argv[1:]
    target = TARGETS[name]

    def one_input(data: bytes) -> None:
        check(target, data, Path(scratch))

    atheris.Setup([sys.argv[0], *options, seeds], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
