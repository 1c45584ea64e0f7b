"""Bounded time and memory on hostile sizes: each case is a real ``depgraph`` run on a big input.

The five inputs of issue 8 (status-100MB, line-1MB, alternatives, graph-200k, changelog-50k) and
four more that fuzzing and review showed to matter, generated into a temporary directory (none is
kept):

* ``status-100MB``: a dpkg status file of 100 MB (about 95,000 installed packages, Debian-sized
  paragraphs with descriptions), ``depgraph graph libssl3 --status FILE``;
* ``line-1MB``: a status file whose one ``Depends`` line is 1 MB (65,000 versioned relations);
* ``line-1MB-parsers``: every parser (its fuzz target, ``tests/fuzz``) on 16 inputs of 1 MB lines:
  runs of blanks, pipes, digits, parentheses, quotes, CVE ids, changelog headings, and two versions
  that differ at the end; with python-apt's version comparison, then the pure one;
* ``long-field``: one paragraph whose ``Description`` has 400,000 continuation lines and whose
  ``Depends`` continues over 100,000 (29 MB in one paragraph);
* ``maps-200k``: saved maps text of 200,000 lines naming libssl, 100,000 in one bare maps file and
  the advice's ``grep`` output over 100,000 processes (``depgraph restart --maps``);
* ``maps-1M``, ``maps-1M-pids`` (issue 23): a bare maps file of 1,000,000 deleted libssl copies,
  and the advice's ``grep`` over 100,000 processes of 10 lines each (``depgraph restart --maps``);
* ``snapshot-maps-1M`` (issue 23): a snapshot whose one saved process has 1,000,000 maps lines and
  no stat (``depgraph audit --snapshot``);
* ``alternatives``: one ``Depends`` of 100,000 ``|`` alternatives (and the 100,000 packages it names);
* ``graph-200k``: 200,000 packages, each depending on libssl3 or on up to three earlier ones (chosen
  at random, seeded): the reverse-dependency walk reaches all of them (``--format names``);
* ``chain-200k``: 200,000 packages in one chain, each depending on the one before;
* ``changelog-50k``: a ``changelog.Debian.gz`` of 50,000 entries, ``depgraph changelog --file --cve``;
* ``status-255MB``: the same, just under the 256 MiB limit of a status file (the largest status
  depgraph accepts, issue 23);
* ``list-2M``: a dependent whose dpkg ``.list`` has 2,000,000 lines (``audit --root``; issue 23);
* ``bomb-gzip``, ``bomb-bzip2``, ``bomb-xz``, ``bomb-lz4``: a Packages index inflating to 1.5 GiB,
  refused at the 256 MiB cap (exit 2 is the right answer); ``bomb-members``: a changelog of one entry
  and 200,000 empty gzip members, refused at 65,536 members.

Each case runs in its own process (``python -m depgraph``, stdout to ``/dev/null``) under an
address-space limit of 4 GiB and a wall-time limit; the table gives the wall time, the child's peak
RSS (``ru_maxrss`` from ``os.wait4``) and the exit status, against the issue's bounds (60 s, 2 GB).
Exit status 1 when a case fails, goes over a bound or does not finish. Timing belongs here, not in
the tests (``make bench``).
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
MAX_SECONDS = 60.0
MAX_RSS_MB = 2048.0
ADDRESS_SPACE = 4 << 30

_DESCRIPTION = (
    "Description: synthetic package {n} for the depgraph stress bench\n"
    " This paragraph is shaped like a real dpkg status entry: the fields dpkg writes, a long\n"
    " description of several lines, a Depends field with versions and an OR-group, and a\n"
    " Conffiles list, so that the bytes per package are close to a Debian system's.\n"
    " .\n"
    " Nothing here is read by depgraph beyond the first line of the description.\n"
)
_PARAGRAPH = (
    "Package: pkg{n}\n"
    "Status: install ok installed\n"
    "Priority: optional\n"
    "Section: libs\n"
    "Installed-Size: {size}\n"
    "Maintainer: Depgraph Stress <stress@example.org>\n"
    "Architecture: amd64\n"
    "Multi-Arch: same\n"
    "Source: src{source}\n"
    "Version: 1.{n}-1+deb12u1\n"
    "Depends: {depends}\n"
    "Conffiles:\n"
    " /etc/pkg{n}/pkg{n}.conf 0123456789abcdef0123456789abcdef\n"
    " /etc/pkg{n}/defaults 0123456789abcdef0123456789abcdef\n" + _DESCRIPTION + "\n"
)
_LIBSSL = (
    "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u2\n"
    "Depends: libc6 (>= 2.34)\nDescription: Secure Sockets Layer toolkit - shared libraries\n\n"
    "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9\n"
    "Description: GNU C Library: Shared libraries\n\n"
)


def _status_100mb(folder: Path, size: int = 100 * 1000 * 1000) -> list[str]:
    path = folder / f"status-{size // 1000**2}MB"
    with path.open("w") as out:
        out.write(_LIBSSL)
        n = 0
        while out.tell() < size:
            depends = (
                "libc6 (>= 2.34), libssl3 (>= 3.0.0) | libssl1.1" if n % 7 else "libc6 (>= 2.34)"
            )
            if n:
                depends += f", pkg{n - 1} (= 1.{n - 1}-1+deb12u1)"
            out.write(_PARAGRAPH.format(n=n, size=n % 5000, source=n // 3, depends=depends))
            n += 1
    return ["graph", "libssl3", "--status", str(path), "--format", "names"]


def _line_1mb(folder: Path) -> list[str]:
    path = folder / "status-line-1MB"
    relations = []
    size = 0
    n = 0
    while size < 1_000_000:
        relation = f"pkg{n} (>= 1.{n}-1)"
        relations.append(relation)
        size += len(relation) + 2
        n += 1
    with path.open("w") as out:
        out.write(_LIBSSL)
        out.write(_PARAGRAPH.format(n="big", size=1, source="big", depends=", ".join(relations)))
        out.write(_PARAGRAPH.format(n=0, size=1, source=0, depends="libssl3"))
    return ["graph", "libssl3", "--status", str(path), "--format", "names"]


def _long_field(folder: Path) -> list[str]:
    path = folder / "status-long-field"
    with path.open("w") as out:
        out.write(_LIBSSL)
        out.write("Package: big\nStatus: install ok installed\nVersion: 1\nDepends: libssl3")
        out.write("".join(f",\n pkg{n} (>= 1.{n})" for n in range(100_000)))
        out.write("\nDescription: a field of 400,000 continuation lines\n")
        out.write(" a long description line, about seventy characters wide ..........\n" * 400_000)
        out.write("\n")
    return ["graph", "libssl3", "--status", str(path), "--format", "names"]


def _maps(folder: Path) -> list[str]:
    path = folder / "maps"
    line = "7f0000000000-7f0000001000 r-xp 00000000 08:01 {inode} {path} (deleted)\n"
    with path.open("w") as out:
        for n in range(100_000):  # one process (no grep prefix) mapping 100,000 deleted files
            out.write(line.format(inode=n, path=f"/usr/lib/x86_64-linux-gnu/libssl.so.1.0.0.{n}"))
        for n in range(100_000):  # the grep one-liner's output over 100,000 processes
            out.write(f"/proc/{n + 1}/maps:" + line.format(inode=7, path="/lib/libssl.so.1.0.0"))
    return ["restart", "--root", str(folder), "--maps", str(path), "--format", "json"]


def _maps_1m(folder: Path) -> list[str]:
    """Issue 23: one bare maps file of 1,000,000 lines, each a deleted copy of libssl (one process
    mapping a million files: 101 s, 9.4 GB and 1.16 GB of JSON before the worst were kept)."""
    path = folder / "maps-1M"
    line = "7f0000000000-7f0000001000 r-xp 00000000 08:01 {inode} {path} (deleted)\n"
    with path.open("w") as out:
        for n in range(1_000_000):
            out.write(line.format(inode=n, path=f"/usr/lib/x86_64-linux-gnu/libssl.so.1.0.0.{n}"))
    return ["restart", "--root", str(folder), "--maps", str(path), "--format", "json"]


def _maps_1m_pids(folder: Path) -> list[str]:
    """Issue 23: the advice's grep over 100,000 processes, 10 lines each (five segments of a
    deleted libssl.so.1.0.0 and five of the installed libssl.so.3): 1,000,000 lines."""
    path = folder / "maps-1M-pids"
    segments = ("r--p", "r-xp", "r--p", "rw-p", "---p")
    with path.open("w") as out:
        for pid in range(1, 100_001):
            for name, inode, deleted in (
                ("libssl.so.1.0.0", 7, " (deleted)"),
                ("libssl.so.3", 9, ""),
            ):
                for n, perms in enumerate(segments):
                    out.write(
                        f"/proc/{pid}/maps:7f{pid:08x}{n}000-7f{pid:08x}{n + 1}000 {perms} "
                        f"00000000 08:01 {inode} /usr/lib/x86_64-linux-gnu/{name}{deleted}\n"
                    )
    return ["restart", "--root", str(folder), "--maps", str(path), "--format", "json"]


def _snapshot_maps_1m(folder: Path) -> list[str]:
    """Issue 23: a snapshot whose one saved process has 1,000,000 maps lines, each a copy of
    libssl (deleted or not), and no stat (a collection cut short): ``depgraph audit --snapshot``."""
    import io
    import json
    import tarfile

    path = folder / "snapshot-maps-1M.tar.gz"
    status = PROJECT / "fixtures/heartbleed/debian-jessie-armel/root/var/lib/dpkg/status"
    manifest = {
        "format": "depgraph-snapshot/1",
        "host": "stress",
        "time": "2014-04-08T12:00:00+00:00",
        "libraries": ["libssl1.0.0"],
        "captured": ["dpkg-status", "proc"],
    }
    lines = "".join(
        f"{n + 1}:{n:012x}-{n + 1:012x} r-xp 00000000 b3:02 {n} "
        f"/usr/lib/c{n}/libssl.so.1.0.0{' (deleted)' if n % 3 == 0 else ''}\n"
        for n in range(1_000_000)
    ).encode()
    members = {
        "depgraph-snapshot/manifest.json": json.dumps(manifest).encode(),
        "var/lib/dpkg/status": status.read_bytes(),
        "depgraph-snapshot/proc/btime": b"1396900000\n",
        "depgraph-snapshot/proc/4242/maps": lines,
    }
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return ["audit", "--snapshot", str(path), "--format", "json"]


def _alternatives(folder: Path) -> list[str]:
    path = folder / "status-alternatives"
    count = 100_000
    with path.open("w") as out:
        out.write(_LIBSSL)
        group = " | ".join(f"pkg{n}" for n in range(count))
        out.write(_PARAGRAPH.format(n="alt", size=1, source="alt", depends=group))
        for n in range(count):
            out.write(
                f"Package: pkg{n}\nStatus: install ok installed\nArchitecture: amd64\n"
                f"Version: 1.{n}\nDepends: libssl3\n\n"
            )
    return ["graph", "libssl3", "--status", str(path), "--format", "names"]


def _graph_200k(folder: Path) -> list[str]:
    path = folder / "status-200k"
    count = 200_000
    chooser = random.Random(8)
    with path.open("w") as out:
        out.write(_LIBSSL)
        for n in range(count):
            if n < 100 or n % 97 == 0:
                depends = "libssl3 (>= 3.0.0)"
            else:
                earlier = {chooser.randrange(n), chooser.randrange(n), n - 1}
                depends = ", ".join(f"pkg{m}" for m in sorted(earlier))
            out.write(
                f"Package: pkg{n}\nStatus: install ok installed\nArchitecture: amd64\n"
                f"Version: 1.{n}-1\nDepends: libc6 (>= 2.34), {depends}\n"
                f"Description: synthetic package {n}\n\n"
            )
    return ["graph", "libssl3", "--status", str(path), "--format", "names"]


def _chain_200k(folder: Path) -> list[str]:
    path = folder / "status-chain"
    with path.open("w") as out:
        out.write(_LIBSSL)
        for n in range(200_000):  # pkg0 -> libssl3, pkgN -> pkgN-1: a path 200,000 deep
            depends = f"pkg{n - 1}" if n else "libssl3"
            out.write(
                f"Package: pkg{n}\nStatus: install ok installed\nArchitecture: amd64\n"
                f"Version: 1\nDepends: {depends}\n\n"
            )
    return ["graph", "libssl3", "--status", str(path), "--format", "names"]


def _changelog_50k(folder: Path) -> list[str]:
    path = folder / "changelog.Debian.gz"
    entries = []
    count = 50_000
    for n in range(count, 0, -1):
        cve = "CVE-2014-0160" if n == 17 else f"CVE-2014-{1000 + n % 8000}"
        entries.append(
            f"openssl (1.0.1e-2+deb7u{n}) wheezy-security; urgency=medium\n\n"
            f"  * Non-maintainer upload by the Security Team.\n"
            f"  * Fix {cve}: a synthetic change, entry {n}.\n\n"
            f" -- Kurt Roeckx <kurt@roeckx.be>  Mon, 07 Apr 2014 22:26:55 +0200\n"
        )
    path.write_bytes(gzip.compress("\n".join(entries).encode(), mtime=0))
    return ["changelog", "--file", str(path), "--cve", "CVE-2014-0160"]


_LINES = {
    "letters": b"a",
    "blanks": b" ",
    "pipes": b"|",
    "digits": b"9",
    "parens": b"(",
    "colons": b":",
    "tabs": b"a\t",
    "dashes": b"1-",
    "alternatives": b"a (>= 1) | ",
    "cves": b"CVE-2014-",
    "procs": b"/proc/",
    "quotes": b'\\"',
    "field": b"Depends: a, ",
    "heading": b"pkg (1.0) unstable; urgency=",
    "changes": b"Changes between 1.0 and 1.",
}


def _line_1mb_parsers(folder: Path) -> list[str]:
    for name, piece in _LINES.items():
        (folder / f"line-{name}").write_bytes(piece * (1_000_000 // len(piece)))
    # two 1 MB versions that differ at the very end, for the version comparison
    (folder / "line-versions").write_bytes(b"1.0a" * 250_000 + b"\n" + b"1.0a" * 249_999 + b"1.0b")
    return [sys.executable, str(Path(__file__).resolve()), "--feed-parsers", str(folder)]


def feed_parsers(folder: Path) -> int:
    """The child of ``line-1MB-parsers``: every parser's fuzz target on every 1 MB line."""
    sys.path.insert(0, str(PROJECT))
    from depgraph.debian.backend import use_pure
    from depgraph.debian.versions import compare
    from tests.fuzz.targets import TARGETS, check, workdir

    scratch = workdir()
    try:
        for backend in ("default", "pure"):
            if backend == "pure":  # python-apt's comparison first (when installed), then ours
                use_pure()
                compare.cache_clear()
            for path in sorted(folder.glob("line-*")):
                data = path.read_bytes()
                for target in TARGETS.values():
                    check(target, data, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


# --- issue 23: streamed file lists, bombs of each compression, many gzip members ----------------
# A bomb is refused (exit 2, one line naming the file and the limit) at the running cap of its kind
# (256 MiB for a Packages index), in time linear in what was inflated and memory bounded by the cap.


def _list_2m(folder: Path) -> list[str]:
    """An installed dependent of libssl3 whose dpkg ``.list`` has 2,000,000 lines, in a root
    (``depgraph audit --root``: the list is streamed, not held)."""
    root = folder / "root"
    info = root / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text(
        _LIBSSL + "Package: bigpkg\nStatus: install ok installed\nArchitecture: amd64\n"
        "Version: 1.0-1\nDepends: libssl3 (>= 3.0.0)\nDescription: a package of many files\n\n"
    )
    with (info / "bigpkg:amd64.list").open("w") as out:
        for n in range(2_000_000):
            out.write(f"/usr/share/bigpkg/data/{n // 1000}/file{n}.dat\n")
    return ["audit", "--root", str(root), "--profile", "openssl-cve-2022-3602"]


def _bomb(name: str) -> Callable[[Path], list[str]]:
    """A Packages index of concatenated members of ``name`` inflating to 1.5 GiB of zeros."""

    def make(folder: Path) -> list[str]:
        import bz2
        import lzma

        import lz4.frame

        compress: dict[str, Callable[[bytes], bytes]] = {
            "gzip": lambda data: gzip.compress(data, mtime=0),
            "bzip2": bz2.compress,
            "xz": lzma.compress,
            "lz4": lz4.frame.compress,
        }
        member = compress[name](bytes(64 << 20))
        (folder / "status").write_text(_LIBSSL)
        (folder / f"Packages.{name}").write_bytes(member * 24)
        status, index = folder / "status", folder / f"Packages.{name}"
        return ["graph", "libssl3", "--status", str(status), "--packages", str(index)]

    return make


def _bomb_members(folder: Path) -> list[str]:
    """A changelog of one entry and 200,000 empty gzip members (was 24 s, quadratic)."""
    path = folder / "changelog.Debian.gz"
    entry = (
        "openssl (1.0.1e-2+deb7u5) wheezy-security; urgency=medium\n\n"
        "  * Fix CVE-2014-0160.\n\n -- Kurt Roeckx <kurt@roeckx.be>  Mon, 07 Apr 2014 22:26:55 +0200\n"
    )
    path.write_bytes(gzip.compress(entry.encode(), mtime=0) + gzip.compress(b"", mtime=0) * 200_000)
    return ["changelog", "--file", str(path), "--cve", "CVE-2014-0160"]


REFUSED = frozenset({"bomb-gzip", "bomb-bzip2", "bomb-xz", "bomb-lz4", "bomb-members"})
"""Cases whose right answer is a refusal: exit status 2 with one line, not 0 or 1."""


CASES: dict[str, Callable[[Path], list[str]]] = {
    "status-100MB": _status_100mb,
    "status-255MB": lambda folder: _status_100mb(folder, 255 * 1024 * 1024),
    "line-1MB": _line_1mb,
    "line-1MB-parsers": _line_1mb_parsers,
    "long-field": _long_field,
    "maps-200k": _maps,
    "maps-1M": _maps_1m,
    "maps-1M-pids": _maps_1m_pids,
    "snapshot-maps-1M": _snapshot_maps_1m,
    "alternatives": _alternatives,
    "graph-200k": _graph_200k,
    "chain-200k": _chain_200k,
    "changelog-50k": _changelog_50k,
    "list-2M": _list_2m,
    "bomb-gzip": _bomb("gzip"),
    "bomb-bzip2": _bomb("bzip2"),
    "bomb-xz": _bomb("xz"),
    "bomb-lz4": _bomb("lz4"),
    "bomb-members": _bomb_members,
}


@dataclass(frozen=True, slots=True)
class Result:
    case: str
    input_mb: float
    status: int | None
    seconds: float
    rss_mb: float

    @property
    def verdict(self) -> str:
        if self.status is None:
            return "TIMEOUT"
        if self.status not in ((2,) if self.case in REFUSED else (0, 1)):
            return f"FAILED (exit {self.status})"
        if self.seconds > MAX_SECONDS or self.rss_mb > MAX_RSS_MB:
            return "OVER"
        return "PASS"


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_case(
    name: str, argv: list[str], input_mb: float, timeout: float, env: dict[str, str]
) -> Result:
    command = argv if argv[0] == sys.executable else [sys.executable, "-m", "depgraph", *argv]
    with open(os.devnull, "wb") as null:
        started = time.perf_counter()
        child = subprocess.Popen(
            command, stdout=null, stderr=subprocess.PIPE, cwd=PROJECT, env=env, preexec_fn=_limit
        )
        status: int | None = None
        usage = None
        while True:
            pid, wait_status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                status = os.waitstatus_to_exitcode(wait_status)
                break
            if time.perf_counter() - started > timeout:
                child.kill()
                _, _, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        child.returncode = status if status is not None else -9  # reaped by wait4 above
        assert child.stderr is not None
        error = child.stderr.read().decode("utf-8", "replace").strip()
        child.stderr.close()
    if status not in (0, 1) and error:
        print(f"{name}: {error.splitlines()[-1][:300]}", file=sys.stderr)
    return Result(name, input_mb, status, seconds, usage.ru_maxrss / 1024)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help=f"cases to run (default all: {', '.join(CASES)})")
    parser.add_argument("--timeout", type=float, default=300.0, help="kill a case after this long")
    parser.add_argument("--pure", action="store_true", help="run with DEPGRAPH_NO_APT=1")
    parser.add_argument("--feed-parsers", metavar="DIR", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.feed_parsers is not None:
        return feed_parsers(args.feed_parsers)
    unknown = [name for name in args.cases if name not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="depgraph-stress-cache-")
    if args.pure:
        env["DEPGRAPH_NO_APT"] = "1"
    folder = Path(tempfile.mkdtemp(prefix="depgraph-stress-"))
    results = []
    try:
        print(
            f"{'case':15} {'input MB':>9} {'seconds':>8} {'peak RSS MB':>12}  verdict (bounds: {MAX_SECONDS:.0f} s, {MAX_RSS_MB:.0f} MB)"
        )
        for name in args.cases or CASES:
            argv = CASES[name](folder)
            input_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
            result = run_case(name, argv, input_mb, args.timeout, env)
            results.append(result)
            print(
                f"{name:15} {result.input_mb:9.1f} {result.seconds:8.2f} {result.rss_mb:12.0f}  {result.verdict}",
                flush=True,
            )
            for path in folder.iterdir():
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(env["XDG_CACHE_HOME"], ignore_errors=True)
    return 0 if all(result.verdict == "PASS" for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
