"""``depgraph restart`` and ``scan_processes`` against real processes started by the test.

Every process is started through the ``spawn`` fixture, which kills it (and its process group)
when the test ends, passed or failed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from depgraph.runtime.library import library_files
from depgraph.runtime.maps import MappingState
from depgraph.runtime.scan import ProcessExposure, Reason, scan_processes
from depgraph.runtime.sockets import Scope
from tests.conftest import REPO, SCHEMAS, require_tool, run_depgraph, throwaway_certificate

LIBSSL = Path("/usr/lib/x86_64-linux-gnu/libssl.so.3")
LOADER = (
    "import ctypes, sys, time\n"
    "ctypes.CDLL(sys.argv[1])\n"
    "print('loaded', flush=True)\n"
    "time.sleep(600)\n"
)

Spawn = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start a process in its own group; every one is killed at the end of the test."""
    started: list[subprocess.Popen[str]] = []

    def start(*command: str | Path, **options: object) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [str(part) for part in command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            **options,  # type: ignore[call-overload]
        )
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def wait_loaded(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "loaded", process.stderr.read() if process.stderr else line


def restart_json(*args: str | Path) -> tuple[int, dict[str, object], str]:
    done = run_depgraph("restart", "--format", "json", *args)
    assert done.status in (0, 1), done.stderr
    return done.status, json.loads(done.stdout), done.stderr


def entry(document: dict[str, object], pid: int) -> dict[str, object]:
    processes = document["processes"]
    assert isinstance(processes, list)
    for item in processes:
        if item["pid"] == pid:
            return dict(item)
    raise AssertionError(f"pid {pid} not reported: {[p['pid'] for p in processes]}")


def report_process_schema() -> dict[str, object]:
    schema = json.loads((SCHEMAS / "report-v1.schema.json").read_text())
    return {"$defs": schema["$defs"], **schema["properties"]["processes"]["items"]}


@pytest.fixture(name="throwaway_certificate")
def throwaway_certificate_fixture(tmp_path: Path) -> tuple[Path, Path]:
    return throwaway_certificate(tmp_path)


def test_openssl_s_server_found_with_package_library_and_loopback_listener(
    spawn: Spawn, throwaway_certificate: tuple[Path, Path]
) -> None:
    key, cert = throwaway_certificate
    port = free_port()
    server = spawn(
        require_tool("openssl"),
        "s_server",
        "-accept",
        f"127.0.0.1:{port}",
        "-key",
        key,
        "-cert",
        cert,
        "-quiet",
        stdin=subprocess.DEVNULL,
    )
    wait_listening(port, server)
    _status, document, _ = restart_json("--library", "libssl3")
    found = entry(document, server.pid)
    assert found["package"] == "openssl"
    assert found["exe"] == "/usr/bin/openssl"
    assert str(found["library_path"]).endswith("/libssl.so.3")
    assert found["listening"] == [f"127.0.0.1:{port}/tcp"]
    assert found["listening_scope"] == "loopback"
    assert found["reason"] == "current" and found["deleted"] is False
    assert found["needs_restart"] is False
    import jsonschema

    jsonschema.validate(found, report_process_schema())
    # the library API gives the same, as values
    scan = scan_processes(library_files(Path("/"), "libssl3"))  # type: ignore[arg-type]
    (process,) = [p for p in scan.processes if p.pid == server.pid]
    assert process.package == "openssl"
    assert process.listening is not None
    assert [(s.address, s.port, s.scope) for s in process.listening] == [
        ("127.0.0.1", port, Scope.LOOPBACK)
    ]
    assert process.started is not None and abs(process.started - time.time()) < 120
    assert not process.exposed_server


def load_copy(spawn: Spawn, directory: Path) -> tuple[subprocess.Popen[str], Path]:
    copy = directory / "libssl.so.3"
    shutil.copy2(LIBSSL, copy)
    process = spawn(sys.executable, "-c", LOADER, copy)
    wait_loaded(process)
    return process, copy


def test_deleted_copy_of_libssl_is_reported(spawn: Spawn, tmp_path: Path) -> None:
    process, copy = load_copy(spawn, tmp_path)
    copy.unlink()
    status, document, _stderr = restart_json("--library", "libssl3")
    found = entry(document, process.pid)
    assert found["library_path"] == str(copy)
    assert found["reason"] == "deleted" and found["deleted"] is True
    assert found["needs_restart"] is True
    assert found["mappings"][0]["state"] == "deleted"  # type: ignore[index]
    assert status == 1
    actions = document["actions"]
    assert isinstance(actions, list)
    assert any(process.pid in a["pids"] for a in actions)
    # the table names it too, and the summary counts it
    table = run_depgraph("restart", "--library", "libssl3")
    assert str(process.pid) in table.stdout and "deleted" in table.stdout
    assert "keep an old or vulnerable copy" in table.stderr


def scanned(pid: int) -> ProcessExposure:
    library = library_files(Path("/"), "libssl3")
    assert library is not None
    (found,) = [p for p in scan_processes(library).processes if p.pid == pid]
    return found


def test_renamed_over_copy_is_deleted_as_after_an_upgrade(spawn: Spawn, tmp_path: Path) -> None:
    """dpkg renames the new file over the old: the kernel marks the old mapping deleted."""
    process, copy = load_copy(spawn, tmp_path)
    newer = tmp_path / "libssl.so.3.dpkg-new"
    shutil.copy2(LIBSSL, newer)
    os.replace(newer, copy)
    assert scanned(process.pid).reason is Reason.DELETED


def test_copy_written_over_in_place_is_replaced(spawn: Spawn, tmp_path: Path) -> None:
    process, copy = load_copy(spawn, tmp_path)
    time.sleep(1.2)  # the start time is known to the second (btime)
    with copy.open("r+b") as handle:  # what `cp new old` does: same inode, new contents
        data = handle.read(4096)
        handle.seek(0)
        handle.write(data)
    os.utime(copy)
    found = scanned(process.pid)
    assert found.reason is Reason.REPLACED
    assert found.states[0] is MappingState.REPLACED
    assert found.library_path == str(copy)
    _, document, _ = restart_json("--library", "libssl3")
    assert entry(document, process.pid)["reason"] == "replaced"
    assert entry(document, process.pid)["deleted"] is True


def test_copy_hidden_by_a_mount_is_replaced(spawn: Spawn, tmp_path: Path) -> None:
    """Another file system mounted over the directory: same path, another device and inode."""
    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    mounted = tmp_path / "lib"
    mounted.mkdir()
    process, copy = load_copy(spawn, mounted)
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy2(LIBSSL, other / "libssl.so.3")
    done = subprocess.run(["mount", "--bind", other, mounted], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {done.stderr.decode().strip()}")
    try:
        found = scanned(process.pid)
        assert found.reason is Reason.REPLACED, found.evidence
        assert found.library_path == str(copy)
    finally:
        subprocess.run(["umount", mounted], check=True)


def test_advice_grep_output_is_read_with_maps(spawn: Spawn, tmp_path: Path) -> None:
    """The advice's own one-liner, run for real, then given to --maps."""
    process, copy = load_copy(spawn, tmp_path)
    copy.unlink()
    grep = subprocess.run(
        f"grep 'libssl.*(deleted)' /proc/{process.pid}/maps /proc/self/maps",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    saved = tmp_path / "grep-output.txt"
    saved.write_text(grep.stdout)
    assert f"/proc/{process.pid}/maps:" in grep.stdout
    status, document, _ = restart_json("--maps", saved)
    assert status == 1
    found = entry(document, process.pid)
    assert found["reason"] == "deleted" and found["library_path"] == str(copy)
    assert document["source"] == {"kind": "maps-file", "path": str(saved)}
    assert document["partial"] is False


def test_exited_processes_are_skipped_quietly(spawn: Spawn, tmp_path: Path) -> None:
    """Processes that come and go during the scan are neither errors nor warnings."""
    churn = spawn(
        "sh",
        "-c",
        "while :; do /bin/true & /bin/true & wait; done",
    )
    process, copy = load_copy(spawn, tmp_path)
    copy.unlink()
    for _ in range(3):
        _status, document, stderr = restart_json("--library", "libssl3")
        assert entry(document, process.pid)["reason"] == "deleted"
        assert "Traceback" not in stderr
    assert churn.poll() is None


NOBODY = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")


def test_unprivileged_scan_is_partial_and_says_so(spawn: Spawn, tmp_path: Path) -> None:
    require_tool("setpriv")
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to nobody")
    process, copy = load_copy(spawn, tmp_path)  # a root process nobody cannot read
    copy.unlink()
    environment = {k: v for k, v in os.environ.items() if k != "XDG_CACHE_HOME"}
    done = subprocess.run(
        [
            *NOBODY,
            sys.executable,
            "-m",
            "depgraph",
            "restart",
            "--library",
            "libssl3",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=environment,
        check=False,
        timeout=120,
    )
    assert "Traceback" not in done.stderr
    assert done.returncode == 1, done.stderr  # a partial view is not a clean bill of health
    document = json.loads(done.stdout)
    assert document["partial"] is True
    unreadable = {item["pid"]: item["command"] for item in document["unreadable"]}
    assert process.pid in unreadable
    assert unreadable[process.pid].startswith("python")
    # the warning counts them all and names the first ten (the JSON has every one)
    assert f"the maps of {len(unreadable)} processes could not be read" in done.stderr
    assert str(min(unreadable)) in done.stderr
    assert all(p["pid"] != process.pid for p in document["processes"])
    table = subprocess.run(
        [*NOBODY, sys.executable, "-m", "depgraph", "restart", "--library", "libssl3"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=environment,
        check=False,
        timeout=120,
    )
    assert "PARTIAL" in table.stdout
    assert "No process keeps" not in table.stdout


def test_restart_path_imports_nothing_heavy() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "depgraph", "restart", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    for heavy in (
        "networkx",
        "elftools",
        "tabulate",
        "apt_pkg",
        "cryptography",
        "debian_inspector",
    ):
        assert not any(name == heavy or name.startswith(heavy + ".") for name in imported), heavy
