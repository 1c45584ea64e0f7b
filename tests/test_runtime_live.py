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

from depgraph.audit import _VersionJudge, old_copy
from depgraph.diagnostics import Diagnostics
from depgraph.dpkg_log import exposure_history
from depgraph.load import SourceOptions, open_index
from depgraph.model import Component, Role
from depgraph.profiles import load_profile
from depgraph.risk import Level, LibraryState, OldCopy, Risk, Running, assess
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


# --- the version of an old copy, from dpkg's log (issue 21, 1) -----------------------------------


def _stamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def dpkg_log_root(directory: Path, *entries: tuple[float, str, str, str]) -> Path:
    """A fake root whose ``var/log/dpkg.log`` holds dpkg's real lines for libssl3 (``ACTION
    libssl3:amd64 OLD NEW`` and the status lines that follow) at the given moments."""
    log = directory / "var/log"
    log.mkdir(parents=True)
    lines = []
    for moment, action, old, new in entries:
        stamp = _stamp(moment)
        lines += [
            f"{stamp} startup archives unpack",
            f"{stamp} {action} libssl3:amd64 {old} {new}",
            f"{stamp} status half-installed libssl3:amd64 {new}",
            f"{stamp} status unpacked libssl3:amd64 {new}",
            f"{stamp} configure libssl3:amd64 {new} <none>",
            f"{stamp} status installed libssl3:amd64 {new}",
        ]
    (log / "dpkg.log").write_text("\n".join(lines) + "\n")
    return directory


@pytest.fixture(scope="module")
def judge() -> _VersionJudge:
    """The fix check's verdict on any version of this machine's libssl3 (its real changelog),
    under the openssl-cve-2022-3602 profile (vulnerable from 3.0.0 to 3.0.6)."""
    if not list(Path("/var/lib/dpkg/info").glob("libssl3*.list")):
        pytest.skip("libssl3 is not installed on this machine")
    index = open_index(SourceOptions(root=Path("/")), Diagnostics(strict=False))
    return _VersionJudge(load_profile("openssl-cve-2022-3602"), index, Path("/"), None)


def judged_copy(process: ProcessExposure, root: Path, judge: _VersionJudge) -> OldCopy:
    history = exposure_history(root, "libssl3")
    return old_copy(process, "libssl3", root, history, {}, judge)


def as_reachable_server(copy: OldCopy) -> Risk:
    """The risk of a TLS server listening on all addresses whose process maps ``copy``, with the
    installed library fixed (the repro: a later libssl3 update replaced the file under it)."""
    running = Running(maps_library=True, stale=True, old_copy=copy, listening_public=True)
    return assess(
        library=LibraryState.FIXED,
        role=Role.SERVER,
        component=Component.LIBSSL,
        vulnerable_component=Component.LIBCRYPTO,
        running=running,
    )


def test_old_copy_installed_fixed_before_the_process_started_is_low(
    spawn: Spawn, tmp_path: Path, judge: _VersionJudge
) -> None:
    """dpkg.log: 3.0.7-1 (past the vulnerable 3.0.0-3.0.6) was on disk when the process started;
    a later upgrade replaced it. The process runs fixed code: a restart due, not critical."""
    process, copy = load_copy(spawn, tmp_path)
    copy.unlink()
    found = scanned(process.pid)
    assert found.started is not None and found.reason is Reason.DELETED
    root = dpkg_log_root(
        tmp_path / "root",
        (found.started - 7200, "install", "<none>", "3.0.7-1"),
        (found.started + 5, "upgrade", "3.0.7-1", "3.0.19-1~deb12u2"),
    )
    judged = judged_copy(found, root, judge)
    assert (judged.version, judged.state) == ("3.0.7-1", LibraryState.FIXED)
    assert judged.describe() == "maps an older copy (3.0.7-1, fixed)"
    log = str(root / "var/log/dpkg.log")
    assert (judged.evidence[0].path, judged.evidence[0].line) == (log, 2)  # the install line
    risk = as_reachable_server(judged)
    assert risk.level is Level.LOW
    assert risk.reasons[0].startswith("maps an older copy (3.0.7-1, fixed): restart it")


def test_old_copy_installed_vulnerable_stays_critical(
    spawn: Spawn, tmp_path: Path, judge: _VersionJudge
) -> None:
    process, copy = load_copy(spawn, tmp_path)
    copy.unlink()
    found = scanned(process.pid)
    assert found.started is not None
    root = dpkg_log_root(
        tmp_path / "root",
        (found.started - 7200, "install", "<none>", "3.0.5-1"),
        (found.started + 5, "upgrade", "3.0.5-1", "3.0.19-1~deb12u2"),
    )
    judged = judged_copy(found, root, judge)
    assert judged.version == "3.0.5-1"
    # 3.0.5 is in the range, and below bookworm's first fixed version 3.0.7-1 (the release is read
    # from this machine, the table from the profile)
    assert judged.state is LibraryState.VULNERABLE
    assert judged.describe() == "maps an older copy (3.0.5-1, vulnerable)"
    assert as_reachable_server(judged).level is Level.CRITICAL


def test_old_copy_of_a_process_older_than_the_log_is_unknown(
    spawn: Spawn, tmp_path: Path, judge: _VersionJudge
) -> None:
    """The log begins after the process started: the version it loaded cannot be told."""
    process, copy = load_copy(spawn, tmp_path)
    copy.unlink()
    found = scanned(process.pid)
    assert found.started is not None
    root = dpkg_log_root(
        tmp_path / "root", (found.started + 5, "upgrade", "3.0.7-1", "3.0.19-1~deb12u2")
    )
    judged = judged_copy(found, root, judge)
    assert (judged.version, judged.state) == (None, LibraryState.UNKNOWN)
    assert "before the oldest entry of libssl3 in dpkg's log" in judged.why
    risk = as_reachable_server(judged)
    assert risk.level is Level.CRITICAL  # counted as vulnerable, and the reason says why
    assert "could not be told" in risk.reasons[0] and "counted as vulnerable" in risk.reasons[0]
    # and without any dpkg log at all
    bare = tmp_path / "bare"
    bare.mkdir()
    judged = judged_copy(found, bare, judge)
    assert (
        judged.state is LibraryState.UNKNOWN and judged.why == f"no dpkg log under {bare}/var/log"
    )


def test_audit_of_a_server_whose_libssl_was_replaced_under_it(
    spawn: Spawn, tmp_path: Path, throwaway_certificate: tuple[Path, Path]
) -> None:
    """The repro of issue 21: ``openssl s_server`` loads a copy of libssl.so.3 and libcrypto.so.3
    that is then deleted; this machine's dpkg.log shows the installed libssl3 (fixed for
    CVE-2022-3602) already on disk when it started. The audit says it maps an older, fixed copy:
    low, and ``--fail-on high`` does not fire because of it."""
    history = exposure_history(Path("/"), "libssl3")
    current = history.current()
    if current is None or current.installed is None or current.installed > time.time() - 5:
        pytest.skip("this machine's dpkg.log does not show when the installed libssl3 came")
    libraries = tmp_path / "lib"
    libraries.mkdir()
    for name in ("libssl.so.3", "libcrypto.so.3"):
        shutil.copy2(LIBSSL.parent / name, libraries / name)
    key, cert = throwaway_certificate
    port = free_port()
    server = spawn(
        require_tool("openssl"), "s_server", "-accept", f"127.0.0.1:{port}",
        "-key", key, "-cert", cert, "-quiet",
        stdin=subprocess.DEVNULL, env={**os.environ, "LD_LIBRARY_PATH": str(libraries)},
    )  # fmt: skip
    wait_listening(port, server)
    for name in ("libssl.so.3", "libcrypto.so.3"):
        (libraries / name).unlink()
    done = run_depgraph("audit", "--profile", "openssl-cve-2022-3602", "--format", "json")
    report = json.loads(done.stdout)
    found = entry(report, server.pid)
    assert found["deleted"] is True and found["package"] == "openssl"
    copy = found["old_copy"]
    assert isinstance(copy, dict)
    assert (copy["version"], copy["state"]) == (current.version, "fixed")
    assert copy["text"] == f"maps an older copy ({current.version}, fixed)"
    assert any(e.get("path") == current.evidence[0].path for e in copy["evidence"])
    (openssl,) = [p for p in report["packages"] if p["package"] == "openssl"]
    assert openssl["risk"]["level"] == "low", openssl["risk"]
    assert openssl["risk"]["reasons"][0].startswith(f"maps an older copy ({current.version}")
    assert report["summary"]["highest_risk"] not in ("critical", "high"), report["summary"]
    table = run_depgraph("audit", "--profile", "openssl-cve-2022-3602", "--fail-on", "high")
    assert table.status == 0, table.stdout
    words = " ".join(table.stdout.split())  # lines wrap where the temporary path's length says
    assert f"maps an older copy ({current.version}, fixed)" in words
    # the plan does not repeat the profile's words about vulnerable code for a fixed old copy
    (restart,) = [a for a in report["actions"] if a["step"] == "restart"]
    assert restart["text"].startswith("Restart the processes that map an older copy of the library")
    assert f"pid {server.pid} (openssl: " in restart["text"], restart["text"]


def stray_with_a_fixed_old_copy(spawn: Spawn, tmp_path: Path) -> tuple[Path, subprocess.Popen[str]]:
    """A copied interpreter (a process of no package) that loads a copy of libssl.so.3, then the
    copy is deleted; this machine's dpkg.log shows the installed, fixed libssl3 on disk when it
    started."""
    history = exposure_history(Path("/"), "libssl3")
    current = history.current()
    if current is None or current.installed is None or current.installed > time.time() - 5:
        pytest.skip("this machine's dpkg.log does not show when the installed libssl3 came")
    interpreter = tmp_path / "stray-python"
    shutil.copy2(Path(sys.executable).resolve(), interpreter)
    copy = tmp_path / "libssl.so.3"
    shutil.copy2(LIBSSL, copy)
    process = spawn(interpreter, "-c", LOADER, copy)
    wait_loaded(process)
    copy.unlink()
    return interpreter, process


def test_audit_of_a_stray_process_with_a_fixed_old_copy(spawn: Spawn, tmp_path: Path) -> None:
    """A process of no package (a copied interpreter) maps a deleted copy of libssl.so.3 that
    dpkg's log shows fixed when it started: a restart due (low), not "affected / high", and no
    dependent is told that this process may be its old code."""
    _, process = stray_with_a_fixed_old_copy(spawn, tmp_path)
    done = run_depgraph("audit", "--profile", "openssl-cve-2022-3602", "--format", "json")
    report = json.loads(done.stdout)
    found = entry(report, process.pid)
    assert found["package"] is None and found["deleted"] is True
    assert found["old_copy"]["state"] == "fixed"  # type: ignore[index]
    assert report["summary"]["highest_risk"] == "low", report["summary"]
    assert report["summary"]["affected"] is False
    reasons = [r for p in report["packages"] for r in p["risk"]["reasons"]]
    assert not any(f"pid {process.pid}" in reason for reason in reasons)


def test_a_fixed_old_copy_is_not_headed_old_or_vulnerable(spawn: Spawn, tmp_path: Path) -> None:
    """Issue 21: the stray process above, in the table, Markdown and HTML: its old copy was fixed
    when it started, so the heading over it says so instead of 'the old or vulnerable library'."""
    interpreter, process = stray_with_a_fixed_old_copy(spawn, tmp_path)
    for fmt in ("table", "markdown", "html"):
        done = run_depgraph("audit", "--profile", "openssl-cve-2022-3602", "--format", fmt)
        text = " ".join(done.stdout.split())
        assert f"pid {process.pid} {interpreter}" in text, fmt
        assert ", fixed); listening" in text, fmt
        assert "Still running the old or vulnerable library" not in text, fmt
        assert "Still running an older copy of the library, already fixed" in text, fmt
