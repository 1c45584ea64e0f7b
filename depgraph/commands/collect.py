"""``depgraph collect``: capture what the analysis needs from this host (contract: ``CLI.md``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from depgraph.commands import Outcome

if TYPE_CHECKING:
    from depgraph.diagnostics import Diagnostics


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``collect`` to the command line."""
    collect = commands.add_parser(
        "collect",
        help="capture this host into one snapshot file for an audit elsewhere",
        description=(
            "Write one .tar.gz with what an audit needs from this host: the dpkg database and "
            "file lists, dpkg.log, changelogs, dpkg -l, openssl version -a, the ELF evidence of "
            "the library's dependents, the processes that map it (maps lines, sockets, cgroups) "
            "and certificate metadata (never a private key). Read it elsewhere with "
            "'depgraph audit --snapshot FILE'. --shell prints a POSIX shell collector for hosts "
            "without Python 3."
        ),
    )
    collect.add_argument(
        "-o",
        "--output",
        dest="snapshot_file",
        type=Path,
        metavar="FILE",
        help="the snapshot to write (HOST.tar.gz)",
    )
    collect.add_argument(
        "--library",
        metavar="PKG",
        action="append",
        default=[],
        help="a library package to capture for (repeatable; default: the installed libraries "
        "of the built-in profiles)",
    )
    collect.add_argument(
        "--with-lists", action="store_true", help="also capture apt's Packages lists"
    )
    collect.add_argument(
        "--shell",
        action="store_true",
        help="print the POSIX shell collector (for hosts without Python 3) and exit",
    )
    collect.set_defaults(run=run)


def run(args: argparse.Namespace, diagnostics: Diagnostics) -> Outcome:
    """Write the snapshot (or print the shell collector)."""
    from depgraph.errors import UsageError

    if args.shell:
        if args.snapshot_file is not None or args.library or args.with_lists:
            raise UsageError("--shell prints the collector only; give its options to the script")
        from importlib.resources import files

        return Outcome(files("depgraph.collect").joinpath("collect.sh").read_text("utf-8"))
    if args.snapshot_file is None:
        raise UsageError("collect needs -o FILE.tar.gz (or --shell)")
    from depgraph.collect import collect

    output: Path = args.snapshot_file
    collected = collect(output, list(args.library), with_lists=args.with_lists)
    for gap in collected.missing:
        diagnostics.warn(str(output), 0, f"not captured: {gap['what']}: {gap['why']}")
    size = output.stat().st_size
    from depgraph.formats.escape import error_line  # a name with a newline or ESC: one line

    line = (
        f"wrote {output} ({size / 1024:.0f} KiB, {collected.members} files): "
        f"{', '.join(collected.captured)}"
    )
    print(f"depgraph: {error_line(line)}", file=sys.stderr)
    return Outcome("")
