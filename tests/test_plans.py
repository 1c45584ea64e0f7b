"""Plans that follow the CVE (issue 24), on real saved hosts: the impact decides the steps, a
restart is planned where old code may run and nowhere else, an unknown asks instead of alarming,
and dependents that could not be known are not "none".

The hosts are the fixtures' real dpkg databases (Ubuntu 12.04 server, Ubuntu 14.04 core,
Raspbian wheezy, Debian 8.7), the `dpkg -l` of a real Ubuntu 12.04 board and this machine.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, REPO, run_depgraph, scenario
from tests.test_audit import raspbian_with_dpkg_log

SERVER = FIXTURES / "audit" / "ubuntu-12.04-server" / "root"
"""A real Ubuntu 12.04.3 armhf status with nginx-full, libssl1.0.0 1.0.1-4ubuntu5.10."""
CCS_DOS = ("--library", "libssl1.0.0", "--cve", "CVE-2014-0198")
"""OpenSSL's SSL_MODE_RELEASE_BUFFERS NULL pointer dereference (advisory of 5 June 2014: a
denial of service), fixed for precise in 1.0.1-4ubuntu5.14 (USN-2232-1), as a user gives it."""
PRECISE_FIX = ("--fixed-version", "1.0.1-4ubuntu5.14")


def audit_json(*args: str | Path) -> dict[str, Any]:
    done = run_depgraph("audit", *args, "--format", "json", "--fail-on", "critical")
    assert done.status == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def steps_of(report: dict[str, Any]) -> list[str]:
    return [action["step"] for action in report["actions"]]


def step(report: dict[str, Any], name: str) -> dict[str, Any]:
    found = [action for action in report["actions"] if action["step"] == name]
    assert found, (name, steps_of(report))
    return found[0]


# --- impact as data (case 1) -----------------------------------------------------------------------


def test_a_memory_disclosure_gets_the_heartbleed_steps_in_their_order() -> None:
    report = audit_json("--root", SERVER)
    assert report["profile"]["impact"] == "memory-disclosure"
    assert steps_of(report) == [
        "upgrade", "restart", "rotate-keys", "revoke-certificates", "assess-damage",
    ]  # fmt: skip
    keys = step(report, "rotate-keys")
    assert keys["packages"] == ["nginx-full"]
    assert "Move the old keys and certificates aside, do not delete them" in keys["text"]
    damage = step(report, "assess-damage")["text"]
    assert "passwords of users who logged in through the exposed servers" in damage
    assert "session cookie" in damage and "Client certificates are not compromised" in damage
    assert "Traffic recorded before the fix can be decrypted with a stolen key" in damage


def test_a_denial_of_service_gets_only_the_upgrade_and_the_restart() -> None:
    """The issue's CVE-2020-1971 / CVE-2022-0778 complaint: a crash brings no key rotation."""
    report = audit_json("--root", SERVER, *CCS_DOS, *PRECISE_FIX, "--impact", "denial-of-service")
    assert report["library"][0]["state"] == "vulnerable"
    assert steps_of(report) == ["upgrade", "restart"]
    text = " ".join(action["text"] for action in report["actions"])
    for word in ("keys", "revoke", "password", "leaked", "compromised"):
        assert word not in text, word


def test_code_execution_treats_the_services_hosts_as_compromised_per_package() -> None:
    report = audit_json("--root", SERVER, *CCS_DOS, *PRECISE_FIX, "--impact", "code-execution")
    assert steps_of(report) == ["upgrade", "restart", "assume-compromised"]
    compromised = step(report, "assume-compromised")
    assert compromised["packages"] == ["nginx-full", "openssh-server"]
    assert (
        "openssh-server (sshd runs as root: the host keys /etc/ssh/ssh_host_*_key"
        in (compromised["text"])
    )
    assert "rebuild from known-good media where your policy says so" in compromised["text"]
    assert "rotate-keys" not in steps_of(report)


def test_an_unknown_impact_shows_the_key_steps_only_as_a_condition() -> None:
    report = audit_json("--root", SERVER, *CCS_DOS, *PRECISE_FIX)
    assert report["profile"]["impact"] == "unknown"
    assert steps_of(report) == ["upgrade", "restart", "check-impact"]
    check = step(report, "check-impact")
    assert check["text"].startswith("The profile does not say what the bug lets an attacker do.")
    assert "If the advisory says it discloses memory or runs code" in check["text"]
    assert check["packages"] == ["nginx-full"]


def test_the_xz_backdoor_on_a_host_that_had_5_6_1_names_sshd_as_compromised(
    tmp_path: Path,
) -> None:
    """A backdoor: the affected services' hosts are compromised, sshd first (the profile's
    exposure), with the profile's own words about rebuilding."""
    root = tmp_path / "root"
    shutil.copytree(SERVER, root, symlinks=True)
    status = root / "var/lib/dpkg/status"
    text = status.read_text(encoding="utf-8")
    # the real 12.04 host's liblzma5 record, given the backdoored upload's version
    assert "Package: liblzma5\n" in text
    start = text.index("Package: liblzma5\n")
    end = text.index("\n\n", start)
    record = text[start:end]
    version = next(line for line in record.splitlines() if line.startswith("Version: "))
    status.write_text(
        text[:start] + record.replace(version, "Version: 5.6.1-1") + text[end:], encoding="utf-8"
    )
    report = audit_json("--root", root, "--profile", "xz-backdoor", "--release", "sid")
    assert report["library"][0]["state"] == "vulnerable", report["library"][0]
    assert "assume-compromised" in steps_of(report)
    assert "rotate-keys" not in steps_of(report)
    text = step(report, "assume-compromised")["text"]
    assert text.startswith("With a backdoor, treat the hosts of these services as compromised")
    assert "rebuilt from known-good media" in text or "rebuild it from known-good media" in text


# --- restarts where old code may run (case 2) ------------------------------------------------------


def test_a_vulnerable_saved_status_is_told_what_to_restart_after_the_upgrade() -> None:
    report = audit_json("--root", SERVER)
    restart = step(report, "restart")
    assert (
        "restart at least the services of nginx-full, openssh-server, or reboot"
        in (restart["text"])
    )
    assert "Do it after the upgrade" in restart["text"]
    assert restart["commands"] == ["service ssh restart"]


def test_a_fixed_host_without_a_dpkg_log_says_the_restart_is_for_what_cannot_be_told() -> None:
    report = audit_json("--root", scenario("ubuntu-14.04-core-armhf"))
    text = step(report, "restart")["text"]
    assert text.startswith("The fix is installed; restart what may still run an old copy")
    assert "whether a vulnerable version was ever installed here cannot be told" in text
    assert "(no dpkg log under the root)" in text
    assert "until then they run the vulnerable code" not in text  # the profile's words


def test_a_fixed_host_whose_log_shows_a_vulnerable_version_says_when(tmp_path: Path) -> None:
    report = audit_json("--root", raspbian_with_dpkg_log(tmp_path))
    text = step(report, "restart")["text"]
    assert "dpkg's log shows libssl1.0.0: vulnerable from 2014-03-02" in text
    assert "processes started before then may still run it" in text


def test_a_fixed_host_whose_log_shows_only_fixed_versions_restarts_nothing(
    tmp_path: Path,
) -> None:
    """trusty core with a dpkg log from its first install of libssl1.0.0, the fixed
    1.0.1f-1ubuntu2: no vulnerable code could ever run here, seen or not."""
    root = tmp_path / "root"
    shutil.copytree(scenario("ubuntu-14.04-core-armhf"), root, symlinks=True)
    (root / "var/log").mkdir(parents=True, exist_ok=True)
    (root / "var/log/dpkg.log").write_text(
        "2014-04-17 12:00:00 install libssl1.0.0:armhf <none> 1.0.1f-1ubuntu2\n"
        "2014-04-17 12:00:01 status installed libssl1.0.0:armhf 1.0.1f-1ubuntu2\n"
    )
    report = audit_json("--root", root)
    assert report["actions"] == []
    assert {entry["risk"]["level"] for entry in report["packages"]} == {"none"}
    never = "fix in; dpkg's log shows no vulnerable version ever installed here"
    assert all(never in entry["risk"]["reasons"] for entry in report["packages"])


def test_a_never_affected_library_gets_no_restart_step_on_this_machine() -> None:
    """Bookworm's liblzma5 5.4.1 never had the backdoor: the xz profile's 'Restart sshd (and
    every process that maps the old liblzma.so.5.6.x)' must not be said here."""
    report = audit_json("--profile", "xz-backdoor")
    states = {entry["state"] for entry in report["library"]}
    if states != {"not-affected"}:
        pytest.skip(f"this machine's liblzma5 is {states}")
    text = " ".join(action["text"] for action in report["actions"])
    assert "5.6" not in text and "Restart sshd" not in text, report["actions"]
    assert "vulnerable" not in text


# --- unknown asks, it does not alarm (cases 5 and 10) ------------------------------------------------


def test_a_dpkg_list_without_relationships_has_dependents_not_known() -> None:
    listing = FIXTURES / "audit" / "dpkg-list-only" / "dpkg-l.txt"
    done = run_depgraph("audit", "--dpkg-list", listing, "--release", "precise")
    assert done.status == 1, done.stderr  # never a silent all-clear: the bound is high
    summary = " ".join(done.stdout.split()[-30:])
    assert "highest risk unknown (up to high)" in summary, summary
    assert "dependents not known (a dpkg -l listing has no relationships" in summary
    assert "no dependents" not in done.stdout
    report = audit_json("--dpkg-list", listing, "--release", "precise")
    assert report["summary"]["highest_risk"] == "high"
    assert report["summary"]["highest_known_risk"] == "none"
    assert report["summary"]["risk_known"] is False
    assert report["summary"]["dependents_unknown"].startswith("a dpkg -l listing")


def unknown_server_root(tmp_path: Path) -> Path:
    """The 12.04 server without its release file and libssl's changelog: Heartbleed's fix state
    cannot be told (no changelog, no release to take a first fixed version from)."""
    root = tmp_path / "root"
    shutil.copytree(SERVER, root, symlinks=True)
    (root / "etc/lsb-release").unlink()
    shutil.rmtree(root / "usr/share/doc/libssl1.0.0")
    return root


def test_an_unknown_fix_state_asks_and_brings_no_key_step(tmp_path: Path) -> None:
    root = unknown_server_root(tmp_path)
    report = audit_json("--root", root)
    assert report["library"][0]["state"] == "unknown"
    assert steps_of(report) == ["upgrade", "restart", "if-vulnerable"]
    upgrade = step(report, "upgrade")["text"]
    assert "The fix state of libssl1.0.0 could not be told" in upgrade
    assert "would decide" in upgrade or "--release" in upgrade
    condition = step(report, "if-vulnerable")
    assert condition["text"].startswith("If the library turns out to have been vulnerable")
    assert condition["packages"] == ["nginx-full"]
    assert all(entry["risk"]["known"] is False for entry in report["packages"])
    assert report["summary"]["risk_known"] is False
    table = run_depgraph("audit", "--root", root)
    assert table.status == 1  # the bound (high) is at --fail-on's default
    assert "high?" in table.stdout
    assert "?: the library's fix state is unknown" in " ".join(table.stdout.split())
    assert "highest risk unknown (up to high)" in " ".join(table.stdout.split())


def test_the_markdown_and_csv_reports_say_a_level_is_a_bound(tmp_path: Path) -> None:
    root = unknown_server_root(tmp_path)
    markdown = run_depgraph("audit", "--root", root, "--format", "markdown").stdout
    assert "| high? | `nginx-full` |" in markdown
    csv = run_depgraph("audit", "--root", root, "--format", "csv").stdout.splitlines()
    assert csv[0].endswith(",risk_known")
    assert all(line.endswith(",no") for line in csv[1:])


def test_the_readme_names_every_impact() -> None:
    from depgraph.model import IMPACTS

    readme = (REPO / "README.md").read_text()
    for impact in IMPACTS:
        assert f"`{impact}`" in readme, impact
