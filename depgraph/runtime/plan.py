"""What to do about the processes that keep an old or vulnerable copy of the library.

The commands are for the administrator to run: depgraph never restarts, signals or changes
anything itself. A system service is restarted with ``systemctl restart UNIT`` (systemctl(1)); a
user's own service with ``systemctl --user --machine=USER@ restart UNIT``; a login session only by
logging out; a container by restarting the container; a process outside any unit by hand. pid 1
cannot be restarted: a reboot (or, for systemd, ``systemctl daemon-reexec``) is needed, and so is a
reboot for the system bus (``dbus.service``), which cannot be restarted without breaking the
services connected to it (needrestart makes the same exception).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from depgraph.runtime.scan import ProcessExposure, Reason, RuntimeScan

NEEDS_REBOOT_UNITS = ("dbus.service", "dbus-broker.service")


class ActionKind(enum.Enum):
    """The kinds of remediation step, in the order they should be done."""

    UPGRADE = "upgrade"
    RESTART_UNIT = "restart-unit"
    RESTART_USER_UNIT = "restart-user-unit"
    RESTART_CONTAINER = "restart-container"
    SESSION = "log-out"
    MANUAL = "restart-by-hand"
    REBOOT = "reboot"


@dataclass(frozen=True, slots=True)
class Action:
    """One step: what it acts on, the command to run (None when there is none), the processes."""

    kind: ActionKind
    target: str
    command: str | None
    pids: tuple[int, ...]
    why: str


def _user(uid: int | None) -> str:
    if uid is None:
        return "USER"
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (KeyError, ImportError):
        return str(uid)


_CONTAINER_COMMANDS = {
    "docker": "docker restart {name}",
    "podman": "podman restart {name}",
    "lxc": "lxc-stop -n {name} && lxc-start -n {name}",
    "nspawn": "machinectl reboot {name}",
}


def _action_for(process: ProcessExposure) -> tuple[ActionKind, str, str | None]:
    place = process.placement
    if process.pid == 1:
        command = "systemctl daemon-reexec" if (process.exe or "").endswith("/systemd") else None
        return ActionKind.REBOOT, "pid 1", command
    if place is not None and place.container is not None:
        kind, name = place.container
        template = _CONTAINER_COMMANDS.get(kind)
        short = name[:12] if kind in ("docker", "podman") else name
        command = template.format(name=short) if template else None
        return ActionKind.RESTART_CONTAINER, f"{kind} {short}", command
    unit = place.unit if place else None
    if unit is None or unit == "init.scope":
        return ActionKind.MANUAL, f"pid {process.pid}", None
    if unit in NEEDS_REBOOT_UNITS:
        return ActionKind.REBOOT, unit, None
    if unit.endswith(".scope"):
        return ActionKind.SESSION, unit, None
    if place is not None and place.user_unit:
        user = _user(process.uid)
        return (
            ActionKind.RESTART_USER_UNIT,
            f"{user}: {unit}",
            f"systemctl --user --machine={user}@ restart {unit}",
        )
    if unit.startswith("user@"):
        user = _user(process.uid)
        return (
            ActionKind.RESTART_USER_UNIT,
            unit,
            f"systemctl --user --machine={user}@ daemon-reexec",
        )
    return ActionKind.RESTART_UNIT, unit, f"systemctl restart {unit}"


def restart_plan(scan: RuntimeScan, upgrading: bool = False) -> tuple[Action, ...]:
    """The steps for every process of ``scan`` that needs it, grouped by unit (or container...);
    ``upgrading``: also the processes that map the library as it is now, which the upgrade
    replaces under them (issue 24: an upgrade always says what to restart after it)."""
    steps: dict[tuple[ActionKind, str], tuple[str | None, list[int], list[str]]] = {}
    vulnerable = [p for p in scan.to_restart if p.reason is Reason.VULNERABLE_VERSION]
    actions: list[Action] = []
    if vulnerable:
        package = scan.library.package or scan.library.describe()
        actions.append(
            Action(
                ActionKind.UPGRADE,
                package,
                f"apt-get install --only-upgrade {package}",
                tuple(p.pid for p in vulnerable),
                "the installed version is vulnerable: restarting alone loads it again",
            )
        )
    current = [p for p in scan.processes if not p.needs_restart and p.mappings] if upgrading else []
    for process in (*scan.to_restart, *current):
        kind, target, command = _action_for(process)
        entry = steps.setdefault((kind, target), (command, [], []))
        entry[1].append(process.pid)
        state = process.reason.value if process.needs_restart else "mapped: the upgrade replaces it"
        why = f"{process.command or process.exe or process.pid}: {process.library_path} {state}"
        if why not in entry[2]:
            entry[2].append(why)
    order = list(ActionKind)
    for (kind, target), (command, pids, whys) in sorted(
        steps.items(), key=lambda item: (order.index(item[0][0]), item[0][1])
    ):
        actions.append(Action(kind, target, command, tuple(sorted(pids)), "; ".join(whys)))
    return tuple(actions)
