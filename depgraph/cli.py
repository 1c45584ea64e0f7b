"""The ``depgraph`` command line: parsing and dispatch only (contract: ``shared/contract/CLI.md``).

Each subcommand lives in ``depgraph.commands``. stdout carries the report alone; warnings and the
summary go to stderr. Exit status: 0 fine, 1 findings at or above ``--fail-on``, 2 usage or input
error (one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from depgraph.commands import audit, changelog, collect, fleet, graph, profiles, restart
from depgraph.commands.output import check_output
from depgraph.debian.backend import AptMissingError
from depgraph.diagnostics import Diagnostics
from depgraph.errors import DepgraphError, UsageError
from depgraph.formats.escape import error_line

MAX_WARNINGS_SHOWN = 20


class _Parser(argparse.ArgumentParser):
    """argparse with the contract's one-line errors: no usage block, a pointer to ``--help``.
    Subcommand parsers are of the same class (``add_subparsers`` uses the parent's)."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("depgraph").strip()
        where = f"{command}: " if command else ""
        line = error_line(f"{where}{message} (see '{self.prog} --help')")
        self.exit(2, f"depgraph: error: {line}\n")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; ``--help`` of each subcommand is the README's usage text."""
    parser = _Parser(
        prog="depgraph",
        description="Who is exposed through a vulnerable shared library on a Debian or Ubuntu system.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (audit, graph, restart, changelog, collect, fleet, profiles):
        module.register(commands)
    return parser


def _emit(text: str | bytes | Iterable[str], output: Path | None) -> None:
    if isinstance(text, str):
        text = _encodable(text)
    if output is None:
        if isinstance(text, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(text)
            sys.stdout.buffer.flush()
        elif isinstance(text, str):
            sys.stdout.write(text)
        else:
            _write_pieces(text, sys.stdout)
        return
    try:
        if isinstance(text, bytes):
            output.write_bytes(text)
        elif isinstance(text, str):
            output.write_text(text, encoding="utf-8")
        else:
            with output.open("w", encoding="utf-8") as stream:
                _write_pieces(text, stream)
    except OSError as error:
        raise UsageError(f"{output}: cannot write: {error.strerror or error}") from None


def _encodable(text: str) -> str:
    """A file name that is not UTF-8 reaches a machine format (JSON, HTML) as lone surrogates
    (PEP 383): written as the escape ``\\udcff`` (valid JSON), not an UnicodeEncodeError."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _write_pieces(pieces: Iterable[str], stream: TextIO) -> None:
    """A report made in pieces, written in chunks of about a megabyte as it is made."""
    chunk: list[str] = []
    size = 0
    for piece in pieces:
        chunk.append(piece)
        size += len(piece)
        if size >= 1 << 20:
            stream.write(_encodable("".join(chunk)))
            chunk, size = [], 0
    stream.write(_encodable("".join(chunk)))


def _show_warnings(diagnostics: Diagnostics) -> None:
    shown = diagnostics.warnings[:MAX_WARNINGS_SHOWN]
    for warning in shown:
        print(f"depgraph: warning: {error_line(str(warning))}", file=sys.stderr)
    hidden = len(diagnostics.warnings) - len(shown)
    if hidden > 0:
        print(f"depgraph: warning: ... and {hidden} more", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``depgraph`` console script; returns the exit status."""
    # The archive's index is ~500,000 small acyclic objects; the cyclic collector would traverse
    # them over and over while they are built (a third of the run time) and find nothing to free.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _main(argv)
    finally:
        if collecting:
            gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # name the subcommand whose options these are not
        _Parser(prog=f"depgraph {args.command}").error(
            f"unrecognized arguments: {' '.join(unknown)}"
        )
    diagnostics = Diagnostics(strict=not getattr(args, "lenient", False))
    try:
        check_output(args)  # before anything is read or written: -o never replaces an input
        outcome = args.run(args, diagnostics)
        _emit(outcome.text, getattr(args, "output", None))
    except DepgraphError as error:
        # The contract's one line: warnings of a run that produced no report are left out (an
        # error caused by an unreadable file says why itself).
        print(f"depgraph: error: {error_line(error.user_message())}", file=sys.stderr)
        return 2
    except AptMissingError as error:
        print(f"depgraph: error: {error_line(str(error))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug: still one line, never a traceback (set DEPGRAPH_DEBUG=1)
        if os.environ.get("DEPGRAPH_DEBUG"):
            raise
        message = error_line(f"{type(error).__name__}: {error}")
        print(f"depgraph: internal error: {message}", file=sys.stderr)
        return 2
    _show_warnings(diagnostics)
    if diagnostics.summary:
        print(f"depgraph: {error_line(diagnostics.summary)}", file=sys.stderr)
    return int(outcome.status)


def main_exit() -> None:
    """Console-script wrapper: exit with :func:`main`'s status."""
    sys.exit(main())
