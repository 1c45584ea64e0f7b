"""``--classic`` prints exactly what the Heartbleed advice's one-liner prints, on the same data.

The one-liner is run for real (bash, apt-cache, xargs, dpkg, grep), on this machine and on saved
2012-2014 dpkg databases through ``apt-cache -o Dir::State::status=...`` and ``dpkg --admindir``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_tool, run_depgraph, status_files

ONE_LINER = (
    "apt-cache {apt_options} rdepends {target} | tail -n +3 "
    "| xargs dpkg {dpkg_options} -l 2>/dev/null | grep '^ii' | grep -v '^ii  lib'"
)


def one_liner(target: str, apt_options: str = "", dpkg_options: str = "") -> list[str]:
    """Package names (dpkg -l's second column, without ``:arch``) the real pipeline prints."""
    require_tool("apt-cache")
    require_tool("dpkg")
    command = ONE_LINER.format(target=target, apt_options=apt_options, dpkg_options=dpkg_options)
    done = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "COLUMNS": "200", "DPKG_PAGER": "cat"},
    )
    return [line.split()[1].split(":")[0] for line in done.stdout.splitlines()]


def test_classic_equals_one_liner_on_this_machine() -> None:
    expected = one_liner("libssl3")
    assert expected, "the one-liner printed nothing; the comparison would be empty"
    run = run_depgraph("graph", "libssl3", "--classic")
    assert run.status == 0, run.stderr
    assert run.stdout.splitlines() == expected


WITH_LIBSSL = [
    p for p in status_files() if "Package: libssl1.0.0\n" in p.read_text(errors="replace")
]


@pytest.mark.parametrize("status", WITH_LIBSSL, ids=lambda p: p.parts[-5])
def test_classic_equals_one_liner_on_saved_systems(tmp_path: Path, status: Path) -> None:
    text = status.read_text(encoding="utf-8", errors="replace")
    arch = re.search(r"^Package: dpkg\n(?:.+\n)*?Architecture: (\S+)", text, re.M)
    assert arch is not None
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "sources.list").touch()
    admindir = tmp_path / "dpkg"
    (admindir / "info").mkdir(parents=True)
    (admindir / "updates").mkdir()
    shutil.copy(status, admindir / "status")
    apt_options = " ".join(
        [
            f"-oDir::State::status={admindir / 'status'}",
            f"-oDir::Etc::sourcelist={empty / 'sources.list'}",
            f"-oDir::Etc::sourceparts={empty}",
            f"-oDir::State::lists={empty}",
            f"-oAPT::Architecture={arch.group(1)}",
            f"-oAPT::Architectures::={arch.group(1)}",
        ]
    )
    expected = one_liner("libssl1.0.0", apt_options, f"--admindir={admindir}")
    run = run_depgraph("graph", "libssl1.0.0", "--classic", "--status", status)
    assert run.status == 0, run.stderr
    assert run.stdout.splitlines() == expected
