"""The remediation plan: the advice's steps made concrete for the audited system.

In order (issue "depgraph audit"): take exposed servers offline, upgrade the library packages (every
architecture installed), restart what runs the old code (or reboot), regenerate keys and
certificates, revoke the old certificates, assess the damage (sessions, passwords). The key,
revocation and session steps concern only servers that serve TLS with keys (issue 21): a daemon,
a listening socket seen, a configured key or certificate, each named with its package. A step that
does not apply is left out; each step names the packages it concerns. The profile's own remediation
text (``[[remediation]]``) is quoted where it has a step of that name. Commands are for the
administrator: depgraph runs none of them.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass

from depgraph.audit import AuditReport, Dependent
from depgraph.fixcheck import FixState, LibraryVerdict
from depgraph.model import Role
from depgraph.profiles import Impact
from depgraph.risk import Level, LibraryState
from depgraph.services import Services

SHOWN = 8


@dataclass(frozen=True, slots=True)
class Step:
    """report-v1 ``actions[]``: a step id, what to do in words, the packages it concerns."""

    step: str
    text: str
    packages: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()

    def to_report(self) -> dict[str, object]:
        return {
            "step": self.step,
            "text": self.text,
            "packages": list(self.packages),
            "commands": list(self.commands),
        }


def plan(report: AuditReport) -> tuple[Step, ...]:
    """Every step that applies to ``report``, in the order to do them.

    The steps follow the CVE's impact (:class:`~depgraph.profiles.Impact`, issue 24): a memory
    disclosure brings the Heartbleed advice's steps (exposed servers offline, upgrade and restart,
    new keys, back online, revoke, damage); a denial of service only the upgrade and the restart;
    code execution and a backdoor treat the affected services' hosts as compromised; an unknown
    impact shows the key steps only as conditional. An unknown fix state asks (what would decide
    it) and brings no key step on its own."""
    impact = report.profile.impact
    advice = {entry.step: entry.text for entry in report.profile.remediation}
    broken = [v for v in report.libraries if v.state in (FixState.VULNERABLE, FixState.UNKNOWN)]
    steps: list[Step] = []
    critical = [d for d in report.dependents if d.risk.level is Level.CRITICAL]
    if critical and impact in OFFLINE_IMPACTS:
        steps.append(_take_offline(report, critical, bool(broken)))
    if broken:
        steps.append(_upgrade(report, advice, broken))
    steps.extend(_restart(report, advice, bool(broken)))
    steps.extend(_impact_steps(report, advice, bool(critical and impact in OFFLINE_IMPACTS)))
    if "investigate" in advice and not impact.compromises_host and (broken or critical):
        steps.append(Step("investigate", advice["investigate"]))
    return tuple(steps)


OFFLINE_IMPACTS = (Impact.MEMORY_DISCLOSURE, Impact.CODE_EXECUTION, Impact.BACKDOOR)
"""The impacts for which a reachable vulnerable server is taken offline until fixed (a denial of
service is not worth causing one)."""


def _take_offline(report: AuditReport, critical: list[Dependent], broken: bool) -> Step:
    names = _names(critical)
    listening = sorted(
        {str(listener) for d in critical for p in d.processes for listener in p.listening or ()}
    )
    one = len(names) == 1
    these, them, they = (
        ("this exposed server", "it", "it is")
        if one
        else ("these exposed servers", "them", "they are")
    )
    until = f"the fix is in and {they} restarted" if broken else f"{they} restarted"
    text = f"Take {these} offline or firewall {them} until {until}: {_list(names)}"
    if listening:
        text += f" (listening on {_list(listening)})"
    return Step("take-offline", text + ".", tuple(names))


def _upgrade(report: AuditReport, advice: dict[str, str], broken: list[LibraryVerdict]) -> Step:
    packages = sorted({_qualified(v.package, v.architecture, report) for v in broken})
    command = "apt-get update && apt-get install --only-upgrade " + " ".join(packages)
    text = advice.get("upgrade", "Upgrade the library package.")
    for verdict in broken:
        if verdict.state is FixState.UNKNOWN:
            text += (
                f" The fix state of {verdict.package} could not be told; {deciders(verdict)}. "
                "Until then, upgrading is the safe choice."
            )
    return Step("upgrade", text, tuple(packages), (command,))


def deciders(verdict: LibraryVerdict) -> str:
    """What would decide an unknown fix state, in words: the verdict's own ``would-decide``
    evidence, or the three things that decide one in general."""
    said = [e.detail for e in verdict.evidence if e.kind == "would-decide"]
    if said:
        return "; ".join(said)
    return (
        f"its changelog (/usr/share/doc/{verdict.package.partition(':')[0]}/changelog.Debian.gz), "
        "the release's first fixed version (its advisory), or --release would decide it"
    )


def _impact_steps(report: AuditReport, advice: dict[str, str], offline: bool) -> list[Step]:
    """The steps after the restart, as the impact calls for them; for servers whose risk is only
    an upper bound (the fix state unknown), a conditional step instead of the playbook."""
    impact = report.profile.impact
    servers = _exposed_servers(report, known=True)
    serving = _serving(report, servers)
    steps: list[Step] = []
    if impact is Impact.MEMORY_DISCLOSURE:
        if serving:
            steps.extend(_disclosure_steps(report, serving, advice, offline))
        elif _vulnerable(report) and _clients(report):
            steps.append(_client_step(report, servers))
    elif impact.compromises_host:
        exposed = _compromised(report)
        if exposed:
            steps.append(_compromise_step(report, exposed, advice))
    elif impact is Impact.UNKNOWN and serving:
        which = _list(sorted(s.label() for s in serving))
        steps.append(
            Step(
                "check-impact",
                "The profile does not say what the bug lets an attacker do. If the advisory says "
                "it discloses memory or runs code, regard the keys of these servers as exposed and "
                f"replace them: {which}; give --impact to have the steps for it.",
                tuple(_names([s.dependent for s in serving])),
            )
        )
    steps.extend(_if_vulnerable(report))
    return steps


def _if_vulnerable(report: AuditReport) -> list[Step]:
    """For dependents whose risk is only an upper bound (the fix state unknown): the impact's
    steps as a condition, naming what would decide it, never the steps themselves."""
    impact = report.profile.impact
    if impact in (Impact.DENIAL_OF_SERVICE, Impact.OTHER):
        return []  # upgrade and restart are all there is, and they are in the plan
    if impact.compromises_host:
        named = _names(_compromised(report, known=False))
        what = f"treat the hosts of these services as compromised: {_list(named)}"
    else:
        maybe = _serving(report, _exposed_servers(report, known=False))
        named = _names([s.dependent for s in maybe])
        which = _list(sorted(s.label() for s in maybe))
        what = (
            f"the key steps ({impact.words}) apply to these servers: {which}"
            if impact is Impact.MEMORY_DISCLOSURE
            else f"if the advisory says it discloses memory or runs code, the key steps apply to "
            f"these servers: {which}"
        )
    if not named:
        return []
    unknown = [v for v in report.libraries if v.state is FixState.UNKNOWN]
    words = "; ".join(f"{v.package}: {deciders(v)}" for v in unknown)
    return [
        Step(
            "if-vulnerable",
            f"If the library turns out to have been vulnerable ({words}), {what}.",
            tuple(named),
        )
    ]


def _exposed_servers(report: AuditReport, known: bool) -> list[Dependent]:
    """The TLS servers at high risk or more, whose risk is known (or only an upper bound)."""
    return [
        d
        for d in report.dependents
        if d.role.role is Role.SERVER
        and d.risk.level.at_least(Level.HIGH)
        and d.risk.known is known
    ]


def _vulnerable(report: AuditReport) -> bool:
    return any(v.state is FixState.VULNERABLE for v in report.libraries)


def _clients(report: AuditReport) -> list[str]:
    return _names([d for d in report.dependents if d.role.role is Role.CLIENT and d.risk.known])


def _client_step(report: AuditReport, servers: list[Dependent]) -> Step:
    clients = _clients(report)
    text = "No TLS server is exposed here"
    if servers:
        # a server by its code, but nothing here runs it as one (no key to rotate)
        text = (
            "No TLS server with keys was found here (no service, listening socket or "
            f"configured key for {_list(_names(servers))})"
        )
    text += (
        "; the TLS clients could have leaked memory to a malicious server they talked to: "
        "change credentials this machine's clients used with servers you do not trust "
        f"({_list(clients)})."
    )
    return Step("assess-damage", text, tuple(clients))


def _disclosure_steps(
    report: AuditReport, serving: list[Serving], advice: dict[str, str], offline: bool
) -> list[Step]:
    """New keys (the old moved aside), back online, revoke, then the damage: the Heartbleed
    advice's order (issue "depgraph audit"; issue 24)."""
    names = _names([s.dependent for s in serving])
    keys = _keys(report, serving, advice)
    steps = keys[:1]
    if offline:
        steps.append(
            Step(
                "back-online",
                "Put the servers taken offline back online once the fix is in, they are "
                "restarted and their new keys and certificates are installed.",
                tuple(_names([d for d in report.dependents if d.risk.level is Level.CRITICAL])),
            )
        )
    steps.extend(keys[1:])
    text = advice.get(
        "reset-secrets",
        "Change the passwords of users who logged in through the exposed servers while they ran "
        "the vulnerable library, and invalidate every session cookie and session ticket.",
    )
    text += (
        f" Concerns: {_list(names)}. Client certificates are not compromised (a client's private "
        f"key never reaches the server). {_recorded(report)}"
    )
    steps.append(Step("assess-damage", text, tuple(names)))
    return steps


def _recorded(report: AuditReport) -> str:
    """What a stolen key does to traffic recorded before the fix: decrypts it unless the key
    exchange was forward-secret, said per server from the configuration at hand."""
    base = "Traffic recorded before the fix can be decrypted with a stolen key"
    findings = getattr(report, "ciphers", ())  # until the cipher reader lands
    if not findings:
        return f"{base} unless the servers' ciphers were forward-secret (no cipher list was read)."
    safe = [f.server for f in findings if f.forward_secret is True]
    unsafe = [f"{f.server} ({f.detail})" for f in findings if f.forward_secret is False]
    unknown = [f"{f.server} ({f.detail})" for f in findings if f.forward_secret is None]
    parts = []
    if unsafe:
        parts.append(f"{base}: not forward-secret: {_list(unsafe)}")
    if unknown:
        parts.append(f"not known: {_list(unknown)}")
    if safe:
        parts.append(f"forward-secret (recorded traffic stays safe): {_list(safe)}")
    text = "; ".join(parts)
    if not unsafe:
        text = f"{base} unless the key exchange was forward-secret: {text}"
    return text + "."


COMPROMISE_REACH = {
    "openssh-server": "sshd runs as root: the host keys /etc/ssh/ssh_host_*_key and every "
    "account's credentials",
}
"""What a compromised service can reach, where it is more than its own files."""


def _compromised(report: AuditReport, known: bool = True) -> list[Dependent]:
    """The dependents whose hosts code execution or a backdoor puts in doubt: at risk (medium
    or more; ``known``: a known risk, or an upper bound only) and run as a service, serving TLS,
    or named by the profile's exposures."""
    exposures = {e.package for e in report.profile.exposures}
    services = {d.node.package for d in _services(report)}
    return [
        d
        for d in report.dependents
        if d.risk.known is known
        and d.risk.level.at_least(Level.MEDIUM)
        and (
            d.node.package.partition(":")[0] in exposures
            or d.node.package in services
            or (d.role.role is Role.SERVER and bool(_why_serving(report, d)))
        )
    ]


def _compromise_step(report: AuditReport, exposed: list[Dependent], advice: dict[str, str]) -> Step:
    impact = report.profile.impact
    named = []
    for dependent in sorted(exposed, key=lambda d: d.node.package):
        name = dependent.node.package
        reach = COMPROMISE_REACH.get(name.partition(":")[0])
        if reach is None:
            why = _why_serving(report, dependent)
            reach = "; ".join(["what its service can read", *why])
        named.append(f"{name} ({reach})")
    text = (
        f"With {impact.words}, treat the hosts of these services as compromised: "
        f"{_list(named)}. Replace the credentials and keys they could reach (host keys, TLS "
        "keys, passwords and tokens) from a clean system, and rebuild from known-good media "
        "where your policy says so."
    )
    if "investigate" in advice:
        text += f" {advice['investigate']}"
    return Step("assume-compromised", text, tuple(_names(exposed)))


def _qualified(package: str, architecture: str | None, report: AuditReport) -> str:
    """``libssl1.0.0:i386`` when the same library is installed for several architectures."""
    same = [v for v in report.libraries if v.package.partition(":")[0] == package]
    if ":" not in package and len(same) > 1 and architecture:
        return f"{package}:{architecture}"
    return package


def _restart(report: AuditReport, advice: dict[str, str], upgrading: bool) -> list[Step]:
    """Restart commands from the runtime scan; without one, the services to restart by name."""
    from depgraph.runtime.plan import ActionKind, restart_plan

    steps: list[Step] = []
    text = _restart_text(report, advice, upgrading)
    if report.runtime:
        actions = [action for scan in report.runtime for action in restart_plan(scan, upgrading)]
        # the upgrade step already names the library's packages and command
        done_elsewhere = (
            (ActionKind.REBOOT, ActionKind.UPGRADE) if upgrading else (ActionKind.REBOOT,)
        )
        runnable = [a for a in actions if a.command and a.kind not in done_elsewhere]
        reboot = [a for a in actions if a.kind is ActionKind.REBOOT]
        by_hand = [a for a in actions if a.command is None and a.kind is not ActionKind.REBOOT]
        packages = sorted(
            {
                p.package
                for scan in report.runtime
                for p in (scan.processes if upgrading else scan.to_restart)
                if p.package and (upgrading or p.needs_restart)
            }
        )
        if runnable or by_hand:
            commands = tuple(dict.fromkeys(a.command for a in runnable if a.command))
            detail = text
            if by_hand:
                detail += " By hand: " + _list([f"{a.target} ({a.why})" for a in by_hand]) + "."
            if upgrading:
                detail += " Do it after the upgrade, or they load the vulnerable library again."
            steps.append(Step("restart", detail, tuple(packages), commands))
        if reboot:
            why = _list([f"{a.target}: {a.why}" for a in reboot])
            steps.append(Step("reboot", f"Reboot: {why}.", tuple(packages)))
        return _unread(report, steps, text, upgrading)
    services = _services(report)
    why = report.runtime_note.removeprefix("running processes not looked at: ")
    if not upgrading:
        if not any(d.risk.level is not Level.NONE for d in report.dependents):
            return steps
        # the fix is in, but processes started before it may still run the old library
        named = (
            f", or restart at least the services of {_list(_names(services))}" if services else ""
        )
        detail = (
            f"{text} Running processes were not looked at ({why}), and {_history_words(report)}. "
            f"On the host, run 'depgraph restart' as root and do what it lists{named}; or reboot."
        )
        return [Step("restart", detail, tuple(_names(services)), ("depgraph restart",))]
    if not services:
        # no service is named, but programs started before the upgrade still run the old code
        detail = (
            f"{text} Running processes were not looked at ({why}) and {_no_service_words(report)}: "
            "on the host, run 'depgraph restart' as root "
            "and do what it lists, or reboot. Do it after the upgrade, or they load the "
            "vulnerable library again."
        )
        return [Step("restart", detail, (), ("depgraph restart",))]
    commands, unnamed = _restart_commands(report, services)
    detail = (
        f"{text} Running processes were not looked at ({why}); restart at least the services "
        f"of {_list(_names(services))}, or reboot. Do it after the upgrade, or they load the "
        "vulnerable library again."
    )
    if unnamed:
        detail += (
            f" No unit, upstart job or init script of {_list(unnamed)} is named in the data: "
            "find its service by hand."
        )
    if commands and report.services is not None:
        detail += _init_words(report.services)
    return [Step("restart", detail, tuple(_names(services)), commands)]


FIXED_RESTART = "The fix is installed; restart what may still run an old copy of the library."


def _restart_text(report: AuditReport, advice: dict[str, str], upgrading: bool) -> str:
    """The restart step's first words: the profile's (which speak of vulnerable code) when an
    upgrade is due, a vulnerable version was on disk (dpkg's log) or a process maps an old copy
    not known to be fixed; plainer words when what may run is only a fixed older copy."""
    said = advice.get("restart", "Restart every process that has the old library mapped.")
    if upgrading or report.windows:
        return said
    if _only_fixed_copies(report):
        # the profile's words speak of vulnerable code; these processes map a fixed older copy
        return (
            "Restart the processes that map an older copy of the library (already fixed), "
            "so that they load the newest."
        )
    old = [p for scan in report.runtime for p in scan.to_restart]
    if any(report.runs_vulnerable_old_code(p) for p in old):
        return said
    return FIXED_RESTART


def _history_words(report: AuditReport) -> str:
    """Whether a vulnerable version of the library was installed here, from dpkg's log: the
    window it shows, or why that cannot be told (the restart step's reason offline)."""
    if report.windows:
        said = "; ".join(f"{w.package}: {w.describe()}" for w in report.windows)
        return f"dpkg's log shows {said}: processes started before then may still run it"
    if report.source_kind in SAVED_LISTS:
        where = "no dpkg log is at hand (saved package lists)"
    elif not report.dpkg_logs:
        where = "no dpkg log under the root"
    else:
        where = "dpkg's log does not go back to the library's first install"
    return (
        f"whether a vulnerable version was ever installed here cannot be told ({where}): if one "
        "was, processes started before the fix may still run it"
    )


def _only_fixed_copies(report: AuditReport) -> bool:
    """Every process to restart maps an old copy that dpkg's log shows fixed (or never
    affected): nothing runs vulnerable code, whatever the profile's restart advice says."""
    processes = [p for scan in report.runtime for p in scan.to_restart]
    if not processes:
        return False
    fine = (LibraryState.FIXED, LibraryState.NOT_AFFECTED)
    copies = [report.old_copy(p) for p in processes]
    return all(copy is not None and copy.state in fine for copy in copies)


def _unread(report: AuditReport, steps: list[Step], text: str, upgrading: bool) -> list[Step]:
    """The processes the scan could not read may map the old library too: the restart step says
    so (or is the step that says so), unless nothing is at risk (a library never affected). The
    processes read only in part (a snapshot with their maps but not their stat) map it: the
    step says that the version they map is unknown."""
    from depgraph.runtime.scan import (
        incomplete_count,
        incomplete_sentence,
        unreadable_count,
        unreadable_sentence,
    )

    unread = unreadable_sentence(report.runtime, incomplete=False)
    part = incomplete_sentence(report.runtime)
    at_risk = upgrading or any(d.risk.level is not Level.NONE for d in report.dependents)
    if not (unread or part) or not at_risk:
        return steps
    restart = next((n for n, step in enumerate(steps) if step.step == "restart"), None)
    note = ""
    if unread:
        one = unreadable_count(report.runtime) == 1
        they, them, load = ("it", "it", "loads") if one else ("they", "them", "load")
        note += f" {unread}: {they} may map the old library too; restart {them}, or reboot."
        if restart is None and upgrading:
            note += f" Do it after the upgrade, or {they} {load} the vulnerable library again."
    if part:
        one = incomplete_count(report.runtime) == 1
        it, them = ("it", "it") if one else ("they", "them")
        maps = "maps" if one else "map"
        note += (
            f" {part}: which version of the library {it} {maps} cannot be told, so {it} "
            f"{'is' if one else 'are'} counted as running a vulnerable one; restart {them}."
        )
    if restart is None:
        return [Step("restart", text + note), *steps]
    steps[restart] = dataclasses.replace(steps[restart], text=steps[restart].text + note)
    return steps


def _no_service_words(report: AuditReport) -> str:
    """'no dependent is known to run as a service', unless the knowledge base knows one as a
    daemon where it was scanned (hostapd, which the key steps then name 'if it serves TLS here')."""
    known = [
        e.detail
        for d in report.dependents
        if d.risk.level is not Level.NONE
        for e in d.role.evidence
        if e.kind == "known-daemon"
    ]
    if not known:
        return "no dependent is known to run as a service"
    return f"the data names no service (the knowledge base says {_list(sorted(set(known)))})"


def _init_words(services: Services) -> str:
    if services.init is None:
        return f" The init system could not be told ({services.init_evidence}): 'service' works with all."
    return f" Commands for {services.init.value} ({services.init_evidence})."


def _services(report: AuditReport) -> list[Dependent]:
    """The dependents at some risk that run as services: they ship a systemd unit, an upstart job
    or an init script (their file list, the status file's Conffiles), or their metadata says they
    are a daemon (a server Provides such as httpd or mail-transport-agent, Policy's virtual
    package list). A daemon that reaches the library only through other packages is named
    only when its role says it uses it (bluez's bluetoothd does not load python-dbus's
    libssl)."""
    shipped = report.services
    return [
        d
        for d in report.dependents
        if d.risk.level is not Level.NONE
        and (d.node.direct or d.role.role in (Role.SERVER, Role.CLIENT))
        and (
            any(e.kind in ("systemd-unit", "init-script", "provides") for e in d.role.evidence)
            or (shipped is not None and bool(shipped.of(d.node.package)))
        )
    ]


def _restart_commands(
    report: AuditReport, services: list[Dependent]
) -> tuple[tuple[str, ...], list[str]]:
    """The restart command of each service for the tree's init system, and the dependents none of
    whose services is named (a daemon known by its Provides, without file lists)."""
    shipped = report.services
    commands: list[str] = []
    unnamed: list[str] = []
    for dependent in sorted(services, key=lambda d: d.node.package):
        own = shipped.of(dependent.node.package) if shipped is not None else ()
        if shipped is not None and own:
            commands.extend(c for c in map(shipped.command, own) if c)
            continue
        units = [
            (e.path or e.detail).rsplit("/", 1)[-1]
            for e in dependent.role.evidence
            if e.kind == "systemd-unit" and (e.path or "").endswith(".service")
        ]
        commands.extend(f"systemctl restart {unit}" for unit in units if "@" not in unit)
        if not units:
            unnamed.append(dependent.node.package)
    return tuple(dict.fromkeys(commands)), sorted(set(unnamed))


@dataclass(frozen=True, slots=True)
class Serving:
    """An exposed server that serves TLS with keys, and why that is believed (issue 21)."""

    dependent: Dependent
    why: str
    """A service it ships, a socket it was seen listening on, a key its configuration names."""
    certain: bool
    """False when only the knowledge base says so (a saved list): "if it serves TLS here"."""

    def label(self) -> str:
        """``nginx (ships nginx.service)``, or the knowledge-base wording."""
        if self.certain:
            return f"{self.dependent.node.package} ({self.why})"
        return f"{self.dependent.node.package} (if it serves TLS here: {self.why})"


def _serving(report: AuditReport, servers: list[Dependent]) -> list[Serving]:
    """The exposed servers that serve TLS with keys: a daemon (a systemd unit, an init script, a
    server Provides), a listening socket seen, or a configured certificate or key found. A server
    by its code alone (the openssl command, whose s_server is run by hand) has no key to rotate.
    Without files (saved lists), a knowledge-base server that was a daemon where it was scanned."""
    found = []
    for dependent in servers:
        reasons = _why_serving(report, dependent)
        if reasons:
            found.append(Serving(dependent, "; ".join(reasons), certain=True))
            continue
        known = [e for e in dependent.role.evidence if e.kind == "known-daemon"]
        if known:
            found.append(Serving(dependent, known[0].detail, certain=False))
    return found


def _why_serving(report: AuditReport, dependent: Dependent) -> list[str]:
    """Why ``dependent`` holds keys of a TLS server, in words (empty: nothing says so)."""
    from depgraph.runtime.keys import servers_for

    evidence = dependent.role.evidence
    reasons = []
    listeners = sorted(
        {str(listener) for p in dependent.processes for listener in p.listening or ()}
    )
    seen = [e.detail.split(" and maps ")[0] for e in evidence if e.kind == "listening-socket"]
    if listeners:
        reasons.append(f"listening on {_few(listeners)}")
    elif seen:
        reasons.append(seen[0])
    # the daemon's own unit before templates (postgresql.service before pg_dump@.service)
    units = sorted(
        {
            e.path
            if e.kind == "init-script" and e.path
            else e.detail.removeprefix("ships ").split(" in its sibling ")[0]
            for e in evidence
            if e.kind in ("systemd-unit", "init-script")
        },
        key=lambda unit: ("@" in unit, unit),
    )
    if not units and report.services is not None:
        # a service named by the status file's Conffiles (no file list at hand)
        units = sorted(
            {
                f"{service.kind.replace('-', ' ')} {service.name}"
                for service in report.services.of(dependent.node.package)
            }
        )
    if units:
        reasons.append(f"ships {_few(units)}")
    provides = sorted({e.detail.split(":")[0] for e in evidence if e.kind == "provides"})
    if provides:
        reasons.append(_few(provides))
    server = servers_for([dependent.node.package])
    keys = [k.path for k in report.keys if k.exists and k.server in server]
    if keys:
        reasons.append(f"configures {_few(keys)}")
    return reasons


def _few(items: list[str], shown: int = 3) -> str:
    if len(items) > shown:
        return ", ".join(items[:shown]) + f" and {len(items) - shown} more"
    return ", ".join(items)


def _keys(report: AuditReport, serving: list[Serving], advice: dict[str, str]) -> list[Step]:
    servers = [s.dependent for s in serving]
    names = _names(servers)
    which = _list(sorted(s.label() for s in serving))
    text = advice.get(
        "rotate-keys",
        "Regard the private keys of exposed TLS servers as compromised: generate new keys and "
        "have new certificates issued.",
    )
    text += (
        f" Servers that hold keys here: {which}. Move the old keys and certificates aside, do not "
        "delete them: the certificates are needed to revoke, and both are evidence."
    )
    disclosed = report.profile.disclosed
    moment = (
        datetime.datetime.combine(disclosed, datetime.time(), datetime.UTC).timestamp()
        if disclosed
        else None
    )
    found = [k for k in report.keys if k.exists]
    if found:
        shown = []
        for key in found[:SHOWN]:
            label = f"{key.path} ({key.server}, {key.material.value}"
            if moment is not None and key.certificates:
                label += ", issued before the fix" if key.issued_before(moment) else ", newer"
            shown.append(label + ")")
        detail = f"{text} Files: {_list(shown)}."
        steps = [Step("rotate-keys", detail, tuple(names))]
        certificates = [k for k in found if k.certificates]
        if certificates:
            paths = _list([k.path for k in certificates])
            revoke = f"Revoke the old certificates once their replacements are installed: {paths}."
            steps.append(Step("revoke-certificates", revoke, tuple(names)))
        return steps
    detail = f"{text} {_no_key_words(report, names)}: look in the configuration of {_list(names)}."
    return [
        Step("rotate-keys", detail, tuple(names)),
        Step(
            "revoke-certificates",
            "Revoke the certificates those keys were used with, once replaced.",
            tuple(names),
        ),
    ]


SAVED_LISTS = ("dpkg-list", "dpkg-status", "packages-index", "apt-cache-rdepends")
"""Source kinds without a tree: no configuration file to read."""


def _no_key_words(report: AuditReport, names: list[str]) -> str:
    """Why no key file is named: the configured files are not there, the configuration holds no
    path, depgraph does not read that server's configuration (``runtime.keys`` knows eight
    servers), or there is no configuration at hand (saved lists)."""
    from depgraph.runtime.keys import servers_for

    missing = sorted({k.path for k in report.keys if not k.exists})
    if missing:
        return f"The key and certificate files their configuration names are not there ({_few(missing)})"
    if report.source_kind in SAVED_LISTS:
        return "No key or certificate path was found (none read: no configuration at hand)"
    unread = [name for name in names if not servers_for([name])]
    read = [name for name in names if name not in unread]
    why = []
    if read:
        # the configuration may be absent from the tree (a minimised image): not "names none"
        why.append(f"none in what the audited system has of the configuration of {_list(read)}")
    if unread:
        why.append(f"depgraph does not read the configuration of {_list(unread)}")
    return f"No key or certificate path was found ({'; '.join(why)})"


def _names(dependents: list[Dependent]) -> list[str]:
    return sorted({d.node.package for d in dependents})


def _list(items: list[str]) -> str:
    if len(items) > SHOWN:
        return ", ".join(items[:SHOWN]) + f" and {len(items) - SHOWN} more"
    return ", ".join(items)
