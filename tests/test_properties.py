"""Properties of the risk rules and the plan over every combination (issue 21).

The risk rules are checked exhaustively: every fix state, role, component and consistent runtime
view (processes seen or not, partial, an old copy of each judged state, listening or not) under a
libssl-only bug, a libcrypto bug and a whole-library bug. The plan is checked on reports that
Hypothesis assembles through the audit's own ``_dependents`` (the code that turns processes into
the risk inputs), from synthetic graphs, roles and processes: every step names only packages it
applies to, and the report never reads as an all-clear where something could not be told.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depgraph.audit import AuditReport, Dependent, _dependents
from depgraph.fixcheck import FixState, LibraryVerdict
from depgraph.model import (
    Component,
    DependencyGraph,
    Evidence,
    Impact,
    Node,
    Role,
    RoleVerdict,
)
from depgraph.profiles import load_profile
from depgraph.remediation import OFFLINE_IMPACTS, plan
from depgraph.risk import FIXED_COPY, Level, LibraryState, OldCopy, Running, assess
from depgraph.runtime.library import LibraryFiles
from depgraph.runtime.maps import Mapping, MappingState
from depgraph.runtime.scan import ProcessExposure, Reason, RuntimeScan
from depgraph.runtime.sockets import Listener, Scope
from tests.test_risk import level

RANK = {level: index for index, level in enumerate(reversed(list(Level)))}
"""none 0 ... critical 4."""

VULNERABLE_COMPONENTS = (Component.LIBSSL, Component.LIBCRYPTO, None)


def runnings() -> Iterator[Running]:
    """Every consistent runtime view of one package's processes."""
    copies: list[OldCopy | None] = [None]
    copies += [OldCopy(7, "libssl3", state, "3.0.1-1", "why") for state in LibraryState]
    copies.append(OldCopy(7, "libssl3", LibraryState.UNKNOWN, None, "no dpkg log"))
    for unseen in (False, True):
        if unseen:  # nothing was looked at: no process, no partial view
            yield Running(unseen=True)
            continue
        for partial, unattributed in itertools.product((False, True), (False, True)):
            view = {
                "partial": partial,
                "unreadable": "pid 1 (init)" if partial else "",
                "unattributed": "pid 9" if unattributed else "",
            }
            yield Running(**view)  # type: ignore[arg-type]
            for stale, other, listen in itertools.product(
                (False, True), (False, True), ("none", "loopback", "public", "unreadable")
            ):
                for copy in copies if stale else [None]:
                    yield Running(
                        maps_library=True,
                        stale=stale,
                        old_copy=copy,
                        old_other="libcrypto.so.3" if other and not stale else "",
                        listening_public=listen == "public",
                        listening_loopback=listen in ("loopback", "public"),
                        sockets_unknown=listen == "unreadable",
                        **view,  # type: ignore[arg-type]
                    )


CASES = [
    (library, role, component, vulnerable, running)
    for library in LibraryState
    for role in Role
    for component in Component
    for vulnerable in VULNERABLE_COMPONENTS
    for running in runnings()
]


def risk_of(case: tuple[LibraryState, Role, Component, Component | None, Running]) -> Level:
    return level(*case)


def vulnerable_old_code(running: Running) -> bool:
    """A process maps an old copy of the vulnerable part not known to be fixed."""
    return running.stale and (running.old_copy is None or running.old_copy.state not in FIXED_COPY)


def test_there_are_many_cases() -> None:
    assert len(CASES) > 20_000


def test_an_unknown_never_ranks_none() -> None:
    """``none`` only where the fix is known to be in (or never needed) and no old code can run:
    no unknown fix state, no old copy of unknown version, no unread or unseen processes."""
    for case in CASES:
        library, _role, _component, _vulnerable, running = case
        if risk_of(case) is not Level.NONE:
            continue
        assert library in (LibraryState.FIXED, LibraryState.NOT_AFFECTED), case
        assert not running.stale and not running.old_other, case
        if library is LibraryState.FIXED:
            assert not (running.unseen or running.partial or running.unattributed), case


def test_a_fixed_library_with_only_fixed_code_mapped_never_ranks_above_low() -> None:
    for case in CASES:
        library, _role, _component, _vulnerable, running = case
        if library in FIXED_COPY and not vulnerable_old_code(running):
            assert RANK[risk_of(case)] <= RANK[Level.LOW], case


def test_critical_needs_a_reachable_tls_server_running_vulnerable_code() -> None:
    for case in CASES:
        library, role, _component, _vulnerable, running = case
        if risk_of(case) is not Level.CRITICAL:
            continue
        assert role is Role.SERVER and running.maps_library and running.listening_public, case
        runs_vulnerable = library is LibraryState.VULNERABLE and not (
            running.stale and running.old_copy is not None and running.old_copy.state in FIXED_COPY
        )
        assert runs_vulnerable or vulnerable_old_code(running), case


def test_worse_facts_never_lower_the_level() -> None:
    """A worse fix state, or a public listener, never ranks lower, all else equal."""
    worse = [
        LibraryState.NOT_AFFECTED,
        LibraryState.FIXED,
        LibraryState.UNKNOWN,
        LibraryState.VULNERABLE,
    ]
    for role, component, vulnerable, running in itertools.product(
        Role, Component, VULNERABLE_COMPONENTS, runnings()
    ):
        levels = [RANK[risk_of((state, role, component, vulnerable, running))] for state in worse]
        assert levels == sorted(levels), (role, component, vulnerable, running, levels)
        if running.maps_library and not running.listening_public:
            public = Running(
                **{**_fields(running), "listening_public": True, "listening_loopback": True}
            )
            for state in worse:
                before = risk_of((state, role, component, vulnerable, running))
                after = risk_of((state, role, component, vulnerable, public))
                assert RANK[after] >= RANK[before], (state, role, running)


def _fields(running: Running) -> dict[str, object]:
    return {name: getattr(running, name) for name in Running.__slots__}


def test_reasons_agree_with_the_facts_beside_them() -> None:
    """Each reason the table can print, against the inputs it was printed for."""
    for case in CASES:
        library, role, component, vulnerable, running = case
        reasons = assess(
            library=library,
            role=role,
            component=component,
            vulnerable_component=vulnerable,
            running=running,
        ).reasons
        text = " | ".join(reasons)
        assert reasons, case
        if "nothing runs the old code" in text:
            assert not (running.stale or running.old_other or running.partial), case
            assert not (running.unseen or running.unattributed), case
        if "not running" in text and "not seen running" not in text:
            assert not (running.maps_library or running.partial or running.unseen), case
        if "fix in" in text:
            assert library is LibraryState.FIXED, case
        if text.startswith("not affected") or "; not affected" in text:
            assert library is LibraryState.NOT_AFFECTED, case
        if "still runs the old, vulnerable library" in text:
            assert vulnerable_old_code(running), case
        if "listening, reachable" in text or "a TLS server, reachable" in text:
            assert running.listening_public and role is Role.SERVER, case
        if "loopback only" in text:
            assert running.listening_loopback and not running.listening_public, case
        if library is LibraryState.UNKNOWN:
            assert "unknown" in text, case


# The plan, on reports assembled by the audit's own code ----------------------------------------

LIBRARY = "libssl3"
SERVING = ("systemd-unit", "init-script", "provides", "known-daemon")


@st.composite
def reports(draw: st.DrawFn) -> AuditReport:
    """A report of one library and up to five dependents, with processes as the scan gives them."""
    profile = load_profile(draw(st.sampled_from(["heartbleed", "openssl-cve-2022-3602"])))
    profile = dataclasses.replace(profile, impact=draw(st.sampled_from(list(Impact))))
    state = draw(st.sampled_from([s for s in FixState if s is not FixState.NOT_INSTALLED]))
    verdict = LibraryVerdict(LIBRARY, "3.0.1-1", "amd64", state, (), decided_by="synthetic")
    view = draw(st.sampled_from(["live", "partial", "unseen", "dpkg-list"]))
    count = draw(st.integers(0, 5)) if view != "dpkg-list" else 0
    nodes = [Node(LIBRARY, "3.0.1-1", True, 0, (LIBRARY,))]
    roles: dict[str, RoleVerdict] = {}
    processes: list[ProcessExposure] = []
    copies: list[OldCopy] = []
    for index in range(count):
        name = f"pkg{index}"
        nodes.append(Node(name, "1.0-1", True, 1, (name, LIBRARY)))
        kinds = draw(st.sets(st.sampled_from([*SERVING, "elf-symbols"])))
        evidence = tuple(Evidence(kind, f"{kind} of {name}", f"/x/{name}") for kind in kinds)
        roles[name] = RoleVerdict(
            draw(st.sampled_from(list(Role))),
            draw(st.sampled_from([Component.LIBSSL, Component.LIBCRYPTO, Component.UNKNOWN])),
            0.9,
            evidence,
        )
        if view in ("unseen", "dpkg-list"):
            continue
        for _ in range(draw(st.integers(0, 2))):
            pid = 100 + len(processes)
            mapped = draw(st.sampled_from(list(MappingState)))
            soname = draw(st.sampled_from(["libssl.so.3", "libcrypto.so.3"]))
            listen = draw(st.sampled_from(["none", "loopback", "public", "unreadable"]))
            processes.append(_process(pid, name, mapped, soname, listen, state))
            if mapped in (MappingState.DELETED, MappingState.REPLACED):
                copies.append(
                    OldCopy(pid, LIBRARY, draw(st.sampled_from(list(LibraryState))), "3.0.0-1", "x")
                )
    scans: tuple[RuntimeScan, ...] = ()
    if view in ("live", "partial"):
        unreadable = ((1, "init"),) if view == "partial" else ()
        files = LibraryFiles(LIBRARY, frozenset({"libssl.so.3", "libcrypto.so.3"}))
        scans = (RuntimeScan(files, tuple(processes), 50, unreadable, "/proc", True),)
    graph = DependencyGraph((LIBRARY,), tuple(nodes), (), (), True, roles=roles)
    dependents = _dependents(graph, scans, {LIBRARY: verdict}, profile, tuple(copies))
    return AuditReport(
        profile=profile,
        source="synthetic",
        source_kind="live" if scans else "dpkg-list" if view == "dpkg-list" else "dpkg-status",
        libraries=(verdict,),
        dependents=dependents,
        runtime=scans,
        runtime_note="processes from /proc" if scans else "running processes not looked at: x",
        stray=(),
        old_copies=tuple(copies),
        dependents_unknown="a dpkg -l listing has no relationships" if view == "dpkg-list" else "",
    )


def _process(
    pid: int, package: str, mapped: MappingState, soname: str, listen: str, state: FixState
) -> ProcessExposure:
    """One process as the scan reports it (runtime/scan.py's reasons)."""
    path = f"/usr/lib/x86_64-linux-gnu/{soname}"
    mapping = Mapping(path, "fe:01", 1000 + pid, mapped is MappingState.DELETED, "7f-8f", 1)
    if mapped is MappingState.DELETED:
        reason = Reason.DELETED
    elif mapped is MappingState.REPLACED:
        reason = Reason.REPLACED
    elif state is FixState.VULNERABLE:
        reason = Reason.VULNERABLE_VERSION
    else:
        reason = Reason.UNKNOWN if mapped is MappingState.UNKNOWN else Reason.CURRENT
    listening: tuple[Listener, ...] | None = ()
    if listen == "unreadable":
        listening = None
    elif listen != "none":
        address, scope = (
            ("0.0.0.0", Scope.ALL) if listen == "public" else ("127.0.0.1", Scope.LOOPBACK)
        )
        listening = (Listener("tcp", 4, address, 443, scope, 5000 + pid),)
    return ProcessExposure(
        pid, "daemon", "/usr/sbin/daemon", package, 0, 1.0, None, (mapping,), (mapped,), reason,
        listening,
    )  # fmt: skip


def serves_with_keys(dependent: Dependent) -> bool:
    """What the plan's key steps require: a daemon, a listening socket, a configured key."""
    return any(e.kind in (*SERVING, "listening-socket") for e in dependent.role.evidence) or any(
        p.listening for p in dependent.processes
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports())
def test_every_plan_step_names_only_packages_it_applies_to(report: AuditReport) -> None:
    steps = {step.step: step for step in plan(report)}
    by_name = {d.node.package: d for d in report.dependents}
    broken = {
        v.package for v in report.libraries if v.state in (FixState.VULNERABLE, FixState.UNKNOWN)
    }
    critical = {d.node.package for d in report.dependents if d.risk.level is Level.CRITICAL}
    if critical and report.profile.impact in OFFLINE_IMPACTS:
        assert set(steps["take-offline"].packages) == critical
    else:
        assert "take-offline" not in steps
    if broken:  # never a silent all-clear: the library must be upgraded
        assert set(steps["upgrade"].packages) == broken
        assert report.highest is not Level.NONE
    else:
        assert "upgrade" not in steps
    servers = {
        name
        for name, d in by_name.items()
        if d.role.role is Role.SERVER and d.risk.level.at_least(Level.HIGH) and serves_with_keys(d)
    }
    for name in ("rotate-keys", "revoke-certificates"):
        if name in steps:
            assert set(steps[name].packages) <= servers, (name, steps[name])
            assert steps[name].packages
    if "assess-damage" in steps:
        clients = {n for n, d in by_name.items() if d.role.role is Role.CLIENT}
        assert set(steps["assess-damage"].packages) <= servers | clients
    if "restart" in steps:
        running_old = {
            (p.package or "").partition(":")[0]
            for scan in report.runtime
            for p in (scan.processes if "upgrade" in steps else scan.to_restart)
        }
        at_risk = {n for n, d in by_name.items() if d.risk.level is not Level.NONE}
        assert set(steps["restart"].packages) <= running_old | at_risk
    if report.highest is Level.NONE:
        assert not {"take-offline", "upgrade", "rotate-keys", "revoke-certificates"} & set(steps)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports())
def test_only_fixed_old_code_never_asks_for_keys_or_goes_offline(report: AuditReport) -> None:
    """The library is fixed and every old copy a process maps was fixed when it started: a restart
    is due, nothing more (issue 21's false critical)."""
    fixed = all(
        v.state in (FixState.FIXED, FixState.FIXED_BACKPORT, FixState.NOT_AFFECTED)
        for v in report.libraries
    )
    if not fixed or any(copy.state not in FIXED_COPY for copy in report.old_copies):
        return
    steps = {step.step for step in plan(report)}
    assert not {"take-offline", "rotate-keys", "revoke-certificates", "upgrade"} & steps
    assert all(RANK[d.risk.level] <= RANK[Level.LOW] for d in report.dependents)


KEY_STEPS = {"rotate-keys", "revoke-certificates", "back-online"}
ALARMS = {*KEY_STEPS, "take-offline", "assume-compromised", "assess-damage"}


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports())
def test_the_plan_follows_the_impact_and_an_unknown_never_alarms(report: AuditReport) -> None:
    """Issue 24, over impact x fix state x process knowledge x view (live, partial, saved status,
    dpkg -l): the plan holds the impact's steps only, an unknown fix state on its own brings no
    key, offline or compromise step, an unknown never ranks none or low, and an upgrade always
    comes with a restart."""
    impact = report.profile.impact
    plan_steps = plan(report)
    steps = {step.step: step for step in plan_steps}
    allowed = {"upgrade", "restart", "reboot", "investigate"}
    if impact is Impact.MEMORY_DISCLOSURE:
        allowed |= {"take-offline", *KEY_STEPS, "assess-damage", "if-vulnerable"}
    elif impact.compromises_host:
        allowed |= {"take-offline", "assume-compromised", "if-vulnerable"}
    elif impact is Impact.UNKNOWN:
        allowed |= {"check-impact", "if-vulnerable"}
    assert set(steps) <= allowed, (impact, list(steps))
    order = [step.step for step in plan_steps]
    if "take-offline" in steps:
        assert order[0] == "take-offline"
        if "rotate-keys" in steps:
            assert order.index("rotate-keys") < order.index("back-online")
    unknown = all(v.state is FixState.UNKNOWN for v in report.libraries)
    old_code = any(
        state in (MappingState.DELETED, MappingState.REPLACED)
        for scan in report.runtime
        for p in scan.processes
        for state in p.states
    )
    if unknown and not old_code:
        assert not ALARMS & set(steps), list(steps)
        for dependent in report.dependents:
            assert dependent.risk.level not in (Level.NONE, Level.LOW) or (
                dependent.risk.level is Level.LOW and not dependent.risk.known
            )
            assert not dependent.risk.known
    for name in KEY_STEPS | {"take-offline", "assume-compromised"}:
        if name in steps:
            named = set(steps[name].packages)
            known = {d.node.package for d in report.dependents if d.risk.known}
            assert named <= known, (name, named)
    mapped = any(scan.processes for scan in report.runtime)
    if "upgrade" in steps and (mapped or not report.runtime):
        # what runs the library (or, not looked at, may) is restarted after the upgrade
        assert {"restart", "reboot"} & set(steps), list(steps)
    if report.dependents_unknown and report.highest_known is Level.NONE:
        assert report.highest is Level.HIGH or not report.affected
