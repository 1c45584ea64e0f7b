"""The systemd unit or container a process runs in, from ``/proc/PID/cgroup`` (proc(5), cgroups(7)).

Lines are ``ID:CONTROLLERS:PATH``; the unified hierarchy is ``0::PATH`` and systemd's own v1
hierarchy ``N:name=systemd:PATH``. systemd names the cgroup after the unit
(``/system.slice/nginx.service``, ``/user.slice/user-1000.slice/session-2.scope``, a user's own
units under ``user@UID.service``), see systemd.unit(5) and systemd.slice(5). Container engines
leave their mark in the path: ``/docker/ID`` or ``docker-ID.scope`` (Docker), ``libpod-ID.scope``
(Podman), ``/lxc/NAME`` or ``/lxc.payload.NAME`` (LXC), ``/kubepods...`` (Kubernetes),
``machine.slice/systemd-nspawn@NAME.service`` (nspawn). Inside a container its own unit means
nothing to the host's systemctl, so the container is reported instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CONTAINERS = (
    # (engine, a word the path must contain, the pattern giving the container's id or name);
    # compiled on first use (re's cache), only when the word is there.
    ("docker", "docker", r"/docker[-/]([0-9a-f]{12,64})(?:\.scope)?(?:/|$)"),
    ("podman", "libpod", r"/libpod-(?:conmon-)?([0-9a-f]{12,64})(?:\.scope)?(?:/|$)"),
    ("containerd", "containerd", r"/cri-containerd-([0-9a-f]{12,64})(?:\.scope)?(?:/|$)"),
    ("crio", "crio", r"/crio-([0-9a-f]{12,64})(?:\.scope)?(?:/|$)"),
    ("kubernetes", "kubepods", r"/kubepods[^/]*(?:/[^/]+)*?/pod([0-9a-f_-]{36})"),
    ("lxc", "lxc", r"/lxc(?:\.payload)?[./]([^/]+)"),
    (
        "nspawn",
        "machine",
        r"/machine\.slice/(?:systemd-nspawn@|machine-)([^/]+?)\.(?:service|scope)",
    ),
)
_UNIT_SUFFIXES = (".service", ".scope", ".socket", ".mount", ".swap", ".timer")


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a process runs: its cgroup, the innermost unit, whether that is a user's own unit, and
    the container (``kind``, ``name``) when it runs in one."""

    cgroup: str
    unit: str | None = None
    user_unit: bool = False
    container: tuple[str, str] | None = None

    @property
    def container_text(self) -> str | None:
        """``docker:0123456789ab`` or None."""
        if self.container is None:
            return None
        kind, name = self.container
        return f"{kind}:{name[:12] if kind in ('docker', 'podman', 'containerd', 'crio') else name}"


def cgroup_path(text: str) -> str:
    """The path systemd manages: the unified hierarchy's, else ``name=systemd``'s, else any."""
    unified = systemd = other = ""
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if not controllers and parts[0] == "0":
            unified = path
        elif controllers == "name=systemd":
            systemd = path
        elif not other and path not in ("", "/"):
            other = path
    # On a hybrid system the unified hierarchy may be empty ("/") while name=systemd has the unit.
    for candidate in (unified, systemd):
        if candidate and candidate != "/":
            return candidate
    return unified or systemd or other or "/"


def placement(text: str) -> Placement:
    """The unit and container of a process from the text of its ``/proc/PID/cgroup``."""
    path = cgroup_path(text)
    for kind, word, pattern in _CONTAINERS:
        match = re.search(pattern, path) if word in path else None
        if match:
            return Placement(path, container=(kind, match.group(1)))
    unit = None
    user_unit = False
    in_user_manager = False
    for part in path.split("/"):
        if part.startswith("user@") and part.endswith(".service"):
            in_user_manager = True
            unit, user_unit = part, False
            continue
        if part.endswith(_UNIT_SUFFIXES):
            unit, user_unit = part, in_user_manager
    return Placement(path, unit, user_unit)
