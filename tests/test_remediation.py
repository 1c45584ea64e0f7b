"""The plan's key steps (issue 21): rotate-keys, revoke-certificates and the sessions-and-passwords
assess-damage step only for servers that serve TLS with keys (a daemon, a listening socket, a
configured key), each named with why; a server by its code alone gets none."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from depgraph.audit import AuditReport, Dependent, audit
from depgraph.cli import build_parser
from depgraph.commands.audit import audit_options
from depgraph.diagnostics import Diagnostics
from depgraph.model import Component, Evidence, Role, RoleVerdict
from depgraph.remediation import Step, plan
from depgraph.risk import Level, Risk
from tests.conftest import REPO, require_tool, throwaway_certificate

KEY_STEPS = {"rotate-keys", "revoke-certificates"}


def report_of(*argv: str) -> AuditReport:
    """The real audit of a scenario, as ``depgraph audit ARGV`` runs it."""
    args = build_parser().parse_args(["audit", *argv])
    return audit(audit_options(args), Diagnostics(strict=False))


def scenario_args(name: str) -> list[str]:
    text = (REPO / "fixtures/audit" / name / "args").read_text()
    return [str(REPO / a) if "/" in a else a for a in text.split()]


def cli_only_args() -> list[str]:
    """dpkg-list-only's host read with the single-level ``apt-cache rdepends`` of precise-security:
    its three direct dependents (openssl, libcurl3, libssl-dev), so no daemon but openssl's
    command-line tool (the recursive output adds hostapd, a knowledge-base server)."""
    single = "fixtures/heartbleed/rdepends/precise-security-main+universe-armhf-2014-03_"
    single += "apt-cache-rdepends-libssl1.0.0.txt"
    return [
        str(REPO / single) if a.endswith("apt-cache-rdepends-recurse.txt") else a
        for a in scenario_args("dpkg-list-only")
    ]


def as_server(
    report: AuditReport, package: str, verdict: RoleVerdict, name: str | None = None
) -> AuditReport:
    """The report with ``package`` judged ``verdict`` (and named ``name``) and ranked high, as a
    TLS server is."""
    risk = Risk(Level.HIGH, 0.8, ("TLS server",))

    def judged(dependent: Dependent) -> Dependent:
        if dependent.node.package != package:
            return dependent
        node = dataclasses.replace(dependent.node, package=name or package)
        return dataclasses.replace(dependent, node=node, role=verdict, risk=risk)

    dependents = tuple(judged(d) for d in report.dependents)
    assert dependents != report.dependents, f"{package} is no dependent"
    return dataclasses.replace(report, dependents=dependents)


def by_step(steps: tuple[Step, ...]) -> dict[str, Step]:
    return {step.step: step for step in steps}


def test_a_host_whose_only_server_is_the_openssl_command_rotates_no_keys() -> None:
    """dpkg-list-only, with openssl judged a TLS server the way the knowledge base did before
    issue 21 (an ELF scan's server-side calls, nothing else): no key rotation, no revocation, no
    sessions-and-passwords step for it; only the clients' credentials step remains."""
    report = report_of(*cli_only_args())
    scan = Evidence("knowledge-base", "openssl: server (ELF scan of openssl: server-side calls)")
    old = RoleVerdict(Role.SERVER, Component.LIBSSL, 0.6, (scan,), "no files at hand")
    steps = by_step(plan(as_server(report, "openssl", old)))
    assert "upgrade" in steps
    assert not KEY_STEPS & steps.keys(), steps.keys()
    damage = steps["assess-damage"]
    assert "session tickets" not in damage.text
    assert "No TLS server with keys was found here" in damage.text
    assert "openssl" in damage.text and "libcurl3" in damage.packages


def test_the_scenario_as_judged_now_has_no_key_steps_either() -> None:
    """As depgraph judges it (openssl a command-line tool, a client), the CLI-only host's plan
    has no key step at all; with the recursive rdepends, only hostapd (a daemon) is named."""
    whole = by_step(plan(report_of(*scenario_args("dpkg-list-only"))))
    assert whole["rotate-keys"].packages == ("hostapd",)
    report = report_of(*cli_only_args())
    openssl = next(d for d in report.dependents if d.node.package == "openssl")
    assert openssl.role.role is Role.CLIENT
    assert not KEY_STEPS & by_step(plan(report)).keys()


def test_a_daemon_gets_the_key_steps_saying_why() -> None:
    """vsftpd of the 2012 wheezy system, from its saved status only: a knowledge-base server whose
    status Provides ftp-server; the steps name it with that reason."""
    status = REPO / "fixtures/heartbleed/debian-wheezy-prerelease-powerpc/root/var/lib/dpkg/status"
    steps = by_step(plan(report_of("--status", str(status), "--release", "wheezy")))
    rotate = steps["rotate-keys"]
    assert rotate.packages == ("vsftpd",)
    assert "vsftpd (Provides ftp-server)" in rotate.text
    assert steps["revoke-certificates"].packages == ("vsftpd",)
    assert steps["assess-damage"].packages == ("vsftpd",)


def test_a_known_daemon_without_files_gets_the_steps_if_it_serves_tls() -> None:
    """A saved list knows nothing of units: a knowledge-base server scanned as a daemon
    (postgresql-15's entry, postgresql.service) gets the steps, worded "if it serves TLS here";
    one known only by its calls (apache2-bin's entry: its units are apache2's) does not."""
    sys.path.insert(0, str(REPO / "bench"))
    import eval as evaluation  # bench/eval.py: the real classifier on recorded packages

    items, target = evaluation.load()
    names = evaluation.verdicts(items, target, "names")
    daemon, library = names["postgresql-15"], names["apache2-bin"]
    assert [e.kind for e in daemon.evidence][:2] == ["knowledge-base", "known-daemon"]
    assert daemon.role is Role.SERVER and library.role is Role.SERVER
    assert "known-daemon" not in [e.kind for e in library.evidence]
    # the saved list of the CLI-only host, with one of them in place of its openssl
    report = report_of(*cli_only_args())
    steps = by_step(plan(as_server(report, "openssl", daemon, "postgresql-15")))
    rotate = steps["rotate-keys"]
    assert rotate.packages == ("postgresql-15",)
    assert "postgresql-15 (if it serves TLS here: postgresql-* ships postgresql.service" in (
        rotate.text
    )
    assert "session ticket" in steps["assess-damage"].text
    alone = plan(as_server(report, "openssl", library, "apache2-bin"))
    assert not KEY_STEPS & by_step(alone).keys()


def test_the_openssl_command_seen_listening_is_a_server_with_keys(tmp_path: Path) -> None:
    """A real ``openssl s_server`` on 127.0.0.1: the live audit makes openssl a server (a process
    of it listens, classify.with_runtime) and the key steps name it with its socket."""
    key, cert = throwaway_certificate(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [require_tool("openssl"), "s_server", "-accept", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        [*command, "-key", str(key), "-cert", str(cert), "-quiet"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        with socket.socket() as client:
            while client.connect_ex(("127.0.0.1", port)) != 0:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        # a fixed version past any libssl3 there will be: the installed one is vulnerable
        report = report_of("--library", "libssl3", "--cve", "CVE-2099-0001", "--fixed-version",
                           "99:0-1", "--impact", "memory-disclosure")  # fmt: skip
    finally:
        server.kill()
        server.wait()
    openssl = next(d for d in report.dependents if d.node.package == "openssl")
    assert openssl.role.role is Role.SERVER
    assert openssl.role.evidence[0].kind == "listening-socket"
    rotate = by_step(plan(report))["rotate-keys"]
    assert "openssl" in rotate.packages
    assert f"openssl (listening on 127.0.0.1:{port}/tcp)" in rotate.text


def test_why_no_key_file_is_named_follows_what_was_read(tmp_path: Path) -> None:
    """Issue 21: '(none read: no configuration at hand)' only for saved lists. A tree's vsftpd
    (whose configuration depgraph does not read), a tree's nginx-full (whose nginx.conf the tree
    may lack), and an nginx.conf naming files that are not there are each worded as they are."""
    saved = by_step(plan(report_of(*scenario_args("dpkg-list-only"))))["rotate-keys"].text
    assert "(none read: no configuration at hand)" in saved
    wheezy = REPO / "fixtures/heartbleed/debian-wheezy-prerelease-powerpc/root"
    vsftpd = by_step(plan(report_of("--root", str(wheezy))))["rotate-keys"].text
    assert "(depgraph does not read the configuration of vsftpd)" in vsftpd
    assert "no configuration at hand" not in vsftpd
    server = REPO / "fixtures/audit/ubuntu-12.04-server/root"
    nginx = by_step(plan(report_of("--root", str(server))))["rotate-keys"].text
    assert "(none in what the audited system has of the configuration of nginx-full)" in nginx
    assert "no configuration at hand" not in nginx
    root = tmp_path / "root"
    shutil.copytree(server, root, symlinks=True)
    (root / "etc/nginx").mkdir(parents=True)
    (root / "etc/nginx/nginx.conf").write_text(
        "http {\n  server {\n    listen 443 ssl;\n"
        "    ssl_certificate /etc/ssl/certs/www.pem;\n"
        "    ssl_certificate_key /etc/ssl/private/www.key;\n  }\n}\n",
        encoding="utf-8",
    )
    missing = by_step(plan(report_of("--root", str(root))))["rotate-keys"].text
    assert "No key or certificate path was found" not in missing
    assert "names are not there (/etc/ssl/certs/www.pem, /etc/ssl/private/www.key)" in missing


def test_saved_lists_with_a_known_daemon_do_not_say_no_dependent_is_a_service() -> None:
    """dpkg-list-only: the key steps name hostapd 'if it serves TLS here' (the knowledge base saw
    it ship hostapd.service), so the restart step does not say that no dependent is known to run
    as a service; the CLI-only lists (no hostapd) still say it."""
    steps = by_step(plan(report_of(*scenario_args("dpkg-list-only"))))
    assert (
        "hostapd (if it serves TLS here: hostapd ships hostapd.service" in steps["rotate-keys"].text
    )
    restart = steps["restart"]
    assert "no dependent is known to run as a service" not in restart.text
    assert "the data names no service (the knowledge base says hostapd ships" in restart.text
    assert restart.commands == ("depgraph restart",)
    cli = by_step(plan(report_of(*cli_only_args())))["restart"].text
    assert "no dependent is known to run as a service" in cli


def test_the_restart_step_speaks_of_one_unread_process_as_one() -> None:
    """Issue 21, 8: one process that could not be read is 'it', not 'them'; two are 'them'."""
    import errno

    from depgraph.runtime.library import LibraryFiles
    from depgraph.runtime.scan import RuntimeScan

    report = report_of(*scenario_args("ubuntu-12.04-server"))
    library = LibraryFiles("libssl1.0.0", frozenset({"libssl.so.1.0.0"}))

    def unread(*pids: int) -> str:
        scan = RuntimeScan(
            library, (), 10, tuple((pid, "init") for pid in pids), "/proc", True,
            unreadable_errors=tuple(errno.EACCES for _ in pids), privilege="root",
        )  # fmt: skip
        steps = by_step(plan(dataclasses.replace(report, runtime=(scan,))))
        return steps["restart"].text

    one = unread(1)
    assert "1 process could not be read: pid 1 (init)" in one, one
    assert "it may map the old library too; restart it, or reboot." in one, one
    # the library is vulnerable here and the scan saw no process: the unread are the restart step
    assert one.endswith("Do it after the upgrade, or it loads the vulnerable library again."), one
    two = unread(1, 2)
    assert "they may map the old library too; restart them, or reboot." in two, two
    assert two.endswith("Do it after the upgrade, or they load the vulnerable library again."), two


def test_take_offline_waits_for_the_fix_only_when_it_is_not_in() -> None:
    """Issue 21, review of the plan's sentences: with the fix on disk (trusty-core), a critical
    server waits for its restart, not for 'the fix is in'; one server is 'it', not 'they'."""
    critical = Risk(Level.CRITICAL, 0.9, ("TLS server, reachable",))

    def offline(name: str, *packages: str) -> str:
        report = report_of(*scenario_args(name))
        dependents = tuple(
            dataclasses.replace(d, risk=critical) if d.node.package in packages else d
            for d in report.dependents
        )
        return by_step(plan(dataclasses.replace(report, dependents=dependents)))[
            "take-offline"
        ].text

    fixed = offline("trusty-core", "ntpdate")
    assert fixed.startswith(
        "Take this exposed server offline or firewall it until it is restarted:"
    )
    assert "fix is in" not in fixed
    broken = offline("ubuntu-12.04-server", "nginx-full", "openssh-server")
    assert broken.startswith(
        "Take these exposed servers offline or firewall them until the fix is in and they are "
        "restarted: nginx-full, openssh-server"
    ), broken
