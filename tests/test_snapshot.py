"""``depgraph collect`` and ``--snapshot``: a snapshot of this machine audits like the machine, the
shell collector writes what the reader accepts, and hostile tarballs are refused with one line.

The live comparison runs a real TLS-capable process (Python's ``ssl`` maps ``libssl.so.3``)
listening on 127.0.0.1 during the live audits and the collection.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import HEARTBLEED, REPO, require_tool, run_depgraph

PROFILE = "openssl-cve-2022-3602"
COLLECTOR = REPO / "depgraph" / "collect" / "collect.sh"
AUDIT_2012 = REPO / "fixtures" / "audit" / "ubuntu-12.04-server" / "root"
"""Real files of an Ubuntu 12.04 server of April 2014 (fixtures/audit/README.md)."""
MANIFEST = {
    "format": "depgraph-snapshot/1",
    "host": "test",
    "time": "2014-04-08T12:00:00+00:00",
    "kernel": "Linux",
    "collector": "test",
    "libraries": ["libssl1.0.0"],
    "captured": ["dpkg-status", "dpkg-lists"],
    "missing": [],
}
SERVER = (
    "import socket, ssl, sys, time\n"
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
    "print(s.getsockname()[1], flush=True)\n"
    "time.sleep(600)\n"
)


def _installed(package: str) -> bool:
    return any(Path("/var/lib/dpkg/info").glob(f"{package}*.list"))


@pytest.fixture(scope="module")
def tls_process() -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    process.stdout.readline()  # listening
    yield process
    process.kill()
    process.wait()


def _audit(*args: str | Path) -> dict[str, object]:
    done = run_depgraph("audit", "--profile", PROFILE, "--format", "json", *args)
    assert done.status in (0, 1), done.stderr
    report = json.loads(done.stdout)
    assert isinstance(report, dict)
    return report


def _packages(report: dict[str, object]) -> dict[str, tuple[object, ...]]:
    packages = report["packages"]
    assert isinstance(packages, list)
    return {
        p["package"]: (p["installed"], p["role"], p["component"], p["relation"], p["risk"])
        for p in packages
    }


def _libraries(report: dict[str, object]) -> list[tuple[object, ...]]:
    libraries = report["library"]
    assert isinstance(libraries, list)
    return [(v["package"], v["version"], v["state"], v["decided_by"]) for v in libraries]


def _processes(report: dict[str, object]) -> dict[int, tuple[object, ...]]:
    processes = report["processes"]
    assert isinstance(processes, list)
    return {
        p["pid"]: (
            p["exe"],
            p["package"],
            p["unit"],
            p["reason"],
            p["needs_restart"],
            [(m["path"], m["state"]) for m in p["mappings"]],
            p["listening"],
            p["uid"],
            p["started"],
        )
        for p in processes
    }


@pytest.fixture(scope="module")
def live_and_snapshot(
    tls_process: subprocess.Popen[str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, object], dict[str, object], dict[str, object], Path]:
    if not _installed("libssl3"):
        pytest.skip("libssl3 is not installed here")
    before = _audit()
    snapshot = tmp_path_factory.mktemp("snapshot") / "host.tar.gz"
    done = run_depgraph("collect", "-o", snapshot, "--library", "libssl3")
    assert done.status == 0, done.stderr
    after = _audit()
    return before, after, _audit("--snapshot", snapshot), snapshot


def test_snapshot_audit_equals_live_audit(
    live_and_snapshot: tuple[dict[str, object], dict[str, object], dict[str, object], Path],
    tls_process: subprocess.Popen[str],
) -> None:
    before, after, offline, _ = live_and_snapshot
    assert _libraries(offline) == _libraries(before) == _libraries(after)
    assert _packages(offline) == _packages(before)
    assert offline["summary"]["highest_risk"] == before["summary"]["highest_risk"]  # type: ignore[index]
    assert offline["source"]["kind"] == "snapshot"  # type: ignore[index]
    # processes: those alive through both live audits are in the snapshot, judged the same
    live = _processes(before)
    stable = {pid: facts for pid, facts in live.items() if _processes(after).get(pid) == facts}
    saved = _processes(offline)
    assert tls_process.pid in stable
    assert {pid: saved.get(pid) for pid in stable} == stable


def test_a_library_the_snapshot_was_not_collected_for_is_never_none(
    live_and_snapshot: tuple[dict[str, object], dict[str, object], dict[str, object], Path],
) -> None:
    """The collector keeps the maps lines of its own libraries (here libssl3): asked about liblzma5,
    whose fix is in, the snapshot cannot say that nothing runs old code, so nothing ranks none."""
    snapshot = live_and_snapshot[3]
    args = ("--library", "liblzma5", "--cve", "CVE-2022-1271", "--fixed-version", "5.2.5-2.1")
    done = run_depgraph("audit", "--snapshot", snapshot, *args, "--format", "json")
    assert done.status in (0, 1), done.stderr
    assert "liblzma5: the snapshot's processes were collected for libssl3" in done.stderr
    report = json.loads(done.stdout)
    assert [v["state"] for v in report["library"]] in (["fixed"], ["fixed-backport"])
    risks = {p["risk"]["level"] for p in report["packages"]}
    assert risks and "none" not in risks, risks


def test_snapshot_of_this_machine_has_what_the_manifest_says(
    live_and_snapshot: tuple[dict[str, object], dict[str, object], dict[str, object], Path],
) -> None:
    snapshot = live_and_snapshot[3]
    with tarfile.open(snapshot) as tar:
        names = set(tar.getnames())
        manifest = json.loads(tar.extractfile("depgraph-snapshot/manifest.json").read())  # type: ignore[union-attr]
        assert not any(member.isdev() or member.name.startswith("/") for member in tar)
    assert manifest["format"] == "depgraph-snapshot/1"
    assert manifest["libraries"] == ["libssl3"]
    for what in ("dpkg-status", "dpkg-lists", "elf", "proc", "keys"):
        assert what in manifest["captured"]
    assert "var/lib/dpkg/status" in names
    assert "depgraph-snapshot/elf.json" in names
    assert any(name.startswith("usr/share/doc/libssl3/changelog.Debian") for name in names)
    # no private key is ever copied: no member holds a PEM private key block
    with tarfile.open(snapshot) as tar:
        for member in tar:
            if member.isfile():
                data = tar.extractfile(member).read()  # type: ignore[union-attr]
                assert b"PRIVATE KEY-----" not in data, member.name


def test_graph_reads_a_snapshot(
    live_and_snapshot: tuple[dict[str, object], dict[str, object], dict[str, object], Path],
) -> None:
    snapshot = live_and_snapshot[3]
    live = run_depgraph("graph", "libssl3", "--format", "json")
    offline = run_depgraph("graph", "libssl3", "--format", "json", "--snapshot", snapshot)
    assert offline.status == 0, offline.stderr
    nodes = [
        {k: v for k, v in node.items() if k != "evidence"}
        for node in json.loads(offline.stdout)["nodes"]
    ]
    assert nodes == [
        {k: v for k, v in node.items() if k != "evidence"}
        for node in json.loads(live.stdout)["nodes"]
    ]


def test_collect_shell_prints_the_packaged_collector() -> None:
    done = run_depgraph("collect", "--shell")
    assert done.status == 0
    assert done.stdout == COLLECTOR.read_text(encoding="utf-8")


@pytest.mark.parametrize("shell", ["sh", "busybox"])
def test_shell_collector_gives_the_same_packages_and_states(
    shell: str,
    live_and_snapshot: tuple[dict[str, object], dict[str, object], dict[str, object], Path],
    tmp_path: Path,
) -> None:
    command = [require_tool("sh")] if shell == "sh" else [require_tool("busybox"), "sh"]
    output = tmp_path / "old-host.tar.gz"
    done = subprocess.run(
        [*command, str(COLLECTOR), "-o", str(output), "--library", "libssl3"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = _audit("--snapshot", output)
    python = live_and_snapshot[2]
    assert _libraries(report) == _libraries(python)
    assert {k: v[:1] for k, v in _packages(report).items()} == {
        k: v[:1] for k, v in _packages(python).items()
    }
    assert json.loads(_member(output, "depgraph-snapshot/manifest.json"))["collector"].startswith(
        "collect.sh"
    )


KEYS_OF = """
import json
from pathlib import Path
from depgraph.runtime.keys import find_key_material
print(json.dumps([
    [k.server, k.material.value, k.path, k.exists, k.holds_private_key,
     [[c.subject, c.not_before, c.sha256, c.serial] for c in k.certificates]]
    for k in find_key_material(Path("/"))
]))
"""


def _key_facts(material: tuple[object, ...]) -> list[list[object]]:
    return [
        [k.server, k.material.value, k.path, k.exists, k.holds_private_key,  # type: ignore[attr-defined]
         [[c.subject, c.not_before, c.sha256, c.serial] for c in k.certificates]]  # type: ignore[attr-defined]
        for k in material
    ]  # fmt: skip


@pytest.mark.parametrize("shell", ["sh", "busybox"])
def test_shell_collector_carries_key_facts_but_no_secret(shell: str, tmp_path: Path) -> None:
    """A PostgreSQL cluster with TLS on, its certificate in a PEM that also holds the key: inside a
    private mount namespace its configuration directory is replaced by that one, the shell
    collector runs, and the snapshot gives the key facts the live host gives (found, which holds
    a key, the certificate's subject, notBefore, fingerprint and serial) while no line of the key,
    and no configuration line but the directives, is in the tarball."""
    from depgraph.runtime.keys import find_key_material
    from depgraph.sources.snapshot import open_snapshot
    from tests.conftest import throwaway_certificate

    if os.geteuid() != 0 or not Path("/etc/postgresql").is_dir():
        if os.environ.get("CI"):
            pytest.fail("CI runs as root with postgresql installed (.ci/run)")
        pytest.skip("needs root (a mount namespace) and /etc/postgresql")
    command = [require_tool("sh")] if shell == "sh" else [require_tool("busybox"), "sh"]
    tls = tmp_path / "tls"
    tls.mkdir()
    key, cert = throwaway_certificate(tls)
    both = tls / "both.pem"
    both.write_bytes(cert.read_bytes() + key.read_bytes())
    cluster = tmp_path / "postgresql" / "15" / "main"
    cluster.mkdir(parents=True)
    (cluster / "postgresql.conf").write_text(
        "listen_addresses = '*'\n"
        "ssl = on\n"
        f"ssl_cert_file = '{both}'\n"
        f"ssl_key_file = '{key}'\t# the key\n"
        "password_encryption = scram-sha-256\n"
    )
    (cluster / "pg_hba.conf").write_text("host all all 0.0.0.0/0 password # secret=hunter2\n")
    output = tmp_path / "host.tar.gz"
    script = (
        f"mount --bind {tmp_path / 'postgresql'} /etc/postgresql && "
        f"{' '.join(command)} {COLLECTOR} -o {output} --library libssl3 >/dev/null 2>&1 && "
        f"{sys.executable} -c '{KEYS_OF}'"
    )
    done = subprocess.run(
        [require_tool("unshare"), "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True, text=True, timeout=300, check=False, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    live = json.loads(done.stdout)
    assert [row[:5] for row in live] == [
        ["postgresql", "certificate", str(both), True, True],
        ["postgresql", "private-key", str(key), True, True],
    ]
    assert live[0][5] and live[0][5][0][0] == "CN=depgraph-test"
    carried = _key_facts(find_key_material(open_snapshot(output).root))
    assert carried == live
    with tarfile.open(output) as tar:
        data = b"".join(
            tar.extractfile(member).read()  # type: ignore[union-attr]
            for member in tar
            if member.isfile()
        )
    body = [line for line in key.read_bytes().splitlines() if not line.startswith(b"-----")]
    assert len(body) > 10 and not any(line in data for line in body)
    assert b"hunter2" not in data and b"scram-sha-256" not in data
    assert cert.read_bytes().splitlines()[1] in data  # the certificate itself is carried


def _member(path: Path, name: str) -> bytes:
    with tarfile.open(path) as tar:
        for member in tar:
            if member.name.lstrip("./") == name:
                return tar.extractfile(member).read()  # type: ignore[union-attr]
    raise AssertionError(f"{name} not in {path}")


# --- a snapshot built from real 2014 files reads like the same tree given as --root ------------


def _tarball(
    path: Path,
    root: Path | None,
    manifest: dict[str, object] | None = MANIFEST,
    extra: dict[str, bytes] | None = None,
) -> None:
    with tarfile.open(path, "w:gz") as tar:
        if root is not None:
            for file in sorted(root.rglob("*")):
                if file.is_file() and not file.is_symlink():
                    tar.add(file, arcname=str(file.relative_to(root)))
        members = dict(extra or {})
        if manifest is not None:
            members["depgraph-snapshot/manifest.json"] = json.dumps(manifest).encode()
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_snapshot_of_a_2014_tree_audits_like_the_tree(tmp_path: Path) -> None:
    root = AUDIT_2012
    snapshot = tmp_path / "2014.tar.gz"
    _tarball(snapshot, root)
    direct = run_depgraph("audit", "--root", root, "--format", "json")
    offline = run_depgraph("audit", "--snapshot", snapshot, "--format", "json")
    assert offline.status == direct.status, offline.stderr
    a, b = json.loads(direct.stdout), json.loads(offline.stdout)
    assert _libraries(b) == _libraries(a)
    assert _libraries(a)[0][2] == "vulnerable"
    assert _packages(b) == _packages(a)
    assert len(_packages(a)) > 5


def test_a_malformed_key_record_is_the_snapshots_error_or_a_warning(tmp_path: Path) -> None:
    """jessie's armel tree with a vulnerable libssl1.0.0, so that its apache2 is an exposed
    server whose keys are looked up, and a ``keys.json`` whose record lacks its fields: exit 2
    naming the member, or with ``--lenient`` a warning and the rest of the audit."""
    root = tmp_path / "root"
    shutil.copytree(HEARTBLEED / "debian-jessie-armel" / "root", root)
    status = root / "var/lib/dpkg/status"
    status.write_text(status.read_text().replace("Version: 1.0.1t-1+deb8u6", "Version: 1.0.1f-1"))
    snapshot = tmp_path / "jessie.tar.gz"
    keys = b'{"format": 1, "material": [{"server": "apache2"}]}'
    manifest = {**MANIFEST, "captured": ["dpkg-status", "keys"]}
    _tarball(snapshot, root, manifest, {"depgraph-snapshot/keys.json": keys})
    done = run_depgraph("audit", "--snapshot", snapshot)
    assert done.status == 2 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "jessie.tar.gz:depgraph-snapshot/keys.json: malformed key record" in line
    lenient = run_depgraph("audit", "--snapshot", snapshot, "--lenient", "--format", "json")
    assert lenient.status == 1, lenient.stderr
    report = json.loads(lenient.stdout)
    assert any("keys.json" in w for w in report["warnings"])
    assert report["summary"]["highest_risk"] == "high"


# --- hostile snapshots: each refused with one line and exit status 2 ---------------------------


def _hostile(
    path: Path, *members: tuple[tarfile.TarInfo, bytes], fmt: int = tarfile.PAX_FORMAT
) -> Path:
    with tarfile.open(path, "w:gz", format=fmt, encoding="utf-8", errors="surrogateescape") as tar:
        data = json.dumps(MANIFEST).encode()
        info = tarfile.TarInfo("depgraph-snapshot/manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for info, content in members:
            info.size = len(content) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(content) if info.isreg() else None)
    return path


def _link(name: str, target: str, kind: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, b""


def _refused(path: Path, words: str) -> None:
    done = run_depgraph("audit", "--snapshot", path)
    assert done.status == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("depgraph: error: ") and words in lines[0], lines[0]


def test_refuses_an_absolute_path(tmp_path: Path) -> None:
    _refused(
        _hostile(tmp_path / "s.tar.gz", (tarfile.TarInfo("/tmp/owned"), b"x")), "absolute path"
    )


def test_refuses_dot_dot(tmp_path: Path) -> None:
    evil = tarfile.TarInfo("var/../../owned")
    _refused(_hostile(tmp_path / "s.tar.gz", (evil, b"x")), "'..'")
    assert not (tmp_path / "owned").exists()


def test_refuses_a_symlink_out(tmp_path: Path) -> None:
    path = _hostile(tmp_path / "s.tar.gz", _link("etc", "/etc", tarfile.SYMTYPE))
    _refused(path, "symlink points outside")
    path = _hostile(tmp_path / "t.tar.gz", _link("var/x", "../../..", tarfile.SYMTYPE))
    _refused(path, "symlink points outside")
    # each target stays inside read as text, but w goes through x, a link to the tree's top
    deep = "a/b/c/d/e/f/g"
    path = _hostile(
        tmp_path / "u.tar.gz",
        _link(f"{deep}/x", "../../../../../../..", tarfile.SYMTYPE),
        _link(f"{deep}/w", "x/../../../../../../../../etc", tarfile.SYMTYPE),
    )
    _refused(path, "symlink leads outside the snapshot")
    # a link whose directory has no member of its own is made, not an internal error
    path = _hostile(tmp_path / "v.tar.gz", _link("lone/dir/link", "../dir", tarfile.SYMTYPE))
    _refused(path, "no dpkg status file")  # unpacked; then refused for what it lacks


def test_refuses_a_hard_link_out(tmp_path: Path) -> None:
    path = _hostile(tmp_path / "s.tar.gz", _link("passwd", "../etc/passwd", tarfile.LNKTYPE))
    _refused(path, "hard link points outside")


def test_refuses_a_device(tmp_path: Path) -> None:
    device = tarfile.TarInfo("dev/sda")
    device.type = tarfile.BLKTYPE
    device.devmajor, device.devminor = 8, 0
    _refused(_hostile(tmp_path / "s.tar.gz", (device, b"")), "device file")
    fifo = tarfile.TarInfo("run/fifo")
    fifo.type = tarfile.FIFOTYPE
    _refused(_hostile(tmp_path / "t.tar.gz", (fifo, b"")), "device file or FIFO")


def test_refuses_a_non_utf8_name(tmp_path: Path) -> None:
    name = b"var/lib/\xff\xfe".decode("utf-8", "surrogateescape")
    path = _hostile(tmp_path / "s.tar.gz", (tarfile.TarInfo(name), b"x"), fmt=tarfile.GNU_FORMAT)
    _refused(path, "not UTF-8")


def test_refuses_an_unknown_format_version(tmp_path: Path) -> None:
    path = tmp_path / "s.tar.gz"
    _tarball(path, None, {**MANIFEST, "format": "depgraph-snapshot/99"})
    _refused(path, "unknown snapshot format 'depgraph-snapshot/99'")
    _tarball(path, None, None)
    _refused(path, "not a depgraph snapshot")


def _zeros_member(name: str, size: int) -> bytes:
    """A tar stream (gzip members concatenated) of one file of ``size`` zero bytes, built without
    compressing ``size`` bytes: one compressed MiB of zeros is repeated."""
    info = tarfile.TarInfo(name)
    info.size = size
    mib = gzip.compress(b"\0" * (1 << 20), compresslevel=9)
    assert size % (1 << 20) == 0
    return (
        gzip.compress(info.tobuf(tarfile.GNU_FORMAT))
        + mib * (size >> 20)
        + gzip.compress(b"\0" * 1024)
    )


def test_refuses_a_bomb_by_total_size(tmp_path: Path) -> None:
    path = tmp_path / "bomb.tar.gz"
    path.write_bytes(_zeros_member("var/log/dpkg.log", 600 << 20))
    assert path.stat().st_size < 2 << 20
    _refused(path, "unpacks to more than 512 MiB")


def test_refuses_a_bomb_by_ratio(tmp_path: Path) -> None:
    path = tmp_path / "bomb.tar.gz"
    path.write_bytes(_zeros_member("var/log/dpkg.log", 20 << 20))
    _refused(path, "times its compressed size")


def test_refuses_a_million_members(tmp_path: Path) -> None:
    directory = tarfile.TarInfo("d")
    directory.type = tarfile.DIRTYPE  # the same directory again and again is not a duplicate
    header = directory.tobuf(tarfile.GNU_FORMAT)
    thousand = gzip.compress(header * 1000)
    path = tmp_path / "many.tar.gz"
    path.write_bytes(thousand * 1000)  # 1,000,000 members, about 1 MB compressed
    _refused(path, "more than 50000 members")


def test_refuses_what_is_not_a_tarball(tmp_path: Path) -> None:
    path = tmp_path / "s.tar.gz"
    path.write_bytes(b"not gzip at all")
    _refused(path, "s.tar.gz")
    _refused(tmp_path / "absent.tar.gz", "no such file")


def test_snapshot_and_root_do_not_combine(tmp_path: Path) -> None:
    path = tmp_path / "s.tar.gz"
    _tarball(path, None)
    done = run_depgraph("audit", "--snapshot", path, "--root", tmp_path)
    assert done.status == 2 and "do not combine" in done.stderr


def test_reading_writes_only_a_private_directory(tmp_path: Path) -> None:
    """The unpacked tree is removed at exit, and nothing is left beside the snapshot."""
    path = tmp_path / "s.tar.gz"
    _tarball(path, AUDIT_2012)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    done = run_depgraph("audit", "--snapshot", path, env={"TMPDIR": str(temporary)})
    assert done.status in (0, 1), done.stderr
    assert sorted(os.listdir(tmp_path)) == ["s.tar.gz", "tmp"]
    assert os.listdir(temporary) == []


# --- a tarball cut short: an error, or with --lenient what is there and a warning --------------


def _tar_bytes(members: dict[str, bytes]) -> bytes:
    """An uncompressed tar archive (with its end-of-archive blocks) of ``members``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _jessie_members() -> dict[str, bytes]:
    root = HEARTBLEED / "debian-jessie-armel" / "root"
    return {
        "depgraph-snapshot/manifest.json": json.dumps(MANIFEST).encode(),
        "var/lib/dpkg/status": (root / "var/lib/dpkg/status").read_bytes(),
    }


def test_a_tarball_without_its_end_blocks_is_an_error_or_partial(tmp_path: Path) -> None:
    """tar(5): an archive ends with two zero blocks; tarfile stops quietly without them, so a
    collection cut short after a whole member read as a whole snapshot."""
    whole = _tar_bytes(_jessie_members())
    unended = whole.rstrip(b"\0")
    unended += b"\0" * (-len(unended) % 512)  # the last member's padding, no end blocks
    assert len(unended) < len(whole)
    path = tmp_path / "unended.tar.gz"
    path.write_bytes(gzip.compress(unended))
    _refused(path, "truncated tarball: no end-of-archive blocks after var/lib/dpkg/status")
    lenient = run_depgraph("audit", "--snapshot", path, "--lenient", "--format", "json")
    assert lenient.status in (0, 1), lenient.stderr
    report = json.loads(lenient.stdout)
    assert any("truncated tarball" in w for w in report["warnings"]), report["warnings"]
    complete = tmp_path / "whole.tar.gz"
    complete.write_bytes(gzip.compress(whole))
    done = run_depgraph("audit", "--snapshot", complete, "--format", "json")
    assert done.status in (0, 1), done.stderr
    assert not any("truncated" in w for w in json.loads(done.stdout)["warnings"])


@pytest.mark.parametrize("cut", ["tar", "gzip"])
def test_a_tarball_cut_inside_a_member_is_an_error_and_the_member_is_not_read(
    tmp_path: Path, cut: str
) -> None:
    """Bytes cut off inside the status file's data (of the tar, or of the gzip stream): refused;
    with --lenient the half member is left out (here the status file, so no status at all)."""
    whole = _tar_bytes(_jessie_members())
    path = tmp_path / "cut.tar.gz"
    if cut == "tar":
        path.write_bytes(gzip.compress(whole[: len(whole) // 2]))
    else:
        packed = gzip.compress(whole)
        path.write_bytes(packed[: len(packed) * 3 // 4])
    _refused(path, "truncated tarball: the data stops inside var/lib/dpkg/status")
    lenient = run_depgraph("audit", "--snapshot", path, "--lenient")
    assert lenient.status == 2 and "no dpkg status file" in lenient.stderr, lenient.stderr


@pytest.mark.parametrize("encoding", ["pax", "base-256"])
def test_refuses_a_negative_member_size(tmp_path: Path, encoding: str) -> None:
    """A pax ``size=-5000`` or a GNU base-256 negative size: tarfile takes both, and would step
    back to an earlier header."""
    manifest = _tar_bytes({"depgraph-snapshot/manifest.json": json.dumps(MANIFEST).encode()})
    info = tarfile.TarInfo("var/lib/dpkg/status")
    if encoding == "pax":
        info.pax_headers = {"size": "-5000"}
        header = info.tobuf(tarfile.PAX_FORMAT)
    else:
        header = bytearray(info.tobuf(tarfile.GNU_FORMAT))
        header[124:136] = b"\xff" * 11 + b"\x00"  # base-256, negative
        header[148:156] = b" " * 8
        header[148:156] = b"%06o\0 " % sum(header)
        header = bytes(header)
    path = tmp_path / "negative.tar.gz"
    path.write_bytes(gzip.compress(manifest[: 512 * 2] + header + bytes(1024)))
    _refused(path, "member has a negative size: var/lib/dpkg/status")


# --- a process saved with its maps but not its stat (a collection cut short) --------------------


def test_a_process_saved_without_its_stat_still_counts(tmp_path: Path) -> None:
    """jessie's fixed libssl1.0.0 and nginx mapping a deleted copy: with the stat, 'restart'; with
    the stat missing, the same (start time unknown, so the old copy's version is unknown), never
    'highest risk none', and the view partial, the plan saying why."""
    root = HEARTBLEED / "debian-jessie-armel" / "root"
    manifest = {**MANIFEST, "captured": ["dpkg-status", "dpkg-lists", "proc"]}
    line = "b6e00000-b6e60000 r-xp 00000000 b3:02 1234 /usr/lib/arm-linux-gnueabi/libssl.so.1.0.0"
    proc = {
        "depgraph-snapshot/proc/btime": b"1396900000\n",
        "depgraph-snapshot/proc/clk_tck": b"100\n",
        "depgraph-snapshot/proc/scanned": b"1\n",
        "depgraph-snapshot/proc/4242/maps": f"12:{line} (deleted)\n".encode(),
        "depgraph-snapshot/proc/4242/exe": b"/usr/sbin/nginx\n",
    }
    stat = {"depgraph-snapshot/proc/4242/stat": b"4242 (nginx) S" + b" 0" * 18 + b" 500 0\n"}
    reports = {}
    for name, extra in (("whole", {**proc, **stat}), ("cut", proc)):
        path = tmp_path / f"{name}.tar.gz"
        _tarball(path, root, manifest, extra)
        done = run_depgraph("audit", "--snapshot", path, "--format", "json")
        assert done.status == 1, done.stderr
        reports[name] = json.loads(done.stdout)
    whole, cut = reports["whole"], reports["cut"]
    assert whole["summary"]["highest_risk"] == cut["summary"]["highest_risk"] != "none"
    assert [p["pid"] for p in cut["processes"]] == [4242]
    assert cut["processes"][0]["started"] is None and cut["processes"][0]["needs_restart"]
    assert not any("partial" in w for w in whole["warnings"])
    (warning,) = [w for w in cut["warnings"] if "partial" in w]
    assert "1 process could not be fully read: pid 4242 (nginx)" in warning
    text = run_depgraph("audit", "--snapshot", tmp_path / "cut.tar.gz").stdout
    plan = " ".join(text.split())
    assert "could not be fully read: pid 4242 (nginx)" in plan
    assert "it is counted as running a vulnerable one; restart it." in plan
    assert "they may map the old library too" not in plan


@pytest.mark.parametrize("member", ["elf.json", "keys.json"])
def test_a_member_nested_thousands_deep_is_one_line_not_a_crash(
    tmp_path: Path, member: str
) -> None:
    """``[[[[...`` 200,000 deep: json's decoder recurses per level. keys.json is the snapshot's
    error (strict) or a warning (--lenient); elf.json, like any unreadable elf.json, leaves the
    ELF facts not at hand."""
    root = tmp_path / "root"
    shutil.copytree(HEARTBLEED / "debian-jessie-armel" / "root", root)
    status = root / "var/lib/dpkg/status"
    status.write_text(status.read_text().replace("Version: 1.0.1t-1+deb8u6", "Version: 1.0.1f-1"))
    snapshot = tmp_path / "deep.tar.gz"
    deep = b"[" * 200_000 + b"]" * 200_000
    manifest = {**MANIFEST, "captured": ["dpkg-status", "elf", "keys"]}
    _tarball(snapshot, root, manifest, {f"depgraph-snapshot/{member}": deep})
    done = run_depgraph("audit", "--snapshot", snapshot, "--format", "json")
    assert "internal error" not in done.stderr, done.stderr
    if member == "keys.json":
        assert done.status == 2 and done.stdout == ""
        (line,) = done.stderr.splitlines()
        assert "deep.tar.gz:depgraph-snapshot/keys.json: nests too deeply" in line
        done = run_depgraph("audit", "--snapshot", snapshot, "--lenient", "--format", "json")
        assert any("keys.json" in w for w in json.loads(done.stdout)["warnings"])
    assert done.status == 1, done.stderr
    assert json.loads(done.stdout)["summary"]["highest_risk"] == "high"


def test_fleet_fails_a_truncated_snapshot_or_reads_it_with_lenient(tmp_path: Path) -> None:
    """``depgraph fleet`` opens snapshots itself: a tarball without its end blocks fails that host
    with the reason, and ``--lenient`` audits what is there, with the warning counted."""
    whole = _tar_bytes({**_jessie_members()})
    unended = whole.rstrip(b"\0")
    unended += b"\0" * (-len(unended) % 512)
    folder = tmp_path / "fleet"
    folder.mkdir()
    (folder / "cut.tar.gz").write_bytes(gzip.compress(unended))
    rows = {}
    for mode in ("strict", "lenient"):
        extra = ("--lenient",) if mode == "lenient" else ()
        done = run_depgraph("fleet", folder, "--no-cache", "--format", "json", *extra)
        assert done.stdout, done.stderr
        (rows[mode],) = json.loads(done.stdout)["hosts"]
    assert rows["strict"]["status"] == "failed"
    assert "truncated tarball: no end-of-archive blocks" in rows["strict"]["reason"]
    assert rows["lenient"]["status"] == "ok" and rows["lenient"]["warnings"] >= 1
    assert rows["lenient"]["libraries"] == [
        {"package": "libssl1.0.0", "version": "1.0.1t-1+deb8u6", "state": "fixed"}
    ]
