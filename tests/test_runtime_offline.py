"""The runtime scan's parts on saved and real data: maps lines, cgroups, sockets, owners, the
restart plan, and ``depgraph restart --maps`` / ``--root`` (no processes started here)."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import time
from pathlib import Path

import pytest

from depgraph.runtime.cgroup import placement
from depgraph.runtime.library import (
    LibraryFiles,
    default_package,
    guessed_names,
    library_files,
)
from depgraph.runtime.maps import MappingState, library_mappings, parse_line
from depgraph.runtime.owners import Owners
from depgraph.runtime.plan import ActionKind, restart_plan
from depgraph.runtime.scan import ProcessExposure, Reason, RuntimeScan, scan_maps_file
from depgraph.runtime.sockets import Scope, read_tables, scope_of
from tests.conftest import HEARTBLEED_DATA, SCHEMAS, run_depgraph, scenario

MAPS = HEARTBLEED_DATA / "16-proc-maps-real"
PHP5 = MAPS / "hacklu2015-petition_builder-php5-maps.txt"
OPENVZ = MAPS / "lib_users-testdata-openvz-maps"
LIBSSL100 = LibraryFiles("libssl1.0.0", guessed_names("libssl1.0.0"))


def test_php5_maps_libssl_mapped_and_dev_zero_deleted_not_counted() -> None:
    text = PHP5.read_text()
    assert "/dev/zero (deleted)" in text
    mappings = library_mappings(text, LIBSSL100)
    paths = {m.path for m in mappings}
    assert paths == {
        "/lib/x86_64-linux-gnu/libssl.so.1.0.0",
        "/lib/x86_64-linux-gnu/libcrypto.so.1.0.0",
    }
    assert not any(m.deleted for m in mappings)
    # a pattern wide enough to catch /dev/zero still never matches it: only file names count
    everything = LibraryFiles(None, frozenset(), ("*",))
    assert "/dev/zero" not in {m.path for m in library_mappings(text, everything) if m.deleted}


def test_openvz_prefix_form_of_deleted() -> None:
    text = OPENVZ.read_text()
    lzo = LibraryFiles(None, frozenset(), ("liblzo2.so.*",))
    (mapping,) = library_mappings(text, lzo)
    assert mapping.deleted
    assert mapping.path == "/v/t/p/dev-libs/lzo-2.06/image/usr/lib64/liblzo2.so.2.0.0"
    assert mapping.inode == 16554 and mapping.device == "fd:00"
    (ssl,) = [m for m in library_mappings(text, LIBSSL100) if "libssl" in m.path]
    assert not ssl.deleted and ssl.path == "/usr/lib64/libssl.so.1.0.0"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "7f-8f r-xp 00000000 08:01 922718    /lib/x86_64-linux-gnu/libssl.so.1.0.0 (deleted)",
            ("7f-8f", "08:01", 922718, "/lib/x86_64-linux-gnu/libssl.so.1.0.0", True),
        ),
        (
            "7f-8f r-xp 00000000 fd:00 16245    (deleted)/usr/lib/libssl.so.1.0.0",
            ("7f-8f", "fd:00", 16245, "/usr/lib/libssl.so.1.0.0", True),
        ),
        ("7f-8f rw-p 00000000 00:00 0 ", None),
        ("7f-8f rw-p 00000000 00:00 0      [heap]", None),
        (
            "7f-8f r-xp 00000000 08:01 1    /opt/my lib/libssl.so.3",
            ("7f-8f", "08:01", 1, "/opt/my lib/libssl.so.3", False),
        ),
    ],
)
def test_parse_line(line: str, expected: object) -> None:
    assert parse_line(line) == expected


def test_guessed_sonames_follow_policy_8_1() -> None:
    assert guessed_names("libssl1.0.0") == {"libssl.so.1.0.0", "libcrypto.so.1.0.0"}
    assert guessed_names("libssl3:amd64") == {"libssl.so.3", "libcrypto.so.3"}
    assert guessed_names("liblzma5") == {"liblzma.so.5"}
    assert guessed_names("libfoo2-1") == {"libfoo2.so.1"}
    assert guessed_names("openssl") == frozenset()


def test_library_from_a_real_file_list() -> None:
    root = scenario("ubuntu-14.04-core-armhf")
    library = library_files(root, "libssl1.0.0")
    assert library is not None
    assert library.architecture == "armhf"
    assert library.names == {"libssl.so.1.0.0", "libcrypto.so.1.0.0"}
    assert library.where.endswith("libssl1.0.0:armhf.list")
    assert default_package(root) == "libssl1.0.0"
    assert library.matches("/lib/arm-linux-gnueabihf/libssl.so.1.0.0")
    assert not library.matches("/usr/lib/libssl.so.1.0.2")


def test_library_of_this_system_includes_plugins_by_path_only() -> None:
    library = library_files(Path("/"), "libssl3")
    if library is None or not library.paths:
        pytest.skip("libssl3 is not installed here")
    assert {"libssl.so.3", "libcrypto.so.3"} <= library.names
    plugins = [p for p in library.paths if p.endswith(".so")]
    for plugin in plugins:
        assert library.matches(plugin)
        assert not library.matches("/opt/elsewhere/" + plugin.rsplit("/", 1)[-1])


@pytest.mark.parametrize(
    ("text", "unit", "user", "container"),
    [
        ("0::/system.slice/nginx.service\n", "nginx.service", False, None),
        (
            "12:pids:/\n1:name=systemd:/system.slice/postfix@-.service\n0::/\n",
            "postfix@-.service",
            False,
            None,
        ),
        (
            "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-foo.service\n",
            "app-foo.service",
            True,
            None,
        ),
        ("0::/user.slice/user-1000.slice/session-4.scope\n", "session-4.scope", False, None),
        ("0::/system.slice/docker-" + "ab" * 32 + ".scope\n", None, False, ("docker", "ab" * 32)),
        (
            "11:memory:/docker/" + "cd" * 32 + "\n1:name=systemd:/docker/" + "cd" * 32 + "\n",
            None,
            False,
            ("docker", "cd" * 32),
        ),
        ("0::/lxc.payload.web/system.slice/nginx.service\n", None, False, ("lxc", "web")),
        (
            "0::/machine.slice/libpod-" + "ef" * 32 + ".scope/container\n",
            None,
            False,
            ("podman", "ef" * 32),
        ),
        ("0::/\n", None, False, None),
    ],
)
def test_cgroup_placement(
    text: str, unit: str | None, user: bool, container: tuple[str, str] | None
) -> None:
    where = placement(text)
    assert (where.unit, where.user_unit, where.container) == (unit, user, container)


def test_own_cgroup_is_read() -> None:
    where = placement(Path("/proc/self/cgroup").read_text())
    assert where.cgroup.startswith("/")


def test_listening_sockets_of_this_process() -> None:
    sockets = []
    try:
        tcp = socket.socket()
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("0.0.0.0", 0))
        sockets += [tcp, udp]
        try:
            tcp6 = socket.socket(socket.AF_INET6)
            tcp6.bind(("::", 0))
            tcp6.listen()
            sockets.append(tcp6)
        except OSError:
            tcp6 = None
        connected = socket.socket()  # not listening: must not show
        sockets.append(connected)
        tables = read_tables("/proc/self/net")
        inode = lambda s: os.fstat(s.fileno()).st_ino  # noqa: E731
        found = tables[inode(tcp)]
        assert (found.protocol, found.address, found.port, found.scope) == (
            "tcp",
            "127.0.0.1",
            tcp.getsockname()[1],
            Scope.LOOPBACK,
        )
        assert str(found) == f"127.0.0.1:{tcp.getsockname()[1]}/tcp"
        assert tables[inode(udp)].scope is Scope.ALL and tables[inode(udp)].protocol == "udp"
        if tcp6 is not None:
            six = tables[inode(tcp6)]
            assert six.version == 6 and six.scope is Scope.ALL and str(six).startswith("[::]:")
        assert inode(connected) not in tables
    finally:
        for s in sockets:
            s.close()


@pytest.mark.parametrize(
    ("address", "scope"),
    [
        ("0.0.0.0", Scope.ALL),
        ("::", Scope.ALL),
        ("127.0.0.53", Scope.LOOPBACK),
        ("::1", Scope.LOOPBACK),
        ("::ffff:127.0.0.1", Scope.LOOPBACK),
        ("192.168.1.4", Scope.PRIVATE),
        ("8.8.8.8", Scope.PUBLIC),
        ("2001:4860::8888", Scope.PUBLIC),
        ("fe80::1", Scope.PRIVATE),
    ],
)
def test_scope(address: str, scope: Scope) -> None:
    assert scope_of(address) is scope


def fake_info_root(tmp_path: Path, packages: tuple[str, ...]) -> Path:
    info = tmp_path / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    for name in packages:
        for path in Path("/var/lib/dpkg/info").glob(f"{name}*.list"):
            shutil.copy2(path, info / path.name)
    (tmp_path / "var/lib/dpkg/status").write_text("")
    return tmp_path


def test_owners_from_real_lists_cached_and_invalidated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not Path("/var/lib/dpkg/info/openssl.list").exists():
        pytest.skip("openssl is not installed here")
    root = fake_info_root(tmp_path / "root", ("openssl", "libssl3", "coreutils"))
    owners = Owners(root)
    assert owners.owner("/usr/bin/openssl") == "openssl"
    assert owners.owner("/bin/openssl") == "openssl"  # merged /usr: either spelling
    assert owners.owner("/usr/bin/no-such-program") is None
    owners.save()
    cached = list((Path(os.environ["XDG_CACHE_HOME"]) / "depgraph" / "owners").glob("*.marshal"))
    assert cached
    again = Owners(root)
    monkeypatch.setattr(Owners, "_search", lambda self, paths: pytest.fail(f"searched {paths}"))
    assert again.owner("/usr/bin/openssl") == "openssl"
    monkeypatch.undo()
    # dpkg runs: the status file changes, and the answers are looked up again
    status = root / "var/lib/dpkg/status"
    os.utime(status, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    searched: list[list[str]] = []
    original = Owners._search
    monkeypatch.setattr(
        Owners, "_search", lambda self, paths: searched.append(paths) or original(self, paths)
    )
    assert Owners(root).owner("/usr/bin/openssl") == "openssl"
    assert searched == [["/usr/bin/openssl"]]


def exposure(
    pid: int,
    unit_cgroup: str,
    reason: Reason = Reason.DELETED,
    exe: str = "/usr/sbin/x",
    uid: int = 0,
) -> ProcessExposure:
    from depgraph.runtime.maps import Mapping

    mapping = Mapping(
        "/usr/lib/x86_64-linux-gnu/libssl.so.3", "fe:00", 1, reason is Reason.DELETED, "1-2", 1
    )
    state = {Reason.DELETED: MappingState.DELETED, Reason.REPLACED: MappingState.REPLACED}.get(
        reason, MappingState.CURRENT
    )
    return ProcessExposure(
        pid,
        exe.rsplit("/", 1)[-1],
        exe,
        None,
        uid,
        None,
        placement(unit_cgroup),
        (mapping,),
        (state,),
        reason,
        (),
    )


def test_restart_plan_groups_and_never_restarts_pid_1() -> None:
    library = LibraryFiles("libssl3", frozenset({"libssl.so.3"}))
    processes = (
        exposure(1, "0::/init.scope", exe="/usr/lib/systemd/systemd"),
        exposure(200, "0::/system.slice/nginx.service"),
        exposure(201, "0::/system.slice/nginx.service"),
        exposure(300, "0::/system.slice/dbus.service"),
        exposure(400, "0::/user.slice/user-0.slice/user@0.service/app.slice/foo.service"),
        exposure(500, "0::/user.slice/user-0.slice/session-3.scope"),
        exposure(600, "0::/system.slice/docker-" + "ab" * 32 + ".scope"),
        exposure(700, "0::/"),
        exposure(800, "0::/system.slice/ok.service", Reason.CURRENT),
    )
    scan = RuntimeScan(library, processes, 9, (), "/proc", True)
    actions = {(a.kind, a.target): a for a in restart_plan(scan)}
    nginx = actions[(ActionKind.RESTART_UNIT, "nginx.service")]
    assert nginx.command == "systemctl restart nginx.service" and nginx.pids == (200, 201)
    assert actions[(ActionKind.REBOOT, "pid 1")].command == "systemctl daemon-reexec"
    assert (ActionKind.REBOOT, "dbus.service") in actions
    assert actions[(ActionKind.RESTART_USER_UNIT, "root: foo.service")].command == (
        "systemctl --user --machine=root@ restart foo.service"
    )
    assert actions[(ActionKind.SESSION, "session-3.scope")].command is None
    assert actions[(ActionKind.RESTART_CONTAINER, "docker " + ("ab" * 32)[:12])].command == (
        "docker restart " + ("ab" * 32)[:12]
    )
    assert actions[(ActionKind.MANUAL, "pid 700")].command is None
    assert all(800 not in a.pids for a in actions.values())
    assert list(actions)[-1][0] is ActionKind.REBOOT  # the reboot comes last


def test_vulnerable_version_asks_to_upgrade_first() -> None:
    library = LibraryFiles("libssl3", frozenset({"libssl.so.3"}))
    process = exposure(200, "0::/system.slice/nginx.service", Reason.VULNERABLE_VERSION)
    actions = restart_plan(RuntimeScan(library, (process,), 1, (), "/proc", True))
    assert [a.kind for a in actions] == [ActionKind.UPGRADE, ActionKind.RESTART_UNIT]
    assert actions[0].command == "apt-get install --only-upgrade libssl3"


def test_maps_file_of_one_process_cli() -> None:
    done = run_depgraph("restart", "--maps", PHP5, "--library", "libssl1.0.0", "--format", "json")
    assert done.status == 0, done.stderr
    document = json.loads(done.stdout)
    (process,) = document["processes"]
    assert process["pid"] == 0 and process["reason"] == "unknown" and process["deleted"] is False
    assert process["library_path"] == "/lib/x86_64-linux-gnu/libssl.so.1.0.0"
    assert document["actions"] == []
    import jsonschema

    schema = json.loads((SCHEMAS / "restart-v1.schema.json").read_text())
    jsonschema.validate(document, schema)


def grep_output(tmp_path: Path) -> Path:
    """What ``grep 'libssl.*(deleted)' /proc/*/maps`` prints, from real lines: the php5 process's
    libssl lines as they read after an upgrade (the kernel's `` (deleted)`` suffix), and the
    OpenVZ process's lines in its kernel's prefix form."""
    lines = [
        f"/proc/2417/maps:{line} (deleted)"
        for line in PHP5.read_text().splitlines()
        if "libssl" in line
    ]
    lines += [
        f"/proc/812/maps:{line.replace('/usr/lib64/libssl', '(deleted)/usr/lib64/libssl')}"
        for line in OPENVZ.read_text().splitlines()
        if "libssl" in line
    ]
    saved = tmp_path / "grep.txt"
    saved.write_text("\n".join(lines) + "\n")
    return saved


def test_advice_output_default_library_is_any_libssl(tmp_path: Path) -> None:
    saved = grep_output(tmp_path)
    done = run_depgraph("restart", "--maps", saved, "--format", "json")
    assert done.status == 1, done.stderr
    document = json.loads(done.stdout)
    assert {p["pid"]: (p["library_path"], p["reason"]) for p in document["processes"]} == {
        2417: ("/lib/x86_64-linux-gnu/libssl.so.1.0.0", "deleted"),
        812: ("/usr/lib64/libssl.so.1.0.0", "deleted"),
    }
    assert document["library"]["names"] == ["libssl.so.*"]
    evidence = document["processes"][0]["evidence"][0]
    assert evidence["path"] == str(saved) and evidence["line"] >= 1
    assert [a["step"] for a in document["actions"]] == ["restart-by-hand", "restart-by-hand"]
    table = run_depgraph("restart", "--maps", saved)
    assert "2417" in table.stdout and "812" in table.stdout and "deleted" in table.stdout
    scan = scan_maps_file(LIBSSL100, saved, saved.read_text())
    assert {p.pid for p in scan.to_restart} == {2417, 812}


def test_root_without_maps_reads_no_proc(tmp_path: Path) -> None:
    root = scenario("ubuntu-14.04-core-armhf")
    done = run_depgraph("restart", "--root", root, "--format", "json")
    assert done.status == 1
    document = json.loads(done.stdout)
    assert document["source"]["kind"] == "root" and document["processes"] == []
    assert "never reads this host's /proc" in done.stderr
    assert document["library"]["package"] == "libssl1.0.0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--maps", "/nonexistent/maps.txt"), "/nonexistent/maps.txt: no such file (--maps)"),
        (("--maps", "/"), "is a directory"),
        (("--library", "openssl-nonsense"), "--library openssl-nonsense"),
        (("--root", "/nonexistent-root"), "not a directory"),
        (("--library", "libssl.so.3", "--fixed-version", "1.0"), "--fixed-version needs"),
    ],
)
def test_input_errors_are_one_line(args: tuple[str, ...], message: str) -> None:
    done = run_depgraph("restart", *args)
    assert done.status == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_dpkg_log_history_from_rotated_and_gzipped_logs(tmp_path: Path) -> None:
    from depgraph.dpkg_log import exposure_history, exposure_windows, vulnerable_window

    lines = [
        "2014-03-01 10:00:00 install libssl1.0.0:amd64 <none> 1.0.1e-2+deb7u4",
        "2014-03-01 10:00:01 status installed libssl1.0.0:amd64 1.0.1e-2+deb7u4",
        "2014-04-08 09:30:00 upgrade libssl1.0.0:amd64 1.0.1e-2+deb7u4 1.0.1e-2+deb7u5",
        "2014-04-08 09:30:02 status installed libssl1.0.0:amd64 1.0.1e-2+deb7u5",
        "2014-04-09 11:00:00 upgrade libssl1.0.0:amd64 1.0.1e-2+deb7u5 1.0.1e-2+deb7u6",
        "2014-04-09 11:00:00 upgrade libssl-dev:amd64 1.0.1e-2+deb7u5 1.0.1e-2+deb7u6",
    ]
    log = tmp_path / "var/log"
    log.mkdir(parents=True)
    with gzip.open(log / "dpkg.log.2.gz", "wt") as handle:
        handle.write("\n".join(lines[:2]) + "\n")
    (log / "dpkg.log.1").write_text("\n".join(lines[2:4]) + "\n")
    (log / "dpkg.log").write_text("\n".join(lines[4:]) + "\n")
    history = exposure_history(tmp_path, "libssl1.0.0")
    assert [p.version for p in history.periods] == [
        "1.0.1e-2+deb7u4",
        "1.0.1e-2+deb7u5",
        "1.0.1e-2+deb7u6",
    ]
    assert history.current() is history.periods[-1]
    assert history.periods[0].evidence[0].path.endswith("dpkg.log.2.gz")
    started = time.mktime(time.strptime("2014-04-01 00:00:00", "%Y-%m-%d %H:%M:%S"))
    _, windows = exposure_windows(tmp_path, "libssl1.0.0", [(42, started), (43, None)])
    (window,) = windows
    assert (window.pid, window.version) == (42, "1.0.1e-2+deb7u4")
    window_start, window_end = vulnerable_window(history, lambda v: v.endswith("u4")) or (
        None,
        None,
    )
    assert (
        window_start == history.periods[0].installed and window_end == history.periods[0].replaced
    )


def test_dpkg_log_of_this_machine() -> None:
    from depgraph.dpkg_log import exposure_history

    if not Path("/var/log/dpkg.log").exists():
        pytest.skip("no dpkg.log here")
    history = exposure_history(Path("/"), "libssl3")
    if not history.periods:
        pytest.skip("libssl3 does not show in this machine's dpkg.log")
    installed = [p.installed for p in history.periods if p.installed is not None]
    assert installed == sorted(installed)


def test_saved_maps_with_a_vulnerable_installed_version_need_a_restart() -> None:
    """``--fixed-version`` above the installed libssl1.0.0 (trusty's 1.0.1f-1ubuntu2): the process
    in a saved maps file runs a vulnerable version, even though the file was not deleted."""
    root = scenario("ubuntu-14.04-core-armhf")
    maps = MAPS / "hacklu2015-petition_builder-php5-maps.txt"
    args = ("restart", "--root", root, "--library", "libssl1.0.0", "--maps", maps)
    fixed_later = run_depgraph(*args, "--fixed-version", "1.0.1f-1ubuntu9", "--format", "json")
    assert fixed_later.status == 1, fixed_later.stderr
    reasons = [p["reason"] for p in json.loads(fixed_later.stdout)["processes"]]
    assert reasons == ["vulnerable version"]
    fixed_before = run_depgraph(*args, "--fixed-version", "1.0.1f-1ubuntu2", "--format", "json")
    assert [p["reason"] for p in json.loads(fixed_before.stdout)["processes"]] != reasons


def test_other_device_numbers_without_map_files_are_unknown_not_replaced() -> None:
    """Not root, map_files cannot be read: the same inode under other device numbers (an overlay
    or network file system) cannot be told from a replaced file; a different inode can."""
    from depgraph.runtime.maps import Mapping, mapping_state

    mapped = Mapping("/usr/lib/libssl.so.3", "08:01", 4242, False, "7f00-7f10", 1)
    assert mapping_state(mapped, (8, 1, 4242)) is MappingState.CURRENT
    assert mapping_state(mapped, (0, 47, 4242), "/proc/1/map_files/none") is MappingState.UNKNOWN
    assert mapping_state(mapped, (8, 1, 999), "/proc/1/map_files/none") is MappingState.REPLACED


def test_unreadable_processes_say_why_for_each_privilege() -> None:
    """Issue 21, 8: "not root?" only when not root; as root, the errno and what it means."""
    import errno

    from depgraph.runtime.library import LibraryFiles
    from depgraph.runtime.scan import RuntimeScan, unreadable_sentence, unreadable_words

    library = LibraryFiles("libssl3", frozenset({"libssl.so.3"}))

    def scan(privilege: str, errors: tuple[int, ...] = (errno.EACCES,)) -> RuntimeScan:
        return RuntimeScan(
            library, (), 10, ((1, "init"),), "/proc", True,
            unreadable_errors=errors, privilege=privilege,
        )  # fmt: skip

    assert unreadable_words([scan("root")]) == (
        "pid 1 (init): permission denied even as root (another user namespace or a protected "
        "process)"
    )
    assert unreadable_words([scan("not root")]) == "pid 1 (init): permission denied (not root)"
    assert unreadable_words([scan("root without CAP_SYS_PTRACE")]) == (
        "pid 1 (init): permission denied (root without CAP_SYS_PTRACE)"
    )
    assert unreadable_words([scan("root", (errno.EIO,))]) == "pid 1 (init): input/output error"
    assert (
        unreadable_words([scan("", ())]) == "pid 1 (init): unreadable when the processes were saved"
    )
    # one pid once, though each library's scan saw it
    assert unreadable_sentence([scan("root"), scan("root")]).startswith(
        "1 process could not be read: pid 1 (init): "
    )
    assert unreadable_words([scan("root")], why=False) == "pid 1 (init)"


# --- a snapshot's saved /proc: processes read in part, hostile numbers ------------------------


def _saved_proc(tmp_path: Path, btime: str, *, stat: bool) -> Path:
    """A saved /proc as ``depgraph collect`` writes it: one process mapping a deleted libssl."""
    proc = tmp_path / "proc"
    folder = proc / "4242"
    folder.mkdir(parents=True)
    (proc / "btime").write_text(btime + "\n")
    (proc / "clk_tck").write_text("100\n")
    (proc / "scanned").write_text("1\n")
    line = "b6e00000-b6e60000 r-xp 00000000 b3:02 1234 /usr/lib/libssl.so.1.0.0 (deleted)"
    (folder / "maps").write_text(f"12:{line}\n")
    (folder / "exe").write_text("/usr/sbin/nginx\n")
    if stat:
        fields = " ".join(["0"] * 18)  # fields 4 to 21; 22 is starttime
        (folder / "stat").write_text(f"4242 (nginx) S {fields} 500 0 0\n")
    return proc


def test_saved_process_without_stat_is_counted_and_the_view_partial(tmp_path: Path) -> None:
    """The collection stopped between a process's maps and its stat: it still maps the deleted
    copy, so it counts (start time unknown), and the view says it is partial."""
    from depgraph.runtime.saved_proc import scan_saved
    from depgraph.runtime.scan import incomplete_sentence, unreadable_sentence

    whole = scan_saved(LIBSSL100, _saved_proc(tmp_path / "a", "1396900000", stat=True), "s")
    assert [p.pid for p in whole.to_restart] == [4242] and not whole.partial
    assert whole.processes[0].started == 1396900005.0
    cut = scan_saved(LIBSSL100, _saved_proc(tmp_path / "b", "1396900000", stat=False), "s")
    assert [p.pid for p in cut.to_restart] == [4242]
    assert cut.processes[0].started is None and cut.processes[0].reason is Reason.DELETED
    assert cut.partial and cut.incomplete == ((4242, "nginx"),) and cut.unreadable == ()
    sentence = incomplete_sentence([cut])
    assert sentence.startswith("1 process could not be fully read: pid 4242 (nginx)")
    assert unreadable_sentence([cut]) == sentence  # what the report's partial line shows


@pytest.mark.parametrize("btime", ["9" * 4000, "1" * 25, "-5", "\u00b2"])
def test_saved_btime_that_is_no_time_leaves_the_start_unknown(tmp_path: Path, btime: str) -> None:
    """A 4,000-digit btime (int() takes it; the float of the start time overflows), a 25-digit
    one (a start in the year 10^17, which no clock can print), a negative or Unicode one."""
    from depgraph.runtime.report import process_entry
    from depgraph.runtime.saved_proc import scan_saved

    scan = scan_saved(LIBSSL100, _saved_proc(tmp_path, btime, stat=True), "s")
    (process,) = scan.processes
    assert process.started is None and process.command == "nginx"
    assert process_entry(process)["started"] is None


# --- a saved maps file naming the library a million times: the worst kept, JSON in pieces -----


def test_a_process_mapping_thousands_of_copies_keeps_the_worst(tmp_path: Path) -> None:
    """A bare maps file of 3,000 copies of libssl not marked deleted, then one deleted copy, each
    in two segments: the process keeps the worst MAX_MAPPINGS (the deleted one first, though it
    comes last) and its evidence counts the rest."""
    from depgraph.runtime.scan import MAX_MAPPINGS

    line = "7f{n:010x}-7f{m:010x} {perms} 00000000 08:01 {inode} {path}\n"
    saved = tmp_path / "maps"
    with saved.open("w") as out:
        for n in range(3000):
            for perms in ("r-xp", "r--p"):  # a file's segments count once
                path = f"/usr/lib/copy{n}/libssl.so.1.0.0"
                out.write(line.format(n=n, m=n + 1, perms=perms, inode=n, path=path))
        deleted = "/lib/x86_64-linux-gnu/libssl.so.1.0.0 (deleted)"
        out.write(line.format(n=9999, m=10000, perms="r-xp", inode=1, path=deleted))
    (process,) = scan_maps_file(LIBSSL100, saved, saved.read_text()).processes
    assert len(process.mappings) == MAX_MAPPINGS < 3000
    assert process.reason is Reason.DELETED and process.mappings[0].line == 6001
    assert process.states[0] is MappingState.DELETED
    assert process.evidence[-1].detail.startswith(f"and {3001 - MAX_MAPPINGS} more mapped files")


def test_restart_json_written_in_pieces_is_the_document_json_writes(tmp_path: Path) -> None:
    """The JSON is written one process at a time; the text is what ``json.dumps(indent=2)`` gives
    for the same document, on stdout and with -o."""
    saved = grep_output(tmp_path)
    done = run_depgraph("restart", "--maps", saved, "--format", "json")
    assert done.status == 1, done.stderr
    document = json.loads(done.stdout)
    assert len(document["processes"]) == 2 and len(document["actions"]) == 2
    assert done.stdout == json.dumps(document, indent=2) + "\n"
    written = tmp_path / "out.json"
    again = run_depgraph("restart", "--maps", saved, "--format", "json", "-o", written)
    assert again.status == 1 and again.stdout == ""
    assert written.read_text() == done.stdout
    empty = tmp_path / "empty"
    empty.write_text("")
    nothing = run_depgraph("restart", "--maps", empty, "--format", "json")
    assert json.loads(nothing.stdout)["processes"] == []
    assert nothing.stdout == json.dumps(json.loads(nothing.stdout), indent=2) + "\n"


def test_a_saved_process_mapping_thousands_of_copies_keeps_the_worst(tmp_path: Path) -> None:
    """A snapshot's saved maps of one process naming 3,000 current copies of libssl and, last, a
    deleted one: the worst MAX_MAPPINGS are kept (the deleted first) and the evidence counts the
    rest, as for a saved maps file."""
    from depgraph.runtime.saved_proc import scan_saved
    from depgraph.runtime.scan import MAX_MAPPINGS

    proc = _saved_proc(tmp_path, "1396900000", stat=True)
    line = "7f{n:010x}-7f{m:010x} r-xp 00000000 08:01 {n} /usr/lib/copy{n}/libssl.so.1.0.0"
    lines = [f"{n + 10}:" + line.format(n=n, m=n + 1) for n in range(3000)]
    lines.append("9000:7f00-7f01 r-xp 00000000 08:01 1 /lib/libssl.so.1.0.0 (deleted)")
    (proc / "4242" / "maps").write_text("\n".join(lines) + "\n")
    (process,) = scan_saved(LIBSSL100, proc, "s").processes
    assert len(process.mappings) == MAX_MAPPINGS
    assert process.states[0] is MappingState.DELETED and process.mappings[0].line == 9000
    assert process.mappings[1].line == 10  # then by path: copy0, copy1, copy10, ...
    assert process.reason is Reason.DELETED
    more = [e.detail for e in process.evidence if e.detail.startswith("and ")]
    assert more == [
        f"and {3001 - MAX_MAPPINGS} more mapped files of the library, not listed "
        f"(the {MAX_MAPPINGS} worst are)"
    ]
