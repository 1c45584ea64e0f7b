"""depgraph is read-only on the system it audits, proven on a read-only filesystem and by a trace.

1. Read-only filesystem: in a private mount namespace (``unshare --mount --propagation private``)
   every mount is remounted read-only (``mount -o remount,ro,bind``: the namespace's own copy of
   each mount, the host's stay writable), then a tmpfs is mounted on the ``XDG_CACHE_HOME`` temp
   dir, the one place depgraph may write. Before depgraph runs, a probe checks that creating a file
   in the repository, the audited copy, the test's temp dir, ``/``, ``/tmp``, ``/var/tmp``,
   ``/var/lib/dpkg`` and ``$HOME`` fails with EROFS and that the cache dir is writable; otherwise
   the test fails rather than proving nothing. The full audit of a copied root
   (``fixtures/audit/ubuntu-12.04-server``) and of this live system, ``graph --all`` (which keeps
   libapt's binary cache in the cache dir), ``restart`` and ``changelog`` then succeed, with the
   same report as outside the namespace; and again with no writable cache dir at all.
2. Spawned processes: ``strace -f`` of every subcommand records each execve and each process
   that appears; the only program depgraph may run is ``openssl version -a`` (the live audit, for
   the build date; README "What depgraph runs"). python-apt's libapt would run
   ``dpkg --print-foreign-architectures``; depgraph gives it the architectures from dpkg's own
   ``/var/lib/dpkg/arch`` instead, and this test is what shows it.

Needs root, util-linux (``unshare``, ``mount``) and strace, as in CI (``.ci/run``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, flag, require_tool, run_depgraph

COPIED_ROOT = FIXTURES / "audit" / "ubuntu-12.04-server" / "root"
ALLOWED_COMMANDS = (
    ("openssl", "version", "-a"),
    ("dpkg", "-l"),
    ("dot", "-Tsvg"),
    ("dot", "-Tpng"),
)
"""Every program depgraph may run, by base name and arguments (README "What depgraph runs"):
``openssl version -a`` (live audit, collect), ``dpkg -l`` (collect), Graphviz's ``dot`` (only
for ``--format svg|png``); each test below says which of them its command runs."""

PROBE = r"""
import errno, json, os, subprocess, sys

cache, *probes = sys.argv[1:]

def mounts():
    seen = {}
    with open("/proc/self/mountinfo") as info:
        for line in info:
            fields = line.split()
            target = fields[4].encode().decode("unicode_escape")  # \040 for a space
            seen[target] = (fields[5].split(","), fields[fields.index("-") + 1])
    return seen  # the last mount listed at a path is the one visible there

for target in sorted(mounts()):
    subprocess.run(["mount", "-o", "remount,ro,bind", target], capture_output=True)
if cache != "-":
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0700", "depgraph-cache", cache], check=True)
writable = sorted(t for t, (opts, _) in mounts().items() if "ro" not in opts and t != cache)
refused = {}
for directory in probes:
    try:
        with open(os.path.join(directory, ".depgraph-write-probe"), "x"):
            refused[directory] = "written"
    except OSError as error:
        refused[directory] = errno.errorcode.get(error.errno, str(error.errno))
cache_ok = None
if cache != "-":
    try:
        with open(os.path.join(cache, "probe"), "x"):
            pass
        os.unlink(os.path.join(cache, "probe"))
        cache_ok = True
    except OSError:
        cache_ok = False
print("readonly-probe: " + json.dumps({"writable": writable, "refused": refused, "cache": cache_ok}),
      file=sys.stderr, flush=True)
"""
"""Run inside the namespace: make every mount read-only, mount the cache, report what is writable."""


def _require_namespaces() -> None:
    if os.geteuid() != 0:
        if flag("CI"):
            pytest.fail("the read-only proof needs root (CI runs as root)")
        pytest.skip("needs root to make a private read-only mount namespace")
    for tool in ("unshare", "mount"):
        require_tool(tool)


def readonly(
    tmp_path: Path, *args: str | Path, cache: bool = True
) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    """``python -m depgraph ARGS`` with every filesystem read-only; the probe's findings."""
    _require_namespaces()
    cache_dir = tmp_path / "xdg-cache"
    cache_dir.mkdir(exist_ok=True)
    home = os.environ.get("HOME", "/root")
    probes = [REPO, tmp_path, "/", "/tmp", "/var/tmp", "/var/lib/dpkg", home, *_roots(args)]
    inner = (
        f"{sys.executable} -c {_quote(PROBE)} {_quote(str(cache_dir) if cache else '-')} "
        + " ".join(_quote(str(p)) for p in probes)
        + f" && exec {sys.executable} -m depgraph "
        + " ".join(_quote(str(a)) for a in args)
    )
    environment = dict(os.environ)
    environment.pop("DEPGRAPH_DEBUG", None)
    environment["XDG_CACHE_HOME"] = str(cache_dir)
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", inner],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    found = re.search(r"^readonly-probe: (.*)$", done.stderr, re.MULTILINE)
    assert found is not None, done.stderr
    probe: dict[str, object] = json.loads(found.group(1))
    refused = probe["refused"]
    assert isinstance(refused, dict)
    assert refused and all(code == "EROFS" for code in refused.values()), probe
    assert probe["writable"] == [], probe  # every mount but the cache is read-only
    assert probe["cache"] is (True if cache else None), probe
    return done, probe


def _roots(args: tuple[str | Path, ...]) -> list[str]:
    return [str(args[i + 1]) for i, arg in enumerate(args[:-1]) if arg == "--root"]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _report(stdout: str) -> dict[str, object]:
    report: dict[str, object] = json.loads(stdout)
    return report


def _stable(report: dict[str, object]) -> dict[str, object]:
    """A live report without what changes from one run to the next (processes come and go)."""
    keep = ("schema", "profile", "source", "library")
    stable = {key: report[key] for key in keep if key in report}
    packages = report.get("packages")
    if isinstance(packages, list):
        stable["packages"] = sorted(p["package"] for p in packages)
    return stable


@pytest.fixture
def copied_root(tmp_path: Path) -> Path:
    root = tmp_path / "copied-root"
    shutil.copytree(COPIED_ROOT, root, symlinks=True)
    return root


# --- 1. read-only filesystem ----------------------------------------------------------------------


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_audit_of_a_copied_root_on_a_readonly_filesystem(
    copied_root: Path, tmp_path: Path, cache: bool
) -> None:
    args = ("audit", "--root", copied_root, "--format", "json")
    done, _ = readonly(tmp_path, *args, cache=cache)
    assert done.returncode == 1, done.stderr  # the scenario is vulnerable: findings at high
    writable = run_depgraph(*args)
    assert writable.status == 1
    assert _report(done.stdout) == _report(writable.stdout)  # read-only changes nothing
    assert not (copied_root / ".depgraph-write-probe").exists()


def _installed(package: str) -> None:
    if not list(Path("/var/lib/dpkg/info").glob(f"{package}.list")) and not list(
        Path("/var/lib/dpkg/info").glob(f"{package}:*.list")
    ):
        pytest.skip(f"{package} is not installed on this machine")


def _libssl3() -> None:
    _installed("libssl3")


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_live_audit_on_a_readonly_filesystem(tmp_path: Path, cache: bool) -> None:
    _libssl3()
    args = ("audit", "--profile", "openssl-cve-2022-3602", "--format", "json")
    done, _ = readonly(tmp_path, *args, cache=cache)
    assert done.returncode in (0, 1), done.stderr
    writable = run_depgraph(*args)
    assert _stable(_report(done.stdout)) == _stable(_report(writable.stdout))
    report = _report(done.stdout)
    assert report["source"] == {"kind": "live", "description": "the installed packages"}
    assert report["packages"], "libssl3 has dependents on any Debian 12 with openssl"


@pytest.mark.parametrize(
    "args",
    [
        ("audit", "--format", "json"),
        ("graph", "libssl3", "--all", "--format", "names"),  # json classifies 29,000: slow
        ("restart", "--format", "json"),
        ("changelog", "libssl3", "--cve", "CVE-2022-3602", "--format", "json"),
        ("changelog", "--all", "--cve", "CVE-2022-3602", "--format", "json"),
        ("profiles", "--format", "json"),
    ],
    ids=["audit-heartbleed", "graph-all", "restart", "changelog", "changelog-all", "profiles"],
)
def test_every_live_command_on_a_readonly_filesystem(tmp_path: Path, args: tuple[str, ...]) -> None:
    _libssl3()
    done, _ = readonly(tmp_path, *args)
    assert done.returncode in (0, 1), done.stderr
    if "names" in args:
        assert "openssl" in done.stdout.split(), done.stdout[:200]
    else:
        json.loads(done.stdout)
    assert "cannot write" not in done.stderr, done.stderr


def test_graph_all_without_any_writable_directory(tmp_path: Path) -> None:
    """No cache and no /tmp: libapt cannot split the lists' InRelease files, so the lists are read
    in pure Python, with a note; the answer is the same as with a writable system."""
    _libssl3()
    args = ("graph", "libssl3", "--all", "--format", "names")
    done, _ = readonly(tmp_path, *args, cache=False)
    assert done.returncode == 0, done.stderr
    writable = run_depgraph(*args)
    assert writable.stdout == done.stdout
    if "(python-apt)" in writable.stderr:
        assert "read in pure Python" in done.stderr, done.stderr


def test_probe_sees_a_writable_filesystem_outside_the_namespace(tmp_path: Path) -> None:
    """The probe is not blind: without the read-only remount the same write succeeds."""
    subprocess.run(
        [sys.executable, "-c", "open(__import__('sys').argv[1], 'x').close()", tmp_path / "w"],
        check=True,
    )
    assert (tmp_path / "w").exists()


# --- 2. the processes depgraph spawns -------------------------------------------------------------


def traced(*args: str | Path, pure: bool | None = None) -> tuple[int, list[tuple[str, ...]]]:
    """Run depgraph under ``strace -f``; its exit status and the argv of every process it made.

    Every process other than depgraph's own that shows up in the trace (by its pid: an execve, a
    clone or fork of its own, or its exit_group) must have run an allowed command; a fork that
    runs no program at all counts as a spawn too.
    """
    strace = require_tool("strace")
    log = Path(os.environ["XDG_CACHE_HOME"]) / f"strace-{os.getpid()}-{len(args)}.log"
    environment = dict(os.environ)
    environment.pop("DEPGRAPH_DEBUG", None)
    if pure is True:
        environment["DEPGRAPH_NO_APT"] = "1"
    elif pure is False:
        environment.pop("DEPGRAPH_NO_APT", None)
    done = subprocess.run(
        [strace, "-f", "-qq", "--seccomp-bpf", "-s", "256", "-o", log, "-e",
         "trace=execve,execveat,fork,vfork,clone,clone3,exit_group",
         sys.executable, "-m", "depgraph", *map(str, args)],
        capture_output=True, text=True, env=environment, cwd=REPO, timeout=300, check=False,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    lines = log.read_text().splitlines()
    log.unlink()
    assert lines, "strace recorded nothing"
    main = lines[0].split()[0]
    assert "execve(" in lines[0] and "depgraph" in lines[0], lines[0]
    spawned: dict[str, tuple[str, ...] | None] = {}
    for line in lines:
        pid = line.split()[0]
        if pid == main:
            continue
        spawned.setdefault(pid, None)
        call = re.search(r'execve(?:at)?\((?:\S+, )?"[^"]*", \[(.*?)\]', line)
        # The first program a process runs is what depgraph started; a re-exec inside it is that
        # program's own business (``dpkg -l`` runs ``dpkg-query --list``).
        if call is not None and spawned[pid] is None:
            argv = tuple(re.findall(r'"((?:[^"\\]|\\.)*)"', call.group(1)))
            spawned[pid] = (os.path.basename(argv[0]), *argv[1:])
    return done.returncode, [argv or ("<fork without exec>",) for argv in spawned.values()]


def assert_only_allowed(spawned: list[tuple[str, ...]]) -> None:
    assert all(argv in ALLOWED_COMMANDS for argv in spawned), spawned


@pytest.mark.parametrize("pure", [False, True], ids=["python-apt", "pure"])
def test_live_audit_runs_only_openssl_version(pure: bool) -> None:
    _libssl3()
    status, spawned = traced("audit", "--profile", "openssl-cve-2022-3602", pure=pure)
    assert status in (0, 1)
    assert_only_allowed(spawned)
    if shutil.which("openssl"):
        assert ("openssl", "version", "-a") in spawned  # the trace sees what does run


@pytest.mark.parametrize(
    "args",
    [
        ("audit",),
        ("graph", "libssl3"),
        ("graph", "libssl3", "--all"),
        ("restart",),
        ("restart", "--format", "json"),
        ("changelog", "libssl3", "--cve", "CVE-2022-3602"),
        ("changelog", "--all", "--cve", "CVE-2022-3602"),
        ("profiles",),
    ],
    ids=lambda args: "-".join(a.strip("-") for a in args),
)
def test_live_commands_spawn_nothing_else(args: tuple[str, ...]) -> None:
    _libssl3()
    status, spawned = traced(*args, pure=False)
    assert status in (0, 1)
    assert_only_allowed(spawned)
    if args[0] != "audit":
        assert spawned == [], spawned  # only the live audit asks openssl for its build


def test_collect_runs_only_dpkg_l_and_openssl_version(tmp_path: Path) -> None:
    if "collect" not in run_depgraph("--help").stdout:
        pytest.skip("no collect subcommand")
    _installed("libpq5")  # postgresql-client-15's library: 3 dependents, a quick snapshot
    output = tmp_path / "host.tar.gz"
    status, spawned = traced("collect", "-o", output, "--library", "libpq5", pure=False)
    assert status == 0
    assert_only_allowed(spawned)
    expected = {("dpkg", "-l")} | (
        {("openssl", "version", "-a")} if shutil.which("openssl") else set()
    )
    assert set(spawned) == expected, spawned


def test_collect_on_a_readonly_filesystem_writes_only_its_output(tmp_path: Path) -> None:
    """The snapshot goes to -o (here in the writable cache tmpfs); nothing else is written."""
    if "collect" not in run_depgraph("--help").stdout:
        pytest.skip("no collect subcommand")
    _installed("libpq5")  # postgresql-client-15's library: 3 dependents, a quick snapshot
    output = tmp_path / "xdg-cache" / "host.tar.gz"
    done, _ = readonly(tmp_path, "collect", "-o", output, "--library", "libpq5")  # 3 dependents
    assert done.returncode == 0, done.stderr
    assert f"wrote {output}" in done.stderr, done.stderr


def test_drawing_runs_only_dot(tmp_path: Path) -> None:
    """``--format svg`` hands the DOT text to Graphviz's ``dot -Tsvg``, and nothing else."""
    _libssl3()
    if "svg" not in run_depgraph("graph", "--help").stdout:
        pytest.skip("no svg format")
    require_tool("dot")
    status, spawned = traced("graph", "libssl3", "--format", "svg", "-o", tmp_path / "g.svg")
    assert status == 0
    assert spawned == [("dot", "-Tsvg")], spawned


def test_audit_of_a_copied_root_spawns_nothing(copied_root: Path) -> None:
    """Another root's openssl is not this machine's: nothing is run for it."""
    status, spawned = traced("audit", "--root", copied_root, pure=False)
    assert status == 1
    assert spawned == []


# --- 3. -o never replaces what is audited (issue 23) ----------------------------------------------

STATUS_FILE = COPIED_ROOT / "var/lib/dpkg/status"


def _refused(done: object, *words: str) -> str:
    """Exit 2, one ``depgraph: error:`` line naming ``words``, no report."""
    from tests.conftest import Run

    assert isinstance(done, Run)
    lines = done.stderr.splitlines()
    assert done.status == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("depgraph: error: "), done.stderr
    assert "internal error" not in lines[0], lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "dotted"])
def test_output_that_is_the_status_input_is_refused(tmp_path: Path, how: str) -> None:
    """``graph --status s -o s`` replaced the status file with the report; a symbolic or a hard
    link to it, or ``./s``, is the same file."""
    status = tmp_path / "s"
    shutil.copyfile(STATUS_FILE, status)
    before = status.read_bytes()
    output = {"same": status, "dotted": tmp_path / "." / "s"}.get(how, tmp_path / "out")
    if how == "symlink":
        output.symlink_to(status)
    elif how == "hardlink":
        os.link(status, output)
    _refused(run_depgraph("graph", "libssl1.0.0", "--status", status, "-o", output), "--status")
    _refused(run_depgraph("audit", "--status", status, "-o", output), "--status")
    assert status.read_bytes() == before


def test_output_inside_the_audited_root_is_refused(copied_root: Path, tmp_path: Path) -> None:
    """``audit --root R -o R/var/lib/dpkg/status`` replaced the audited tree's database."""
    database = copied_root / "var/lib/dpkg/status"
    before = database.read_bytes()
    for output in (database, copied_root / "report.txt", copied_root / "var/lib/dpkg/new"):
        _refused(run_depgraph("audit", "--root", copied_root, "-o", output), "--root")
        assert not (copied_root / "report.txt").exists()
        assert not (copied_root / "var/lib/dpkg/new").exists()
    assert database.read_bytes() == before
    outside = tmp_path / "report.txt"  # next to the root, not in it: written
    done = run_depgraph("audit", "--root", copied_root, "-o", outside)
    assert done.status == 1, done.stderr
    assert "Heartbleed" in outside.read_text()


def test_fleet_output_onto_a_host_file_or_into_its_folder_is_refused(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.mkdir()
    host = hosts / "web1.status"
    shutil.copyfile(STATUS_FILE, host)
    before = host.read_bytes()
    _refused(run_depgraph("fleet", "--jobs", "1", host, "-o", host), str(host))
    _refused(run_depgraph("fleet", "--jobs", "1", hosts, "-o", hosts / "report.csv"), "PATH")
    assert host.read_bytes() == before
    assert sorted(p.name for p in hosts.iterdir()) == ["web1.status"]


def test_output_in_the_live_package_databases_is_refused(tmp_path: Path) -> None:
    """Checked on the parsed command line, so a failing test writes nothing into /var/lib/dpkg."""
    import argparse

    from depgraph.commands.output import check_output
    from depgraph.errors import UsageError

    link = tmp_path / "report.txt"
    link.symlink_to("/var/lib/dpkg/depgraph-report.txt")  # dangling: resolved all the same
    for output in (
        Path("/var/lib/dpkg/status"),
        Path("/var/lib/apt/lists/report.txt"),
        Path("/var/cache/apt/pkgcache.bin"),
        Path("/usr/share/doc/libc6/changelog.Debian.gz"),  # what `changelog libc6` reads
        link,
    ):
        for root in (None, Path("/")):
            with pytest.raises(UsageError, match="package manager's database"):
                check_output(argparse.Namespace(output=output, root=root))
    # a root's own database too, and a report beside it is fine when the root is /
    check_output(argparse.Namespace(output=tmp_path / "fine.txt", root=Path("/")))


def test_a_non_utf8_output_name_is_written_or_refused_in_one_line(tmp_path: Path) -> None:
    """A file name that is not UTF-8 reaching ``-o``: written under that name, or one line with
    the byte escaped (``\\xff``), never an internal error."""
    base = os.fsencode(tmp_path)
    environment = {k: v for k, v in os.environ.items() if k != "DEPGRAPH_DEBUG"}
    command = [sys.executable.encode(), b"-m", b"depgraph", b"audit", b"--status"]
    command.append(os.fsencode(STATUS_FILE))
    done = subprocess.run(
        [*command, b"-o", base + b"/r\xff\n.txt"], capture_output=True, env=environment, check=False
    )
    assert done.returncode == 1, done.stderr
    assert (base + b"/r\xff\n.txt") in [os.fsencode(p) for p in tmp_path.iterdir()]
    done = subprocess.run(
        [*command, b"-o", base + b"/no\xff\ndir/r.txt"],
        capture_output=True,
        env=environment,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("depgraph: error: "), done.stderr
    assert "no\\xff\\ndir" in lines[0], lines[0]


def test_collect_names_an_odd_output_in_one_escaped_line(tmp_path: Path) -> None:
    """``collect -o`` with a newline and a CSI in the name: written under that name, and its
    'wrote' line is one line with them escaped."""
    output = tmp_path / "snap\n\x1b[2J.tar.gz"
    done = run_depgraph("collect", "--library", "libpq5", "-o", output)
    assert done.status == 0, done.stderr
    assert output.is_file()
    wrote = [line for line in done.stderr.splitlines() if "wrote" in line]
    assert len(wrote) == 1 and "snap\\n\\e[2J.tar.gz" in wrote[0], done.stderr
    assert "\x1b" not in done.stderr
