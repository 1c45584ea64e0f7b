"""Run every parser's fuzz target for a while: ``python -m tests.fuzz`` (``make fuzz``).

Each target runs for at least ``--seconds`` and at least ``--min-inputs`` inputs, whichever takes
longer, in batches of Hypothesis runs with fresh random seeds. An input that raises anything but
depgraph's own errors (or hangs for ``--hang-seconds``) is shrunk by Hypothesis and saved to
``tests/corpus/TARGET/`` (``tests/test_fuzz.py`` replays that corpus on every test run); the
target then stops and the runner exits with status 1 once all targets have run. The table at the
end gives the inputs each target ran.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from hypothesis import HealthCheck, Phase, given, settings

from tests.fuzz.mutate import minimise, mutant
from tests.fuzz.targets import TARGETS, Target, check, workdir

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
BATCH = 500
MUTANTS = 20
"""Mutants run per drawn document (see ``mutate``)."""


class Hang(Exception):
    """One input took longer than the hang limit."""


@contextmanager
def _limit(seconds: int) -> Iterator[None]:
    def expired(_signal: int, _frame: FrameType | None) -> None:
        raise Hang(f"no result after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(slots=True)
class Outcome:
    name: str
    inputs: int = 0
    seconds: float = 0.0
    failure: str | None = None


def fuzz(
    target: Target, seconds: float, min_inputs: int, hang: int, save: bool, mutants: int = MUTANTS
) -> Outcome:
    """Run one target until both the time and the input count are reached, or it fails."""
    outcome = Outcome(target.name)
    scratch = workdir()
    last: list[bytes] = []
    broken_mutant: list[tuple[bytes, BaseException]] = []

    def run(data: bytes) -> None:
        outcome.inputs += 1
        with _limit(hang):
            check(target, data, scratch)

    @settings(
        max_examples=BATCH,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
    )
    @given(target.inputs)
    def batch(data: bytes) -> None:
        try:
            run(data)
        except BaseException:
            last[:] = [data]
            raise
        if broken_mutant:
            return  # already found one; let the batch end
        rng = random.Random(data)
        for _ in range(mutants):
            changed = mutant(data, rng)
            try:
                run(changed)
            except Exception as error:
                broken_mutant.append((changed, error))
                return

    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds or outcome.inputs < min_inputs:
            try:
                batch()
            except Exception as error:  # anything a target lets out is a bug in depgraph
                outcome.failure = f"{type(error).__name__}: {str(error)[:200]}"
                traceback.print_exc()
                if last and save:
                    outcome.failure += f" (input kept as {_save(target.name, last[0])})"
                break
            if broken_mutant:
                data, error = broken_mutant[0]
                traceback.print_exception(error)
                outcome.failure = f"{type(error).__name__}: {str(error)[:200]}"
                if save:
                    # A hang is kept as it is: minimising it would take the hang limit per try.
                    small = (
                        data
                        if isinstance(error, Hang)
                        else minimise(data, _fails_like(target, scratch, hang, error))
                    )
                    outcome.failure += f" (input kept as {_save(target.name, small)})"
                break
    finally:
        outcome.seconds = time.monotonic() - started
        shutil.rmtree(scratch, ignore_errors=True)
    return outcome


def _fails_like(
    target: Target, scratch: Path, hang: int, error: BaseException
) -> Callable[[bytes], bool]:
    """Whether an input still fails with the same kind of error (for the minimiser)."""

    def fails(data: bytes) -> bool:
        try:
            with _limit(hang):
                check(target, data, scratch)
        except Exception as again:
            return type(again) is type(error)
        return False

    return fails


SEEDS = 300
"""Inputs drawn from a target's strategy to start atheris from (plus the target's corpus)."""
_DONE = re.compile(r"Done (\d+) runs in (\d+) second")


def fuzz_atheris(target: Target, seconds: float, hang: int) -> Outcome:
    """Run one target under atheris in a child process (libFuzzer exits the process when done)."""
    from hypothesis.errors import NonInteractiveExampleWarning

    outcome = Outcome(target.name)
    scratch = workdir()
    seeds = workdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        for number in range(SEEDS):
            (seeds / f"seed-{number}").write_bytes(target.inputs.example())
    for path in (CORPUS / target.name).glob("*"):
        shutil.copy(path, seeds / f"corpus-{path.name}")
    folder = CORPUS / target.name
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "tests.fuzz.atheris_run", target.name, str(scratch), str(seeds),
        f"-max_total_time={max(1, int(seconds))}", f"-timeout={hang}", "-rss_limit_mb=2048",
        f"-artifact_prefix={folder}/", "-print_final_stats=1",
    ]  # fmt: skip
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, cwd=CORPUS.parent.parent
        )
    finally:
        outcome.seconds = time.monotonic() - started
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(seeds, ignore_errors=True)
    counted = _DONE.search(done.stderr)
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", done.stderr)
    outcome.inputs = int((counted or runs).group(1)) if (counted or runs) else 0
    if done.returncode != 0:
        print(done.stderr[-4000:], file=sys.stderr)
        outcome.failure = f"atheris exit {done.returncode} (the input is in {folder.relative_to(CORPUS.parent.parent)})"
    if not folder.exists() or not any(folder.iterdir()):
        folder.rmdir()
    return outcome


def _save(name: str, data: bytes) -> Path:
    folder = CORPUS / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}.bin"
    path.write_bytes(data)
    return path.relative_to(CORPUS.parent.parent)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument(
        "targets", nargs="*", help=f"targets to run (default all: {', '.join(TARGETS)})"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="minimum time per target")
    parser.add_argument("--min-inputs", type=int, default=10_000, help="minimum inputs per target")
    parser.add_argument(
        "--hang-seconds", type=int, default=20, help="an input running longer hangs"
    )
    parser.add_argument(
        "--no-save", action="store_true", help="do not add failing inputs to the corpus"
    )
    parser.add_argument(
        "--engine",
        choices=("hypothesis", "atheris"),
        default="hypothesis",
        help="hypothesis (default: grammar-aware strategies and mutants) or atheris "
        "(coverage-guided libFuzzer from seeds the strategies draw; --min-inputs does not apply)",
    )
    args = parser.parse_args(argv)
    if args.engine == "atheris" and importlib.util.find_spec("atheris") is None:
        parser.error("--engine atheris: atheris is not installed (pip install atheris)")
    unknown = [name for name in args.targets if name not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s): {', '.join(unknown)}")
    outcomes = []
    for name in args.targets or TARGETS:
        if args.engine == "atheris":
            outcome = fuzz_atheris(TARGETS[name], args.seconds, args.hang_seconds)
        else:
            outcome = fuzz(
                TARGETS[name], args.seconds, args.min_inputs, args.hang_seconds, not args.no_save
            )
        outcomes.append(outcome)
        status = "ok" if outcome.failure is None else f"FAILED: {outcome.failure}"
        print(
            f"{name:18} {outcome.inputs:>8} inputs {outcome.seconds:7.1f} s  {status}", flush=True
        )
    total = sum(outcome.inputs for outcome in outcomes)
    failed = [outcome.name for outcome in outcomes if outcome.failure]
    print(f"{'total':18} {total:>8} inputs; {len(failed)} target(s) failed {' '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
