"""Which Debian or Ubuntu release a tree is: os-release(5), ``/etc/lsb-release``, ``/etc/debian_version``.

Read under a root through :mod:`depgraph.rootpath`, so a symlinked ``etc/os-release`` (usually to
``../usr/lib/os-release``, as os-release(5) recommends) is followed inside the tree, never into the
host. ``/usr/lib/os-release`` is the fallback os-release(5) names. Older os-release files lack
``VERSION_CODENAME``: the codename then comes from ``VERSION`` (``"7 (wheezy)"``, ``"14.04, Trusty
Tahr"``), from ``lsb-release``'s ``DISTRIB_CODENAME``, from ``debian_version`` (``7.6``,
``wheezy/sid``) or from the version number. A derivative (Raspbian: ``ID=raspbian``,
``ID_LIKE=debian``) keeps its own id and lists the distributions it follows in ``like``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from depgraph.diagnostics import Diagnostics
from depgraph.errors import UsageError
from depgraph.model import Evidence
from depgraph.rootpath import resolve_in_root

DEBIAN_CODENAMES = {
    "3.1": "sarge",
    "4": "etch",
    "5": "lenny",
    "6": "squeeze",
    "7": "wheezy",
    "8": "jessie",
    "9": "stretch",
    "10": "buster",
    "11": "bullseye",
    "12": "bookworm",
    "13": "trixie",
    "14": "forky",
}
"""Debian major versions and their codenames (since 7, only the major number names the release)."""

UBUNTU_CODENAMES = {
    "8.04": "hardy",
    "9.04": "jaunty",
    "9.10": "karmic",
    "10.04": "lucid",
    "10.10": "maverick",
    "11.04": "natty",
    "11.10": "oneiric",
    "12.04": "precise",
    "12.10": "quantal",
    "13.04": "raring",
    "13.10": "saucy",
    "14.04": "trusty",
    "14.10": "utopic",
    "15.04": "vivid",
    "15.10": "wily",
    "16.04": "xenial",
    "18.04": "bionic",
    "20.04": "focal",
    "22.04": "jammy",
    "24.04": "noble",
}

_KNOWN = {name: "debian" for name in (*DEBIAN_CODENAMES.values(), "sid")} | {
    name: "ubuntu" for name in UBUNTU_CODENAMES.values()
}


@dataclass(frozen=True, slots=True)
class Release:
    """A distribution and release codename, with the files that said so."""

    distribution: str
    codename: str | None
    version: str | None = None
    like: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()

    def __str__(self) -> str:
        name = self.distribution.capitalize()
        if self.version and self.codename:
            return f"{name} {self.version} ({self.codename})"
        return f"{name} {self.codename or self.version or '(unknown release)'}"

    def candidates(self) -> tuple[tuple[str, str], ...]:
        """``(distribution, codename)`` pairs to look a fixed version up under, own first."""
        if self.codename is None:
            return ()
        codename = self.codename
        return ((self.distribution, codename), *((like, codename) for like in self.like))


def parse_release(text: str) -> Release:
    """``--release``: ``wheezy``, ``debian/wheezy``, ``ubuntu:trusty`` or ``ubuntu/14.04``."""
    parts = [part for part in re.split(r"[/:\s]+", text.strip().lower()) if part]
    if not parts or len(parts) > 2:
        raise UsageError(f"--release {text!r}: give a codename, e.g. wheezy or ubuntu/trusty")
    if len(parts) == 1:
        codename = parts[0]
        distribution = _KNOWN.get(codename)
        if distribution is None:
            raise UsageError(
                f"--release {text!r}: unknown codename; write DISTRIBUTION/CODENAME (debian/wheezy)"
            )
        return Release(distribution, codename, evidence=(Evidence("release", f"--release {text}"),))
    distribution, codename = parts
    table = DEBIAN_CODENAMES if distribution == "debian" else UBUNTU_CODENAMES
    codename = _codename_for(distribution, codename) or table.get(codename, codename)
    return Release(distribution, codename, evidence=(Evidence("release", f"--release {text}"),))


def _codename_for(distribution: str, number: str) -> str | None:
    if distribution == "ubuntu":
        return UBUNTU_CODENAMES.get(number)
    if distribution == "debian":
        major = number.split(".")[0]
        return DEBIAN_CODENAMES.get(number) or DEBIAN_CODENAMES.get(major)
    return None


_LONGEST_VALUE = 4096
"""Longer values are not shell-unquoted (os-release(5) values are a few dozen characters)."""


def read_key_values(text: str) -> dict[str, str]:
    """``KEY=value`` lines with shell quoting, as os-release(5) and lsb-release write them."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        try:
            # shlex takes time quadratic in the length of a word: a hostile 1 MB line took minutes
            words = shlex.split(raw) if len(raw) <= _LONGEST_VALUE else [raw.strip("\"'")]
        except ValueError:
            words = [raw.strip("\"'")]
        values[key.strip()] = " ".join(words)
    return values


def _read(root: Path, path: str) -> tuple[str, str] | None:
    """The text of ``path`` inside the tree and the real file it resolved to; None if absent."""
    resolved = resolve_in_root(root, path)
    if resolved is None:
        return None
    from depgraph.errors import DepgraphError
    from depgraph.sources.files import Kind, read_text

    try:
        return read_text(resolved, Kind.CONFIG), str(resolved)
    except DepgraphError:
        return None


_CODENAME_IN_VERSION = re.compile(r"\(([A-Za-z]+)\)|,\s*([A-Za-z]+)")


def detect_release(root: Path, diagnostics: Diagnostics | None = None) -> Release | None:
    """The release of the tree at ``root``; None (with a note) when no file says."""
    evidence: list[Evidence] = []
    distribution: str | None = None
    codename: str | None = None
    version: str | None = None
    like: tuple[str, ...] = ()
    for candidate in ("etc/os-release", "usr/lib/os-release"):
        found = _read(root, candidate)
        if found is None:
            continue
        text, real = found
        values = read_key_values(text)
        distribution = values.get("ID", "").lower() or None
        like = tuple(values.get("ID_LIKE", "").lower().split())
        version = values.get("VERSION_ID") or None
        codename = values.get("VERSION_CODENAME", "").lower() or None
        if codename is None:
            match = _CODENAME_IN_VERSION.search(values.get("VERSION", ""))
            if match is not None:
                codename = (match.group(1) or match.group(2)).lower()
        shown = "/" + candidate
        if Path(real) != root.resolve() / candidate:
            shown += f" (a symlink to {Path(real).relative_to(root.resolve())})"
        evidence.append(Evidence("release", f"{shown}: {values.get('PRETTY_NAME', '')}", real))
        break
    lsb = _read(root, "etc/lsb-release")
    if lsb is not None:
        values = read_key_values(lsb[0])
        distribution = distribution or values.get("DISTRIB_ID", "").lower() or None
        version = version or values.get("DISTRIB_RELEASE") or None
        codename = codename or values.get("DISTRIB_CODENAME", "").lower() or None
        description = values.get("DISTRIB_DESCRIPTION", "")
        evidence.append(Evidence("release", f"/etc/lsb-release: {description}", lsb[1]))
    debian_version = _read(root, "etc/debian_version")
    if debian_version is not None:
        stated = debian_version[0].strip()
        evidence.append(Evidence("release", f"/etc/debian_version: {stated}", debian_version[1]))
        if distribution is None or "debian" in (distribution, *like):
            distribution = distribution or "debian"
            if codename is None:
                if "/" in stated:  # "wheezy/sid": testing or unstable before the release
                    codename = stated.split("/")[0].lower()
                else:
                    codename = _codename_for("debian", stated)
                    version = version or stated
    if distribution is not None and codename is None and version is not None:
        codename = _codename_for(distribution, version) or next(
            (_codename_for(d, version) for d in like if _codename_for(d, version)), None
        )
    if distribution is None:
        if diagnostics is not None:
            diagnostics.note(
                str(root),
                "no etc/os-release, etc/lsb-release or etc/debian_version: release unknown "
                "(give it with --release)",
            )
        return None
    return Release(distribution, codename, version, like, tuple(evidence))
