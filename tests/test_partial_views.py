"""Partial views: what depgraph says when part of the system cannot be seen (README "Partial views").

Each case is built for real and compared with the complete view of the same system:

* unreadable ``/proc/PID/*``: the live ``restart`` and ``audit`` run without privileges, as root
  with every capability dropped (``setpriv --bounding-set=-all``: another process's maps need
  CAP_SYS_PTRACE, and this test's own pytest, a full-capability root process, is always among the
  unreadable) and as ``nobody`` (when the repository is readable to it);
* unreadable ``usr/share/doc``: a copy of the real Ubuntu 14.04 root (``fixtures/heartbleed/
  ubuntu-14.04-core-armhf``: libssl1.0.0 1.0.1f-1ubuntu2, fixed by a backport its changelog names)
  with ``chmod 000 usr/share/doc``, read without CAP_DAC_OVERRIDE;
* missing dpkg file lists: this live system with an empty tmpfs over ``/var/lib/dpkg/info`` in a
  private mount namespace, and a fixture root that has none;
* a root with no status file: the same copy with ``var/lib/dpkg/status`` removed;
* unfinished dpkg states: the same copy's real status file with the ``Status`` of libssl1.0.0 (and
  of two dependents) edited to ``half-installed`` (reinstreq), ``unpacked`` (iU),
  ``half-configured`` (iF), ``config-files`` (rc) and ``triggers-pending``; the rest of each
  stanza is as dpkg wrote it.

For each: the warning appears, confidence drops or the state becomes ``unknown``, and no verdict
becomes ``none``, ``not-affected`` or fixed because of the data that is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from depgraph.debian.versions import compare
from tests.conftest import (
    FIXTURES,
    REPO,
    SCHEMAS,
    Run,
    flag,
    require_tool,
    run_depgraph,
    scenario,
)

TRUSTY = scenario("ubuntu-14.04-core-armhf")
NO_LISTS_ROOT = FIXTURES / "audit" / "ubuntu-12.04-server" / "root"
MAPS = FIXTURES / "audit" / "raspbian-wheezy-stale" / "maps.txt"
CVE = "CVE-2014-0160"
FIXED_STATES = ("fixed", "fixed-backport", "not-affected")


def _root_only() -> None:
    if os.geteuid() != 0:
        if flag("CI"):
            pytest.fail("partial views are built as root (CI runs as root)")
        pytest.skip("needs root")


def capless(*args: str | Path) -> Run:
    """depgraph as root with no capability at all (no CAP_SYS_PTRACE, no CAP_DAC_OVERRIDE)."""
    _root_only()
    setpriv = require_tool("setpriv")
    return _run([setpriv, "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all"], args)


def as_nobody(*args: str | Path) -> Run:
    """depgraph as the unprivileged user ``nobody``, without a cache (it has no home)."""
    _root_only()
    setpriv = require_tool("setpriv")
    prefix = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "import depgraph.cli"],
        capture_output=True,
        cwd="/",
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"nobody cannot read the repository at {REPO}")
    return _run(prefix, args, {"XDG_CACHE_HOME": "/nonexistent/depgraph-cache"})


def _run(prefix: list[str], args: tuple[str | Path, ...], env: dict[str, str] | None = None) -> Run:
    return run_depgraph(*args, env=env, prefix=prefix)


def report(run: Run) -> dict[str, Any]:
    """The JSON report of a finished audit, checked against report-v1's schema."""
    assert run.status in (0, 1), run.stderr
    parsed: dict[str, Any] = json.loads(run.stdout)
    schema = json.loads((SCHEMAS / "report-v1.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(parsed, schema)
    return parsed


def levels(audit: dict[str, Any]) -> set[str]:
    return {p["risk"]["level"] for p in audit["packages"]}


def _libssl3() -> None:
    if not list(Path("/var/lib/dpkg/info").glob("libssl3*.list")):
        pytest.skip("libssl3 is not installed on this machine")


HAD_THE_BUG = (
    "--library", "libssl3", "--cve", "CVE-2025-9230", "--affected", ">= 3.0.0, < 3.0.18",
    "--impact", "code-execution",
)  # fmt: skip
"""A real CVE (OpenSSL's advisory of 30 September 2025: RFC 3211 KEK unwrap out of bounds, fixed
in 3.0.18) that this machine's libssl3 had and no longer has: dpkg's log shows 3.0.16-1~deb12u1
installed in 2025, replaced in 2026. With a library that never had the bug here (the CVE-2022-3602
profile: every libssl3 the log shows is 3.0.16 or later), nothing can run vulnerable code, seen
or not (issue 24), so a partial view of /proc changes nothing."""


def _had_the_bug() -> tuple[str, ...]:
    """:data:`HAD_THE_BUG`, when dpkg's log shows it here (else the test does not apply)."""
    _libssl3()
    from depgraph.dpkg_log import exposure_history

    history = exposure_history(Path("/"), "libssl3")
    if not any(compare(p.version, "3.0.18") < 0 for p in history.periods):
        pytest.skip("dpkg's log shows no libssl3 older than 3.0.18 on this machine")
    return HAD_THE_BUG


@pytest.fixture
def trusty(tmp_path: Path) -> Path:
    root = tmp_path / "trusty"
    shutil.copytree(TRUSTY, root, symlinks=True)
    return root


def set_status(root: Path, package: str, status: str) -> None:
    """Edit the ``Status`` of one real stanza of the root's dpkg status file."""
    path = root / "var/lib/dpkg/status"
    text = path.read_text(encoding="utf-8")
    stanza = re.compile(rf"(^Package: {re.escape(package)}\n(?:.+\n)*?)Status: .*$", re.MULTILINE)
    edited, count = stanza.subn(rf"\1Status: {status}", text, count=1)
    assert count == 1, package
    path.write_text(edited, encoding="utf-8")


# --- unreadable /proc/PID/* -----------------------------------------------------------------------


def test_restart_without_privileges_is_partial() -> None:
    _libssl3()
    done = capless("restart", "--format", "json")
    assert done.status == 1, done.stderr  # never "nothing to restart" on a partial view
    result = json.loads(done.stdout)
    assert result["partial"] is True
    parent = os.getpid()  # this pytest: a root process with every capability, unreadable to it
    assert parent in {entry["pid"] for entry in result["unreadable"]}, result["unreadable"]
    assert "could not be read (root without CAP_SYS_PTRACE" in done.stderr, done.stderr
    assert "partial:" in done.stderr.splitlines()[-1]


def test_audit_without_privileges_never_ranks_none() -> None:
    args = ("audit", *_had_the_bug(), "--format", "json")
    full = report(run_depgraph(*args))
    partial = report(capless(*args))
    assert partial["summary"]["partial"] is True
    assert "(partial)" in partial["summary"]["runtime"]
    assert any("processes could not be read" in w for w in partial["warnings"]), partial["warnings"]
    assert "none" not in levels(partial), levels(partial)
    # The library's state rests on its version and changelog, which are readable: unchanged.
    assert [v["state"] for v in partial["library"]] == [v["state"] for v in full["library"]]


def test_a_library_that_never_had_the_bug_here_ranks_none_on_a_partial_view() -> None:
    """Issue 24: dpkg's log shows every libssl3 installed here (3.0.16-1~deb12u1 on) past
    CVE-2022-3602's range: no process can run vulnerable code, read or not. Nothing ranks above
    none, and no step says 'restart' (the plan would be for a host that never had the bug)."""
    _libssl3()
    from depgraph.dpkg_log import exposure_history

    history = exposure_history(Path("/"), "libssl3")
    first = history.periods[0] if history.periods else None
    if first is None or first.installed is None or compare(first.version, "3.0.7") < 0:
        pytest.skip("dpkg's log does not show libssl3's first install past 3.0.6 here")
    partial = report(capless("audit", "--profile", "openssl-cve-2022-3602", "--format", "json"))
    assert partial["summary"]["partial"] is True
    assert levels(partial) == {"none"}, levels(partial)
    never = "fix in; dpkg's log shows no vulnerable version ever installed here"
    assert all(never in p["risk"]["reasons"] for p in partial["packages"])
    assert not [a for a in partial["actions"] if a["step"] == "restart"], partial["actions"]
    # with a CVE the log shows here, the same partial view keeps every dependent above none
    had = report(capless("audit", *_had_the_bug(), "--format", "json"))
    assert "none" not in levels(had)


def test_unreadable_processes_are_not_listed_as_still_running_old_code() -> None:
    """Issue 21: a process that could not be read is not known to run the old library, so the
    sentence that names it stands on its own, never under 'Still running the old or vulnerable
    library' (which heads only the processes seen mapping an old or vulnerable copy)."""
    _libssl3()
    done = capless("audit", "--profile", "openssl-cve-2022-3602", "--fail-on", "critical")
    assert done.status == 0, done.stderr
    lines = done.stdout.splitlines()
    partial = [n for n, line in enumerate(lines) if "could not be read:" in line]
    assert partial, done.stdout  # this pytest, root with every capability, is unreadable to it
    assert not lines[partial[0]].startswith(" ")
    heading = "Still running the old or vulnerable library:"
    if heading in lines:
        section = lines[lines.index(heading) + 1 :]
        section = section[: section.index("")] if "" in section else section
        items = [line for line in section if line.startswith("  ") and line[2] != " "]
        assert items and all(line.startswith("  pid ") for line in items), section
    # a fixed libssl3 with processes unread is not 'not affected': it had the bug (issue 21)
    summary = " ".join(done.stdout.split()[-40:])
    assert "openssl-cve-2022-3602: not affected" not in summary, summary
    if "AFFECTED" not in summary:
        assert "fixed on disk (some processes could not be read)" in summary, summary
    for fmt in ("markdown", "html"):
        text = capless("audit", "--profile", "openssl-cve-2022-3602", "--format", fmt)
        assert "could not be read:" in text.stdout
        under_heading = re.compile(
            r"^- \d+ process(es)? could not|<li>\d+ process(es)? could not", re.M
        )
        assert not under_heading.search(text.stdout), fmt


def test_the_plan_names_the_processes_that_could_not_be_read() -> None:
    """Issue 21: rows that say 'could not be read: may run old code' have a step beside them:
    the restart step names the unread processes (restart them, or reboot). A library that never
    had the bug (xz's liblzma5 5.4) ranks nothing, and gets no such step."""
    args = ("audit", *_had_the_bug(), "--format", "json")
    partial = report(capless(*args))
    assert "none" not in levels(partial)
    texts = [a["text"] for a in partial["actions"] if a["step"] == "restart"]
    assert texts and "could not be read:" in texts[0], partial["actions"]
    one = re.search(r"\b1 process could not be read", texts[0])
    they = (
        "it may map the old library too; restart it"
        if one
        else "they may map the old library too; restart them"
    )
    assert f"{they}, or reboot." in texts[0], texts[0]
    never = report(capless("audit", "--profile", "xz-backdoor", "--format", "json"))
    if levels(never) == {"none"}:
        assert not any("could not be read" in a["text"] for a in never["actions"])


def test_restart_and_audit_as_nobody() -> None:
    _libssl3()
    done = as_nobody("restart", "--format", "json")
    assert done.status == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["partial"] is True and result["unreadable"]
    assert "not root: run as root to see them" in done.stderr, done.stderr
    audit = report(as_nobody("audit", *_had_the_bug(), "--format", "json"))
    assert audit["summary"]["partial"] is True
    assert "none" not in levels(audit)


# --- unreadable /usr/share/doc --------------------------------------------------------------------


def test_unreadable_doc_is_a_warning_and_never_a_fix(trusty: Path) -> None:
    # CVE-2014-0076, which trusty's changelog names and no built-in profile knows (an ad hoc
    # CVE-2014-0160 takes the heartbleed profile's release table, issue 24)
    adhoc = ("audit", "--root", trusty, "--library", "libssl1.0.0", "--cve", "CVE-2014-0076")
    readable = report(capless(*adhoc, "--format", "json"))
    assert readable["library"][0]["state"] == "fixed-backport"  # the changelog names the fix
    assert readable["library"][0]["decided_by"] == "changelog"
    (trusty / "usr/share/doc").chmod(0)
    try:
        hidden = report(capless(*adhoc, "--format", "json"))
        profiled = report(capless("audit", "--root", trusty, "--format", "json"))
        changelog = capless("changelog", "libssl1.0.0", "--root", trusty, "--cve", CVE)
    finally:
        (trusty / "usr/share/doc").chmod(0o755)
    changelog_path = str(trusty / "usr/share/doc/libssl1.0.0/changelog.Debian.gz")
    assert f"{changelog_path}: cannot read: Permission denied" in hidden["warnings"]
    # Without the changelog and without a release table (ad hoc CVE), nothing shows the fix.
    assert hidden["library"][0]["state"] == "unknown", hidden["library"][0]
    assert hidden["summary"]["affected"] is True
    assert "none" not in levels(hidden)
    # With the profile, Ubuntu trusty's first fixed version still shows it: a verdict from
    # evidence that is there, with the missing changelog said in the reason and the warnings.
    assert profiled["library"][0]["state"] == "fixed-backport"
    assert profiled["library"][0]["decided_by"] == "fixed-version"
    assert "no readable changelog" in profiled["library"][0]["reason"]
    assert f"{changelog_path}: cannot read: Permission denied" in profiled["warnings"]
    assert changelog.status == 2
    assert changelog.stderr.splitlines() == [
        f"depgraph: error: {changelog_path}: cannot read: Permission denied: "
        "no changelog of libssl1.0.0 can be read"
    ]


# --- missing dpkg file lists ----------------------------------------------------------------------


def without_file_lists(*args: str | Path) -> Run:
    """depgraph on this live system with an empty ``/var/lib/dpkg/info`` (a private namespace)."""
    _root_only()
    require_tool("unshare")
    command = " ".join(f"'{a}'" for a in map(str, args))
    inner = (
        "mount -t tmpfs -o mode=0755 no-file-lists /var/lib/dpkg/info && "
        f'test -z "$(ls /var/lib/dpkg/info)" && exec {sys.executable} -m depgraph {command}'
    )
    return _run(["unshare", "--mount", "--propagation", "private", "sh", "-c", inner], ())


def test_live_audit_without_file_lists_lowers_confidence() -> None:
    args = ("audit", *_had_the_bug(), "--format", "json")
    full = report(run_depgraph(*args))
    blind = report(without_file_lists(*args))
    warning = [w for w in blind["warnings"] if "/var/lib/dpkg/info: no file list for" in w]
    assert len(warning) == 1, blind["warnings"]
    assert f"no file list for {len(blind['packages'])} installed dependents" in warning[0]
    before = {p["package"]: p["role_confidence"] for p in full["packages"]}
    after = {p["package"]: p["role_confidence"] for p in blind["packages"]}
    assert before.keys() == after.keys()
    assert all(after[name] <= before[name] for name in before)
    assert sum(after.values()) < sum(before.values())
    assert {p["role_missing"] for p in blind["packages"]} == {"no dpkg file list"}
    assert "none" not in levels(blind)


def test_live_restart_without_file_lists_still_finds_libssl3() -> None:
    """Without ``libssl3``'s list the default library came out as libssl1.0.0 (not installed):
    the scan looked for the wrong library. The status file now decides, and a warning says the
    sonames are guessed."""
    _libssl3()
    done = without_file_lists("restart", "--format", "json")
    assert done.status == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["library"]["package"] == "libssl3"
    assert set(result["library"]["names"]) == {"libssl.so.3", "libcrypto.so.3"}
    assert "libssl3 is installed but has no dpkg file list under /" in done.stderr


def test_fixture_root_without_file_lists_warns() -> None:
    done = run_depgraph("audit", "--root", NO_LISTS_ROOT, "--format", "json")
    audit = report(done)
    assert any("no file list for 25 installed dependents" in w for w in audit["warnings"])
    assert all(p["role_confidence"] < 0.9 for p in audit["packages"])


# --- a root with no status file -------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("audit",),
        ("graph", "libssl1.0.0"),
        ("changelog", "libssl1.0.0", "--cve", CVE),
        ("changelog", "--all", "--cve", CVE),
    ],
    ids=["audit", "graph", "changelog", "changelog-all"],
)
@pytest.mark.parametrize("pure", [False, True], ids=["python-apt", "pure"])
def test_root_without_status_is_an_error(
    trusty: Path, command: tuple[str, ...], pure: bool
) -> None:
    (trusty / "var/lib/dpkg/status").unlink()
    done = run_depgraph(*command, "--root", trusty, pure=pure)
    assert done.status == 2
    assert done.stderr.splitlines() == [
        f"depgraph: error: {trusty}/var/lib/dpkg/status: no dpkg status file "
        "(is this the root of a Debian system?)"
    ]


def test_restart_of_a_root_without_status_cannot_judge_the_version(trusty: Path) -> None:
    (trusty / "var/lib/dpkg/status").unlink()
    args = ("restart", "--root", trusty, "--maps", MAPS, "--library", "libssl1.0.0")
    done = run_depgraph(*args, "--fixed-version", "1.0.1g-1", "--format", "json")
    assert done.status == 1
    assert json.loads(done.stdout)["library"]["installed_vulnerable"] is None
    assert "no installed version of libssl1.0.0 in the dpkg status" in done.stderr


# --- unfinished dpkg states -----------------------------------------------------------------------


UNTRUSTED = [
    "install reinstreq half-installed",
    "install ok unpacked",
    "install ok half-configured",
]


@pytest.mark.parametrize("status", UNTRUSTED, ids=["iH-reinstreq", "iU", "iF"])
@pytest.mark.parametrize("pure", [False, True], ids=["python-apt", "pure"])
def test_library_in_an_unfinished_state_is_not_called_fixed(
    trusty: Path, status: str, pure: bool
) -> None:
    complete = report(run_depgraph("audit", "--root", trusty, "--format", "json", pure=pure))
    assert complete["library"][0]["state"] == "fixed-backport"
    assert levels(complete) == {"low"}  # fix in; a --root's processes cannot be seen
    set_status(trusty, "libssl1.0.0", status)
    audit = report(run_depgraph("audit", "--root", trusty, "--format", "json", pure=pure))
    state = status.split()[-1]
    verdict = audit["library"][0]
    assert verdict["state"] == "unknown", verdict
    assert verdict["decided_by"] == "dpkg-status"
    assert f"dpkg state {state}" in verdict["reason"]
    assert any(f"libssl1.0.0: dpkg state {state}:" in w for w in audit["warnings"])
    assert audit["summary"]["affected"] is True
    assert "none" not in levels(audit)
    assert levels(audit) - {"low"}, levels(audit)  # counted as vulnerable: some rank higher


@pytest.mark.parametrize("pure", [False, True], ids=["python-apt", "pure"])
def test_library_with_pending_triggers_keeps_its_verdict(trusty: Path, pure: bool) -> None:
    """Files and configuration are complete; only trigger processing waits: a warning only."""
    set_status(trusty, "libssl1.0.0", "install ok triggers-pending")
    audit = report(run_depgraph("audit", "--root", trusty, "--format", "json", pure=pure))
    assert audit["library"][0]["state"] == "fixed-backport"
    assert any("dpkg state triggers-pending" in w for w in audit["warnings"])


@pytest.mark.parametrize("pure", [False, True], ids=["python-apt", "pure"])
def test_removed_library_is_not_installed_with_a_warning(trusty: Path, pure: bool) -> None:
    set_status(trusty, "libssl1.0.0", "deinstall ok config-files")
    audit = report(run_depgraph("audit", "--root", trusty, "--format", "json", pure=pure))
    verdict = audit["library"][0]
    assert verdict["state"] == "not-installed"  # dpkg removed its files: a fact, not a gap
    assert "(dpkg state: config-files)" in verdict["evidence"][0]["detail"]
    assert any(
        "dpkg state config-files (rc)" in w and "depgraph restart --library libssl1.0.0" in w
        for w in audit["warnings"]
    ), audit["warnings"]


@pytest.mark.parametrize("pure", [False, True], ids=["python-apt", "pure"])
def test_dependents_in_unfinished_states_are_named(trusty: Path, pure: bool) -> None:
    set_status(trusty, "ntpdate", "install ok half-configured")
    set_status(trusty, "python3.4", "install reinstreq half-installed")
    audit = report(run_depgraph("audit", "--root", trusty, "--format", "json", pure=pure))
    assert {"ntpdate", "python3.4"} <= {p["package"] for p in audit["packages"]}
    assert any(
        "2 dependents in an unfinished dpkg state" in w
        and "ntpdate (half-configured), python3.4 (half-installed)" in w
        for w in audit["warnings"]
    ), audit["warnings"]
