"""Bad input to ``depgraph graph`` (issue "bad input"; contract: ``shared/contract/CLI.md``, exit status).

A broken record is one line on stderr, ``depgraph: error: FILE:LINE: ...``, and exit status 2 (or, with
``--lenient``, a ``FILE:LINE`` warning and the record skipped); a file that cannot be used at all
(empty, a directory, cut-off compression) names the file alone. Things that are not errors (CRLF line
ends, Latin-1 descriptions, dependency cycles) give the same answer as the clean file. Never a
traceback (``run_depgraph`` checks that on every run).

Every bad input is made in ``tmp_path`` from a real file in ``fixtures/heartbleed`` (a dpkg status of
Ubuntu 12.04.3 on armhf with libssl1.0.0 installed, the precise-security Packages index of the same
month, and the saved ``apt-cache rdepends libssl1.0.0`` of that release); ``dpkg -l`` listings are
made by the real dpkg from that status file. Expected line numbers are counted in the data built.
Record-level problems (no Package, bad Status, Version or Depends) name the first line of the
paragraph; line-level ones name the line itself.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import lz4.frame
import pytest

from tests.conftest import HEARTBLEED, Run, require_tool, run_depgraph, scenario

TARGET = "libssl1.0.0"
STATUS = scenario("ubuntu-12.04.3-armhf") / "var/lib/dpkg/status"
INDEXES = HEARTBLEED / "indexes/precise-armhf-2014-03"
PACKAGES_GZ = (
    INDEXES / "ports.ubuntu.com_ubuntu-ports_dists_precise-security_main_binary-armhf_Packages.gz"
)
RDEPENDS_NAME = "precise-security-main+universe-armhf-2014-03_apt-cache-rdepends-libssl1.0.0.txt"
RDEPENDS = HEARTBLEED / "rdepends" / RDEPENDS_NAME
TEN_MB = 10 * 1024 * 1024
LONGEST_MESSAGE = 200
"""A reason on stderr longer than this is not a line a person reads, whatever the input held."""


# --- how each kind of saved input is given, and what comes out ---------------------------------


@dataclass(frozen=True)
class Source:
    """One kind of saved input and how ``depgraph graph`` is told about it."""

    option: str
    companions: tuple[str | Path, ...] = ()

    def args(self, path: Path) -> tuple[str | Path, ...]:
        return (self.option, path, *self.companions)


STATUS_FILE = Source("--status")
PACKAGES_FILE = Source("--packages")
DPKG_LIST_FILE = Source("--dpkg-list", ("--rdepends", RDEPENDS))
"""``dpkg -l`` lists no relations; the saved rdepends of the same release supplies them."""
RDEPENDS_FILE = Source("--rdepends")
SOURCES = {
    "status": STATUS_FILE,
    "packages": PACKAGES_FILE,
    "dpkg-list": DPKG_LIST_FILE,
    "rdepends": RDEPENDS_FILE,
}


def graph(*args: str | Path) -> Run:
    """``depgraph graph libssl1.0.0 --format names`` on the given inputs."""
    return run_depgraph("graph", TARGET, "--format", "names", *args)


def names(*args: str | Path) -> list[str]:
    """The dependents found in the given (good) inputs, nearest first."""
    done = graph(*args)
    assert done.status == 0, done.stderr[:2000]
    return done.stdout.splitlines()


def assert_error(done: Run, path: Path, line: int | None) -> None:
    """Exit 2, nothing on stdout, and exactly one short stderr line naming ``path`` (and ``line``)."""
    assert done.status == 2, done.stderr[:2000]
    assert done.stdout == ""
    assert done.stderr.endswith("\n")
    assert done.stderr.count("\n") == 1, done.stderr[:2000]
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    prefix = f"depgraph: error: {where}"
    assert done.stderr.startswith(prefix), done.stderr[:500]
    assert len(done.stderr) - len(prefix) <= LONGEST_MESSAGE, done.stderr[:500]


def assert_skipped_with_warning(done: Run, path: Path, line: int) -> None:
    """Exit 0 and one short warning naming ``path:line`` that says the record was skipped."""
    assert done.status == 0, done.stderr[:2000]
    prefix = f"depgraph: warning: {path}:{line}: "
    warnings = [text for text in done.stderr.split("\n") if text.startswith(prefix)]
    assert len(warnings) == 1, done.stderr[:2000]
    assert warnings[0].endswith("skipped"), warnings[0][:500]
    assert len(warnings[0]) - len(prefix) <= LONGEST_MESSAGE, warnings[0][:500]


# --- building variants of real files ------------------------------------------------------------


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def line_at(data: bytes, offset: int) -> int:
    """The 1-based line that byte ``offset`` of ``data`` is on."""
    return data.count(b"\n", 0, offset) + 1


def paragraph_at(data: bytes, package: str) -> int:
    """Where the one paragraph of ``package`` starts in a deb822 file."""
    head = b"Package: " + package.encode() + b"\n"
    assert data.count(head) == 1, package
    start = data.index(head)
    assert start == 0 or data[start - 2 : start] == b"\n\n", package
    return start


def paragraph_end(data: bytes, start: int) -> int:
    """Where the paragraph starting at ``start`` ends (after its blank line)."""
    end = data.find(b"\n\n", start)
    return len(data) if end < 0 else end + 2


def without_paragraph(data: bytes, package: str) -> bytes:
    start = paragraph_at(data, package)
    return data[:start] + data[paragraph_end(data, start) :]


def field_end(data: bytes, package: str, field: str) -> int:
    """Where the value of ``field`` in the paragraph of ``package`` ends (before its newline)."""
    start = paragraph_at(data, package)
    at = data.index(b"\n" + field.encode() + b": ", start, paragraph_end(data, start))
    return data.index(b"\n", at + 1)


def add_depends(data: bytes, package: str, extra: str) -> bytes:
    """``package`` additionally depends on ``extra``."""
    end = field_end(data, package, "Depends")
    return data[:end] + b", " + extra.encode() + data[end:]


def row_at(listing: bytes, package: str) -> tuple[int, int]:
    """Start and end (before the newline) of the row of ``package`` in ``dpkg -l`` output."""
    pattern = rb"^[a-z][a-zA-Z]. " + re.escape(package.encode()) + rb"[: ]"
    rows = list(re.finditer(pattern, listing, re.MULTILINE))
    assert len(rows) == 1, package
    start = rows[0].start()
    return start, listing.index(b"\n", start)


def without_row(listing: bytes, package: str) -> bytes:
    start, end = row_at(listing, package)
    return listing[:start] + listing[end + 1 :]


def dpkg_list(tmp_path: Path, status: bytes, name: str = "dpkg-l.txt") -> Path:
    """What the real ``dpkg -l`` prints for ``status``: dpkg run on an admin dir holding it."""
    dpkg = require_tool("dpkg")
    admin = tmp_path / f"{name}.admindir"
    (admin / "info").mkdir(parents=True)
    (admin / "updates").mkdir()
    (admin / "status").write_bytes(status)
    env = {**os.environ, "DPKG_PAGER": "cat", "COLUMNS": "200", "LC_ALL": "C"}
    done = subprocess.run(
        [dpkg, f"--admindir={admin}", "-l"], capture_output=True, env=env, check=True
    )
    return write(tmp_path, name, done.stdout)


def packages_text() -> bytes:
    """The real Packages index, decompressed."""
    return gzip.decompress(PACKAGES_GZ.read_bytes())


# --- one record broken: an error in strict mode, skipped with a warning in lenient mode ---------


@dataclass(frozen=True)
class Damaged:
    """A real input with one record broken, and where the error must point."""

    source: Source
    path: Path
    line: int
    clean: Path
    without: Path
    """The clean input with the broken record left out: what ``--lenient`` must answer like."""
    lost: str | None = None
    """A dependent that only the broken record holds: found in the clean input, gone when skipped."""


DAMAGES: dict[str, Callable[[Path], Damaged]] = {}


def damage(make: Callable[[Path], Damaged]) -> Callable[[Path], Damaged]:
    DAMAGES[make.__name__] = make
    return make


@damage
def status_paragraph_without_package(tmp_path: Path) -> Damaged:
    """A hand-edited status file in which wget's paragraph lost its ``Package:`` line."""
    real = STATUS.read_bytes()
    start = paragraph_at(real, "wget")
    broken = real[:start] + real[start + len(b"Package: wget\n") :]
    without = write(tmp_path, "status.without", without_paragraph(real, "wget"))
    path = write(tmp_path, "status", broken)
    return Damaged(STATUS_FILE, path, line_at(real, start), STATUS, without, lost="wget")


@damage
def status_cut_mid_paragraph(tmp_path: Path) -> Damaged:
    """A status file copied onto a full disk: it stops in the middle of wget's ``Status:`` line."""
    real = STATUS.read_bytes()
    start = paragraph_at(real, "wget")
    cut = real.index(b"Status: install ok inst", start) + len(b"Status: install ok inst")
    without = write(tmp_path, "status.without", real[:start])
    path = write(tmp_path, "status", real[:cut])
    return Damaged(STATUS_FILE, path, line_at(real, start), STATUS, without, lost="wget")


@damage
def status_10mb_junk_line_in_paragraph(tmp_path: Path) -> Damaged:
    """A 10 MB line without a colon (a log line pasted in) right after wget's ``Package:`` line."""
    real = STATUS.read_bytes()
    start = paragraph_at(real, "wget")
    after = start + len(b"Package: wget\n")
    broken = real[:after] + b"x" * TEN_MB + b"\n" + real[after:]
    without = write(tmp_path, "status.without", without_paragraph(real, "wget"))
    path = write(tmp_path, "status", broken)
    return Damaged(STATUS_FILE, path, line_at(real, after), STATUS, without, lost="wget")


@damage
def status_10mb_junk_line_at_end(tmp_path: Path) -> Damaged:
    """A 10 MB line without a colon appended to the status file (output sent to the wrong file)."""
    real = STATUS.read_bytes()
    broken = real + b"x" * TEN_MB + b"\n"
    path = write(tmp_path, "status", broken)
    return Damaged(STATUS_FILE, path, line_at(real, len(real)), STATUS, STATUS)


@damage
def status_10mb_blank_run_in_depends(tmp_path: Path) -> Damaged:
    """wget's ``Depends:`` grown to 10 MB by a run of blanks between two words (a generator bug).

    The relation pattern used to backtrack polynomially on such a run: a few thousand blanks took
    minutes, 10 MB would never finish.
    """
    real = STATUS.read_bytes()
    end = field_end(real, "wget", "Depends")
    broken = real[:end] + b", libfoo" + b" " * TEN_MB + b"libbar" + real[end:]
    without = write(tmp_path, "status.without", without_paragraph(real, "wget"))
    line = line_at(real, paragraph_at(real, "wget"))
    path = write(tmp_path, "status", broken)
    return Damaged(STATUS_FILE, path, line, STATUS, without, lost="wget")


@damage
def status_10mb_version(tmp_path: Path) -> Damaged:
    """wget's ``Version:`` overwritten with 10 MB of words; the error must still be a short line."""
    real = STATUS.read_bytes()
    end = field_end(real, "wget", "Version")
    broken = real[:end] + b" junk" * (TEN_MB // 5) + real[end:]
    without = write(tmp_path, "status.without", without_paragraph(real, "wget"))
    line = line_at(real, paragraph_at(real, "wget"))
    path = write(tmp_path, "status", broken)
    return Damaged(STATUS_FILE, path, line, STATUS, without, lost="wget")


@damage
def packages_gz_paragraph_without_package(tmp_path: Path) -> Damaged:
    """A Packages.gz whose openssl paragraph lost its ``Package:`` line before it was recompressed.

    The line is counted in the decompressed text, which is what ``zless`` shows.
    """
    real = packages_text()
    start = paragraph_at(real, "openssl")
    broken = real[:start] + real[start + len(b"Package: openssl\n") :]
    path = write(tmp_path, "Packages.gz", gzip.compress(broken))
    without = gzip.compress(without_paragraph(real, "openssl"))
    without_path = write(tmp_path, "Packages.without.gz", without)
    return Damaged(
        PACKAGES_FILE, path, line_at(real, start), PACKAGES_GZ, without_path, lost="openssl"
    )


@damage
def dpkg_list_mangled_state_letters(tmp_path: Path) -> Damaged:
    """A saved ``dpkg -l`` whose openssl row carries state letters dpkg never prints (``iX``)."""
    clean = dpkg_list(tmp_path, STATUS.read_bytes())
    listing = clean.read_bytes()
    start, _ = row_at(listing, "openssl")
    broken = listing[:start] + b"iX" + listing[start + 2 :]
    without = write(tmp_path, "dpkg-l.without", without_row(listing, "openssl"))
    path = write(tmp_path, "dpkg-l.broken", broken)
    return Damaged(DPKG_LIST_FILE, path, line_at(listing, start), clean, without, lost="openssl")


@damage
def dpkg_list_row_wrapped_at_80_columns(tmp_path: Path) -> Damaged:
    """``dpkg -l`` pasted through a mail client that wrapped the long openssl row at 80 columns.

    The row itself is still whole up to its description, so only the wrapped-off tail is skipped.
    """
    clean = dpkg_list(tmp_path, STATUS.read_bytes())
    listing = clean.read_bytes()
    start, end = row_at(listing, "openssl")
    assert end - start > 80
    broken = listing[: start + 80] + b"\n" + listing[start + 80 :]
    path = write(tmp_path, "dpkg-l.broken", broken)
    return Damaged(DPKG_LIST_FILE, path, line_at(listing, start) + 1, clean, clean)


@damage
def dpkg_list_10mb_junk_line_at_end(tmp_path: Path) -> Damaged:
    """A 10 MB line of junk appended to a saved ``dpkg -l``."""
    clean = dpkg_list(tmp_path, STATUS.read_bytes())
    listing = clean.read_bytes()
    path = write(tmp_path, "dpkg-l.broken", listing + b"x" * TEN_MB + b"\n")
    return Damaged(DPKG_LIST_FILE, path, line_at(listing, len(listing)), clean, clean)


@damage
def dpkg_list_10mb_version(tmp_path: Path) -> Damaged:
    """The openssl row of a ``dpkg -l`` with a 10 MB version full of characters dpkg forbids."""
    clean = dpkg_list(tmp_path, STATUS.read_bytes())
    listing = clean.read_bytes()
    start, _ = row_at(listing, "openssl")
    at = listing.index(b"1.0.1-4ubuntu5.10 ", start) + len(b"1.0.1-4ubuntu5.10")
    broken = listing[:at] + b"!" * TEN_MB + listing[at:]
    without = write(tmp_path, "dpkg-l.without", without_row(listing, "openssl"))
    path = write(tmp_path, "dpkg-l.broken", broken)
    return Damaged(DPKG_LIST_FILE, path, line_at(listing, start), clean, without, lost="openssl")


@damage
def rdepends_lines_run_together(tmp_path: Path) -> Damaged:
    """Saved ``apt-cache rdepends`` output where a newline was lost between two reverse dependencies."""
    real = RDEPENDS.read_bytes()
    pair = b"  xymon\n  postgresql-contrib-8.4\n"
    assert real.count(pair) == 1
    at = real.index(pair)
    broken = real[:at] + b"  xymon  postgresql-contrib-8.4\n" + real[at + len(pair) :]
    without = write(tmp_path, "rdepends.without", real[:at] + real[at + len(pair) :])
    path = write(tmp_path, "rdepends", broken)
    return Damaged(RDEPENDS_FILE, path, line_at(real, at), RDEPENDS, without, lost="xymon")


@damage
def rdepends_cut_after_a_package_line(tmp_path: Path) -> Damaged:
    """``apt-cache rdepends --recurse`` output cut off just after the next block's package line."""
    real = RDEPENDS.read_bytes()
    path = write(tmp_path, "rdepends", real + b"libssl-dev\n")
    return Damaged(RDEPENDS_FILE, path, line_at(real, len(real)), RDEPENDS, RDEPENDS)


@damage
def rdepends_10mb_junk_line_at_end(tmp_path: Path) -> Damaged:
    """A 10 MB line of words appended to saved ``apt-cache rdepends`` output."""
    real = RDEPENDS.read_bytes()
    path = write(tmp_path, "rdepends", real + b"junk " * (TEN_MB // 5) + b"\n")
    return Damaged(RDEPENDS_FILE, path, line_at(real, len(real)), RDEPENDS, RDEPENDS)


@damage
def rdepends_latin1_package_name(tmp_path: Path) -> Damaged:
    """A reverse dependency whose name came out as Latin-1 bytes (a mangled copy and paste)."""
    real = RDEPENDS.read_bytes()
    at = real.index(b"  xymon\n")
    broken = real[:at] + b"  xym\xf6n\n" + real[at + len(b"  xymon\n") :]
    without = write(tmp_path, "rdepends.without", real[:at] + real[at + len(b"  xymon\n") :])
    path = write(tmp_path, "rdepends", broken)
    return Damaged(RDEPENDS_FILE, path, line_at(real, at), RDEPENDS, without, lost="xymon")


@pytest.mark.parametrize("make", DAMAGES.values(), ids=DAMAGES.keys())
def test_broken_record_is_a_one_line_error(make: Callable[[Path], Damaged], tmp_path: Path) -> None:
    """A damaged record (see each builder for how it happens) stops the run at its file and line."""
    broken = make(tmp_path)
    assert_error(graph(*broken.source.args(broken.path)), broken.path, broken.line)


@pytest.mark.parametrize("make", DAMAGES.values(), ids=DAMAGES.keys())
def test_lenient_skips_the_broken_record(make: Callable[[Path], Damaged], tmp_path: Path) -> None:
    """``--lenient`` on a damaged file warns at the damage and answers as if the record were absent."""
    broken = make(tmp_path)
    done = graph(*broken.source.args(broken.path), "--lenient")
    assert_skipped_with_warning(done, broken.path, broken.line)
    found = done.stdout.splitlines()
    assert found == names(*broken.source.args(broken.without))
    assert found, "the other packages must still be found"
    if broken.lost is not None:
        assert broken.lost in names(*broken.source.args(broken.clean))
        assert broken.lost not in found


# --- a file that cannot be used at all: the error names the file -------------------------------


@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
@pytest.mark.parametrize("kind", ["empty file", "directory"])
def test_empty_file_or_directory(source: Source, kind: str, tmp_path: Path) -> None:
    """A zero-byte file (``dpkg -l > FILE`` on a host without dpkg) or a directory given as the file
    (``--status /var/lib/dpkg``)."""
    path = tmp_path / "input"
    if kind == "directory":
        path.mkdir()
        (path / "status").write_bytes(STATUS.read_bytes())
    else:
        path.write_bytes(b"")
    assert_error(graph(*source.args(path)), path, None)


COMPRESSORS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "gz": (gzip.compress, "gzip"),
    "xz": (lzma.compress, "xz"),
    "bz2": (bz2.compress, "bzip2"),
    "lz4": (lz4.frame.compress, "lz4"),
}


@pytest.mark.parametrize("suffix", COMPRESSORS)
@pytest.mark.parametrize("cut", ["half", "trailer"])
def test_truncated_compressed_index(suffix: str, cut: str, tmp_path: Path) -> None:
    """A Packages index whose download stopped early: cut in the middle, or just its last bytes lost."""
    compress, kind = COMPRESSORS[suffix]
    whole = compress(packages_text())
    data = whole[: len(whole) // 2] if cut == "half" else whole[:-4]
    path = write(tmp_path, f"Packages.{suffix}", data)
    done = graph("--packages", path)
    assert_error(done, path, None)
    assert f"truncated or corrupt {kind} data" in done.stderr


def test_truncated_gzip_status(tmp_path: Path) -> None:
    """A status file kept gzipped (as in a backup) whose copy stopped early."""
    whole = gzip.compress(STATUS.read_bytes())
    path = write(tmp_path, "status.gz", whole[: len(whole) // 2])
    assert_error(graph("--status", path), path, None)


def test_binary_junk_in_status(tmp_path: Path) -> None:
    """A status file with a block of binary data spliced in before libssl1.0.0 (a bad copy or a
    crash that left another file's blocks behind): the error names the line of the first NUL."""
    real = STATUS.read_bytes()
    junk = PACKAGES_GZ.read_bytes()[:4096]
    assert b"\0" in junk
    start = paragraph_at(real, TARGET)
    broken = real[:start] + junk + b"\n" + real[start:]
    path = write(tmp_path, "status", broken)
    assert_error(graph("--status", path), path, line_at(broken, broken.index(b"\0")))


def test_program_given_as_status_file() -> None:
    """The wrong file given: an executable (the Python interpreter) as ``--status``."""
    program = Path(sys.executable).resolve()
    data = program.read_bytes()
    assert_error(graph("--status", program), program, line_at(data, data.index(b"\0")))


def test_rdepends_output_on_one_10mb_line(tmp_path: Path) -> None:
    """``echo $(apt-cache rdepends --recurse ...) > FILE`` joins the output into one (10 MB) line."""
    words = RDEPENDS.read_bytes().split()
    line = b" ".join(words * (TEN_MB // len(b" ".join(words)) + 1))
    assert len(line) > TEN_MB
    path = write(tmp_path, "rdepends", line + b"\n")
    assert_error(graph("--rdepends", path), path, 1)


def test_selections_instead_of_dpkg_list(tmp_path: Path) -> None:
    """``dpkg --get-selections`` saved where ``dpkg -l`` was asked for: no header, not a listing."""
    listing = dpkg_list(tmp_path, STATUS.read_bytes())
    admin = tmp_path / f"{listing.name}.admindir"
    done = subprocess.run(
        [require_tool("dpkg"), f"--admindir={admin}", "--get-selections"],
        capture_output=True,
        check=True,
    )
    assert b"\tinstall" in done.stdout
    path = write(tmp_path, "selections", done.stdout)
    assert_error(graph(*DPKG_LIST_FILE.args(path)), path, None)


# --- not errors: the same answer as the clean file -------------------------------------------------


def clean_and_crlf(source: Source, tmp_path: Path) -> tuple[Path, Path]:
    """A clean real input of ``source``'s kind and the same input with CRLF line ends."""
    if source is PACKAGES_FILE:
        crlf = gzip.compress(packages_text().replace(b"\n", b"\r\n"))
        return PACKAGES_GZ, write(tmp_path, "Packages.gz", crlf)
    if source is DPKG_LIST_FILE:
        clean = dpkg_list(tmp_path, STATUS.read_bytes())
    else:
        clean = STATUS if source is STATUS_FILE else RDEPENDS
    return clean, write(tmp_path, "crlf", clean.read_bytes().replace(b"\n", b"\r\n"))


@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
def test_crlf_line_ends_change_nothing(source: Source, tmp_path: Path) -> None:
    """A saved file that went through a Windows machine and came back with CRLF line ends."""
    clean, crlf = clean_and_crlf(source, tmp_path)
    assert crlf.read_bytes() != clean.read_bytes()
    expected = names(*source.args(clean))
    assert expected
    assert names(*source.args(crlf)) == expected


def test_byte_order_mark_changes_nothing(tmp_path: Path) -> None:
    """A status file saved by a Windows editor that put a UTF-8 byte-order mark in front."""
    marked = write(tmp_path, "status", b"\xef\xbb\xbf" + STATUS.read_bytes())
    expected = names("--status", STATUS)
    assert expected and names("--status", marked) == expected


LATIN1_DESCRIPTION = b"Description: r\xe9cup\xe8re des fichiers \xa9 GNU, d\xe9j\xe0 vu\n"


def with_latin1_description(data: bytes, package: str) -> bytes:
    """``package``'s description replaced by a Latin-1 one, as written before Debian used UTF-8."""
    start = paragraph_at(data, package)
    at = data.index(b"\nDescription: ", start, paragraph_end(data, start)) + 1
    rest = data.index(b"\n", at) + 1
    return data[:at] + LATIN1_DESCRIPTION + data[rest:]


@pytest.mark.parametrize("source", ["status", "packages", "dpkg-list"])
def test_latin1_description_changes_nothing(source: str, tmp_path: Path) -> None:
    """Old packages carry Latin-1 (not UTF-8) descriptions; ``dpkg -l`` prints them as they are."""
    status = with_latin1_description(STATUS.read_bytes(), "wget")
    if source == "status":
        clean, odd = STATUS, write(tmp_path, "status", status)
    elif source == "packages":
        odd_index = with_latin1_description(packages_text(), "openssl")
        clean, odd = PACKAGES_GZ, write(tmp_path, "Packages.gz", gzip.compress(odd_index))
    else:
        clean = dpkg_list(tmp_path, STATUS.read_bytes())
        odd = dpkg_list(tmp_path, status, "dpkg-l.latin1")
    data = odd.read_bytes() if source != "packages" else gzip.decompress(odd.read_bytes())
    assert b"r\xe9cup\xe8re" in data
    expected = names(*SOURCES[source].args(clean))
    assert expected
    assert names(*SOURCES[source].args(odd)) == expected


def test_dependency_cycle(tmp_path: Path) -> None:
    """man-db and nano edited to depend on each other and on libssl1.0.0 (a local rebuild gone round
    in circles): each is found once, and nothing else changes."""
    real = STATUS.read_bytes()
    clean = names("--status", STATUS)
    assert "man-db" not in clean and "nano" not in clean
    cycle = add_depends(add_depends(real, "man-db", f"nano, {TARGET}"), "nano", f"man-db, {TARGET}")
    found = names("--status", write(tmp_path, "status", cycle))
    assert found.count("man-db") == 1 and found.count("nano") == 1
    assert sorted(found) == sorted([*clean, "man-db", "nano"])


def test_cycle_through_the_target(tmp_path: Path) -> None:
    """libssl1.0.0 edited to depend on openssl, which depends on it: the target is not its own
    dependent, and the answer is the clean one."""
    real = STATUS.read_bytes()
    found = names("--status", write(tmp_path, "status", add_depends(real, TARGET, "openssl")))
    assert TARGET not in found
    assert found == names("--status", STATUS)


def test_valid_10mb_depends_line(tmp_path: Path) -> None:
    """A generated status file whose wget ``Depends:`` is its real value repeated to 10 MB: read, and
    the answer is the clean one."""
    real = STATUS.read_bytes()
    end = field_end(real, "wget", "Depends")
    value = real[real.rindex(b"\nDepends: ", 0, end) + len(b"\nDepends: ") : end]
    broken = real[:end] + (b", " + value) * (TEN_MB // len(value)) + real[end:]
    assert len(broken) - len(real) > TEN_MB
    assert names("--status", write(tmp_path, "status", broken)) == names("--status", STATUS)


def test_a_chain_deeper_than_any_real_one_is_cut_with_a_warning(tmp_path: Path) -> None:
    """Each node keeps its whole path, so a hostile 100,000-package chain once took 24 GB; without
    ``--depth`` a walk stops at depth 100 (bookworm's deepest is 15) and says so. 150 packages
    here, each depending on the one before, the first on libssl1.0.0."""
    stanzas = ["Package: libssl1.0.0\nStatus: install ok installed\nVersion: 1.0.1-4ubuntu5.10\n"]
    before = "libssl1.0.0"
    for number in range(150):
        name = f"chain{number:03d}"
        stanzas.append(
            f"Package: {name}\nStatus: install ok installed\nVersion: 1.0\nDepends: {before}\n"
        )
        before = name
    status = write(tmp_path, "status", "\n".join(stanzas).encode())
    done = graph("--status", status)
    assert done.status == 0, done.stderr
    listed = [line for line in done.stdout.splitlines() if line.startswith("chain")]
    assert listed == [f"chain{number:03d}" for number in range(100)]
    assert done.stderr.count("deeper than 100 packages is not followed further") == 1
    assert "chain099" in done.stderr
    deeper = graph("--status", status, "--depth", "120")
    assert len([n for n in deeper.stdout.splitlines() if n.startswith("chain")]) == 120
    assert "deeper than" not in deeper.stderr
