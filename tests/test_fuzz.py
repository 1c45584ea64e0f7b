"""Every parser against generated and once-failing inputs: nothing but depgraph's own errors.

The short bounded pass of ``make fuzz`` (``tests/fuzz/``): each parser's target runs on a fixed,
derandomised set of Hypothesis inputs, and every input in ``tests/corpus/PARSER/`` (the inputs that
once crashed a parser) is replayed. The long runs are ``make fuzz FUZZ_SECONDS=N``.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from depgraph.diagnostics import Diagnostics
from depgraph.errors import DepgraphError, ParseError
from depgraph.runtime.sockets import parse_table
from depgraph.sources.dpkg_status import read_status
from tests.fuzz.mutate import minimise, mutant
from tests.fuzz.targets import TARGETS, Target, check, workdir

CORPUS = Path(__file__).resolve().parent / "corpus"
EXAMPLES = 60
"""Per parser: 15 parsers x 60 inputs take about 15 s together, both backends alike."""


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    import shutil

    folder = workdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _corpus() -> list[Path]:
    return sorted(path for path in CORPUS.glob("*/*") if path.is_file())


@pytest.mark.parametrize("path", _corpus(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_corpus_input_is_handled(path: Path, scratch: Path) -> None:
    check(TARGETS[path.parent.name], path.read_bytes(), scratch)


def test_corpus_folders_name_targets() -> None:
    folders = {path.name for path in CORPUS.iterdir() if path.is_dir()}
    assert folders, "the corpus is empty"
    assert folders <= set(TARGETS), f"corpus folders without a target: {folders - set(TARGETS)}"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_parser_survives_generated_inputs(name: str, scratch: Path) -> None:
    target: Target = TARGETS[name]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(target.inputs)
    def survives(data: bytes) -> None:
        check(target, data, scratch)

    survives()


def test_expected_parsers_have_targets() -> None:
    expected = {
        "dpkg-status",
        "packages-index",
        "relations",
        "versions",
        "dpkg-list",
        "rdepends",
        "changelog",
        "upstream-changes",
        "proc-maps",
        "proc-net",
        "cgroup",
        "os-release",
        "openssl-version",
        "profile",
        "compressed-input",
        "file-list",
        "snapshot-tar",
        "saved-proc",
    }
    assert expected <= set(TARGETS)


# The harness itself must be able to fail: a target that lets a foreign exception out is caught.


def test_check_lets_foreign_exceptions_through(scratch: Path) -> None:
    def broken(data: bytes, _workdir: Path) -> None:
        raise IndexError("a parser bug")

    with pytest.raises(IndexError):
        check(Target("broken", TARGETS["cgroup"].inputs, broken), b"", scratch)


def test_check_accepts_depgraph_errors(scratch: Path) -> None:
    def refusing(data: bytes, _workdir: Path) -> None:
        raise ParseError("input", 3, "bad line")

    check(Target("refusing", TARGETS["cgroup"].inputs, refusing), b"", scratch)


def test_strict_status_refusal_is_a_parse_error_and_lenient_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "status"
    path.write_bytes(b"Package: a\nStatus: install ok installed\nVersion: 1\n\nnot a field\n")
    with pytest.raises(ParseError):
        read_status(path, Diagnostics(strict=True))
    lenient = Diagnostics(strict=False)
    assert [package.name for package in read_status(path, lenient)] == ["a"]
    assert lenient.warnings


def test_truncated_gzip_status_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "status.gz"
    path.write_bytes(gzip.compress(b"Package: a\nStatus: install ok installed\nVersion: 1\n")[:20])
    with pytest.raises(DepgraphError):
        read_status(path, Diagnostics(strict=False))


def test_socket_table_ignores_what_the_kernel_never_writes() -> None:
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    row = "0: {local} 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 {inode} 1\n"
    good = row.format(local="0100007F:0016", inode="4242")
    odd = [
        row.format(local="-1:0016", inode="1"),
        row.format(local="0100007F:-1", inode="2"),
        row.format(local="0100_07F:0016", inode="3"),
        row.format(local="0100007F:0016", inode="9" * 5000),
        row.format(local="0100007F:0016", inode="\u0663"),
    ]
    found = parse_table(header + good + "".join(odd), "tcp", 4)
    assert list(found) == [4242]
    assert str(found[4242]) == "127.0.0.1:22/tcp"


def test_minimise_keeps_the_failure() -> None:
    data = b"keep\nnoise one\nBOOM here\nnoise two\n"
    small = minimise(data, lambda candidate: b"BOOM" in candidate)
    assert small == b"BOOM"


def test_mutants_differ_and_are_reproducible() -> None:
    import random

    first = [mutant(b"Package: a\nVersion: 1\n", random.Random(7)) for _ in range(1)]
    again = [mutant(b"Package: a\nVersion: 1\n", random.Random(7)) for _ in range(1)]
    assert first == again
    assert first[0] != b"Package: a\nVersion: 1\n"


# What the fuzzing found, checked by value as well (the corpus replay only checks "no crash").


def test_versions_longer_than_any_real_one_are_refused_on_both_paths() -> None:
    """Fuzzing found a 200 kB version that took debian-inspector a minute to compare, and digit
    runs past ``int()``'s 4,300-digit limit: such versions are malformed, for either backend."""
    from depgraph.debian import versions

    big = "1." + "9" * 5000
    for left, right in ((big, "1.0"), ("1.0", big), ("9" * 5000 + ":1.0", "1.0")):
        with pytest.raises(ValueError, match="invalid version"):
            versions.compare(left, right)
    longest = "1." + "0" * (versions.MAX_LENGTH - 2)
    assert versions.compare(longest, "1.0") == 0  # leading zeros do not count
    assert versions._pure_compare(longest, "1.1") < 0


def test_changelog_trailing_blank_lines_and_trim_note(tmp_path: Path) -> None:
    from depgraph.debian.changelog import read_changelog

    corpus = CORPUS / "changelog" / "trailing-blank-lines.bin"
    path = tmp_path / "changelog.Debian.gz"
    path.write_bytes(corpus.read_bytes())
    changelog = read_changelog(path, Diagnostics(strict=True))
    assert changelog is not None
    assert [entry.version for entry in changelog.entries] == ["1.0"]
    assert changelog.entries[0].lines[-1].startswith(" -- A <a@b>")
    assert changelog.trimmed_at == 5 + 200_000 + 1  # the note's own line number
    assert not changelog.complete


def test_os_release_value_too_long_for_shlex_is_kept_as_text() -> None:
    from depgraph.release import read_key_values

    values = read_key_values('ID=debian\nPRETTY_NAME="' + "x" * 100_000 + '"\nVERSION_ID="7"\n')
    assert values["ID"] == "debian"
    assert values["VERSION_ID"] == "7"
    assert values["PRETTY_NAME"] == "x" * 100_000


def test_profile_with_an_integer_past_the_int_limit_is_a_profile_error() -> None:
    from depgraph.profiles.loader import ProfileError, parse_profile

    with pytest.raises(ProfileError, match="not a usable TOML file"):
        parse_profile(b"id = " + b"9" * 4400 + b"\n", "big.toml")


def test_maps_grep_prefix_with_an_absurd_pid_is_read_as_unknown(tmp_path: Path) -> None:
    from depgraph.runtime.library import library_files
    from depgraph.runtime.scan import scan_maps_file

    library = library_files(tmp_path, "libssl1.0.0")
    assert library is not None
    line = "00400000-0040b000 r-xp 00000000 08:01 42 /usr/lib/libssl.so.1.0.0 (deleted)"
    scan = scan_maps_file(
        library, tmp_path / "maps", f"/proc/{'1' * 5000}/maps:{line}\n/proc/7/maps:{line}\n"
    )
    # not a pid a kernel could give: the line is read as a bare maps line (pid 0, unknown)
    assert [process.pid for process in scan.processes] == [0, 7]


def test_saved_proc_with_hostile_numbers_is_read_not_crashed(tmp_path: Path) -> None:
    """A snapshot's saved /proc (``depgraph collect``) from a compromised host: device numbers
    that do not fit, Unicode digits, a 250-digit pid. Found in review, not by fuzzing."""
    from depgraph.runtime.library import library_files
    from depgraph.runtime.saved_proc import scan_saved

    library = library_files(tmp_path, "libssl1.0.0")
    assert library is not None
    proc = tmp_path / "proc"
    line = "7f00-7f01 r-xp 00000000 08:01 42 /usr/lib/libssl.so.1.0.0"
    for pid in ("7", "\u00b2", "9" * 250):
        folder = proc / pid
        folder.mkdir(parents=True)
        (folder / "maps").write_text(f"\u00b2:{line}\n3:{line} (deleted)\n")
        (folder / "stat").write_text(f"7 (nginx) S {' '.join(['1'] * 17)} \u00b2 0\n")
        (folder / "files").write_text(f"{2**70} 42 1.0 /usr/lib/libssl.so.1.0.0\n-1 1 1.0 /x\n")
        (folder / "map_files").write_text(f"7f00-7f01 {2**70} 42\n")
        (folder / "fd").write_text("socket:[\u00b2]\nsocket:[12]\n")
    (proc / "unreadable").write_text("\u00b2 x\n8 sshd\n")
    scan = scan_saved(library, proc, "snapshot")
    assert [process.pid for process in scan.processes] == [7]
    assert [pid for pid, _name in scan.unreadable] == [8]
