"""``depgraph changelog``: was a CVE's fix backported into a package, in which version, on which date.

For package maintainers and auditors (contract: ``shared/contract/CLI.md``). The answer quotes the
deb-changelog(5) entry (version, distribution, date, maintainer, line); when the Debian changelog is
silent it looks in the upstream changelog (OpenSSL's CHANGES). ``--since VERSION`` lists every CVE
named after a version; ``--all`` checks the changelogs of every package under the root and answers
each package as ``changelog PACKAGE`` does.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from depgraph.commands import Outcome
from depgraph.commands.options import input_path

if TYPE_CHECKING:
    from depgraph.diagnostics import Diagnostics


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``changelog`` to the command line."""
    parser = commands.add_parser(
        "changelog",
        help="was a CVE's fix backported into a package: version, date, changelog entry",
        description=(
            "Find the Debian changelog entry that fixed a CVE in an installed package, a "
            "changelog.Debian.gz or a source tree's debian/changelog, and say whether the installed "
            "version has it; falls back to the upstream changelog (OpenSSL's CHANGES). Exit status: "
            "0 the fix is in (with --all: in every installed package whose changelogs name the "
            "CVE), 1 it is not (or the CVE is named nowhere), 2 an error."
        ),
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "package", nargs="?", metavar="PACKAGE", help="an installed package (name or name:arch)"
    )
    target.add_argument(
        "--file",
        type=input_path,
        metavar="PATH",
        help="a changelog (plain or .gz), or a source tree with debian/changelog",
    )
    target.add_argument(
        "--all",
        dest="all_packages",
        action="store_true",
        help="every package's changelog under the root (with --cve)",
    )
    question = parser.add_mutually_exclusive_group(required=True)
    question.add_argument("--cve", metavar="CVE-ID", help="the CVE to look for")
    question.add_argument(
        "--since", metavar="VERSION", help="list every CVE named in entries newer than VERSION"
    )
    parser.add_argument(
        "--root",
        type=input_path,
        metavar="DIR",
        help="read a chroot or unpacked image like / (default /)",
    )
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write the report to FILE"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, diagnostics: Diagnostics) -> Outcome:
    """Answer the question for the package, file or whole root."""
    from depgraph.changelog_report import (
        answer_all,
        answer_file,
        answer_package,
        cve_argument,
    )
    from depgraph.errors import SourceError, UsageError

    root: Path = args.root or Path("/")
    if args.root is not None and not root.is_dir():
        raise SourceError(root, "not a directory")
    cve = cve_argument(args.cve) if args.cve else None
    if args.all_packages:
        if cve is None:
            raise UsageError("--all needs --cve")
        return answer_all(root, cve, args.format, diagnostics)
    if args.file is not None:
        if args.root is not None:
            raise UsageError("--file names the changelog itself; do not combine it with --root")
        return answer_file(args.file, cve, args.since, args.format, diagnostics)
    return answer_package(root, args.package, cve, args.since, args.format, diagnostics)
