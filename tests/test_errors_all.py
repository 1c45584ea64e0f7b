"""Every subcommand with every kind of bad argument and bad file: exit 2, one line, no traceback.

The contract (``shared/contract/CLI.md``, "Exit status"): a usage error or an unreadable or invalid
input is exit status 2 and one line on stderr saying what and where, never a traceback
(``run_depgraph`` checks that on every run) and never an "internal error" (a bug). argparse's own
errors are made one line too (``depgraph: error: audit: argument --format: invalid choice: ...
(see 'depgraph audit --help')``), without the usage block, and warnings gathered before an error
are not shown: the error is the whole answer.

The subcommands and their options are read from the real parser, so a new subcommand or option is
covered (or, for a file option this file does not know, reported) without editing this file.
Bad files are made in ``tmp_path``: empty, a directory, a nonexistent path, the first 64 KiB of
the running Python's real ELF executable (binary), and the first half of a real gzip fixture (the
precise-security ``Packages.gz`` of March 2014: a truncated gzip).

Three bad-looking inputs are valid by design and asserted as such (``test_not_errors_by_design``):
an empty ``--maps`` file (the advice's grep found nothing), a truncated ``changelog.Debian.gz``
given to ``changelog --file`` (read up to the cut with a warning, as the README says), and an empty
directory as ``restart --root`` (restart reads only saved inputs under another root).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from depgraph.cli import build_parser
from tests.conftest import HEARTBLEED, Run, run_depgraph, scenario

ROOT = scenario("ubuntu-14.04-core-armhf")
STATUS = ROOT / "var/lib/dpkg/status"
CHANGELOG = ROOT / "usr/share/doc/libssl1.0.0/changelog.Debian.gz"
MAPS = HEARTBLEED.parent / "audit/raspbian-wheezy-stale/maps.txt"
PACKAGES_GZ = (
    HEARTBLEED
    / "indexes/precise-armhf-2014-03"
    / "ports.ubuntu.com_ubuntu-ports_dists_precise-security_main_binary-armhf_Packages.gz"
)
CVE = "CVE-2014-0160"

BASE: dict[str, tuple[str | Path, ...]] = {
    "graph": ("graph", "libssl1.0.0", "--status", STATUS),
    "audit": ("audit", "--status", STATUS),
    "restart": ("restart", "--root", ROOT, "--maps", MAPS),
    "changelog": ("changelog", "--file", CHANGELOG, "--cve", CVE),
    "profiles": ("profiles",),
    "collect": ("collect", "--library", "libpq5"),
    "fleet": ("fleet", "--jobs", "1", STATUS),
}
"""A valid invocation of each subcommand (offline, fast); each bad case changes one thing."""

INPUT_KINDS = ("nonexistent", "directory", "empty", "binary", "truncated-gzip")
FILE_OPTIONS: dict[tuple[str, str], tuple[str | Path, ...]] = {
    ("graph", "--status"): ("graph", "libssl1.0.0"),
    ("graph", "--packages"): ("graph", "libssl1.0.0"),
    ("graph", "--dpkg-list"): ("graph", "libssl1.0.0"),
    ("graph", "--rdepends"): ("graph", "libssl1.0.0"),
    ("graph", "--snapshot"): ("graph", "libssl1.0.0"),
    ("audit", "--status"): ("audit",),
    ("audit", "--packages"): ("audit",),
    ("audit", "--dpkg-list"): ("audit",),
    ("audit", "--rdepends"): ("audit",),
    ("audit", "--snapshot"): ("audit",),
    ("audit", "--openssl-version"): ("audit", "--status", STATUS),
    ("audit", "--maps"): ("audit", "--root", ROOT),
    ("audit", "--profile"): ("audit", "--status", STATUS),
    ("restart", "--maps"): ("restart", "--root", ROOT),
    ("changelog", "--file"): ("changelog", "--cve", CVE),
    ("profiles", "--show"): ("profiles",),
}
"""Options that read a file, with the rest of a valid command line; each gets every INPUT_KIND."""
ROOT_OPTIONS: dict[str, tuple[str | Path, ...]] = {
    "graph": ("graph", "libssl1.0.0"),
    "audit": ("audit",),
    "restart": ("restart",),
    "changelog": ("changelog", "libssl1.0.0", "--cve", CVE),
}
"""``--root DIR``: nonexistent, a file, and (except restart) an empty directory are errors."""
NOT_ERRORS = {
    ("audit", "--maps", "empty"),
    ("restart", "--maps", "empty"),
    ("changelog", "--file", "truncated-gzip"),
}
"""Valid by design (see the module docstring); ``test_not_errors_by_design`` checks them."""


def subparsers() -> dict[str, argparse.ArgumentParser]:
    """Every subcommand's parser, from the real command line."""
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("depgraph has no subcommands")


def options(command: str) -> list[argparse.Action]:
    return [
        action
        for action in subparsers()[command]._actions
        if action.option_strings and not isinstance(action, argparse._HelpAction)
    ]


def base(command: str) -> tuple[str | Path, ...]:
    """A valid invocation; a subcommand this file does not know (``collect``) runs bare."""
    return BASE.get(command, (command,))


def assert_error(run: Run) -> str:
    """Exit 2, nothing on stdout, exactly one ``depgraph: error:`` line on stderr; that line."""
    lines = run.stderr.splitlines()
    assert run.status == 2, (run.status, run.stderr)
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("depgraph: error: "), run.stderr
    assert "internal error" not in lines[0], lines[0]
    assert run.stdout == "", run.stdout
    return lines[0]


def bad_file(tmp_path: Path, kind: str) -> Path:
    """A bad input of ``kind`` built for real in ``tmp_path``."""
    path = tmp_path / kind
    if kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "binary":
        path.write_bytes(Path(sys.executable).resolve().read_bytes()[:65536])
    elif kind == "truncated-gzip":
        data = PACKAGES_GZ.read_bytes()
        path = tmp_path / "truncated_Packages.gz"
        path.write_bytes(data[: len(data) // 2])
    else:
        assert kind == "nonexistent"
    return path


# --- the valid baselines: each bad case below differs from one of these in one thing --------------


@pytest.mark.parametrize("command", sorted(BASE))
def test_baselines_are_valid(command: str, tmp_path: Path) -> None:
    if command == "collect":  # writes its snapshot, not stdout
        output = tmp_path / "host.tar.gz"
        done = run_depgraph(*base(command), "-o", output)
        assert done.status == 0 and output.stat().st_size > 0, done.stderr
        return
    done = run_depgraph(*base(command))
    assert done.status in (0, 1), done.stderr
    assert done.stdout, done.stderr


def test_every_subcommand_is_covered() -> None:
    """A new subcommand gets the argument cases below; a file option this file does not know of
    (type Path) fails here until it is added to FILE_OPTIONS, ROOT_OPTIONS or OUTPUT handling."""
    known = set(BASE) | {"collect"}
    assert set(subparsers()) <= known, set(subparsers()) - known
    unknown = []
    for command in BASE:
        for action in options(command):
            if action.type is not Path:
                continue
            option = action.option_strings[-1]
            if option in ("--root", "--output") or (command, option) in FILE_OPTIONS:
                continue
            unknown.append((command, option))
    assert not unknown, f"file options without bad-file cases: {unknown}"


# --- bad arguments --------------------------------------------------------------------------------


def test_no_subcommand_and_unknown_subcommand() -> None:
    assert "COMMAND" in assert_error(run_depgraph())
    assert "no-such-command" in assert_error(run_depgraph("no-such-command"))


@pytest.mark.parametrize("command", sorted(subparsers()))
def test_unknown_option(command: str) -> None:
    line = assert_error(run_depgraph(*base(command), "--no-such-option"))
    assert "--no-such-option" in line
    assert f"depgraph {command} --help" in line  # names the subcommand, not the top level


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (command, action.option_strings[-1])
        for command in sorted(subparsers())
        for action in options(command)
        if action.nargs is None
    ],
)
def test_missing_value(command: str, option: str) -> None:
    """Every option that takes a value, given last without one."""
    line = assert_error(run_depgraph(*base(command), option))
    assert "expected one argument" in line, line


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (command, action.option_strings[-1])
        for command in sorted(subparsers())
        for action in options(command)
        if action.choices
    ],
)
def test_bad_choice(command: str, option: str) -> None:
    """``--format``, ``--fail-on`` and every other closed choice."""
    line = assert_error(run_depgraph(*base(command), option, "no-such-choice"))
    assert "invalid choice: 'no-such-choice'" in line, line


@pytest.mark.parametrize(
    "args",
    [
        ("audit", "--library", "libssl1.0.0", "--cve", "CVE-14-160", "--status", STATUS),
        ("audit", "--library", "libssl1.0.0", "--cve", "heartbleed", "--status", STATUS),
        ("changelog", "--file", CHANGELOG, "--cve", "CVE-2014-"),
        ("changelog", "libssl1.0.0", "--root", ROOT, "--cve", "2014-0160"),
    ],
)
def test_bad_cve_id(args: tuple[str | Path, ...]) -> None:
    assert "CVE" in assert_error(run_depgraph(*args))


@pytest.mark.parametrize(
    "args",
    [
        ("graph", "--status", STATUS),  # no PACKAGE
        ("graph", "libssl1.0.0", "--status", STATUS, "--depth", "two"),
        ("graph", "libssl1.0.0", "--status", STATUS, "--all", "--installed-only"),
        ("graph", "libssl1.0.0", "--root", ROOT, "--status", STATUS),  # a root and saved files
        ("audit", "--status", STATUS, "--cve", CVE),  # --cve without --library
        ("audit", "--status", STATUS, "--fixed-version", "1.0.1g-1"),
        ("audit", "--status", STATUS, "--profile", "no-such-profile"),
        ("audit", "--status", STATUS, "--release", "no-such-release"),
        ("restart", "--root", ROOT, "--maps", MAPS, "--library", "not a library"),
        ("restart", "--maps", MAPS, "--library", "libssl.so.*", "--fixed-version", "1.0.1g"),
        ("changelog", "--file", CHANGELOG),  # neither --cve nor --since
        ("changelog", "--cve", CVE),  # neither PACKAGE nor --file
        ("changelog", "--file", CHANGELOG, "--since", "not a version!"),
        ("changelog", "no-such-package", "--root", ROOT, "--cve", CVE),
        ("profiles", "--show", "no-such-profile"),
    ],
)
def test_bad_combinations_and_values(args: tuple[str | Path, ...]) -> None:
    assert_error(run_depgraph(*args))


# --- bad files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", INPUT_KINDS)
@pytest.mark.parametrize(("command", "option"), sorted(FILE_OPTIONS))
def test_bad_input_file(command: str, option: str, kind: str, tmp_path: Path) -> None:
    if (command, option, kind) in NOT_ERRORS:
        pytest.skip("valid by design: test_not_errors_by_design")
    if option not in {a.option_strings[-1] for a in options(command)}:
        pytest.skip(f"{command} has no {option} (yet)")
    path = bad_file(tmp_path, kind)
    line = assert_error(run_depgraph(*FILE_OPTIONS[command, option], option, path))
    if kind != "nonexistent" or option not in ("--profile", "--show"):
        assert str(path) in line, line  # says which file
    else:
        assert path.name in line, line


@pytest.mark.parametrize("command", sorted(ROOT_OPTIONS))
def test_bad_root(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    assert str(missing) in assert_error(run_depgraph(*ROOT_OPTIONS[command], "--root", missing))
    a_file = tmp_path / "file"
    a_file.write_text("not a directory\n")
    assert str(a_file) in assert_error(run_depgraph(*ROOT_OPTIONS[command], "--root", a_file))
    if command != "restart":
        empty = tmp_path / "empty"
        empty.mkdir()
        line = assert_error(run_depgraph(*ROOT_OPTIONS[command], "--root", empty))
        assert "status" in line, line


@pytest.mark.parametrize("command", sorted(subparsers()))
def test_bad_output(command: str, tmp_path: Path) -> None:
    """``-o`` naming a directory, or a file in a directory that does not exist."""
    if "--output" not in {a.option_strings[-1] for a in options(command)}:
        pytest.skip(f"{command} has no --output")
    if command not in BASE:
        pytest.skip(f"{command}: no valid baseline known here")
    for target in (tmp_path, tmp_path / "missing" / "report.txt"):
        line = assert_error(run_depgraph(*base(command), "-o", target))
        assert str(target) in line, line


def test_not_errors_by_design(tmp_path: Path) -> None:
    """The three exceptions, each with what it does instead of an error."""
    empty = bad_file(tmp_path, "empty")
    for args in (("audit", "--root", ROOT, "--maps", empty), ("restart", "--maps", empty)):
        done = run_depgraph(*args)
        assert done.status in (0, 1), done.stderr  # 0 processes found: the grep found nothing
    cut = tmp_path / "changelog.Debian.gz"
    data = CHANGELOG.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    done = run_depgraph("changelog", "--file", cut, "--cve", CVE)
    assert "truncated gzip" in done.stderr, done.stderr
    assert done.status in (0, 1)
    bare = tmp_path / "bare-root"
    bare.mkdir()
    done = run_depgraph("restart", "--root", bare)
    assert done.status == 1, done.stderr  # not "nothing to restart": nothing was looked at
    assert "no processes were scanned" in done.stderr


# --- what an error echoes (issue 23) ---------------------------------------------------------------


def test_a_huge_argument_is_echoed_cut(tmp_path: Path) -> None:
    """An argument of 100,000 characters was echoed whole: now its start and its length."""
    huge = "x" * 100_000
    for args in (
        ("audit", "--status", tmp_path / huge[:200] / huge[:200]),
        ("audit", "--format", huge),
        ("graph", huge, "--status", STATUS),
        ("audit", "--status", STATUS, f"--{huge}"),
    ):
        line = assert_error(run_depgraph(*args))
        assert len(line) <= 1100, len(line)
    line = assert_error(run_depgraph("audit", "--format", huge))
    assert "more characters" in line, line


def test_a_path_with_a_newline_or_an_escape_is_one_line(tmp_path: Path) -> None:
    """A path with a newline split the error over two lines; an ESC reached the terminal."""
    odd = tmp_path / "a\nb\x1b]0;owned\x07c"
    line = assert_error(run_depgraph("audit", "--status", odd))
    assert "a\\nb\\e]0;owned\\x07c" in line, line
    odd.mkdir()
    line = assert_error(run_depgraph("audit", "--status", odd))
    assert "\x1b" not in line and "a\\nb" in line, line
