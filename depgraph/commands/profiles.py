"""``depgraph profiles``: the built-in vulnerability profiles (``depgraph/profiles/*.toml``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from depgraph.commands import Outcome

if TYPE_CHECKING:
    from depgraph.diagnostics import Diagnostics


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``profiles`` to the command line."""
    parser = commands.add_parser(
        "profiles",
        help="list the built-in vulnerability profiles",
        description=(
            "The built-in vulnerability profiles: id, CVEs, library packages and title; with "
            "--show, one profile's ranges, fixed versions per release and remediation."
        ),
    )
    parser.add_argument(
        "--show", metavar="NAME|FILE", help="show one profile (built-in id or a TOML file) in full"
    )
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write the report to FILE"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, diagnostics: Diagnostics) -> Outcome:
    """List the profiles, or show one."""
    from depgraph.profiles.listing import render_details, render_list
    from depgraph.profiles.loader import builtin_profiles, load_profile

    if args.show:
        return Outcome(render_details(load_profile(args.show), args.format))
    profiles = builtin_profiles()
    diagnostics.summary = f"{len(profiles)} built-in profiles"
    return Outcome(render_list(profiles, args.format))
