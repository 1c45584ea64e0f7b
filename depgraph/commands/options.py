"""Options shared by the commands that read package sources (contract: "Where the packages come from")."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from depgraph.model import IMPACTS

if TYPE_CHECKING:
    from depgraph.load import SourceOptions
    from depgraph.profiles import Profile


def input_path(text: str) -> Path:
    """argparse ``type=`` of an input file option: a path, but never an empty one (``Path("")`` is
    ``.``, and "--status '': .: is a directory" names the wrong thing)."""
    if text == "":
        raise argparse.ArgumentTypeError("empty path")
    return Path(text)


def profile_name(text: str) -> str:
    """argparse ``type=`` of ``--profile``: a name or a file, never empty (an empty one was taken
    for no ``--profile`` at all, and the default profile audited in its place)."""
    if text == "":
        raise argparse.ArgumentTypeError("empty name")
    return text


FAIL_LEVELS = ("critical", "high", "medium", "low")
"""``--fail-on`` choices: the risk levels a finding can reach, most severe first."""


def add_profile_options(parser: argparse.ArgumentParser) -> None:
    """``--profile``, or the ad hoc ``--library``, ``--cve``, ``--fixed-version`` and ``--affected``
    (Debian version constraints: see :func:`depgraph.profiles.parse_affected`)."""
    which = parser.add_argument_group("the vulnerability (default: --profile heartbleed)")
    which.add_argument(
        "--profile",
        type=profile_name,
        metavar="NAME|FILE",
        help="a built-in profile (depgraph profiles) or a TOML file",
    )
    which.add_argument("--library", metavar="PKG", help="ad hoc: the library package")
    which.add_argument("--cve", metavar="CVE-ID", help="ad hoc: the CVE (with --library)")
    which.add_argument(
        "--fixed-version", metavar="VER", help="ad hoc: the first fixed package version"
    )
    which.add_argument(
        "--affected",
        metavar="SPEC",
        action="append",
        default=[],
        help="ad hoc: a range of affected versions, as '>= 5.6.0, < 5.6.1+really5.4.5-1' "
        "(repeatable; see README)",
    )
    which.add_argument(
        "--impact",
        choices=IMPACTS,
        help="ad hoc: what the bug lets an attacker do; the plan follows it (default: unknown, "
        "or what a built-in profile for the CVE says)",
    )


def profile_of(args: argparse.Namespace) -> Profile:
    """The profile named, the ad-hoc one, or Heartbleed."""
    from depgraph.errors import UsageError
    from depgraph.profiles import adhoc_profile, load_profile

    if args.library or args.cve:
        if not (args.library and args.cve):
            raise UsageError("--library and --cve go together")
        if args.profile:
            raise UsageError("give either --profile or --library with --cve")
        return adhoc_profile(
            args.library, args.cve, args.fixed_version, tuple(args.affected), args.impact
        )
    if args.fixed_version or args.affected or args.impact:
        option = (
            "--fixed-version"
            if args.fixed_version
            else "--affected"
            if args.affected
            else "--impact"
        )
        raise UsageError(f"{option} needs --library and --cve")
    return load_profile(args.profile or "heartbleed")


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """``--root``, ``--status``, ``--packages``, ``--dpkg-list``, ``--snapshot``, ``--rdepends``
    and the scope."""
    group = parser.add_argument_group("where the packages come from (default: this system)")
    group.add_argument(
        "--root", type=input_path, metavar="DIR", help="read a chroot or unpacked image like /"
    )
    group.add_argument(
        "--status", type=input_path, metavar="FILE", help="a saved /var/lib/dpkg/status"
    )
    group.add_argument(
        "--packages",
        type=input_path,
        metavar="FILE",
        action="append",
        default=[],
        help="an apt Packages index (plain, .gz, .xz, .lz4); repeatable",
    )
    group.add_argument(
        "--dpkg-list", type=input_path, metavar="FILE", help="saved 'dpkg -l' output"
    )
    group.add_argument(
        "--snapshot",
        type=input_path,
        metavar="FILE",
        help="a tarball written by 'depgraph collect'",
    )
    group.add_argument(
        "--rdepends",
        type=input_path,
        metavar="FILE",
        action="append",
        default=[],
        help="saved 'apt-cache rdepends PKG' output; repeatable",
    )
    scope = group.add_mutually_exclusive_group()
    scope.add_argument(
        "--installed-only",
        action="store_true",
        help="only installed packages (default when installed state is known)",
    )
    scope.add_argument(
        "--all", dest="all_packages", action="store_true", help="every package apt knows of"
    )
    group.add_argument(
        "--pure",
        action="store_true",
        help="read files in pure Python even when python-apt is available",
    )
    group.add_argument(
        "--lenient",
        action="store_true",
        help="skip malformed records with a warning instead of stopping",
    )


def source_options(args: argparse.Namespace) -> SourceOptions:
    """The parsed source options as the loader's value."""
    from depgraph.load import SourceOptions

    return SourceOptions(
        root=args.root,
        status=args.status,
        packages=tuple(args.packages),
        dpkg_list=args.dpkg_list,
        snapshot=getattr(args, "snapshot", None),
        rdepends=tuple(args.rdepends),
        all_packages=args.all_packages,
        installed_only=args.installed_only,
        pure=args.pure,
    )
