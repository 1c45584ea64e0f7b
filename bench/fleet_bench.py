"""``depgraph fleet`` on a synthetic fleet: hosts per second with 1 and 2 Dask workers, the client's
peak memory at 1,000 and 10,000 hosts, and the incremental re-run.

The fleet is generated here, into a temporary folder, and removed at the end (never committed):
variations of the real 2014 trees of ``fixtures/heartbleed`` -- each host takes one of them,
drops up to 10% of its packages (never libssl1.0.0) and runs one of the real libssl1.0.0 versions
of its family, vulnerable or fixed (the versions of the fixtures and of DSA-2896-1 / USN-2165-1).
Half the hosts are snapshots in the ``depgraph collect`` format with processes: some of the
host's installed daemons and clients (sshd, apache2, wget, curl, python2.7, ...) mapping libcrypto
or libssl, the deleted file for a process started before the upgrade, some listening, and 3% of
the snapshots with an unreadable process (a partial view); 40% are saved status files and 10%
saved ``dpkg -l`` lists.

Targets (issue "Fleets"): 10,000 hosts audited in under 5 minutes on this 2-core machine; the
client's peak RSS must not grow with the number of hosts (10,000 vs 1,000); the re-run over 10,000
cached and 100 new hosts in under 10 s. The client's memory is its own ``ru_maxrss``
(``RUSAGE_SELF``: not the workers'), measured by running the command line in a child process of
this script (``--client``). ``make bench`` or ``.venv/bin/python bench/fleet_bench.py [--hosts N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = str(REPO / ".venv" / "bin" / "python")
HEARTBLEED = REPO / "fixtures" / "heartbleed"
VERSIONS = {
    "debian-wheezy": ("1.0.1e-2+deb7u4", "1.0.1e-2+deb7u5", "1.0.1e-2+deb7u11", "1.0.1e-1"),
    "debian-jessie": ("1.0.1f-1", "1.0.1g-1", "1.0.1t-1+deb8u6", "1.0.1c-3"),
    "ubuntu-precise": ("1.0.1-4ubuntu5.10", "1.0.1-4ubuntu5.12", "1.0.1-4ubuntu3"),
    "ubuntu-trusty": ("1.0.1f-1ubuntu2", "1.0.1f-1ubuntu2.1"),
}
FIXED = frozenset(  # DSA-2896-1, USN-2165-1 and the later builds
    ("1.0.1e-2+deb7u5", "1.0.1e-2+deb7u11", "1.0.1g-1", "1.0.1t-1+deb8u6", "1.0.1-4ubuntu5.12",
     "1.0.1f-1ubuntu2", "1.0.1f-1ubuntu2.1")
)  # fmt: skip
FAMILY = {
    "debian-7.0-i386": "debian-wheezy",
    "debian-wheezy-prerelease-powerpc": "debian-wheezy",
    "raspbian-wheezy": "debian-wheezy",
    "debian-8.7-jessie-mixed": "debian-jessie",
    "debian-jessie-armel": "debian-jessie",
    "ubuntu-12.04-armhf-zynq": "ubuntu-precise",
    "ubuntu-12.04.3-armhf": "ubuntu-precise",
    "ubuntu-14.04-core-armhf": "ubuntu-trusty",
}
SCALING_HOSTS = 1000


TRIPLETS = {
    "i386": "i386-linux-gnu",
    "amd64": "x86_64-linux-gnu",
    "armhf": "arm-linux-gnueabihf",
    "armel": "arm-linux-gnueabi",
    "powerpc": "powerpc-linux-gnu",
}
DAEMONS = (  # (package, exe, comm, listening port or 0, maps libssl as well as libcrypto)
    ("openssh-server", "/usr/sbin/sshd", "sshd", 22, False),
    ("apache2-bin", "/usr/sbin/apache2", "apache2", 443, True),
    ("apache2.2-bin", "/usr/sbin/apache2", "apache2", 443, True),
    ("wget", "/usr/bin/wget", "wget", 0, True),
    ("curl", "/usr/bin/curl", "curl", 0, True),
    ("python2.7", "/usr/bin/python2.7", "python", 0, True),
    ("ntpdate", "/usr/sbin/ntpdate", "ntpdate", 0, False),
)
BOOT = 1396915200  # 2014-04-08 00:00 UTC
TICKS = 100
DEVICE = (179, 2)  # b3:02, an SD card's second partition


@dataclass(frozen=True)
class Base:
    """One real 2014 tree the synthetic hosts vary."""

    name: str
    family: str
    paragraphs: tuple[str, ...]
    arch: str
    version: str
    files: tuple[tuple[str, bytes], ...]
    """Its other files (os-release, the libssl changelog), as a snapshot carries them."""


def _bases() -> list[Base]:
    bases = []
    for name, family in sorted(FAMILY.items()):
        root = HEARTBLEED / name / "root"
        text = (root / "var/lib/dpkg/status").read_text(errors="replace")
        paragraphs = tuple(p for p in text.split("\n\n") if p.strip())
        (libssl,) = (p for p in paragraphs if p.startswith("Package: libssl1.0.0\n"))
        fields = dict(
            line.split(": ", 1) for line in libssl.splitlines() if ": " in line and line[0] != " "
        )
        files = tuple(
            (str(path.relative_to(root)), path.read_bytes())
            for path in sorted(root.rglob("*"))
            if path.is_file() and "dpkg" not in path.parts
        )
        bases.append(
            Base(name, family, paragraphs, fields["Architecture"], fields["Version"], files)
        )
    return bases


def _host_packages(base: Base, version: str, rng: random.Random) -> list[str]:
    """The base's paragraphs, up to 10% of them dropped (never libssl1.0.0's), at ``version``."""
    drop = rng.uniform(0, 0.1)
    kept = []
    for paragraph in base.paragraphs:
        if paragraph.startswith("Package: libssl1.0.0\n"):
            lines = paragraph.split("\n")
            paragraph = "\n".join(
                f"Version: {version}" if line.startswith("Version:") else line for line in lines
            )
        elif rng.random() < drop:
            continue
        kept.append(paragraph)
    return kept


def _dpkg_list(paragraphs: list[str]) -> str:
    """``dpkg -l`` of the installed paragraphs (dpkg-query(1)'s columns)."""
    lines = [
        "Desired=Unknown/Install/Remove/Purge/Hold",
        "| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend",
        "|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)",
        "||/ Name           Version        Architecture Description",
        "+++-==============-==============-============-=================================",
    ]
    for paragraph in paragraphs:
        fields = dict(
            line.split(": ", 1)
            for line in paragraph.splitlines()
            if ": " in line and line[0] != " "
        )
        if fields.get("Status", "").endswith(" installed"):
            name, version = fields.get("Package", "?"), fields.get("Version", "?")
            arch, about = fields.get("Architecture", "all"), fields.get("Description", "")
            lines.append(f"ii  {name:<14} {version:<14} {arch:<12} {about}")
    return "\n".join(lines) + "\n"


def _processes(base: Base, names: set[str], fixed: bool, rng: random.Random) -> dict[str, bytes]:
    """``depgraph-snapshot/proc/`` of a host: some of its daemons and clients mapping libssl or
    libcrypto, in the layout ``depgraph collect`` writes (proc(5) formats), and the dpkg file
    lists that name their programs (so that each process has its package). On a host whose
    libssl was upgraded, a process started before the upgrade maps the deleted file (it needs a
    restart); otherwise the current one."""
    triplet = TRIPLETS.get(base.arch, "arm-linux-gnueabihf")
    libraries = [f"/usr/lib/{triplet}/libcrypto.so.1.0.0", f"/usr/lib/{triplet}/libssl.so.1.0.0"]
    inodes = {libraries[0]: 131480, libraries[1]: 131487}
    upgraded = BOOT + rng.randint(3600, 7 * 86400)
    present = [daemon for daemon in DAEMONS if daemon[0] in names]
    chosen = rng.sample(present, rng.randint(0, len(present)))
    out: dict[str, bytes] = {}
    for pid, (package, exe, comm, port, ssl) in enumerate(chosen, start=rng.randint(300, 3000)):
        stale = fixed and rng.random() < 0.4
        started = upgraded - rng.randint(60, 86400) if stale else upgraded + rng.randint(60, 86400)
        maps, files = [], []
        number = rng.randint(20, 90)
        address = 0xB6D00000 - pid * 0x100000
        for path in libraries[: 2 if ssl else 1]:
            inode = inodes[path] + (7 if not stale else 0)
            for offset, perms in enumerate(("r-xp", "---p", "r--p", "rw-p")):
                start = address + offset * 0x1000
                tail = f"{path} (deleted)" if stale else path
                maps.append(
                    f"{number}:{start:08x}-{start + 0x1000:08x} {perms} {offset * 0x1000:08x} "
                    f"b3:02 {inode:<10} {tail}\n"
                )
                number += 1
            address += 0x80000
            if not stale:
                dev = os.makedev(*DEVICE)
                files.append(f"{dev} {inode} {float(upgraded)!r} {path}\n")
        out[f"var/lib/dpkg/info/{package}.list"] = f"/.\n{exe}\n".encode()  # its owner
        base_dir = f"depgraph-snapshot/proc/{pid}"
        ticks = (started - BOOT) * TICKS
        stat = f"{pid} ({comm}) S 1 {pid} {pid} 0 -1 4194560 " + "0 " * 13 + f"{ticks} 1 1\n"
        unit = f"{comm}.service" if port else "cron.service"
        socket = 20000 + pid
        out.update(
            {
                f"{base_dir}/maps": "".join(maps).encode(),
                f"{base_dir}/stat": stat.encode(),
                f"{base_dir}/uid": b"0\n",
                f"{base_dir}/exe": exe.encode(),
                f"{base_dir}/cgroup": f"1:name=systemd:/system.slice/{unit}\n".encode(),
                f"{base_dir}/files": "".join(files).encode(),
                f"{base_dir}/map_files": b"",
                f"{base_dir}/fd": f"socket:[{socket}]\n".encode() if port else b"",
            }
        )
        if port:
            out[f"{base_dir}/net/tcp"] = (
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt"
                "   uid  timeout inode\n"
                f"   0: 00000000:{port:04X} 00000000:0000 0A 00000000:00000000 00:00000000 "
                f"00000000     0        0 {socket} 1 0000000000000000 100 0 0 10 0\n"
            ).encode()
    partial = rng.random() < 0.03  # a collector that was not root: some processes unreadable
    out["depgraph-snapshot/proc/unreadable"] = b"4242 mysqld\n" if partial else b""
    out["depgraph-snapshot/proc/scanned"] = f"{len(chosen) + rng.randint(40, 120)}\n".encode()
    out["depgraph-snapshot/proc/clk_tck"] = f"{TICKS}\n".encode()
    out["depgraph-snapshot/proc/btime"] = f"{BOOT}\n".encode()
    return out


def _snapshot(
    path: Path, name: str, base: Base, paragraphs: list[str], procs: dict[str, bytes], version: str
) -> None:
    """A ``depgraph-snapshot/1`` tarball (README, "Snapshots") of a synthetic host."""
    manifest = {
        "format": "depgraph-snapshot/1",
        "host": name,
        "time": "2014-04-15T12:00:00+00:00",
        "kernel": "Linux 3.2.0",
        "collector": "bench/fleet_bench.py",
        "libraries": ["libssl1.0.0"],
        "captured": ["dpkg-status", "dpkg-lists", "changelogs", "proc"],
        "missing": [],
    }
    members = {"var/lib/dpkg/status": ("\n\n".join(paragraphs) + "\n").encode()}
    for member, data in base.files:  # its changelog only where it is the installed version's
        if "changelog" not in member or version == base.version:
            members[member] = data
    members.update(procs)
    members["depgraph-snapshot/manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for member, data in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            info.mtime = BOOT
            tar.addfile(info, io.BytesIO(data))


def generate(folder: Path, count: int, seed: int, start: int = 0) -> Counter[str]:
    """``count`` hosts ``host-NNNNN``: half of them snapshots (``.tar.gz``) with processes, 40%
    saved status files, 10% saved ``dpkg -l`` lists; the kinds generated are counted."""
    rng = random.Random(seed)
    bases = _bases()
    folder.mkdir(parents=True, exist_ok=True)
    kinds: Counter[str] = Counter()
    for number in range(start, start + count):
        base = rng.choice(bases)
        version = rng.choice(VERSIONS[base.family])
        paragraphs = _host_packages(base, version, rng)
        name = f"host-{number:05d}"
        kind = rng.random()
        if kind < 0.5:
            names = {p.split("\n", 1)[0].removeprefix("Package: ") for p in paragraphs}
            fixed = version in FIXED
            procs = _processes(base, names, fixed, rng)
            _snapshot(folder / f"{name}.tar.gz", name, base, paragraphs, procs, version)
            kinds["snapshot"] += 1
            kinds["processes"] += sum(1 for member in procs if member.endswith("/maps"))
        elif kind < 0.9:
            (folder / f"{name}.status").write_text("\n\n".join(paragraphs) + "\n")
            kinds["status"] += 1
        else:
            (folder / f"{name}.txt").write_text(_dpkg_list(paragraphs))
            kinds["dpkg-list"] += 1
    return kinds


def fleet(
    paths: list[Path], jobs: int, cache: Path, *extra: str
) -> tuple[float, int, dict[str, Any]]:
    """One ``depgraph fleet`` run: wall time, client peak RSS (KB), the report's ``run``/summary."""
    output = cache.parent / "report.json"
    command = [PYTHON, __file__, "--client", "fleet", *map(str, paths), "--jobs", str(jobs)]
    command += ["--format", "json", "-o", str(output), *extra]
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"depgraph fleet failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    lines = done.stderr.strip().splitlines()
    rss = int(lines[-1].removeprefix("client-maxrss-kb "))
    cpu = float(lines[-2].removeprefix("client-cpu-s "))
    end = int(lines[-3].removeprefix("client-rss-end-kb "))
    data = json.loads(output.read_text())
    info = {"run": data["run"], "summary": data["summary"], "client_cpu_s": cpu}
    return elapsed, rss, {**info, "client_rss_end_kb": end}


@contextlib.contextmanager
def local_cluster(workers: int) -> Iterator[str]:
    """A Dask cluster of ``workers`` single-threaded processes, started and stopped here."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=workers, threads_per_worker=1, memory_limit=0, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def client(argv: list[str]) -> None:
    """Run the command line in this process and print its own peak RSS."""
    sys.path.insert(0, str(REPO))
    from depgraph.cli import main

    status = main(argv)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    status_lines = Path("/proc/self/status").read_text().splitlines()
    (resident,) = [line.split()[1] for line in status_lines if line.startswith("VmRSS:")]
    print(f"client-rss-end-kb {resident}", file=sys.stderr)
    print(f"client-cpu-s {usage.ru_utime + usage.ru_stime:.2f}", file=sys.stderr)
    print(f"client-maxrss-kb {usage.ru_maxrss}", file=sys.stderr)
    sys.exit(status)


def main() -> None:
    if sys.argv[1:2] == ["--client"]:
        client(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=100)
    args = parser.parse_args()
    results: dict[str, object] = {"hosts": args.hosts}
    with tempfile.TemporaryDirectory(prefix="depgraph-fleet-bench-") as scratch:
        base = Path(scratch)
        hosts = base / "hosts"
        start = time.perf_counter()
        kinds = generate(hosts, args.hosts, seed=2014)
        print(
            f"generated {args.hosts} hosts in {time.perf_counter() - start:.1f} s: "
            f"{kinds['snapshot']} snapshots with {kinds['processes']} processes mapping libssl "
            f"or libcrypto, {kinds['status']} status files, {kinds['dpkg-list']} dpkg -l lists",
            flush=True,
        )
        results["kinds"] = dict(kinds)
        files = sorted(hosts.iterdir())
        subset = base / "subset"
        subset.mkdir()
        for file in files[:SCALING_HOSTS]:
            os.link(file, subset / file.name)
        rates = {}
        for jobs in (1, 2):  # the same engine both times: a Dask cluster of 1, then 2 workers
            with local_cluster(jobs) as address:
                elapsed, _, info = fleet(
                    [subset], jobs, base / "cache", "--no-cache", "--scheduler", address
                )
            rates[jobs] = SCALING_HOSTS / elapsed
            print(
                f"{jobs} worker(s): {rates[jobs]:.1f} hosts/s ({info['run']['engine']}; "
                f"client CPU {info['client_cpu_s']:.1f} s)",
                flush=True,
            )
        elapsed, _, _ = fleet([subset], 1, base / "cache", "--no-cache")
        rates["in-process"] = SCALING_HOSTS / elapsed
        print(f"--jobs 1 (in-process, no Dask): {rates['in-process']:.1f} hosts/s", flush=True)
        results["hosts_per_second"] = rates
        results["scaling_ratio"] = rates[2] / rates[1]
        _small_time, small_rss, small = fleet([subset], 2, base / "cache-small")
        full_time, full_rss, info = fleet([hosts], 2, base / "cache-full")
        ends = {SCALING_HOSTS: small["client_rss_end_kb"], args.hosts: info["client_rss_end_kb"]}
        print(
            f"{args.hosts} hosts, 2 workers, cold: {full_time:.1f} s "
            f"({args.hosts / full_time:.1f} hosts/s; target < 300 s); {info['summary']}",
            flush=True,
        )
        print(
            f"client peak RSS: {small_rss / 1024:.0f} MB at {SCALING_HOSTS} hosts, "
            f"{full_rss / 1024:.0f} MB at {args.hosts} hosts (ratio {full_rss / small_rss:.2f}); "
            f"at the end of the run {ends[SCALING_HOSTS] / 1024:.1f} and "
            f"{ends[args.hosts] / 1024:.1f} MB",
            flush=True,
        )
        generate(hosts, args.new, seed=2015, start=args.hosts)
        again, _again_rss, info = fleet([hosts], 2, base / "cache-full")
        print(
            f"re-run, {args.hosts} cached + {args.new} new: {again:.1f} s (target < 10 s); "
            f"{info['run']}",
            flush=True,
        )
        results.update(
            cold_seconds=full_time,
            client_rss_kb={SCALING_HOSTS: small_rss, args.hosts: full_rss},
            client_rss_end_kb=ends,
            incremental_seconds=again,
            incremental_run=info["run"],
        )
        shutil.rmtree(hosts, ignore_errors=True)
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "fleet.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
