"""Inputs that are not what they claim (issue 23, "one way to open an input file").

Every file depgraph reads goes through :mod:`depgraph.sources.files`: a FIFO, a device, a socket or a
directory is refused by ``fstat`` on the open descriptor (opening cannot block: ``O_NONBLOCK``), a file
over its kind's size limit is refused before it is read, and compressed data is inflated piece by
piece with a running cap and a cap on concatenated members. All of it on real objects: FIFOs made
with ``os.mkfifo``, ``/dev/zero`` and ``/dev/urandom``, sparse files made with ``truncate``, bombs
made by the real compressors. The command line runs as a subprocess with a timeout, so a hang fails
the test instead of hanging it, and its peak memory is read from the kernel (``wait4``).
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import lz4.frame
import pytest

from depgraph.errors import ParseError, SourceError
from depgraph.sources.files import (
    MAX_MEMBERS,
    Kind,
    iter_lines,
    open_input,
    read_bytes,
    read_text,
)
from tests.conftest import HEARTBLEED, REPO, scenario

STATUS = scenario("ubuntu-12.04.3-armhf") / "var/lib/dpkg/status"
RDEPENDS = (
    HEARTBLEED
    / "rdepends"
    / "precise-security-main+universe-armhf-2014-03_apt-cache-rdepends-libssl1.0.0.txt"
)
TIMEOUT = 60
"""Seconds a run may take; every case here is refused in well under a second or two."""
PEAK_LIMIT = 2 * 1000 * 1000 * 1000
"""The issue's memory bound for every command: 2 GB peak."""


@dataclass(frozen=True)
class Done:
    """A finished run of the command line, with its peak memory in bytes."""

    status: int
    stdout: str
    stderr: str
    peak: int


def depgraph(*args: str | Path, nobody: bool = False, pure: bool = True) -> Done:
    """``python -m depgraph ARGS`` (as ``nobody`` through ``setpriv`` when asked; through
    python-apt when not ``pure``), killed after :data:`TIMEOUT` seconds: a hang is a failure, not a
    stuck test run."""
    prefix: list[str] = []
    if nobody:
        prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
    environment = dict(os.environ, DEPGRAPH_NO_APT="1", HOME="/nonexistent")
    if not pure:
        del environment["DEPGRAPH_NO_APT"]
    environment.pop("DEPGRAPH_DEBUG", None)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "depgraph", *map(str, args)],
            stdout=out,
            stderr=err,
            env=environment,
            cwd=REPO,
        )
        timer = threading.Timer(TIMEOUT, process.kill)
        timer.start()
        try:
            _, wait_status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(wait_status)
        if process.returncode == -signal.SIGKILL:
            pytest.fail(f"depgraph {' '.join(map(str, args))} still running after {TIMEOUT} s")
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    peak = usage.ru_maxrss * 1024  # this child's own peak, from the kernel
    assert "Traceback" not in stderr, stderr
    return Done(process.returncode, stdout, stderr, peak)


def one_error(done: Done, *words: str) -> str:
    """Exit 2, one line on stderr holding every one of ``words``; the line."""
    assert done.status == 2, done.stderr[:2000]
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.endswith("\n"), done.stderr[:2000]
    for word in words:
        assert word in done.stderr, done.stderr
    return done.stderr


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    """A real FIFO nobody writes to: reading it would block forever."""
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def sparse(path: Path, size: int) -> Path:
    """A sparse file of ``size`` bytes made by the real ``truncate``."""
    subprocess.run(["truncate", "-s", str(size), str(path)], check=True)
    return path


# --- the opener itself --------------------------------------------------------------------------


def test_fifo_is_refused_without_blocking(fifo: Path) -> None:
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        open_input(fifo, Kind.STATUS, "--status")
    assert time.monotonic() - started < 5
    assert str(caught.value) == f"{fifo}: is a FIFO, not a regular file (--status)"


@pytest.mark.parametrize(
    ("device", "reason"),
    [("/dev/zero", "is a character device"), ("/dev/urandom", "is a character device")],
)
def test_devices_are_refused(device: str, reason: str) -> None:
    with pytest.raises(SourceError, match=reason):
        read_bytes(device, Kind.STATUS)


def test_directory_socket_missing_and_loop(tmp_path: Path) -> None:
    import socket

    with pytest.raises(SourceError, match="is a directory"):
        read_bytes(tmp_path, Kind.STATUS)
    name = tmp_path / "socket"
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(name))
        with pytest.raises(SourceError, match="is a socket"):
            read_bytes(name, Kind.STATUS)
    with pytest.raises(SourceError, match="no such file"):
        read_bytes(tmp_path / "absent", Kind.STATUS)
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(SourceError, match="symbolic link loop"):
        read_bytes(tmp_path / "a", Kind.STATUS)
    with pytest.raises(SourceError, match="empty path"):
        read_bytes("", Kind.STATUS, "--status")


def test_sparse_file_is_refused_by_its_size(tmp_path: Path) -> None:
    path = sparse(tmp_path / "status", 64 * 1024**3)
    with pytest.raises(SourceError) as caught:
        read_bytes(path, Kind.STATUS, "--status")
    assert "is 64 GiB, over the 256 MiB limit for a dpkg status file" in str(caught.value)


def test_each_kind_has_a_limit_and_words() -> None:
    for kind in Kind:
        assert 0 < kind.limit <= 4 * 1024**3
        assert kind.what.startswith(("a ", "an ", "'"))
    assert Kind.PROFILE.limit == 1024**2


@pytest.mark.parametrize(
    "compress",
    [gzip.compress, bz2.compress, lzma.compress, lz4.frame.compress],
    ids=["gzip", "bzip2", "xz", "lz4"],
)
def test_compressed_and_concatenated_read_whole(
    compress: Callable[[bytes], bytes], tmp_path: Path
) -> None:
    text = STATUS.read_bytes()
    half = len(text) // 2
    path = tmp_path / "status.z"
    path.write_bytes(compress(text[:half]) + compress(text[half:]))
    assert read_bytes(path, Kind.STATUS) == text
    assert list(iter_lines(path, Kind.STATUS)) == text.decode().splitlines()


def test_trailing_garbage_and_truncation(tmp_path: Path) -> None:
    path = tmp_path / "x.gz"
    whole = gzip.compress(b"Package: a\n")
    path.write_bytes(whole + b"junk")
    with pytest.raises(SourceError, match="trailing garbage after the gzip data"):
        read_bytes(path, Kind.STATUS)
    path.write_bytes(whole + b"\0\0\0\0")  # NUL padding, as gzip(1) allows
    assert read_bytes(path, Kind.STATUS) == b"Package: a\n"
    path.write_bytes(whole[:-3])
    with pytest.raises(SourceError, match="truncated or corrupt gzip data"):
        read_bytes(path, Kind.STATUS)


def test_many_empty_gzip_members_are_refused_in_linear_time(tmp_path: Path) -> None:
    path = tmp_path / "changelog.Debian.gz"
    entry = gzip.compress(b"openssl (1.0.1-4ubuntu5.12) precise-security; urgency=low\n")
    path.write_bytes(entry + gzip.compress(b"") * 200_000)
    started = time.monotonic()
    with pytest.raises(SourceError, match=f"more than {MAX_MEMBERS} concatenated gzip members"):
        read_bytes(path, Kind.CHANGELOG)
    assert time.monotonic() - started < 5
    path.write_bytes(entry + gzip.compress(b"") * 1000)  # a few: read, fine
    assert read_bytes(path, Kind.CHANGELOG).startswith(b"openssl")


def test_nul_byte_is_a_parse_error_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "status"
    path.write_bytes(b"Package: a\nVersion: 1\n\0\n")
    with pytest.raises(ParseError) as caught:
        read_text(path, Kind.STATUS, "--status")
    assert caught.value.line == 3
    with pytest.raises(ParseError) as streamed:
        list(iter_lines(path, Kind.STATUS))
    assert streamed.value.line == 3


def test_iter_lines_streams_a_long_list(tmp_path: Path) -> None:
    path = tmp_path / "libbig.list"
    with path.open("w") as out:
        for number in range(300_000):
            out.write(f"/usr/share/doc/libbig/file{number}\n")
    count = 0
    last = ""
    for line in iter_lines(path, Kind.FILE_LIST):
        count += 1
        last = line
    assert count == 300_000
    assert last == "/usr/share/doc/libbig/file299999"


def test_iter_lines_keeps_a_line_split_across_pieces(tmp_path: Path) -> None:
    path = tmp_path / "long"
    long_line = "x" * (3 * 1024 * 1024)
    path.write_text("\ufefffirst\n" + long_line + "\nlast")
    assert list(iter_lines(path, Kind.FILE_LIST)) == ["first", long_line, "last"]


# --- the command line ---------------------------------------------------------------------------


GRAPH = ("graph", "libssl1.0.0", "--format", "names")


@pytest.mark.parametrize(
    ("option", "extra"),
    [
        ("--status", ()),
        ("--packages", ()),
        ("--dpkg-list", ("--rdepends", RDEPENDS)),
        ("--rdepends", ()),
    ],
)
def test_fifo_to_a_source_option(option: str, extra: tuple[str | Path, ...], fifo: Path) -> None:
    done = depgraph(*GRAPH, option, fifo, *extra)
    one_error(done, str(fifo), "is a FIFO, not a regular file", option)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_device_as_status(device: str) -> None:
    done = depgraph(*GRAPH, "--status", device)
    one_error(done, device, "is a character device", "--status")


def test_sparse_64_gib_status(tmp_path: Path) -> None:
    path = sparse(tmp_path / "status", 64 * 1024**3)
    done = depgraph(*GRAPH, "--status", path)
    one_error(done, str(path), "is 64 GiB, over the 256 MiB limit")


def _gzip_bomb(member: bytes) -> bytes:
    return gzip.compress(member, compresslevel=9)


BOMBS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": _gzip_bomb,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
    "lz4": lz4.frame.compress,
}


def bomb(tmp_path: Path, name: str, size: int) -> Path:
    """A file of concatenated members (valid for every one of these formats) that inflates to more
    than ``size`` bytes of zeros."""
    block = 64 * 1024 * 1024
    member = BOMBS[name](bytes(block))
    path = tmp_path / f"Packages.{name}"
    path.write_bytes(member * (size // block + 1))
    return path


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_bomb_stops_at_the_cap(name: str, tmp_path: Path) -> None:
    path = bomb(tmp_path, name, Kind.PACKAGES.limit)
    done = depgraph(*GRAPH, "--packages", path)
    one_error(done, str(path), "decompresses to more than 256 MiB", f"a {name} bomb", "--packages")
    assert done.peak < PEAK_LIMIT, done.peak


def test_fifo_as_profile(fifo: Path) -> None:
    done = depgraph("audit", "--status", STATUS, "--profile", fifo)
    one_error(done, str(fifo), "is a FIFO, not a regular file")


def test_fifo_and_device_as_maps(fifo: Path) -> None:
    done = depgraph("restart", "--library", "libssl.so.1.0.0", "--maps", fifo)
    one_error(done, str(fifo), "is a FIFO, not a regular file", "--maps")
    done = depgraph("restart", "--library", "libssl.so.1.0.0", "--maps", "/dev/zero")
    one_error(done, "/dev/zero", "is a character device", "--maps")


def test_sparse_profile_over_its_limit(tmp_path: Path) -> None:
    path = sparse(tmp_path / "big.toml", 2 * 1024**2)
    done = depgraph("audit", "--status", STATUS, "--profile", path)
    one_error(done, str(path), "over the 1 MiB limit for a vulnerability profile")


CHANGELOG = ("changelog", "--cve", "CVE-2014-0160", "--file")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_changelog_file_device_is_named_a_device(device: str) -> None:
    one_error(depgraph(*CHANGELOG, device), device, "is a character device", "--file")


def test_changelog_file_fifo(fifo: Path) -> None:
    one_error(depgraph(*CHANGELOG, fifo), str(fifo), "is a FIFO, not a regular file", "--file")


def test_changelog_of_one_entry_and_200000_empty_members(tmp_path: Path) -> None:
    path = tmp_path / "changelog.Debian.gz"
    entry = (
        b"openssl (1.0.1-4ubuntu5.12) precise-security; urgency=low\n\n"
        b"  * SECURITY UPDATE: memory disclosure (CVE-2014-0160)\n\n"
        b" -- Marc Deslauriers <marc.deslauriers@ubuntu.com>  Mon, 07 Apr 2014 15:45:14 -0400\n"
    )
    path.write_bytes(gzip.compress(entry) + gzip.compress(b"") * 200_000)
    started = time.monotonic()
    done = depgraph(*CHANGELOG, path)
    assert time.monotonic() - started < 20
    one_error(done, str(path), f"more than {MAX_MEMBERS} concatenated gzip members")
    path.write_bytes(gzip.compress(entry) + gzip.compress(b"") * 100)
    assert depgraph(*CHANGELOG, path).status == 0


def test_fifo_and_device_as_snapshot(fifo: Path) -> None:
    done = depgraph(*GRAPH, "--snapshot", fifo)
    one_error(done, str(fifo), "is a FIFO, not a regular file", "--snapshot")
    done = depgraph(*GRAPH, "--snapshot", "/dev/zero")
    one_error(done, "/dev/zero", "is a character device", "--snapshot")


def test_fifo_and_device_among_fleet_hosts(tmp_path: Path) -> None:
    import json

    folder = tmp_path / "hosts"
    folder.mkdir()
    (folder / "good.status").write_bytes(STATUS.read_bytes())
    os.mkfifo(folder / "fifo.status")
    done = depgraph("fleet", folder, "/dev/zero", "--jobs", "1", "--no-cache", "--format", "json")
    rows = {row["host"]: row for row in json.loads(done.stdout)["hosts"]}
    assert rows["fifo"]["status"] == "failed" and "not a regular file" in rows["fifo"]["reason"]
    assert rows["zero"]["status"] == "failed" and "not a regular file" in rows["zero"]["reason"]
    assert rows["good"]["status"] != "failed"


# --- a root tree --------------------------------------------------------------------------------

TREE = HEARTBLEED / "ubuntu-14.04-core-armhf" / "root"
LIST = "var/lib/dpkg/info/libssl1.0.0:armhf.list"
BACKENDS = [pytest.param(True, id="pure"), pytest.param(False, id="python-apt")]


@pytest.fixture
def tree() -> Iterator[Path]:
    """A copy of a real 14.04 tree in a folder ``nobody`` can enter (pytest's are 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="depgraph-inputs-"))
    try:
        folder.chmod(0o755)
        root = folder / "root"
        shutil.copytree(TREE, root, symlinks=True)
        yield root
    finally:
        for directory, _, _ in os.walk(folder):
            os.chmod(directory, 0o755)
        shutil.rmtree(folder)


def needs_apt(pure: bool) -> None:
    if not pure and subprocess.run([sys.executable, "-c", "import apt_pkg"]).returncode != 0:
        pytest.skip("python-apt is not installed for this Python")


@pytest.mark.parametrize("pure", BACKENDS)
def test_fifo_as_a_roots_status(tree: Path, pure: bool) -> None:
    needs_apt(pure)
    status = tree / "var/lib/dpkg/status"
    status.unlink()
    os.mkfifo(status)
    done = depgraph("audit", "--root", tree, pure=pure)
    one_error(done, str(status), "is a FIFO, not a regular file")


@pytest.mark.parametrize("pure", BACKENDS)
def test_fifo_as_a_list_in_the_root(tree: Path, pure: bool) -> None:
    needs_apt(pure)
    (tree / LIST).unlink()
    os.mkfifo(tree / LIST)
    done = depgraph("audit", "--root", tree, "--format", "json", pure=pure)
    assert done.status in (0, 1), done.stderr
    assert "libssl1.0.0" in done.stdout


@pytest.mark.parametrize("pure", BACKENDS)
def test_fifo_as_a_dependents_list_is_named_not_taken_for_a_missing_list(
    tree: Path, pure: bool
) -> None:
    """ntpdate (a dependent of libssl1.0.0 in this tree) has a FIFO where its list should be:
    it is not read, and the warning says why, rather than counting it among the packages
    that have no list at all."""
    needs_apt(pure)
    fifo = tree / "var/lib/dpkg/info/ntpdate.list"
    os.mkfifo(fifo)
    done = depgraph("audit", "--root", tree, "--format", "json", pure=pure)
    assert done.status in (0, 1), done.stderr
    (line,) = [line for line in done.stderr.splitlines() if str(fifo) in line]
    assert line.startswith("depgraph: warning: ntpdate: no dpkg file list read: ")
    assert line.endswith(f"{fifo}: is a FIFO, not a regular file")
    packages = json.loads(done.stdout)["packages"]
    (missing,) = [p["role_missing"] for p in packages if p["package"] == "ntpdate"]
    assert missing == f"no dpkg file list read: {fifo}: is a FIFO, not a regular file"


@pytest.mark.parametrize("pure", BACKENDS)
def test_symlink_loop_in_the_root(tree: Path, pure: bool) -> None:
    needs_apt(pure)
    dpkg = tree / "var/lib/dpkg"
    (dpkg / "status").unlink()
    (dpkg / "status").symlink_to("other")
    (dpkg / "other").symlink_to("status")
    done = depgraph("audit", "--root", tree, pure=pure)
    line = one_error(done, "a symlink loop in the tree, not a status file")
    assert line.startswith(f"depgraph: error: {dpkg / 'status'}: "), line


def nobody_can_run() -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run the command as nobody")
    probe = subprocess.run(
        [
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--",
            sys.executable,
            "-c",
            f"import os; os.listdir({str(REPO)!r})",
        ],
        capture_output=True,
    )
    if probe.returncode != 0:
        pytest.skip(f"nobody cannot read the repository at {REPO}")


@pytest.mark.parametrize("pure", BACKENDS)
def test_unreadable_dpkg_database_as_nobody(tree: Path, pure: bool) -> None:
    nobody_can_run()
    needs_apt(pure)
    (tree / "var/lib/dpkg").chmod(0)
    done = depgraph("audit", "--root", tree, nobody=True, pure=pure)
    one_error(done, str(tree / "var/lib/dpkg/status"), "permission denied")


@pytest.mark.parametrize("folder", ["var/lib/dpkg/info", "etc", "usr/share/doc"])
def test_unreadable_folders_as_nobody_are_not_internal_errors(tree: Path, folder: str) -> None:
    nobody_can_run()
    (tree / folder).chmod(0)
    done = depgraph("audit", "--root", tree, nobody=True)
    assert done.status in (0, 1), done.stderr
    done = depgraph("changelog", "--all", "--cve", "CVE-2014-0160", "--root", tree, nobody=True)
    assert done.status in (0, 1, 2), done.stderr
    if done.status == 2:
        one_error(done, "cannot list")


@pytest.mark.parametrize(
    "args",
    [
        (*GRAPH, "--status", ""),
        (*GRAPH, "--packages", ""),
        (*GRAPH, "--dpkg-list", ""),
        (*GRAPH, "--rdepends", ""),
        (*GRAPH, "--snapshot", ""),
        ("audit", "--root", ""),
        ("restart", "--maps", ""),
        ("restart", "--root", ""),
        ("audit", "--maps", ""),
        ("changelog", "--cve", "CVE-2014-0160", "--root", ""),
        (*CHANGELOG, ""),
    ],
    ids=lambda args: " ".join(args[:1] + args[-2:-1]),
)
def test_empty_path_is_refused_by_its_option(args: tuple[str, ...]) -> None:
    """``Path("")`` is ``.``: an empty --maps was taken for none (this system's /proc read in its
    place), an empty --root for the current folder."""
    one_error(depgraph(*args), f"argument {args[-2]}: empty path")


def test_empty_profile_and_fleet_path_are_refused() -> None:
    """An empty --profile was taken for none (the default profile audited in its place), an empty
    fleet PATH for the current folder (walked as a fleet)."""
    one_error(depgraph("audit", "--profile", ""), "argument --profile: empty name")
    one_error(depgraph("fleet", "", "--no-cache"), "argument PATH: empty path")


# --- nothing reads a file any other way ---------------------------------------------------------

OPENERS = frozenset({"open", "fdopen", "read_text", "read_bytes"})
"""Calls that read a file: ``open(...)``, ``x.open(...)`` (``Path.open``, ``os.open``, ``gzip.open``,
``tarfile.open``), ``os.fdopen``, ``Path.read_text`` and ``Path.read_bytes``. A bare name
``read_text(...)`` is :mod:`depgraph.sources.files`' own (imported), so only attribute calls and a
bare ``open`` count."""

EXEMPT: dict[tuple[str, str], str] = {
    ("depgraph/classify.py", "_table"): "packaged data (importlib.resources), not a user's file",
    ("depgraph/knowledge.py", "entries"): "packaged data (importlib.resources)",
    ("depgraph/formats/report_html.py", "_asset"): "packaged CSS/JS (importlib.resources)",
    ("depgraph/commands/collect.py", "run"): "packaged collect.sh (importlib.resources)",
    ("depgraph/profiles/loader.py", "load_profile"): "a built-in profile (importlib.resources); "
    "a profile file goes through files.read_raw",
    ("depgraph/collect/__init__.py", "collect"): "writes the snapshot (os.fdopen of a new "
    "mkstemp file, tarfile.open on that stream): output, not input",
    ("depgraph/collect/__init__.py", "_elf_files"): "os.open with O_NOFOLLOW|O_NONBLOCK and "
    "fstat S_ISREG before reading 4 bytes: the live system's binaries, same checks inline",
    ("depgraph/commands/fleet.py", "_write"): "writes the report (-o): output, not input",
    ("depgraph/cli.py", "_emit"): "writes the report (-o): output, not input",
    ("depgraph/commands/restart.py", "_may_ptrace"): "/proc/self/status of depgraph itself",
    ("depgraph/runtime/scan.py", "_read"): "the live system's /proc (st_size 0, not regular "
    "in the sense files.py checks: proc files are read to their end by design)",
    ("depgraph/runtime/scan.py", "_privilege"): "/proc/self/status of depgraph itself",
    ("depgraph/runtime/sockets.py", "read_tables"): "the live /proc/PID/net tables",
    ("depgraph/elf_cache.py", "ElfCache._load"): "depgraph's own cache file (private directory)",
    ("depgraph/elf_cache.py", "ElfCache.save"): "writes depgraph's own cache",
    ("depgraph/fleet/cache.py", "ResultCache.get"): "depgraph's own cache file",
    ("depgraph/fleet/cache.py", "_write"): "writes depgraph's own cache",
    ("depgraph/fleet/runner.py", "_serve"): "os.fdopen of a duplicated stdout: output",
    ("depgraph/runtime/owners.py", "Owners._load"): "depgraph's own cache file",
    ("depgraph/sources/parsed_cache.py", "cached"): "depgraph's own cache file",
    ("depgraph/sources/parsed_cache.py", "_write"): "writes depgraph's own cache",
    ("depgraph/sources/snapshot.py", "unpack"): "tarfile.open(fileobj=...) on the stream "
    "files.open_input opened",
    ("depgraph/sources/snapshot.py", "_write"): "writes an unpacked member (O_EXCL|O_NOFOLLOW)",
}
"""Every place allowed to open a file without :mod:`depgraph.sources.files`, and why."""


def _opens(path: Path) -> list[tuple[str, str, int]]:
    """(function, call, line) of every file-opening call in a module."""
    import ast

    found: list[tuple[str, str, int]] = []

    def visit(node: ast.AST, scope: tuple[str, ...]) -> None:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = (*scope, child.name)
            if isinstance(child, ast.Call):
                function = child.func
                if (isinstance(function, ast.Attribute) and function.attr in OPENERS) or (
                    isinstance(function, ast.Name) and function.id == "open"
                ):
                    found.append((".".join(scope), ast.unparse(function), child.lineno))
            visit(child, inner)

    visit(ast.parse(path.read_text(), str(path)), ())
    return found


def test_no_file_is_opened_outside_files_py() -> None:
    package = REPO / "depgraph"
    seen: set[tuple[str, str]] = set()
    stray = []
    for path in sorted(package.rglob("*.py")):
        module = path.relative_to(REPO).as_posix()
        if module == "depgraph/sources/files.py":
            continue
        for function, call, line in _opens(path):
            if (module, function) in EXEMPT:
                seen.add((module, function))
            else:
                stray.append(f"{module}:{line}: {call}() in {function or '<module>'}")
    assert stray == [], "read through depgraph.sources.files instead:\n" + "\n".join(stray)
    assert set(EXEMPT) == seen, f"exemptions that no longer open anything: {set(EXEMPT) - seen}"


def test_the_walk_finds_an_open(tmp_path: Path) -> None:
    path = tmp_path / "module.py"
    path.write_text(
        "def f(p):\n    return p.read_text()\n\nclass C:\n    def g(self):\n"
        "        with open('x') as h:\n            return h\n"
    )
    assert [(f, c) for f, c, _ in _opens(path)] == [("f", "p.read_text"), ("C.g", "open")]


# --- a long file list: each folder resolved once, each path looked at with one open ------------


def test_resolve_each_agrees_with_resolve_in_root(tmp_path: Path) -> None:
    from depgraph.rootpath import resolve_each, resolve_in_root

    root = tmp_path / "root"
    (root / "usr/lib/x86_64-linux-gnu").mkdir(parents=True)
    (root / "usr/lib/x86_64-linux-gnu/libssl.so.3").write_bytes(b"\x7fELF")
    (root / "lib").symlink_to("usr/lib")
    (root / "usr/lib/abs").symlink_to("/usr/lib/x86_64-linux-gnu")
    (root / "usr/lib/up").symlink_to("../../../../..")
    (root / "usr/lib/loop").symlink_to("loop")
    (root / "usr/lib/x86_64-linux-gnu/libssl.so").symlink_to("libssl.so.3")
    names = [
        "/lib/x86_64-linux-gnu/libssl.so.3",
        "/lib/x86_64-linux-gnu/libssl.so",
        "/usr/lib/abs/libssl.so.3",
        "/usr/lib/up/etc/passwd",
        "/usr/lib/loop/x",
        "/usr/lib/loop",
        "/.",
        "/usr/lib/../lib/x86_64-linux-gnu/",
        "/missing/file",
    ]
    for follow in (True, False):
        expected = [resolve_in_root(root, name, follow_last=follow) for name in names]
        wanted = [str(path) for path in expected if path is not None]
        assert list(resolve_each(root, names, follow_last=follow)) == wanted


def test_a_long_file_list_is_linear(tmp_path: Path) -> None:
    """The elves of a package listing 200,000 files: a tenth of the bench's list-2M, which took
    111 s and 1.1 GB (a resolution of every path, a Path object each); now seconds."""
    from depgraph.model import Origin, Package
    from depgraph.package_files import RootFiles

    root = tmp_path / "root"
    info = root / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    (root / "usr/lib").mkdir(parents=True)
    (root / "usr/lib/libbig.so.1").write_bytes(b"\x7fELF" + bytes(60))
    (root / "usr/lib/fifo.so").parent.mkdir(exist_ok=True)
    os.mkfifo(root / "usr/lib/fifo.so")  # listed, never opened for reading (it would block)
    with (info / "bigpkg.list").open("w") as out:
        out.write("/usr/lib/libbig.so.1\n/usr/lib/fifo.so\n")
        for n in range(200_000):
            out.write(f"/usr/share/bigpkg/{n // 1000}/file{n}.dat\n")
    package = Package("bigpkg", "1", None, "installed", Origin.STATUS, "status:1")
    started = time.monotonic()
    elves = RootFiles(root).elves(package, None)
    assert time.monotonic() - started < 20
    assert [elf.path for elf in elves] == [str(root / "usr/lib/libbig.so.1")]


def test_readme_lists_every_limit() -> None:
    from depgraph.sources.files import size_text

    text = (REPO / "README.md").read_text()
    for kind in Kind:
        row = f"| {kind.name.lower().replace('_', '-')} | {kind.what} | {size_text(kind.limit)} |"
        assert row in text, f"README 'Input limits' lacks: {row}"


@pytest.mark.parametrize("first", [100, 3000, 4000])
def test_padding_that_ends_where_a_read_ends_does_not_hide_the_rest(
    first: int, tmp_path: Path
) -> None:
    """NUL padding after a member that fills the first read exactly: the next member is still
    read (stopping there would hide the records after it)."""
    seen = gzip.compress(b"Package: seen\n" + os.urandom(first), mtime=0)
    hidden = gzip.compress(b"Package: hidden\n", mtime=0)
    path = tmp_path / "Packages.gz"
    path.write_bytes(seen + b"\0" * (4096 - len(seen)) + hidden)
    data = read_bytes(path, Kind.PACKAGES)
    assert data.endswith(b"Package: hidden\n")
