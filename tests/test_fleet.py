"""``depgraph fleet``: many hosts' snapshots at once, on a local Dask cluster and on a real external
one (a ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1, started and stopped here).

The fleet is made of real files: snapshots built from the 2014 trees of ``fixtures/heartbleed``
(tarballs in the ``depgraph collect`` format), a snapshot of this machine written by ``depgraph
collect``, and saved status and ``dpkg -l`` files. Each host's line of the fleet report is checked
against ``depgraph audit`` of the same file, run on its own.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import HEARTBLEED, REPO, SCHEMAS, run_depgraph, snapshot_tarball

SCHEMA = json.loads((SCHEMAS / "fleet-v1.schema.json").read_text())
SCENARIOS = sorted(path.parent.name for path in HEARTBLEED.glob("*/root"))
AUDITED = "medium"
"""The highest risk of the 2014 hosts these tests audit beside a bad one (debian-7.0-i386's
libcurl3, curl and openssl are TLS clients; the openssl command is no server, issue 21)."""
DPKG_LIST = REPO / "fixtures" / "audit" / "dpkg-list-only" / "dpkg-l.txt"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of hosts: one snapshot per 2014 tree, this machine's snapshot, a status file and
    a ``dpkg -l`` list (in a subfolder)."""
    folder = tmp_path_factory.mktemp("fleet")
    for name in SCENARIOS:
        snapshot_tarball(folder / f"{name}.tar.gz", HEARTBLEED / name / "root", f"host-{name}")
    done = run_depgraph("collect", "-o", folder / "this-machine.tar.gz")
    assert done.status == 0, done.stderr
    saved = folder / "saved"
    saved.mkdir()
    shutil.copy(HEARTBLEED / "debian-7.0-i386/root/var/lib/dpkg/status", saved / "web01.status")
    shutil.copy(DPKG_LIST, saved / "db02.txt")
    return folder


def _fleet(*args: str | Path, cache: Path | None = None) -> tuple[int, dict[str, Any], str]:
    env = {"XDG_CACHE_HOME": str(cache)} if cache else None
    extra = () if cache else ("--no-cache",)
    done = run_depgraph("fleet", *args, *extra, "--format", "json", env=env)
    data = json.loads(done.stdout)
    jsonschema.validate(data, SCHEMA)
    return done.status, data, done.stderr


def _answer(data: dict[str, Any]) -> dict[str, Any]:
    """The report without how the run went (engine, cached)."""
    return {key: value for key, value in data.items() if key != "run"}


@pytest.fixture(scope="module")
def external_scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Dask scheduler and two workers on 127.0.0.1, as the README says to start them."""
    with _dask_cluster(tmp_path_factory.mktemp("dask")) as address:
        yield address


@contextlib.contextmanager
def _dask_cluster(folder: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``dask scheduler`` and two ``dask worker`` processes (each under its nanny, which starts
    it again when it dies), stopped at the end."""
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    scheduler_file = folder / "scheduler.json"
    environment = {**os.environ, **(env or {})}
    processes = [
        subprocess.Popen(
            [*dask, "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(scheduler_file)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            env=environment,
        )
    ]  # fmt: skip
    try:
        address = _wait_for_address(scheduler_file, processes[0])
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "distributed.cli.dask_worker", address,
                     "--nthreads", "1", "--no-dashboard", "--memory-limit", "0"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder,
                    start_new_session=True, env=environment,
                )
            )  # fmt: skip
        _wait_for_workers(address, 2)
        yield address
    finally:
        for process in reversed(processes):  # the workers first, then the scheduler
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_for_address(scheduler_file: Path, process: subprocess.Popen[bytes]) -> str:
    for _ in range(600):
        if process.poll() is not None:
            pytest.fail("the Dask scheduler exited at start-up")
        if scheduler_file.exists():
            try:
                return str(json.loads(scheduler_file.read_text())["address"])
            except ValueError:
                pass  # being written
        time.sleep(0.1)
    pytest.fail("the Dask scheduler did not start")


def _wait_for_workers(address: str, count: int) -> None:
    from distributed import Client

    with Client(address, timeout="60s") as client:
        client.wait_for_workers(count, timeout=120)


# --- the same answer, wherever it runs ----------------------------------------------------------


@pytest.fixture(scope="module")
def in_process(fleet: Path) -> tuple[int, dict[str, Any], str]:
    return _fleet(fleet, "--jobs", "1")


def test_local_cluster_and_external_scheduler_give_the_same_report(
    fleet: Path, in_process: tuple[int, dict[str, Any], str], external_scheduler: str
) -> None:
    status, alone, _ = in_process
    local_status, local, _ = _fleet(fleet, "--jobs", "2")
    remote_status, remote, stderr = _fleet(fleet, "--scheduler", external_scheduler)
    assert local["run"]["engine"] == "dask local cluster, 2 workers"
    assert remote["run"]["engine"] == f"dask {external_scheduler}", stderr
    assert alone["run"]["engine"] == "in-process"
    assert remote["run"]["audited"] == len(SCENARIOS) + 3
    assert _answer(remote) == _answer(local) == _answer(alone)
    assert remote_status == local_status == status == 1  # 2014's vulnerable hosts: high


def test_each_host_is_what_its_own_audit_says(
    fleet: Path, in_process: tuple[int, dict[str, Any], str]
) -> None:
    _, data, _ = in_process
    hosts = {row["path"]: row for row in data["hosts"]}
    assert len(hosts) == len(SCENARIOS) + 3
    for path, row in hosts.items():
        option = {"snapshot": "--snapshot", "status": "--status", "dpkg-list": "--dpkg-list"}
        done = run_depgraph("audit", option[row["kind"]], path, "--format", "json")
        alone = json.loads(done.stdout)
        assert row["highest_risk"] == alone["summary"]["highest_risk"], path
        levels = [p["risk"]["level"] for p in alone["packages"]]
        assert row["counts"] == {level: levels.count(level) for level in row["counts"]}, path
        assert row["libraries"] == [
            {"package": v["package"], "version": v["version"], "state": v["state"]}
            for v in alone["library"]
        ]
    names = {row["host"] for row in data["hosts"]}
    assert {f"host-{name}" for name in SCENARIOS} | {"web01", "db02"} <= names


def test_the_fleet_report_adds_up(in_process: tuple[int, dict[str, Any], str]) -> None:
    _, data, _ = in_process
    rows = data["hosts"]
    summary = data["summary"]
    assert summary["hosts"] == len(rows)
    assert sum(summary["by_level"].values()) == len(rows) - summary["failed"]
    assert summary["failed"] == 0
    ranks = ["critical", "high", "medium", "low", "none"]
    order = [ranks.index(row["highest_risk"]) for row in rows]
    assert order == sorted(order), "hosts are ranked by their highest risk"
    # per package across the fleet: counted from the hosts' own rows
    for entry in data["packages"][:10]:
        on = [row for row in rows if any(e["package"] == entry["package"] for e in row["exposed"])]
        assert entry["hosts"] >= len(on) > 0
    versions = {(v["package"], v["version"], v["state"]): v["hosts"] for v in data["libraries"]}
    vulnerable_1_0_1e = ("libssl1.0.0", "1.0.1e-1", "vulnerable")
    assert versions[vulnerable_1_0_1e] == 1  # debian-7.0-i386's tree, with its changelog
    assert versions[("libssl1.0.0", "1.0.1e-1", "unknown")] == 1  # the same, saved status only
    # the dpkg -l list and the snapshots missing their processes are partial, never clean
    partial = {row["host"] for row in data["incomplete"] if row["status"] == "partial"}
    assert "db02" in partial
    assert f"host-{SCENARIOS[0]}" in partial


# --- the cache: a re-run audits only what is new -------------------------------------------------


def test_a_rerun_audits_only_new_or_changed_hosts(tmp_path: Path) -> None:
    folder = tmp_path / "hosts"
    folder.mkdir()
    statuses = sorted(HEARTBLEED.glob("*/root/var/lib/dpkg/status"))
    for status in statuses[:4]:
        shutil.copy(status, folder / f"{status.parents[4].name}.status")
    cache = tmp_path / "cache"
    _, first, _ = _fleet(folder, "--jobs", "1", cache=cache)
    assert first["run"] == {"engine": "in-process", "audited": 4, "cached": 0}
    for status in statuses[4:6]:  # two new hosts arrive; one old host is patched
        shutil.copy(status, folder / f"{status.parents[4].name}.status")
    patched = folder / f"{statuses[0].parents[4].name}.status"
    patched.write_text(
        patched.read_text().replace("Version: 1.0.1e-1\n", "Version: 1.0.1e-2+deb7u5\n")
    )
    _, second, _ = _fleet(folder, "--jobs", "1", cache=cache)
    assert second["run"] == {"engine": "in-process", "audited": 3, "cached": 3}
    _, fresh, _ = _fleet(folder, "--jobs", "1")
    assert _answer(second) == _answer(fresh)
    _, third, _ = _fleet(folder, "--jobs", "2", cache=cache)
    assert third["run"] == {"engine": "cache", "audited": 0, "cached": 6}
    assert _answer(third) == _answer(fresh)


# --- bad hosts fail alone -----------------------------------------------------------------------


def _hostile(path: Path) -> None:
    with tarfile.open(path, "w:gz") as tar:
        data = b"root::0:0::/root:/bin/sh\n"
        info = tarfile.TarInfo("../../etc/passwd")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def test_bad_hosts_fail_with_their_reason_and_the_run_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "hosts"
    folder.mkdir()
    good = HEARTBLEED / "debian-7.0-i386/root/var/lib/dpkg/status"
    shutil.copy(good, folder / "good.status")
    whole = folder / "whole.tar.gz"
    snapshot_tarball(whole, HEARTBLEED / "debian-jessie-armel/root", "jessie")
    (folder / "truncated.tar.gz").write_bytes(whole.read_bytes()[:5000])
    _hostile(folder / "hostile.tar.gz")
    # an Alpine host's package database (apk's lib/apk/db/installed): another distribution
    (folder / "alpine").write_text(
        "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\n\nP:libssl3\nV:3.1.4-r5\n"
    )
    (folder / "empty.status").write_bytes(b"")
    status, data, stderr = _fleet(folder, "--jobs", "2")
    assert status == 2, stderr
    assert "4 FAILED" in stderr
    rows = {row["host"]: row for row in data["hosts"]}
    failed = {host for host, row in rows.items() if row["status"] == "failed"}
    assert failed == {"truncated", "hostile", "alpine", "empty"}
    assert "truncated" in rows["truncated"]["reason"] or "corrupt" in rows["truncated"]["reason"]
    assert ".." in rows["hostile"]["reason"]
    assert rows["alpine"]["reason"]
    assert rows["empty"]["reason"] == "empty file"
    assert all(rows[host]["highest_risk"] is None for host in failed)  # never counted clean
    assert rows["good"]["highest_risk"] == AUDITED
    assert rows["jessie"]["libraries"][0]["state"] == "fixed"
    assert data["summary"]["failed"] == 4
    assert sum(data["summary"]["by_level"].values()) == 2
    assert [row["host"] for row in data["hosts"][:4]] == sorted(failed)  # listed first


def _wide(path: Path, leaves: int) -> None:
    """A real status file plus 100,000 packages depending on libssl1.0.0 (several seconds of
    work for any machine)."""
    with path.open("w") as out:
        out.write(
            (HEARTBLEED / "debian-7.0-i386/root/var/lib/dpkg/status").read_text().rstrip("\n")
        )
        out.write("\n\n")
        for i in range(leaves):
            out.write(
                f"Package: leaf{i}\nStatus: install ok installed\nArchitecture: i386\n"
                f"Version: 1.0-{i}\nDepends: libssl1.0.0 (>= 1.0.1)\nDescription: leaf {i}\n\n"
            )


def test_a_host_over_its_memory_limit_kills_only_its_audit_process(tmp_path: Path) -> None:
    folder = tmp_path / "hosts"
    folder.mkdir()
    _wide(folder / "big.status", 100_000)  # about 240 MB resident to audit; 200 MB allowed
    shutil.copy(HEARTBLEED / "debian-7.0-i386/root/var/lib/dpkg/status", folder / "a.status")
    shutil.copy(HEARTBLEED / "raspbian-wheezy/root/var/lib/dpkg/status", folder / "b.status")
    status, data, stderr = _fleet(folder, "--jobs", "2", "--host-memory", "200")
    assert status == 2, stderr
    rows = {row["host"]: row for row in data["hosts"]}
    assert rows["big"]["status"] == "failed"
    assert rows["big"]["reason"] == "out of memory (limit 200 MB)"
    assert rows["a"]["highest_risk"] == rows["b"]["highest_risk"] == AUDITED


def test_a_host_over_its_time_limit_is_stopped_and_the_run_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "hosts"
    folder.mkdir()
    _wide(folder / "slow.status", 100_000)
    for name in ("a", "b", "c"):
        shutil.copy(
            HEARTBLEED / "debian-7.0-i386/root/var/lib/dpkg/status", folder / f"{name}.status"
        )
    status, data, stderr = _fleet(folder, "--jobs", "1", "--host-timeout", "1")
    assert status == 2, stderr
    rows = {row["host"]: row for row in data["hosts"]}
    assert rows["slow"]["reason"] == "timed out after 1 s"
    assert [rows[name]["highest_risk"] for name in "abc"] == [AUDITED] * 3


def _children(pid: int) -> list[int]:
    """The process ids whose parent is ``pid`` (proc(5): field 4 of ``/proc/PID/stat``)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_a_host_whose_audit_process_is_killed_fails_alone(tmp_path: Path) -> None:
    """The kernel's OOM killer, played by this test: SIGKILL to the audit process of a host."""
    folder = tmp_path / "hosts"
    folder.mkdir()
    _wide(folder / "0-victim.status", 100_000)  # first, and several seconds long
    for name in ("a", "b"):
        shutil.copy(
            HEARTBLEED / "debian-7.0-i386/root/var/lib/dpkg/status", folder / f"{name}.status"
        )
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    command = [
        sys.executable,
        "-m",
        "depgraph",
        "fleet",
        str(folder),
        "--jobs",
        "1",
        "--format",
        "json",
    ]
    fleet = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO
    )
    try:
        for _ in range(600):
            children = _children(fleet.pid)
            if children:
                break
            time.sleep(0.05)
        assert children, "no audit process was started"
        time.sleep(1)  # into the victim's audit
        os.kill(children[0], signal.SIGKILL)
        stdout, stderr = fleet.communicate(timeout=300)
    finally:
        if fleet.poll() is None:
            fleet.kill()
            fleet.wait()
    assert fleet.returncode == 2, stderr
    rows = {row["host"]: row for row in json.loads(stdout)["hosts"]}
    assert (
        rows["0-victim"]["reason"]
        == "the audit process was killed by SIGKILL (the kernel's OOM killer?)"
    )
    assert rows["a"]["highest_risk"] == rows["b"]["highest_risk"] == AUDITED


def _audit_processes() -> dict[int, tuple[int, int]]:
    """``python -m depgraph.fleet.runner`` processes started by this test (descendants of this
    process: not those of another test run on the same machine): pid -> (parent pid, resident
    KB)."""
    parents: dict[int, int] = {}
    runners: dict[int, int] = {}
    for directory in Path("/proc").glob("[0-9]*"):
        try:
            status = (directory / "status").read_text()
            command = (directory / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid = int(directory.name)
        parents[pid] = int(fields.get("PPid", "0"))
        if b"depgraph.fleet.runner" in command:
            resident = int(fields.get("VmRSS", "0 kB").split()[0])
            runners[pid] = WIDE_MARK if _reading_the_wide_host(directory) else resident
    return {
        pid: (parents[pid], resident)
        for pid, resident in runners.items()
        if _descends(pid, os.getpid(), parents)
    }


WIDE_MARK = 1 << 40
"""The resident size given to an audit process that has the wide host's file open."""


def _reading_the_wide_host(process: Path) -> bool:
    """Whether the process has ``0-wide.status`` open (proc(5) ``fd``): it is reading it, which
    takes seconds, however little memory a streaming reader uses."""
    with contextlib.suppress(OSError):
        for descriptor in (process / "fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(descriptor).endswith("/0-wide.status"):
                    return True
    return False


def _descends(pid: int, ancestor: int, parents: dict[int, int]) -> bool:
    seen = set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        pid = parents.get(pid, 0)
        if pid == ancestor:
            return True
    return False


def _when_auditing_the_wide_host(act: Any, times: int, fleet: subprocess.Popen[str]) -> int:
    """Call ``act(pid, parent)`` on the audit process that works on the wide host (the only one
    past 150 MB resident, or with its file open), up to ``times`` times, each time on a new
    process; how many acts."""
    acted: set[int] = set()
    deadline = time.monotonic() + 240
    while len(acted) < times and fleet.poll() is None and time.monotonic() < deadline:
        for pid, (parent, resident) in _audit_processes().items():
            if resident > 150_000 and pid not in acted:
                acted.add(pid)
                with contextlib.suppress(ProcessLookupError):
                    act(pid, parent)
        time.sleep(0.05)
    return len(acted)


def _narrow_fleet(folder: Path, count: int) -> None:
    """``0-wide.status`` (several seconds and over 200 MB to audit) and ``count`` real hosts."""
    folder.mkdir()
    _wide(folder / "0-wide.status", 100_000)
    for number in range(count):
        shutil.copy(
            HEARTBLEED / "debian-7.0-i386/root/var/lib/dpkg/status",
            folder / f"a{number:02d}.status",
        )


def _run_fleet(
    args: list[str], tmp_path: Path, act: Any, times: int
) -> tuple[int, dict[str, Any], str]:
    command = [sys.executable, "-m", "depgraph", "fleet", *args, "--no-cache", "--format", "json"]
    fleet = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env=dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache")),
    )  # fmt: skip
    try:
        acts = _when_auditing_the_wide_host(act, times, fleet)
        stdout, stderr = fleet.communicate(timeout=300)
    finally:
        if fleet.poll() is None:
            fleet.kill()
            fleet.wait()
    assert acts == times, stderr
    data = json.loads(stdout)
    jsonschema.validate(data, SCHEMA)
    return fleet.returncode, data, stderr


def test_a_host_whose_audit_hangs_is_stopped_at_its_time_limit(tmp_path: Path) -> None:
    """A true hang, played by this test: the audit process of the wide host is stopped (SIGSTOP)
    and never goes on. The worker kills it at the host's time limit and goes on with the others."""
    folder = tmp_path / "hosts"
    _narrow_fleet(folder, 3)
    stopped: list[int] = []

    def stop(pid: int, _parent: int) -> None:
        os.kill(pid, signal.SIGSTOP)
        stopped.append(pid)

    status, data, stderr = _run_fleet(
        [str(folder), "--jobs", "2", "--host-timeout", "20"], tmp_path, stop, 1
    )
    assert status == 2, stderr
    rows = {row["host"]: row for row in data["hosts"]}
    assert rows["0-wide"]["reason"] == "timed out after 20 s"
    assert [rows[f"a{n:02d}"]["highest_risk"] for n in range(3)] == [AUDITED] * 3
    assert not Path(f"/proc/{stopped[0]}").exists()  # killed and reaped, not left stopped


def test_a_host_that_kills_its_dask_worker_fails_alone(tmp_path: Path) -> None:
    """A Dask worker killed (SIGKILL, by this test) while its audit process works on the wide
    host, twice: the scheduler, allowed no failures here, gives up on the batch (``KilledWorker``);
    the batch's hosts are tried again one task each, and the wide host kills its second worker.
    Only the wide host fails; its partner in the batch and every other host are audited."""
    folder = tmp_path / "hosts"
    _narrow_fleet(folder, 20)  # 21 hosts on 2 worker threads: batches of 2
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0", "TMPDIR": str(temporary)}
    with _dask_cluster(tmp_path, env) as address:
        status, data, stderr = _run_fleet(
            [str(folder), "--scheduler", address],
            tmp_path,
            lambda _pid, parent: os.kill(parent, signal.SIGKILL),
            2,
        )
    assert status == 2, stderr
    rows = {row["host"]: row for row in data["hosts"]}
    assert rows["0-wide"]["status"] == "failed"
    assert rows["0-wide"]["reason"].startswith("the Dask worker failed: KilledWorker"), rows
    others = [rows[f"a{n:02d}"] for n in range(20)]
    assert [row["highest_risk"] for row in others] == [AUDITED] * 20
    assert data["summary"]["failed"] == 1 and data["summary"]["hosts"] == 21
    # the audit processes of the killed workers ended with them and removed their scratch folders
    assert [path.name for path in temporary.glob("depgraph-*")] == []


def test_each_host_file_is_taken_once_however_the_paths_overlap(tmp_path: Path) -> None:
    from depgraph.fleet.hosts import expand

    folder = tmp_path / "hosts"
    (folder / "eu").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    for name in ("a.status", "eu/b.status", "eu/c.status", ".hidden/d.status", ".e.status"):
        (folder / name).write_text("Package: x\n")
    (folder / "eu" / "link.status").symlink_to(folder / "a.status")
    paths = [
        folder / "eu" / "b.status",  # a file, then the folders above it
        folder / "eu",
        folder,
        tmp_path / "hosts" / ".." / "hosts",  # the same folder by another spelling
        folder / "a.status",
    ]
    found = list(expand(paths))
    assert found == [
        str(folder / "eu" / "b.status"),
        str(folder / "eu" / "c.status"),
        str(folder / "a.status"),
    ]
    assert list(expand([folder])) == [
        str(folder / "a.status"),  # a folder's own files, then its subfolders'
        str(folder / "eu" / "b.status"),
        str(folder / "eu" / "c.status"),
    ]


# --- the command line ---------------------------------------------------------------------------


def test_usage_errors_are_one_line_and_status_2(tmp_path: Path) -> None:
    for args in (
        (tmp_path / "missing",),
        (tmp_path, "--scheduler", "127.0.0.1:8786"),
        (tmp_path, "--jobs", "0"),
        (tmp_path, "--library", "libssl3"),
    ):
        done = run_depgraph("fleet", *args)
        assert done.status == 2, args
        assert done.stdout == ""
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_table_csv_and_markdown_show_the_same_hosts(fleet: Path) -> None:
    rows = {}
    for output in ("table", "csv", "markdown"):
        done = run_depgraph("fleet", fleet, "--jobs", "1", "--format", output)
        assert done.status == 1, done.stderr
        rows[output] = done.stdout
    hosts = [f"host-{name}" for name in SCENARIOS]
    for host in hosts:
        assert all(host in text for text in rows.values())
    assert rows["csv"].splitlines()[0].startswith("host,status,highest_risk")
    assert len(rows["csv"].splitlines()) == len(SCENARIOS) + 3 + 1
    assert "## Hosts, most at risk first" in rows["markdown"]
    assert rows["table"].rstrip().splitlines()[-1].startswith("fleet: ")


def test_a_lenient_host_with_a_skipped_record_is_partial_not_clean(tmp_path: Path) -> None:
    """``--lenient`` skips a malformed paragraph, here libssl1.0.0's own: the host would read as
    "library not installed, risk none"; it is listed as partial, with the skipped record, and a
    fleet where no host could be audited has no highest risk at all."""
    folder = tmp_path / "hosts"
    folder.mkdir()
    real = (HEARTBLEED / "debian-7.0-i386/root/var/lib/dpkg/status").read_text()
    damaged = real.replace(
        "Package: libssl1.0.0\nStatus: install ok installed\n",
        "Package: libssl1.0.0\nStatus: install ok installed\nVersion 1.0\n",
    )
    assert damaged != real
    (folder / "bad.status").write_text(damaged)
    status, data, stderr = _fleet(folder, "--jobs", "1", "--lenient")
    row = data["hosts"][0]
    assert (row["host"], row["status"]) == ("bad", "partial"), row
    assert "malformed records skipped (--lenient)" in row["reason"]
    assert data["summary"]["partial"] == 1
    (folder / "bad.status").write_bytes(b"\x00\x01 not a status file")
    status, data, stderr = _fleet(folder, "--jobs", "1")
    assert status == 2 and data["summary"]["failed"] == 1
    assert data["summary"]["highest_risk"] is None
    assert "highest risk unknown (no host audited)" in stderr


# --- the limits: --jobs, --host-memory, --host-timeout ---------------------------------------------


def _one_host(tmp_path: Path) -> Path:
    folder = tmp_path / "hosts"
    folder.mkdir()
    shutil.copy(HEARTBLEED / "debian-7.0-i386/root/var/lib/dpkg/status", folder / "a.status")
    return folder


def test_limits_that_are_not_finite_and_positive_are_one_line_and_status_2(
    tmp_path: Path,
) -> None:
    folder = _one_host(tmp_path)
    for option, value in (
        ("--host-timeout", "nan"),
        ("--host-timeout", "inf"),
        ("--host-timeout", "-inf"),
        ("--host-timeout", "0"),
        ("--host-memory", "nan"),
        ("--host-memory", "inf"),
        ("--host-memory", "-1"),
        ("--jobs", "-3"),
        ("--jobs", "1.5"),
    ):
        done = run_depgraph("fleet", folder, "--no-cache", option, value)
        assert done.status == 2, (option, value, done.stderr)
        assert done.stdout == ""
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and option in lines[0] and "internal error" not in lines[0], lines


def test_limits_are_held_to_what_the_process_may_use() -> None:
    from depgraph.fleet.limits import TASKS_PER_JOB, jobs_within, memory_within

    assert jobs_within(100_000, 2, None).value == 2
    assert "2 cores" in jobs_within(100_000, 2, None).warning
    assert jobs_within(2, 2, None) == jobs_within(2, 2, 10_000)
    assert not jobs_within(2, 2, None).warning
    tight = jobs_within(8, 16, 3 * TASKS_PER_JOB)
    assert tight.value == 3 and "ulimit -u" in tight.warning
    assert jobs_within(4, 16, 10).value == 1  # always one worker
    assert memory_within(4096, 4_000_000 << 10).value == 3906
    assert "ulimit -v 4000000" in memory_within(4096, 4_000_000 << 10).warning
    assert memory_within(0, 4_000_000 << 10).value == 0  # none asked: the inherited one holds
    assert memory_within(200, 4_000_000 << 10) == memory_within(200, None)
    assert memory_within(10**20, None).value == 0  # more than setrlimit(2) takes: no limit
    assert "no limit" in memory_within(10**20, None).warning


def test_a_memory_limit_above_the_callers_own_is_lowered_and_the_hosts_audited(
    tmp_path: Path,
) -> None:
    """Under ``ulimit -v 4000000`` (3906 MB), the default --host-memory (4096) and 1e20 MB: the
    audit processes could not raise their limit above the inherited one and every host failed
    ("exited with status 1 without an answer"); now each gets the inherited limit, and a warning
    says so."""
    folder = _one_host(tmp_path)
    ulimit = ("sh", "-c", 'ulimit -v 4000000 && exec "$@"', "sh")
    for extra, jobs in (((), "2"), (("--host-memory", "1e20"), "1")):  # on Dask, and not
        done = run_depgraph(
            "fleet", folder, "--no-cache", "--format", "json", "--jobs", jobs, *extra,
            prefix=ulimit,
        )  # fmt: skip
        assert done.status == 0, done.stderr
        row = json.loads(done.stdout)["hosts"][0]
        assert row["highest_risk"] == AUDITED, row
        assert "--host-memory" in done.stderr and "3906 MB" in done.stderr, done.stderr


def test_more_local_jobs_than_cores_are_lowered_with_a_warning(tmp_path: Path) -> None:
    from depgraph.fleet.limits import cores

    folder = _one_host(tmp_path)
    status, data, stderr = _fleet(folder, "--jobs", "100000")
    assert status == 0, stderr
    assert data["hosts"][0]["highest_risk"] == AUDITED
    assert f"--jobs 100000: this process may run on {cores()}" in stderr, stderr
    assert data["run"]["engine"].endswith(f"{cores()} workers") or cores() == 1, data["run"]


# --- the hosts' folders -------------------------------------------------------------------------------


def test_a_host_file_1100_folders_deep_is_audited(tmp_path: Path) -> None:
    """The walk of a folder was recursive (os.walk): a tree 1,100 folders deep ended in
    "internal error: RecursionError"."""
    folder = deep = tmp_path / "hosts"
    folder.mkdir()
    folders = []
    for _ in range(1100):  # one by one: Path.mkdir(parents=True) is recursive too
        deep = deep / "d"
        deep.mkdir()
        folders.append(deep)
    shutil.copy(HEARTBLEED / "debian-7.0-i386/root/var/lib/dpkg/status", deep / "x.status")
    shutil.copy(HEARTBLEED / "debian-7.0-i386/root/var/lib/dpkg/status", folder / "a.status")
    try:
        status, data, stderr = _fleet(folder, "--jobs", "1")
    finally:  # from the bottom up: pytest's clean-up (shutil.rmtree) is recursive and would fail
        (deep / "x.status").unlink()
        for each in reversed(folders):
            each.rmdir()
    assert status == 0, stderr
    rows = {row["host"]: row for row in data["hosts"]}
    assert rows["x"]["highest_risk"] == rows["a"]["highest_risk"] == AUDITED
    assert rows["x"]["path"] == str(deep / "x.status")


def test_a_folder_that_cannot_be_listed_is_a_failed_host(tmp_path: Path) -> None:
    """Walked over in silence before (os.walk drops what it cannot list): its hosts were missing
    from the answer and nothing said so. Run without the capability that lets root list any
    folder (setpriv), or as the user that runs the tests."""
    folder = _one_host(tmp_path)
    hidden = folder / "eu"
    hidden.mkdir()
    shutil.copy(folder / "a.status", hidden / "b.status")
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("setpriv is not installed")
        prefix = (setpriv, "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all")
    hidden.chmod(0)
    try:
        done = run_depgraph(
            "fleet", folder, "--jobs", "1", "--no-cache", "--format", "json", prefix=prefix
        )
    finally:
        hidden.chmod(0o755)
    assert done.status == 2, done.stderr
    rows = {row["host"]: row for row in json.loads(done.stdout)["hosts"]}
    assert rows["eu"]["status"] == "failed"
    assert rows["eu"]["reason"] == "a folder that cannot be listed: Permission denied"
    assert rows["a"]["highest_risk"] == AUDITED


# --- temporary files: one private run folder, removed --------------------------------------------


@pytest.fixture(scope="module")
def slow_snapshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``0-wide.tar.gz``, a snapshot whose audit takes about a minute (its tree unpacked first),
    and ``a.tar.gz``, a real 2014 host."""
    folder = tmp_path_factory.mktemp("slow")
    root = folder / "root"
    (root / "var/lib/dpkg").mkdir(parents=True)
    _wide(root / "var/lib/dpkg/status", 100_000)
    hosts = folder / "hosts"
    hosts.mkdir()
    snapshot_tarball(hosts / "0-wide.tar.gz", root, "wide")
    snapshot_tarball(hosts / "a.tar.gz", HEARTBLEED / "debian-7.0-i386/root", "a")
    return hosts


def _using(folder: Path) -> list[int]:
    """The processes whose ``$DEPGRAPH_SCRATCH`` lies in ``folder`` (proc(5) ``environ``): the
    fleet's Dask workers and audit processes."""
    mark = f"DEPGRAPH_SCRATCH={folder}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        with contextlib.suppress(OSError):
            if any(item.startswith(mark) for item in environ.read_bytes().split(b"\0")):
                found.append(int(environ.parent.name))
    return found


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_snapshot_stopped_at_its_time_limit_leaves_no_temporary_files(
    slow_snapshots: Path, tmp_path: Path, jobs: str
) -> None:
    """The audit process killed at the time limit could not remove the snapshot it had unpacked
    (``depgraph-snapshot-*`` was left in /dev/shm, here ``$TMPDIR``), and Dask left its
    ``dask-scratch-space``: both are now in the run's own folder, removed at the end."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    done = run_depgraph(
        "fleet", slow_snapshots, "--jobs", jobs, "--host-timeout", "4", "--no-cache",
        "--format", "json", env={"TMPDIR": str(temporary)},
    )  # fmt: skip
    assert done.status == 2, done.stderr
    rows = {row["host"]: row for row in json.loads(done.stdout)["hosts"]}
    assert rows["0-wide"]["reason"] == "timed out after 4 s"
    assert rows["a"]["highest_risk"] == AUDITED
    assert list(temporary.iterdir()) == []
    assert "Port 8787" not in done.stderr  # the scheduler's HTTP routes: on a free port


_UNPACKED = "depgraph-fleet-*/depgraph-audit-*/depgraph-snapshot-*"
_STARTING = "depgraph-fleet-*/dask-scratch-space/worker-*"
"""The local cluster starting: a worker made its folder, the other may be on its way."""


@pytest.mark.parametrize(
    ("jobs", "stop", "status", "when"),
    [
        ("1", signal.SIGTERM, 143, _UNPACKED),
        ("1", signal.SIGINT, 130, _UNPACKED),
        ("2", signal.SIGTERM, 143, _UNPACKED),
        ("2", signal.SIGINT, 130, _UNPACKED),
        ("2", signal.SIGTERM, 143, _STARTING),
        ("2", signal.SIGINT, 130, _STARTING),
    ],
)
def test_a_stopped_fleet_removes_its_run_folder_and_its_audits(
    slow_snapshots: Path, tmp_path: Path, jobs: str, stop: signal.Signals, status: int, when: str
) -> None:
    """SIGTERM or SIGINT while the wide snapshot is audited, or while the local cluster starts:
    the run folder (private, mode 0700) goes with everything in it, the workers and audit
    processes with it (a worker still starting would make its ``dask-scratch-space`` again),
    and the exit status says why."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    command = [sys.executable, "-m", "depgraph", "fleet", str(slow_snapshots), "--jobs", jobs,
               "--no-cache", "--format", "json"]  # fmt: skip
    fleet = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env=dict(os.environ, TMPDIR=str(temporary), XDG_CACHE_HOME=str(tmp_path / "cache")),
    )  # fmt: skip
    try:
        found: list[Path] = []
        deadline = time.monotonic() + 120
        while not found and fleet.poll() is None and time.monotonic() < deadline:
            found = list(temporary.glob(when))
            time.sleep(0.05)
        assert found, f"nothing like {when} in $TMPDIR"
        run = temporary / found[0].relative_to(temporary).parts[0]
        assert (run.stat().st_mode & 0o777) == 0o700
        if when == _UNPACKED:
            assert _using(run)
        fleet.send_signal(stop)
        _, stderr = fleet.communicate(timeout=120)
    finally:
        if fleet.poll() is None:
            fleet.kill()
            fleet.wait()
    assert fleet.returncode == status, stderr
    assert "Traceback" not in stderr
    assert list(temporary.iterdir()) == []
    for _ in range(100):  # killed with their parent; reaped a moment later
        if not _using(run):
            break
        time.sleep(0.1)
    assert _using(run) == []


_HOLDING = """
import sys, time
from depgraph.fleet import scratch
with scratch.held_stops():
    print("holding", flush=True)
    time.sleep(float(sys.argv[1]))
    print("held to the end", flush=True)
print("went on", flush=True)
"""


@pytest.mark.parametrize(
    ("stops", "died_of", "held_to_the_end"),
    [
        ((signal.SIGINT,), signal.SIGINT, True),
        ((signal.SIGTERM,), signal.SIGTERM, True),
        ((signal.SIGINT, signal.SIGINT), signal.SIGINT, False),
        ((signal.SIGTERM, signal.SIGINT), signal.SIGTERM, False),
    ],
)
def test_a_stop_while_the_cluster_starts_waits_for_it_and_a_second_stop_does_not(
    stops: tuple[signal.Signals, ...], died_of: signal.Signals, held_to_the_end: bool
) -> None:
    """``scratch.held_stops`` (around the local cluster's start, which a stop cut in the middle of
    a worker's spawn: ``EOFError: Ran out of input`` on the terminal after the run had ended):
    the first SIGINT or SIGTERM acts when the block ends, through the handler that was there
    before; a second one acts at once. Real signals to a real process."""
    holding = subprocess.Popen(
        [sys.executable, "-c", _HOLDING, "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=REPO,
    )  # fmt: skip
    try:
        assert holding.stdout is not None
        assert holding.stdout.readline() == "holding\n"
        for stop in stops:
            holding.send_signal(stop)
            time.sleep(0.2)
        stdout, stderr = holding.communicate(timeout=30)
    finally:
        if holding.poll() is None:
            holding.kill()
            holding.wait()
    assert holding.returncode == -died_of, stderr
    assert ("held to the end" in stdout) is held_to_the_end
    assert "went on" not in stdout
