"""Shared test helpers: run the real CLI, find fixtures, and the python-apt oracle.

``DEPGRAPH_REQUIRE_APT=1`` (CI's first pass) turns a missing python-apt into a failure instead of a
skip; ``DEPGRAPH_NO_APT=1`` (CI's second pass) makes depgraph itself take the pure-Python path, while
tests may still use ``apt_pkg`` directly as an independent oracle.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
HEARTBLEED = FIXTURES / "heartbleed"
SCHEMAS = REPO / "depgraph" / "schemas"
SHARED = REPO.parent / "shared"
"""The workplace's shared data and contract: only for drift checks that skip when it is absent."""
HEARTBLEED_DATA = FIXTURES / "heartbleed" / "data"
"""Copies of ``shared/data/heartbleed``'s changelogs, advisories, version outputs and maps files."""


def flag(name: str) -> bool:
    """An environment flag is set (to anything but empty, 0, no, false)."""
    return os.environ.get(name, "").strip() not in ("", "0", "no", "false")


def oracle_apt_pkg() -> ModuleType:
    """``apt_pkg`` for cross-checking; fails (not skips) when CI says python-apt must be there."""
    module = _import_apt_pkg()
    if module is None:
        if flag("DEPGRAPH_REQUIRE_APT"):
            pytest.fail("python-apt is required (DEPGRAPH_REQUIRE_APT) but cannot be imported")
        pytest.skip("python-apt is not installed")
    return module


@functools.cache
def _import_apt_pkg() -> ModuleType | None:
    try:
        import apt_pkg
    except ImportError:
        return None
    apt_pkg.init_config()  # once: every call re-reads apt's configuration and grows it
    apt_pkg.init_system()
    return apt_pkg


def require_tool(name: str) -> str:
    """The path of a command-line tool the test compares against; fails in CI when missing."""
    path = shutil.which(name)
    if path is None:
        if flag("CI"):
            pytest.fail(f"{name} is not installed; .ci/run must install it")
        pytest.skip(f"{name} is not installed")
    return path


@dataclass(frozen=True)
class Run:
    """A finished depgraph process."""

    status: int
    stdout: str
    stderr: str


def run_depgraph(
    *args: str | Path,
    env: dict[str, str] | None = None,
    pure: bool | None = None,
    prefix: Sequence[str] = (),
) -> Run:
    """Run ``python -m depgraph`` as a user would; ``pure`` forces or forbids the pure-Python path;
    ``prefix`` runs it under another command (``setpriv``, ``unshare ... sh -c``)."""
    environment = dict(os.environ)
    environment.pop("DEPGRAPH_DEBUG", None)
    if pure is True:
        environment["DEPGRAPH_NO_APT"] = "1"
    elif pure is False:
        environment.pop("DEPGRAPH_NO_APT", None)
    if env:
        environment.update(env)
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "depgraph", *map(str, args)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return Run(done.returncode, done.stdout, done.stderr)


def status_files() -> list[Path]:
    """Every real dpkg status file among the fixtures."""
    return sorted(HEARTBLEED.glob("*/root/var/lib/dpkg/status"))


def scenario(name: str) -> Path:
    """The fake root of a Heartbleed scenario."""
    return HEARTBLEED / name / "root"


@pytest.fixture(scope="session", autouse=True)
def private_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test (and every depgraph it runs) caches under a fresh directory, never in ~/.cache."""
    home = tmp_path_factory.mktemp("xdg-cache")
    os.environ["XDG_CACHE_HOME"] = str(home)
    return home


@pytest.fixture(scope="session")
def live_root_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fake root made of this machine's real dpkg database and apt lists (copied, read-only use)."""
    root = tmp_path_factory.mktemp("liveroot")
    (root / "var/lib/dpkg").mkdir(parents=True)
    shutil.copy2("/var/lib/dpkg/status", root / "var/lib/dpkg/status")
    shutil.copytree("/var/lib/dpkg/info", root / "var/lib/dpkg/info", symlinks=True)
    lists = root / "var/lib/apt/lists"
    lists.mkdir(parents=True)
    for path in Path("/var/lib/apt/lists").glob("*_Packages*"):
        shutil.copy2(path, lists / path.name)
    (root / "etc").mkdir()
    shutil.copy2("/etc/os-release", root / "etc/os-release")
    return root


def throwaway_certificate(directory: Path) -> tuple[Path, Path]:
    """A fresh RSA key and self-signed certificate (one day) in ``directory``, made by ``openssl req``."""
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        [require_tool("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=depgraph-test"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return key, cert


def snapshot_tarball(
    path: Path, root: Path, host: str, members: Sequence[str] | None = None
) -> None:
    """A tarball in the ``depgraph-snapshot/1`` format (depgraph collect's) of a saved tree whose
    manifest names ``host``: every file of ``root``, or only ``members`` (paths in it)."""
    import io
    import json
    import tarfile

    manifest = {
        "format": "depgraph-snapshot/1",
        "host": host,
        "time": "2014-04-08T12:00:00+00:00",
        "kernel": "Linux",
        "collector": "test",
        "libraries": ["libssl1.0.0"],
        "captured": ["dpkg-status"],
        "missing": [{"what": "proc", "why": "a saved tree has no processes"}],
    }
    files = sorted(root.rglob("*")) if members is None else [root / name for name in members]
    with tarfile.open(path, "w:gz") as tar:
        for file in files:
            if file.is_file() and not file.is_symlink():
                tar.add(file, arcname=str(file.relative_to(root)))
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("depgraph-snapshot/manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
