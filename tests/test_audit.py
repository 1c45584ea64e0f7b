"""``depgraph audit``: the scenarios' golden reports, the contract's JSON, exit codes, the live system."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import FIXTURES, REPO, require_tool, run_depgraph, throwaway_certificate

AUDIT = FIXTURES / "audit"
SCENARIOS = sorted(path.name for path in AUDIT.iterdir() if (path / "args").is_file())
SCHEMA = json.loads((REPO / "depgraph/schemas/report-v1.schema.json").read_text())
CONTRACT = REPO.parent / "shared/contract/report-v1.schema.json"


def args_of(name: str) -> list[str]:
    return (AUDIT / name / "args").read_text().split("\n")[:-1]


def test_the_shipped_schema_is_the_contract() -> None:
    if not CONTRACT.is_file():
        pytest.skip(f"{CONTRACT} is not here: no drift to check")
    assert json.loads(CONTRACT.read_text()) == SCHEMA


@pytest.mark.parametrize("name", SCENARIOS)
def test_golden_report(name: str) -> None:
    done = run_depgraph("audit", *args_of(name), "--fail-on", "critical")
    assert done.status == 0, done.stderr
    assert done.stdout == (AUDIT / name / "expected.txt").read_text()


@pytest.mark.parametrize("name", SCENARIOS)
def test_json_report_follows_the_contract(name: str) -> None:
    done = run_depgraph("audit", *args_of(name), "--format", "json", "--fail-on", "critical")
    report = json.loads(done.stdout)
    jsonschema.validate(report, SCHEMA)
    scores = [entry["risk"]["score"] for entry in report["packages"]]
    assert scores == sorted(scores, reverse=True), "most at risk first"
    for entry in report["packages"]:
        assert entry["via"][0] == entry["package"]
        assert entry["via"][-1] in report["profile"]["libraries"]
        assert entry["risk"]["reasons"]


def test_scenario_verdicts() -> None:
    """The verdict each scenario's README promises."""
    expected = {
        "ubuntu-12.04-server": ("vulnerable", "high", True),
        "raspbian-wheezy-stale": ("fixed-backport", "high", True),
        "trusty-core": ("fixed-backport", "low", False),
        "dpkg-list-only": (
            "vulnerable",
            "high",
            True,
        ),  # hostapd (knowledge base); openssl a client
        "minimized-container": ("vulnerable", "high", True),
    }
    assert set(expected) == set(SCENARIOS)
    for name, (state, highest, affected) in expected.items():
        report = json.loads(run_depgraph("audit", *args_of(name), "--format", "json").stdout)
        assert [v["state"] for v in report["library"]] == [state], name
        assert report["summary"]["highest_risk"] == highest, name
        assert report["summary"]["affected"] is affected, name


def test_roles_and_ranks_of_the_server_scenario() -> None:
    report = json.loads(
        run_depgraph("audit", *args_of("ubuntu-12.04-server"), "--format", "json").stdout
    )
    by_name = {entry["package"]: entry for entry in report["packages"]}
    assert (by_name["nginx-full"]["role"], by_name["nginx-full"]["risk"]["level"]) == (
        "server",
        "high",
    )
    assert by_name["wpasupplicant"]["risk"]["level"] == "medium"
    assert by_name["openssh-server"]["risk"]["level"] == "low"  # libcrypto only
    steps = [action["step"] for action in report["actions"]]
    assert steps[:3] == ["upgrade", "restart", "rotate-keys"]  # restart nginx after the upgrade
    upgrade = report["actions"][0]
    assert upgrade["commands"] == ["apt-get update && apt-get install --only-upgrade libssl1.0.0"]


def test_stale_process_is_in_the_plan() -> None:
    report = json.loads(
        run_depgraph("audit", *args_of("raspbian-wheezy-stale"), "--format", "json").stdout
    )
    assert [p["pid"] for p in report["processes"]] == [2214]
    assert report["processes"][0]["deleted"] is True
    assert [a["step"] for a in report["actions"]] == ["restart"]
    assert "pid 2214" in report["actions"][0]["text"]


def test_a_vulnerable_version_still_running_is_upgraded_once_then_restarted(tmp_path: Path) -> None:
    """trusty's libssl1.0.0, an ad hoc CVE its changelog does not name with a first fixed version
    above it, and a saved maps file of a process running it: the plan upgrades the library in
    its own step, and the restart step restarts; it does not repeat the upgrade command."""
    maps = FIXTURES / "heartbleed/data/16-proc-maps-real/hacklu2015-petition_builder-php5-maps.txt"
    done = run_depgraph(
        "audit", "--root", FIXTURES / "heartbleed/ubuntu-14.04-core-armhf/root",
        "--library", "libssl1.0.0", "--cve", "CVE-2099-0001",
        "--fixed-version", "1.0.1f-1ubuntu9", "--maps", maps, "--format", "json",
    )  # fmt: skip
    report = json.loads(done.stdout)
    assert report["library"][0]["state"] == "vulnerable", done.stderr
    steps = {action["step"]: action for action in report["actions"]}
    assert steps["upgrade"]["commands"] == [
        "apt-get update && apt-get install --only-upgrade libssl1.0.0"
    ]
    assert "restart" in steps and "after the upgrade" in steps["restart"]["text"]
    assert not any("apt-get" in command for command in steps["restart"]["commands"])


def test_a_library_nothing_depends_on_of_unknown_state_is_not_none(tmp_path: Path) -> None:
    """Raspbian's libssl1.0.0 alone in a saved status file (no release known, so no fixed
    version to compare with): its state cannot be told, and although no package depends on it
    the highest risk is low, not none."""
    status = FIXTURES / "heartbleed/raspbian-wheezy/root/var/lib/dpkg/status"
    (paragraph,) = (
        p for p in status.read_text().split("\n\n") if p.startswith("Package: libssl1.0.0\n")
    )
    alone = tmp_path / "status"
    alone.write_text(paragraph + "\n")
    done = run_depgraph("audit", "--status", alone, "--format", "json")
    report = json.loads(done.stdout)
    assert report["library"][0]["state"] == "unknown"
    assert report["packages"] == [] or all(p["depth"] == 0 for p in report["packages"])
    assert report["summary"]["highest_risk"] == "low", report["summary"]


def test_a_library_installed_for_two_architectures_is_scanned_once(tmp_path: Path) -> None:
    """Raspbian's libssl1.0.0 also installed for armel (Multi-Arch: same, as ``dpkg
    --add-architecture`` allows): both are listed and upgraded, but the one process that maps
    the deleted libssl is found once, not once per architecture."""
    import shutil

    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "heartbleed/raspbian-wheezy/root", root)
    status = root / "var/lib/dpkg/status"
    text = status.read_text()
    (paragraph,) = (p for p in text.split("\n\n") if p.startswith("Package: libssl1.0.0\n"))
    assert "Architecture: armhf" in paragraph
    status.write_text(text.rstrip("\n") + "\n\n" + paragraph.replace("armhf", "armel") + "\n")
    maps = FIXTURES / "audit/raspbian-wheezy-stale/maps.txt"
    done = run_depgraph("audit", "--root", root, "--maps", maps, "--format", "json")
    report = json.loads(done.stdout)
    assert sorted(v["architecture"] for v in report["library"]) == ["armel", "armhf"]
    assert [p["pid"] for p in report["processes"]] == [2214]
    (restart,) = [a for a in report["actions"] if a["step"] == "restart"]
    assert restart["text"].count("pid 2214") == 1


def test_exit_status_follows_fail_on() -> None:
    args = args_of("ubuntu-12.04-server")
    assert run_depgraph("audit", *args).status == 1  # high >= high (the default)
    assert run_depgraph("audit", *args, "--fail-on", "critical").status == 0
    assert run_depgraph("audit", *args, "--fail-on", "medium").status == 1
    trusty = args_of("trusty-core")  # fixed; low only because its processes cannot be seen
    assert run_depgraph("audit", *trusty, "--fail-on", "medium").status == 0
    assert run_depgraph("audit", *trusty, "--fail-on", "low").status == 1


def test_quiet_prints_the_summary_only() -> None:
    done = run_depgraph("audit", *args_of("ubuntu-12.04-server"), "--quiet")
    assert done.stdout.count("\n") == 1
    assert done.stdout.startswith("heartbleed: AFFECTED; highest risk high;")


def test_csv_and_markdown() -> None:
    args = args_of("minimized-container")
    rows = list(csv.DictReader(io.StringIO(run_depgraph("audit", *args, "--format", "csv").stdout)))
    assert rows[0]["risk"] == "high" and rows[0]["role"] == "server"
    assert {row["package"] for row in rows} >= {"vsftpd", "curl", "openssh-server"}
    markdown = run_depgraph("audit", *args, "--format", "markdown").stdout
    assert "| risk | package | version | role | path | running | reason |" in markdown
    assert "### What to do now" in markdown


def test_table_fits_80_columns_and_has_no_colour_when_piped() -> None:
    for name in SCENARIOS:
        text = (AUDIT / name / "expected.txt").read_text()
        assert max(len(line) for line in text.splitlines()) <= 80, name
        assert "\033[" not in text


def test_progress_only_on_a_terminal() -> None:
    """Progress goes to stderr when stderr is a terminal (a real pty here) and is cleared before the
    report; a pipe gets none."""
    import os
    import sys

    scenario = ["audit", *args_of("ubuntu-12.04-server"), "--format", "json"]
    controller, terminal = os.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "depgraph", *scenario],
            stdout=subprocess.PIPE,
            stderr=terminal,
            cwd=REPO,
            timeout=120,
            check=False,
        )
        os.close(terminal)
        seen = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(controller)
    assert done.returncode == 1
    text = seen.decode()
    for stage in ("reading the package database", "walking reverse dependencies", "scanning"):
        assert f"depgraph: {stage}" in text, text
    last = text.rsplit("\r\033[K", 1)[1]  # the line is cleared, then warnings and the summary
    assert last.splitlines()[-1].startswith("depgraph: heartbleed: AFFECTED"), last
    assert "reading" not in last and "scanning" not in last, last  # no progress after the clear
    json.loads(done.stdout)  # the report itself is untouched
    piped = run_depgraph(*scenario)
    assert "reading the package database" not in piped.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--profile", "no-such-profile"], "no such built-in profile"),
        (["--library", "libssl3"], "--library and --cve go together"),
        (["--fixed-version", "1.0"], "--fixed-version needs --library and --cve"),
        (["--status", "/nonexistent/status"], "/nonexistent/status"),
    ],
)
def test_bad_arguments_give_one_line(args: list[str], message: str) -> None:
    done = run_depgraph("audit", *args)
    assert done.status == 2
    assert message in done.stderr
    assert done.stderr.count("\n") == 1


def test_this_machine_without_libssl1_0_0() -> None:
    """libssl1.0.0 is not installed here: say so, exit 0, and point at the right library."""
    done = run_depgraph("audit")
    assert done.status == 0, done.stderr
    assert "libssl1.0.0: NOT-INSTALLED" in done.stdout
    text = " ".join(done.stdout.split())
    assert "This system has libssl3 instead; audit it with: depgraph audit --profile" in text


@pytest.fixture
def s_server(tmp_path: Path) -> Iterator[int]:
    """``openssl s_server`` on 127.0.0.1 and a free port, with a throw-away key."""
    openssl = require_tool("openssl")
    key, cert = throwaway_certificate(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            openssl,
            "s_server",
            "-accept",
            f"127.0.0.1:{port}",
            "-key",
            key,
            "-cert",
            cert,
            "-quiet",
            "-naccept",
            "1000",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield server.pid
    finally:
        server.kill()
        server.wait()


def test_this_machine_with_the_libssl3_profile(s_server: int) -> None:
    """A full report of the real system: libssl3's state from its own changelog, every dependent
    ranked, and the running s_server found with its loopback listener."""
    done = run_depgraph("audit", "--profile", "openssl-cve-2022-3602", "--format", "json")
    assert done.status in (0, 1), done.stderr
    report = json.loads(done.stdout)
    jsonschema.validate(report, SCHEMA)
    assert report["library"][0]["package"] == "libssl3"
    assert report["library"][0]["state"] == "fixed"
    by_name = {entry["package"]: entry for entry in report["packages"]}
    assert by_name["openssh-client"]["role"] == "non-ssl"
    assert by_name["curl"]["role"] == "client"
    processes = {p["pid"]: p for p in report["processes"]}
    assert s_server in processes, "the running s_server maps libssl.so.3"
    mine = processes[s_server]
    assert mine["package"] == "openssl"
    assert any(listener.startswith("127.0.0.1:") for listener in mine["listening"])
    assert s_server in by_name["openssl"]["running"]
    first = by_name["openssl"]["role_evidence"][0]  # the runtime signal leads the evidence
    assert (
        first["kind"] == "listening-socket"
        and f"pid {s_server} listens on 127.0.0.1:" in (first["detail"])
    )
    # nothing is ranked "none" on a partial view of /proc (this sandbox hides pid 1), unless
    # dpkg's log shows every libssl3 installed here fixed (issue 24: then no old code can be
    # vulnerable, seen or not)
    never = "fix in; dpkg's log shows no vulnerable version ever installed here"
    if report["summary"]["partial"]:
        for entry in report["packages"]:
            assert entry["risk"]["level"] != "none" or never in entry["risk"]["reasons"]


def raspbian_with_dpkg_log(directory: Path) -> Path:
    """The raspbian-wheezy root with the dpkg.log of its Heartbleed upgrade: deb7u4 (vulnerable,
    before the changelog's fix in deb7u5) installed, then replaced by the installed
    1.0.1e-2+rvt+deb7u11; the older lines rotated and gzipped as logrotate leaves them."""
    import gzip
    import shutil

    root = directory / "root"
    shutil.copytree(FIXTURES / "heartbleed/raspbian-wheezy/root", root, symlinks=True)
    log = root / "var/log"
    log.mkdir(parents=True, exist_ok=True)
    with gzip.open(log / "dpkg.log.2.gz", "wt") as handle:
        handle.write(
            "2014-03-02 10:00:00 install libssl1.0.0:armhf <none> 1.0.1e-2+deb7u4\n"
            "2014-03-02 10:00:01 status installed libssl1.0.0:armhf 1.0.1e-2+deb7u4\n"
        )
    (log / "dpkg.log").write_text(
        "2014-04-08 09:30:00 upgrade libssl1.0.0:armhf 1.0.1e-2+deb7u4 1.0.1e-2+rvt+deb7u11\n"
        "2014-04-08 09:30:02 status installed libssl1.0.0:armhf 1.0.1e-2+rvt+deb7u11\n"
    )
    return root


def test_vulnerable_window_from_dpkg_log(tmp_path: Path) -> None:
    """Issue 21, 9: the audit says when the library was vulnerable, from dpkg's log, with the
    log lines as evidence, in the text and in the JSON (an optional field, valid to the schema)."""
    root = raspbian_with_dpkg_log(tmp_path)
    args = ("audit", "--root", root, "--profile", "heartbleed", "--fail-on", "critical")
    done = run_depgraph(*args, "--format", "json")
    assert done.status == 0, done.stderr
    report = json.loads(done.stdout)
    jsonschema.validate(report, SCHEMA)
    (library,) = report["library"]
    assert library["state"] == "fixed-backport"
    window = library["vulnerable_window"]
    assert window["versions"] == ["1.0.1e-2+deb7u4"]
    assert window["replaced_by"] == "1.0.1e-2+rvt+deb7u11"
    assert window["from"].startswith("2014-03-02T10:00:00")
    assert window["to"].startswith("2014-04-08T09:30:00")
    log = root / "var/log"
    assert [(e["path"], e["line"]) for e in window["evidence"]] == [
        (str(log / "dpkg.log.2.gz"), 1),
        (str(log / "dpkg.log"), 1),
    ]
    text = run_depgraph(*args).stdout
    assert (
        "vulnerable from 2014-03-02 10:00:00 (1.0.1e-2+deb7u4) to 2014-04-08 09:30:00\n"
        "    (1.0.1e-2+rvt+deb7u11)"
    ) in text
    # without the log, nothing is claimed
    (log / "dpkg.log").unlink()
    (log / "dpkg.log.2.gz").unlink()
    bare = json.loads(run_depgraph(*args, "--format", "json").stdout)
    assert "vulnerable_window" not in bare["library"][0]


def test_unreadable_processes_are_named_as_root() -> None:
    """Issue 21, 8: run as root, a process whose maps stay unreadable (this sandbox's pid 1, in a
    namespace above ours) is named with its pid, name and errno, never "not root?"."""
    from depgraph.runtime.library import library_files
    from depgraph.runtime.scan import scan_processes, unreadable_sentence

    if os.geteuid() != 0:
        pytest.skip("needs root")
    library = library_files(Path("/"), "libssl3")
    if library is None:
        pytest.skip("libssl3 is not installed on this machine")
    scan = scan_processes(library, with_sockets=False)
    if not scan.partial:
        pytest.skip("every process is readable here")
    done = run_depgraph("audit", "--profile", "openssl-cve-2022-3602", "--format", "json")
    report = json.loads(done.stdout)
    (warning,) = [w for w in report["warnings"] if "could not be read" in w]
    for pid, name in scan.unreadable:
        assert f"pid {pid} ({name}): " in warning, warning
    assert "not root" not in warning and "permission denied even as root" in warning
    assert unreadable_sentence([scan]).startswith(f"{len(scan.unreadable)} process")
    text = run_depgraph("audit", "--profile", "openssl-cve-2022-3602").stdout
    assert "not root?" not in text


def test_a_not_affected_library_says_so_unless_dpkg_log_shows_a_downgrade(tmp_path: Path) -> None:
    """Issue 21, 8 (xz-backdoor): this machine's liblzma5 5.4.1 predates the backdoor, so its
    dependents are "not affected" (never "fix in; ... may run old code"); but when dpkg's log shows
    a 5.6.1 on disk before it (a downgrade), a process may still hold that one: not none."""
    import shutil

    if not Path("/var/lib/dpkg/info/liblzma5:amd64.list").is_file():
        pytest.skip("liblzma5 is not installed here")
    root = tmp_path / "root"
    (root / "var/lib/dpkg").mkdir(parents=True)
    shutil.copy2("/var/lib/dpkg/status", root / "var/lib/dpkg/status")
    (root / "etc").mkdir()
    shutil.copy2("/etc/os-release", root / "etc/os-release")
    args = ("audit", "--root", root, "--profile", "xz-backdoor", "--format", "json")
    report = json.loads(run_depgraph(*args, "--fail-on", "critical").stdout)
    (library,) = report["library"]
    if library["state"] != "not-affected":
        pytest.skip(f"this machine's liblzma5 is {library['state']}")
    assert {p["risk"]["level"] for p in report["packages"]} == {"none"}
    assert {r for p in report["packages"] for r in p["risk"]["reasons"]} == {
        "not affected: the installed version predates the bug"
    }
    (root / "var/log").mkdir()
    (root / "var/log/dpkg.log").write_text(
        "2024-03-28 10:00:00 install liblzma5:amd64 <none> 5.6.1-1\n"
        "2024-03-28 10:00:01 status installed liblzma5:amd64 5.6.1-1\n"
        f"2024-03-29 18:00:00 upgrade liblzma5:amd64 5.6.1-1 {library['version']}\n"
        f"2024-03-29 18:00:01 status installed liblzma5:amd64 {library['version']}\n"
    )
    report = json.loads(run_depgraph(*args, "--fail-on", "critical").stdout)
    assert report["library"][0]["state"] == "not-affected"
    assert "none" not in {p["risk"]["level"] for p in report["packages"]}
