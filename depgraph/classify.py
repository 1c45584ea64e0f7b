"""Classify every dependent as a TLS server, TLS client or non-SSL user of the library, with evidence.

Signals, strongest first (issue "Classify every dependent"):

1. what the package's own ELF files link (``DT_NEEDED``) and import from the installed library:
   server-side calls (``SSL_accept``, ``TLS_server_method``, ...) against client-side ones, judged
   only on symbols the installed libssl really exports (libssl and libcrypto share one symbol
   version, so versions cannot tell them apart); libssl linked without TLS session calls, or only
   libcrypto linked, is non-SSL use;
2. the library it reaches OpenSSL through (``data/client_libraries.toml``): curl through libcurl4 is
   a client;
3. package metadata: systemd units, init scripts, server Provides (``data/server_metadata.toml``);
4. a metapackage (no binaries of its own) takes the role of the package it depends on.

The tables of symbols, client libraries and server metadata are data, each entry with its reason.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from importlib import resources

from depgraph import knowledge
from depgraph.elf import ElfFacts
from depgraph.model import (
    Component,
    DependencyGraph,
    Evidence,
    Node,
    Package,
    Role,
    RoleVerdict,
)
from depgraph.package_files import PackageFiles
from depgraph.sources.interface import PackageIndex

SHOWN_SYMBOLS = 4


@functools.cache
def _table(name: str) -> dict[str, object]:
    text = resources.files("depgraph.data").joinpath(name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def _section(name: str, section: str) -> dict[str, str]:
    value = _table(name)[section]
    assert isinstance(value, dict)
    return {str(k): str(v) for k, v in value.items()}


def server_symbols() -> dict[str, str]:
    """Symbols that make a program a TLS server, with the reason for each."""
    return _section("tls_symbols.toml", "server")


def client_symbols() -> dict[str, str]:
    """Symbols that make a program a TLS client."""
    return _section("tls_symbols.toml", "client")


def session_symbols() -> dict[str, str]:
    """Symbols that show TLS sessions at all, either side."""
    return _section("tls_symbols.toml", "session")


def client_libraries() -> dict[str, str]:
    """Libraries that reach libssl as TLS clients only, with the reason for each."""
    return {str(k): str(v) for k, v in _table("client_libraries.toml").items()}


def server_provides() -> dict[str, str]:
    """Virtual packages whose providers are network servers."""
    return _section("server_metadata.toml", "provides")


@dataclass(frozen=True, slots=True)
class TargetLibrary:
    """The library package's shared objects: soname -> the symbols it exports."""

    package: str
    exports: dict[str, frozenset[str]]

    @property
    def sonames(self) -> frozenset[str]:
        return frozenset(self.exports)

    def component(self, soname: str) -> Component:
        if soname.startswith("libssl."):
            return Component.LIBSSL
        if soname.startswith("libcrypto."):
            return Component.LIBCRYPTO
        return Component.OTHER


def target_library(files: PackageFiles, package: Package) -> TargetLibrary | None:
    """The library package's shared objects and exports; None when its files are not at hand."""
    if files.files(package) is None:
        return None
    exports: dict[str, frozenset[str]] = {}
    for facts in files.elves(package, frozenset(), with_exports=True):
        if facts.soname:
            exports[facts.soname] = facts.exports
    if not exports:
        return None  # listed but not readable: nothing can be said about who links it
    return TargetLibrary(package.name, exports)


@dataclass(slots=True)
class Classifier:
    """Classifies the nodes of one graph, nearest first, so metapackages can inherit a role."""

    index: PackageIndex
    files: PackageFiles | None
    targets: dict[str, TargetLibrary | None]
    kb: tuple[knowledge.Knowledge, ...] | None = None
    """The knowledge base to use when files are not at hand (None: the shipped one)."""
    _client_sonames: dict[str, str] = field(default_factory=dict)
    _sonames: dict[str, frozenset[str]] = field(default_factory=dict)
    _broken: list[ElfFacts] = field(default_factory=list)

    def classify(self, graph: DependencyGraph) -> dict[str, RoleVerdict]:
        """A verdict for every dependent of the graph (nearest first, so hops are judged first)."""
        hops: dict[str, set[str]] = {}
        real = {node.package for node in graph.nodes}
        provided: dict[str, set[str]] = {}
        for edge in graph.edges:
            if edge.kind == "Provides":
                provided.setdefault(edge.dependent, set()).add(edge.target)
        for edge in graph.edges:
            if edge.kind != "Provides":
                hops.setdefault(edge.dependent, set()).update(
                    {edge.target} if edge.target in real else provided.get(edge.target, set())
                )
        return self.classify_nodes(list(graph.dependents), hops)

    def classify_nodes(
        self, nodes: list[Node], hops: dict[str, set[str]]
    ) -> dict[str, RoleVerdict]:
        """A verdict for each node, in the order given (a node's hops should come before it).

        ``hops`` maps a package to the packages on the way to the library it depends on directly.
        """
        self._client_sonames = self._sonames_of_client_libraries({n.package for n in nodes})
        verdicts: dict[str, RoleVerdict] = {}
        for node in nodes:
            verdicts[node.package] = self._one(node, verdicts, hops.get(node.package, set()))
        return verdicts

    def _sonames_of_client_libraries(self, present: set[str]) -> dict[str, str]:
        """soname -> package, for the client libraries among the graph's packages."""
        found: dict[str, str] = {}
        if self.files is None:
            return found
        for key in sorted(present):
            if key.partition(":")[0] not in client_libraries():
                continue
            package = self.index.lookup(key)
            library = target_library(self.files, package) if package is not None else None
            for soname in library.sonames if library is not None else ():
                found[soname] = key
        return found

    def _one(self, node: Node, known: dict[str, RoleVerdict], hops: set[str]) -> RoleVerdict:
        self._broken = []
        verdict = self._judge(node, known, hops)
        broken = self._broken
        if not broken or verdict.missing:
            return verdict
        note = (
            f"{len(broken)} ELF file(s) could not be read ({broken[0].path}: {broken[0].problem})"
        )
        return replace(verdict, confidence=round(verdict.confidence * 0.5, 2), missing=note)

    def _judge(self, node: Node, known: dict[str, RoleVerdict], hops: set[str]) -> RoleVerdict:
        package = self.index.lookup(node.package)
        if package is None:
            return RoleVerdict(Role.UNKNOWN, Component.UNKNOWN, 0.0, (), "package not found")
        metadata = list(self._provides(package))
        hop = _next_real_hop(node, known, self.targets)
        if self.files is None:
            return self._without_files(node, hop, metadata, "no files at hand (saved package list)")
        files = self.files.files(package)
        if files is None:
            why = "no dpkg file list" if node.installed else "not installed: no files"
            return self._without_files(node, hop, metadata, why)
        metadata += list(_units(files))
        target = self.targets.get(node.path[-1])
        sonames = target.sonames if target is not None else frozenset()
        elves = self.files.elves(package, sonames)
        self._broken = [facts for facts in elves if facts.problem]
        linking = [facts for facts in elves if sonames and not sonames.isdisjoint(facts.needed)]
        clients = self._linked_client_libraries(elves)
        if linking and target is not None:
            verdict = _from_elf(linking, target, metadata)
            if verdict.role is Role.NON_SSL and clients:
                return RoleVerdict(
                    Role.CLIENT, Component.LIBSSL, 0.9, (*clients, *verdict.evidence)
                )
            return verdict
        if clients:
            return RoleVerdict(Role.CLIENT, Component.LIBSSL, 0.9, (*clients, *metadata))
        inherited = self._linked_judged_library(elves, hops, known)
        if inherited is not None:
            return inherited
        via_client = self._client_library(hop)
        if via_client is not None:
            return RoleVerdict(Role.CLIENT, Component.LIBSSL, 0.9, (via_client, *metadata))
        judged = [known[h] for h in sorted(hops) if h in known]
        if hops and len(judged) == len(hops) and all(v.role is Role.NON_SSL for v in judged):
            through = ", ".join(sorted(hops))
            evidence = Evidence(
                "dependency",
                f"reaches the library only through {through}, which use no TLS from it",
            )
            return RoleVerdict(Role.NON_SSL, Component.LIBCRYPTO, 0.8, (evidence, *metadata))
        service = any(e.kind in ("systemd-unit", "init-script") for e in metadata)
        if service and node.depth == 1 and not elves:
            evidence = Evidence("dependency", "depends on the library directly and ships a service")
            return RoleVerdict(Role.SERVER, Component.UNKNOWN, 0.6, (evidence, *metadata))
        wrapper = _metapackage(files) or (service and not linking)
        if hop is not None and hop in known and wrapper and known[hop].role is not Role.UNKNOWN:
            parent = known[hop]
            what = "ships no binaries" if _metapackage(files) else "ships the service for it"
            evidence = Evidence("metapackage", f"{what}; takes the role of {hop}")
            return RoleVerdict(
                parent.role,
                parent.component,
                round(parent.confidence * 0.9, 2),
                (evidence, *parent.evidence),
                parent.missing,
            )
        return _transitive(node, hop, metadata, target is None)

    def _linked_judged_library(
        self, elves: list[ElfFacts], hops: set[str], known: dict[str, RoleVerdict]
    ) -> RoleVerdict | None:
        """The role of a library the package's own binaries link, when that library was judged a
        TLS server or client (a language runtime's interpreter and its libruby, libpython...)."""
        if self.files is None:
            return None
        for hop in sorted(hops):
            verdict = known.get(hop)
            if verdict is None or verdict.role not in (Role.SERVER, Role.CLIENT):
                continue
            sonames = self._sonames.get(hop)
            if sonames is None:
                package = self.index.lookup(hop)
                library = target_library(self.files, package) if package is not None else None
                sonames = library.sonames if library is not None else frozenset()
                self._sonames[hop] = sonames
            for facts in elves:
                linked = sonames.intersection(facts.needed)
                if linked:
                    detail = (
                        f"links {', '.join(sorted(linked))} from {hop}, a TLS "
                        f"{verdict.role.value}; what it does with it is its own code's choice"
                    )
                    evidence = Evidence("linked-library", detail, facts.path)
                    confidence = round(verdict.confidence * 0.8, 2)
                    return RoleVerdict(
                        verdict.role, verdict.component, confidence, (evidence, *verdict.evidence)
                    )
        return None

    def _linked_client_libraries(self, elves: list[ElfFacts]) -> list[Evidence]:
        """Evidence for each file that links a TLS client library (libcurl, libpq, ...)."""
        found = []
        for facts in elves:
            for soname in facts.needed:
                owner = self._client_sonames.get(soname)
                if owner is not None:
                    reason = client_libraries()[owner.partition(":")[0]]
                    detail = f"links {soname} ({owner}): {reason}"
                    found.append(Evidence("client-library", detail, facts.path))
        return found[:SHOWN_SYMBOLS]

    def _provides(self, package: Package) -> Iterable[Evidence]:
        servers = server_provides()
        for provided in package.provides:
            if provided.name in servers:
                yield Evidence(
                    "provides", f"Provides {provided.name}: {servers[provided.name]}", package.where
                )

    def _client_library(self, hop: str | None) -> Evidence | None:
        if hop is None:
            return None
        reason = client_libraries().get(hop.partition(":")[0])
        if reason is None:
            return None
        return Evidence("client-library", f"reaches the library through {hop}: {reason}")

    def _without_files(
        self, node: Node, hop: str | None, metadata: list[Evidence], missing: str
    ) -> RoleVerdict:
        via_client = self._client_library(hop)
        if via_client is not None:
            return RoleVerdict(Role.CLIENT, Component.LIBSSL, 0.8, (via_client, *metadata), missing)
        entry = knowledge.lookup(node.package.partition(":")[0], self.kb)
        if entry is not None:
            evidence = Evidence(
                "knowledge-base", f"{entry.pattern}: {entry.role.value} ({entry.established})"
            )
            return RoleVerdict(entry.role, entry.component, 0.6, (evidence, *metadata), missing)
        if metadata:
            return RoleVerdict(Role.SERVER, Component.UNKNOWN, 0.6, tuple(metadata), missing)
        return RoleVerdict(Role.UNKNOWN, Component.UNKNOWN, 0.0, (), missing)


def _from_elf(
    linking: list[ElfFacts], target: TargetLibrary, metadata: list[Evidence]
) -> RoleVerdict:
    """The role from the files that link the library directly."""
    ssl_sonames = {s for s in target.sonames if target.component(s) is Component.LIBSSL}
    evidence: list[Evidence] = []
    uses_ssl = [facts for facts in linking if not ssl_sonames.isdisjoint(facts.needed)]
    for facts in linking[:SHOWN_SYMBOLS]:
        linked = ", ".join(sorted(target.sonames.intersection(facts.needed)))
        evidence.append(Evidence("elf-needed", f"links {linked}", facts.path))
    if not uses_ssl:
        components = {
            target.component(s) for facts in linking for s in target.sonames & set(facts.needed)
        }
        component = components.pop() if len(components) == 1 else Component.OTHER
        detail = "links only libcrypto, not libssl: no TLS through this library"
        if component is not Component.LIBCRYPTO:
            detail = "does not link libssl"
        return RoleVerdict(
            Role.NON_SSL, component, 0.95, (Evidence("elf-needed", detail), *evidence, *metadata)
        )
    exported = frozenset().union(*(target.exports[s] for s in ssl_sonames))
    imported = frozenset().union(*(facts.imports for facts in uses_ssl)) & exported
    server = sorted(imported & server_symbols().keys())
    client = sorted(imported & client_symbols().keys())
    session = sorted(imported & session_symbols().keys())
    if server:
        evidence.append(_symbols("server", server, client))
        return RoleVerdict(Role.SERVER, Component.LIBSSL, 0.95, (*evidence, *metadata))
    if client:
        evidence.append(_symbols("client", client, []))
        return RoleVerdict(Role.CLIENT, Component.LIBSSL, 0.95, (*evidence, *metadata))
    if session:
        detail = (
            f"runs TLS sessions ({', '.join(session[:SHOWN_SYMBOLS])}) but no side-specific call"
        )
        evidence.append(Evidence("elf-symbols", detail))
        if metadata:
            return RoleVerdict(Role.SERVER, Component.LIBSSL, 0.7, (*evidence, *metadata))
        return RoleVerdict(
            Role.UNKNOWN, Component.LIBSSL, 0.3, tuple(evidence), "which side of TLS it takes"
        )
    detail = "links libssl but imports no TLS session call from it"
    evidence.append(Evidence("elf-symbols", detail))
    return RoleVerdict(Role.NON_SSL, Component.LIBSSL, 0.85, (*evidence, *metadata))


def _symbols(side: str, names: list[str], also: list[str]) -> Evidence:
    detail = f"imports {side}-side calls {', '.join(names[:SHOWN_SYMBOLS])}"
    if len(names) > SHOWN_SYMBOLS:
        detail += f" (+{len(names) - SHOWN_SYMBOLS} more)"
    if also:
        detail += f"; also client-side {', '.join(also[:2])}"
    return Evidence("elf-symbols", detail)


def _transitive(
    node: Node, hop: str | None, metadata: list[Evidence], no_target_files: bool
) -> RoleVerdict:
    missing = (
        "the library's own files (its file list) were not at hand"
        if no_target_files
        else f"does not link the library itself; what it does through {hop} depends on its own code"
    )
    if metadata:
        return RoleVerdict(Role.UNKNOWN, Component.UNKNOWN, 0.3, tuple(metadata), missing)
    return RoleVerdict(Role.UNKNOWN, Component.UNKNOWN, 0.0, (), missing)


def _next_real_hop(
    node: Node, known: dict[str, RoleVerdict], targets: dict[str, TargetLibrary | None]
) -> str | None:
    """The first real package on the node's path (a virtual package is skipped)."""
    for hop in node.path[1:]:
        if hop in known or hop in targets:
            return hop
    return node.path[1] if len(node.path) > 1 else None


def _metapackage(files: list[str]) -> bool:
    """Only documentation (and directories): a package that exists to pull in others."""
    return all(name.startswith("/usr/share/doc") or name.count("/") <= 2 for name in files)


def _units(files: list[str]) -> Iterable[Evidence]:
    """systemd service and socket units and init scripts among a package's files."""
    for name in files:
        if (
            "/systemd/system/" in name and name.endswith((".service", ".socket"))
        ) or name.startswith("/etc/init.d/"):
            kind = "init-script" if name.startswith("/etc/init.d/") else "systemd-unit"
            yield Evidence(kind, f"ships {name.rsplit('/', 1)[1]}", name)
