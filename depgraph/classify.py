"""Classify every dependent as a TLS server, TLS client or non-SSL user of the library, with evidence.

Signals, strongest first (issue "Classify every dependent"):

1. what the package's own ELF files link (``DT_NEEDED``) and import from the installed library:
   server-side calls (``SSL_accept``, ``TLS_server_method``, ...) against client-side ones, judged
   only on symbols the installed libssl really exports (libssl and libcrypto share one symbol
   version, so versions cannot tell them apart); libssl linked without TLS session calls, or only
   libcrypto linked, is non-SSL use; server- and client-side calls in a package with no service
   of its own (issue 21) are a client's when they sit in a library for either side
   (``data/libraries.toml``: a shared library, a language runtime's module such as Python's
   ``_ssl``) or in a command-line tool (``openssl``, whose s_server runs only by hand), and a
   package that runs such a library as a service (named and libisc) is the server;
2. the library it reaches OpenSSL through (``data/client_libraries.toml``): curl through libcurl4 is
   a client;
3. package metadata: systemd units, init scripts, server Provides (``data/server_metadata.toml``);
4. a part of the same software (a dependency pinned to the package's own version, Policy 7.2:
   nginx-core -> nginx, mariadb-server -> mariadb-server-core) or a metapackage takes the role of
   the part that does the TLS; a module that calls libssl without linking it (nginx's modules) is
   judged by its imports; a package whose every ELF file was read and none uses the library, and
   which reaches it through a program (ca-certificates -> openssl), does no TLS of its own;
5. without ELF files, the knowledge base (``data/knowledge.toml``, from ELF scans);
6. the weakest: the synopsis of the package's description (``data/description_words.toml``),
   which decides only between server code a client never runs and a self-described client, and,
   for a direct dependent with nothing else known, between server and client.

The tables of symbols, client libraries, server metadata and description words are data, each
entry with its reason. An unknown says what was missing.
"""

from __future__ import annotations

import fnmatch
import functools
import re
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
    RelationKind,
    Role,
    RoleVerdict,
)
from depgraph.package_files import PackageFiles
from depgraph.sources.interface import PackageIndex

SHOWN_SYMBOLS = 4
NO_FILE_LIST = "no dpkg file list"
"""``RoleVerdict.missing`` of an installed dependent whose ``var/lib/dpkg/info/*.list`` is absent."""


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


def accept_symbols() -> dict[str, str]:
    """Server-side calls that take the server's part of a handshake."""
    return _section("tls_symbols.toml", "accept")


def session_symbols() -> dict[str, str]:
    """Symbols that show TLS sessions at all, either side."""
    return _section("tls_symbols.toml", "session")


def client_libraries() -> dict[str, str]:
    """Libraries that reach libssl as TLS clients only, with the reason for each."""
    return {str(k): str(v) for k, v in _table("client_libraries.toml").items()}


def library_directories() -> dict[str, str]:
    """Directories whose shared libraries are their users' to drive (``data/libraries.toml``)."""
    return _section("libraries.toml", "library_directories")


def module_directories() -> dict[str, str]:
    """Directories of language runtimes' extension modules (``data/libraries.toml``)."""
    return _section("libraries.toml", "module_directories")


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

    @property
    def ssl_exports(self) -> frozenset[str]:
        """What the libssl shared objects export (libcrypto's symbols share their version)."""
        ssl = [s for s in self.exports if self.component(s) is Component.LIBSSL]
        return frozenset().union(*(self.exports[s] for s in ssl))

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


def library_sonames(files: PackageFiles, package: Package) -> frozenset[str]:
    """The sonames a package's shared objects carry (no symbol table is read)."""
    return frozenset(
        facts.soname for facts in files.elves(package, frozenset()) if facts.soname is not None
    )


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
    _services: list[Evidence] = field(default_factory=list)
    """The judged package's own units, init scripts and server Provides."""
    _programs: dict[str, bool | None] = field(default_factory=dict)
    """Packages judged so far: True when the files that use the library are programs, False
    when they are shared objects, None when none of its files uses it."""

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
        """A verdict for each node; the packages a node reaches the library through (``hops``)
        and the packages of the graph it depends on are judged before it (a cycle is broken where
        it closes), since a part of a software may take the role of another part.

        ``hops`` maps a package to the packages on the way to the library it depends on directly.
        """
        self._client_sonames = self._sonames_of_client_libraries({n.package for n in nodes})
        verdicts: dict[str, RoleVerdict] = {}
        for node in self._dependencies_first(nodes, hops):
            verdicts[node.package] = self._one(node, verdicts, hops.get(node.package, set()))
        return verdicts

    def _dependencies_first(self, nodes: list[Node], hops: dict[str, set[str]]) -> list[Node]:
        by_name = {node.package: node for node in nodes}
        ordered: list[Node] = []
        state: dict[str, bool] = {}  # False: being visited, True: done

        def before(name: str) -> list[str]:
            package = self.index.details(name)
            named = {
                relation.name
                for kind in (RelationKind.PRE_DEPENDS, RelationKind.DEPENDS)
                for group in (package.groups(kind) if package is not None else ())
                for relation in group
            }
            return sorted((named | hops.get(name, set())) & by_name.keys())

        for node in nodes:
            if node.package in state:
                continue
            stack = [(node.package, iter(before(node.package)))]
            state[node.package] = False
            while stack:
                name, pending = stack[-1]
                for dependency in pending:
                    if dependency not in state:
                        state[dependency] = False
                        stack.append((dependency, iter(before(dependency))))
                        break
                else:
                    stack.pop()
                    state[name] = True
                    ordered.append(by_name[name])
        return ordered

    def _sonames_of_client_libraries(self, present: set[str]) -> dict[str, str]:
        """soname -> package, for the client libraries among the graph's packages."""
        found: dict[str, str] = {}
        if self.files is None:
            return found
        for key in sorted(present):
            if key.partition(":")[0] not in client_libraries():
                continue
            package = self.index.lookup(key)
            sonames = library_sonames(self.files, package) if package is not None else frozenset()
            for soname in sonames:
                found[soname] = key
        return found

    def _one(self, node: Node, known: dict[str, RoleVerdict], hops: set[str]) -> RoleVerdict:
        self._broken = []
        self._services = []
        verdict = self._judge(node, known, hops)
        if self._services and verdict.role is Role.CLIENT and either_side(verdict):
            verdict = _serving(verdict, self._services)
        broken = self._broken
        if not broken or verdict.missing:
            return verdict
        note = (
            f"{len(broken)} ELF file(s) could not be read ({broken[0].path}: {broken[0].problem})"
        )
        return replace(verdict, confidence=round(verdict.confidence * 0.5, 2), missing=note)

    def _judge(self, node: Node, known: dict[str, RoleVerdict], hops: set[str]) -> RoleVerdict:
        package = self.index.details(node.package)
        if package is None:
            return RoleVerdict(Role.UNKNOWN, Component.UNKNOWN, 0.0, (), "package not found")
        metadata = list(self._provides(package))
        hop = _next_real_hop(node, known, self.targets)
        if self.files is None:
            missing = "no files at hand (saved package list)"
            return self._without_files(node, package, hop, known, metadata, missing)
        files = self.files.files(package)
        if files is None:
            why = NO_FILE_LIST if node.installed else "not installed: no files"
            refused = getattr(self.files, "refused", {}).get(package.name)
            if node.installed and refused:  # there, but a FIFO, a device, too large...
                why = f"{NO_FILE_LIST} read: {refused}"
            return self._without_files(node, package, hop, known, metadata, why)
        metadata += list(_units(files)) or list(self._sibling_units(package))
        service = any(e.kind in ("systemd-unit", "init-script") for e in metadata)
        self._services = [e for e in metadata if e.kind in SERVICE_KINDS]
        target = self.targets.get(node.path[-1])
        sonames = target.sonames if target is not None else frozenset()
        elves = self.files.elves(package, sonames)
        self._broken = [facts for facts in elves if facts.problem]
        readable = [facts for facts in elves if not facts.problem]
        linking = [facts for facts in readable if sonames and not sonames.isdisjoint(facts.needed)]
        host = hop if hop is not None and self._programs.get(hop) else None
        if not linking and readable and host is not None and target is not None:
            # a module loaded into a program (nginx's modules): it calls libssl through its
            # host's linking, so its own imports are read even though it links no libssl
            readable = [f for f in self.files.elves(package, None) if not f.problem]
        plugged = [facts for facts in readable if facts not in linking and _calls(facts, target)]
        users = linking or plugged
        self._programs[node.package] = is_program(users) if users else None
        clients = self._linked_client_libraries(readable)
        linked = self._linked_judged_library(readable, hops, known)
        same = self._same_software(package, known)
        if (linking or plugged) and target is not None:
            verdict = _from_elf(linking, plugged, target, metadata, _says(package))
            if verdict.role is Role.NON_SSL:
                if clients:
                    return RoleVerdict(
                        Role.CLIENT, Component.LIBSSL, 0.9, (*clients, *verdict.evidence)
                    )
                if linked is not None:
                    return linked
                if same is not None and service:
                    what = "ships the service units for it"
                    return _inherit(same, what, 0.9, kind="same-software")
            return verdict
        if clients:
            return RoleVerdict(Role.CLIENT, Component.LIBSSL, 0.9, (*clients, *metadata))
        if linked is not None:
            if _both_sides(linked) and _says(package) is Role.CLIENT:
                return _describing(package, linked)
            return linked
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
        if same is not None:
            hop_name, parent = same
            if service and parent.role is Role.CLIENT and _server_side(parent):
                detail = (
                    f"ships the service that runs {hop_name}'s program, which imports "
                    "server-side calls: the service is the server"
                )
                evidence = Evidence("same-software", detail)
                return RoleVerdict(
                    Role.SERVER,
                    Component.LIBSSL,
                    round(parent.confidence * 0.9, 2),
                    (evidence, *metadata, *parent.evidence),
                )
            what = "ships no program that links the library"
            return _inherit(same, what, 0.9, metadata, kind="same-software")
        if service and node.depth == 1 and not readable and not self._broken:
            evidence = Evidence("dependency", "depends on the library directly and ships a service")
            return RoleVerdict(Role.SERVER, Component.UNKNOWN, 0.6, (evidence, *metadata))
        wrapper = _metapackage(files) or service
        if hop is not None and hop in known and wrapper and known[hop].role is not Role.UNKNOWN:
            what = "ships no binaries" if _metapackage(files) else "ships the service for it"
            return _inherit((hop, known[hop]), what, 0.9, kind="metapackage")
        if not self._broken and hop is not None and hop in known:
            found = self._through_hop(node, readable, hop, known[hop], metadata)
            if found is not None:
                return found
        if self._broken and not readable:
            return self._without_files(
                node, package, hop, known, metadata, "its ELF files could not be read"
            )
        return _transitive(node, hop, metadata, target is None)

    def _sibling_units(self, package: Package) -> Iterable[Evidence]:
        """Units shipped for the package by its ``-common`` sibling (nginx -> nginx-common's
        nginx.service, postgresql-15 -> postgresql-common's postgresql@.service): Debian's habit of
        putting the files shared by a software's flavours in ``NAME-common``."""
        if self.files is None:
            return
        for group in package.groups(RelationKind.DEPENDS):
            for relation in group:
                stem = relation.name.removesuffix("-common")
                if stem == relation.name or not package.name.startswith(stem):
                    continue
                sibling = self.index.details(relation.name)
                listed = self.files.files(sibling) if sibling is not None else None
                for unit in _units(listed or []):
                    detail = f"{unit.detail} in its sibling {relation.name}"
                    yield Evidence(unit.kind, detail, unit.path)

    def _through_hop(
        self,
        node: Node,
        readable: list[ElfFacts],
        hop: str,
        parent: RoleVerdict,
        metadata: list[Evidence],
    ) -> RoleVerdict | None:
        """Every ELF file was read and none links or calls the library: what the package does
        with it depends on what ``hop`` is. A program (openssl, nginx) can only be run as a command
        or host the package as a module, so the package does no TLS of its own; a library
        (a language binding) is what the package's scripts call, so it takes the library's role."""
        program = self._programs.get(hop)
        if program:
            what = "modules" if readable else "files"
            detail = (
                f"its {what} neither link nor call the library; it reaches it only through "
                f"{hop}, a program (run as a command, or hosting it)"
            )
            return RoleVerdict(
                Role.NON_SSL, Component.NONE, 0.7, (Evidence("dependency", detail), *metadata)
            )
        if program is False and not readable and parent.role in (Role.SERVER, Role.CLIENT):
            what = f"ships no ELF file; its scripts use {hop}, a library, and do what it can do"
            return _inherit((hop, parent), what, 0.6, metadata, kind="binding")
        return None

    def _same_software(
        self, package: Package, known: dict[str, RoleVerdict]
    ) -> tuple[str, RoleVerdict] | None:
        """A judged server or client that ``package`` depends on at its own version: a part of the
        same software built from the same source (Policy 7.2, ``(= ${binary:Version})``), such as
        nginx-core -> nginx, python3.11 -> python3.11-minimal, mariadb-server -> mariadb-server-core.
        Of several parts, a server before a client: the package installs the most exposed one."""
        parts: list[tuple[str, RoleVerdict]] = []
        for group in (
            *package.groups(RelationKind.PRE_DEPENDS),
            *package.groups(RelationKind.DEPENDS),
        ):
            for relation in group:
                verdict = known.get(relation.name)
                if (
                    verdict is not None
                    and verdict.role in (Role.SERVER, Role.CLIENT)
                    and relation.operator in ("=", ">=")
                    and relation.version is not None
                    and package.version is not None
                    and _binary_version(relation.version) == _binary_version(package.version)
                ):
                    parts.append((relation.name, verdict))
        servers = [part for part in parts if part[1].role is Role.SERVER]
        chosen = servers or parts
        return chosen[0] if chosen else None

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
                sonames = (
                    library_sonames(self.files, package) if package is not None else frozenset()
                )
                self._sonames[hop] = sonames
            for facts in elves:
                linked = sonames.intersection(facts.needed)
                if linked:
                    what = (
                        "a TLS library for either side: a client unless a service of its own "
                        "serves through it"
                        if either_side(verdict)
                        else f"a TLS {verdict.role.value}; what it does with it is its own "
                        "code's choice"
                    )
                    detail = f"links {', '.join(sorted(linked))} from {hop}, {what}"
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
        self,
        node: Node,
        package: Package,
        hop: str | None,
        known: dict[str, RoleVerdict],
        metadata: list[Evidence],
        missing: str,
    ) -> RoleVerdict:
        """No ELF file to read: the knowledge base (ELF scans of the same package), the library it
        reaches the target through, the parts of the same software, then what the package says
        of itself."""
        if _says(package) is Role.SERVER:
            # no unit to see: the synopsis is what may say a service serves through a library
            self._services.append(_description_evidence(package, Role.SERVER))
        entry = knowledge.lookup(node.package.partition(":")[0], self.kb)
        if entry is not None:
            known_as = [
                Evidence(
                    "knowledge-base", f"{entry.pattern}: {entry.role.value} ({entry.established})"
                )
            ]
            if entry.either_side:
                detail = f"{entry.pattern}: a TLS library for either side (knowledge base)"
                known_as.append(Evidence("tls-library", detail))
            if entry.daemon and entry.role is Role.SERVER:
                detail = f"{entry.pattern} ships {entry.daemon} where it was scanned"
                known_as.append(Evidence("known-daemon", detail))
            return RoleVerdict(entry.role, entry.component, 0.6, (*known_as, *metadata), missing)
        flavour = _other_tls(package)
        if flavour is not None:
            return RoleVerdict(Role.NON_SSL, Component.UNKNOWN, 0.5, (flavour, *metadata), missing)
        via_client = self._client_library(hop)
        if via_client is not None:
            return RoleVerdict(Role.CLIENT, Component.LIBSSL, 0.8, (via_client, *metadata), missing)
        same = self._same_software(package, known)
        if same is not None:
            what = "a part of the same software"
            inherited = _inherit(same, what, 0.8, metadata, kind="same-software")
            return replace(inherited, missing=missing)
        if node.depth > 1:
            # a daemon that reaches the library only through other packages is not thereby a
            # TLS server (bluez -> python-dbus -> python2.7 -> libssl): no guess from words
            return RoleVerdict(Role.UNKNOWN, Component.UNKNOWN, 0.0, tuple(metadata), missing)
        said = _says(package)
        server_metadata = any(
            e.kind in ("provides", "systemd-unit", "init-script") for e in metadata
        )
        if said is None and server_metadata:
            return RoleVerdict(Role.SERVER, Component.UNKNOWN, 0.5, tuple(metadata), missing)
        if said is not None:
            described = (_description_evidence(package, said), *metadata)
            confidence = 0.5 if said is Role.SERVER else 0.4
            return RoleVerdict(said, Component.UNKNOWN, confidence, described, missing)
        return RoleVerdict(Role.UNKNOWN, Component.UNKNOWN, 0.0, tuple(metadata), missing)


def _from_elf(
    linking: list[ElfFacts],
    plugged: list[ElfFacts],
    target: TargetLibrary,
    metadata: list[Evidence],
    says: Role | None = None,
) -> RoleVerdict:
    """The role from the files that link the library directly, or call it as modules of a
    program that does (``plugged``); ``says``: what the package's description calls it, which
    decides only between server code that may never run and a self-described client."""
    ssl_sonames = {s for s in target.sonames if target.component(s) is Component.LIBSSL}
    evidence: list[Evidence] = []
    uses_ssl = [facts for facts in linking if not ssl_sonames.isdisjoint(facts.needed)]
    for facts in linking[:SHOWN_SYMBOLS]:
        linked = ", ".join(sorted(target.sonames.intersection(facts.needed)))
        evidence.append(Evidence("elf-needed", f"links {linked}", facts.path))
    for facts in plugged[:SHOWN_SYMBOLS]:
        detail = "a module: calls the library through the program that loads it"
        evidence.append(Evidence("elf-symbols", detail, facts.path))
    if not uses_ssl and not plugged:
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
    exported = target.ssl_exports
    imported = frozenset().union(*(facts.imports for facts in (*uses_ssl, *plugged))) & exported
    server = sorted(imported & server_symbols().keys())
    client = sorted(imported & client_symbols().keys())
    session = sorted(imported & session_symbols().keys())
    if server:
        evidence.append(_symbols("server", server, client))
        accepts = imported & accept_symbols().keys()
        if says is Role.CLIENT and (client or not accepts):
            why = "client-side calls as well" if client else "no call that accepts a handshake"
            detail = f"server-side calls with {why}, in a package that describes itself as a client"
            evidence.insert(0, Evidence("elf-symbols", detail))
            return RoleVerdict(Role.CLIENT, Component.LIBSSL, 0.7, (*evidence, *metadata))
        either = _either_side([*uses_ssl, *plugged], says) if client and not metadata else None
        if either is not None:
            return RoleVerdict(Role.CLIENT, Component.LIBSSL, 0.9, (either, *evidence))
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


SERVICE_KINDS = ("systemd-unit", "init-script", "provides")
"""Evidence kinds of a package's own service: what runs a library's server side."""


def either_side(verdict: RoleVerdict) -> bool:
    """The role rests on a TLS library for either side (its user's choice), not on a server."""
    return any(e.kind == "tls-library" for e in verdict.evidence)


def _serving(verdict: RoleVerdict, services: list[Evidence]) -> RoleVerdict:
    """A package with a service of its own whose TLS is a library's for either side (named and
    libisc, a daemon written in Python): the service is what accepts, so it is the server."""
    names = ", ".join(e.detail.removeprefix("ships ") for e in services[:3])
    detail = f"runs a TLS library for either side as a service ({names}): the service is the server"
    return RoleVerdict(
        Role.SERVER,
        Component.LIBSSL,
        round(verdict.confidence * 0.9, 2),
        (Evidence("service", detail, services[0].path), *services, *verdict.evidence),
        verdict.missing,
    )


def _either_side(files: list[ElfFacts], says: Role | None) -> Evidence | None:
    """Server- and client-side calls in a package that ships no service (no unit, init script or
    server Provides): what takes the server's side is not the package itself, so it is a client
    (what it does when nothing makes it listen), with why; None when it may be a server.

    * a library whose user chooses the side (``data/libraries.toml``: a shared library in the
      linker's directories, a language runtime's extension module): Python's ``_ssl``, Ruby's
      ``openssl.so``, libnode; its own default use (pip, urllib, gem) connects;
    * a command-line tool (every such file a program under a ``bin`` directory, and a synopsis
      that does not call it a server): ``openssl s_server``, ``socat OPENSSL-LISTEN`` listen only
      when run by hand, and a process of it seen listening makes it a server
      (:func:`with_runtime`)."""
    if all(_library(facts) for facts in files):
        where = ", ".join(facts.path for facts in files[:2])
        detail = (
            f"a TLS library for either side ({where}): which side it takes is its user's "
            "choice; by itself it accepts nothing, so a client unless a service serves through it"
        )
        return Evidence("tls-library", detail, files[0].path)
    if is_program(files) and all(_in_bin(facts.path) for facts in files) and says is None:
        where = ", ".join(facts.path for facts in files[:2])
        detail = (
            f"a command-line tool ({where}) with no service to run it: its server side (a "
            "listen mode, openssl's s_server) runs only when someone starts it by hand; a "
            "process of it seen listening would make it a server"
        )
        return Evidence("command-line-tool", detail, files[0].path)
    return None


def _library(facts: ElfFacts) -> bool:
    """A shared library in the linker's directories, or a language runtime's extension module."""
    directory = facts.path.rsplit("/", 1)[0].split("/")
    if facts.soname and any(_components(directory, p) for p in library_directories()):
        return True
    return any(_components(directory, p, below=True) for p in module_directories())


def _split(pattern: str) -> list[str]:
    return pattern.split("/")


def _components(directory: list[str], pattern: str, *, below: bool = False) -> bool:
    """``directory`` (split at ``/``) is ``pattern``, one fnmatch per component (a ``*`` never
    spans a ``/``); ``below``: or a directory under it."""
    parts = _split(pattern)
    if len(directory) < len(parts) or (not below and len(directory) != len(parts)):
        return False
    return all(
        fnmatch.fnmatchcase(name, part) for name, part in zip(directory, parts, strict=False)
    )


def _in_bin(path: str) -> bool:
    """Under a ``bin`` directory (``/usr/bin``, ``/bin``, ``/usr/local/bin``), where Debian puts
    commands for users, not ``sbin`` (system daemons and administration, FHS 4.10) or a
    ``libexec``/``lib`` helper a service starts."""
    return path.rsplit("/", 2)[-2] == "bin" if path.count("/") >= 2 else False


def _calls(facts: ElfFacts, target: TargetLibrary | None) -> bool:
    """The file imports a libssl function without linking libssl (a module of a program)."""
    return target is not None and not facts.imports.isdisjoint(target.ssl_exports)


def is_program(files: list[ElfFacts]) -> bool:
    """The files that use the library are programs, not shared objects others load."""
    return bool(files) and not any(
        facts.soname or facts.path.endswith(".so") or ".so." in facts.path for facts in files
    )


def _both_sides(verdict: RoleVerdict) -> bool:
    """Its evidence shows server- and client-side calls."""
    return any(e.kind == "elf-symbols" and "also client-side" in e.detail for e in verdict.evidence)


def _server_side(verdict: RoleVerdict) -> bool:
    """Its evidence shows server-side calls, whatever role it ended with."""
    return any(
        e.kind == "elf-symbols" and e.detail.startswith("imports server-side")
        for e in verdict.evidence
    )


_WORD = re.compile(r"[a-z]+")


def _says(package: Package) -> Role | None:
    """What the package's synopsis calls it (``data/description_words.toml``): a client, a
    server, or neither or both (None)."""
    if not package.description:
        return None
    words = set(_WORD.findall(package.description.lower()))
    table = _table("description_words.toml")
    server = words & set(table["server"])  # type: ignore[call-overload]
    client = words & set(table["client"])  # type: ignore[call-overload]
    if server and not client:
        return Role.SERVER
    if client and not server:
        return Role.CLIENT
    return None


def _other_tls(package: Package) -> Evidence | None:
    """The synopsis names another TLS library as the package's flavour (``other_tls`` of
    ``data/description_words.toml``): libcurl3-gnutls, libcurl3-nss."""
    synopsis = (package.description or "").lower()
    phrases = _table("description_words.toml")["other_tls"]
    assert isinstance(phrases, list)
    found = [str(phrase) for phrase in phrases if str(phrase) in synopsis]
    if not found:
        return None
    detail = (
        f"its description names another TLS library ({found[0]}): {package.description!r}; "
        "its TLS is not OpenSSL's"
    )
    return Evidence("description", detail, package.where)


def _description_evidence(package: Package, said: Role) -> Evidence:
    detail = f"its description calls it a {said.value}: {package.description!r}"
    return Evidence("description", detail, package.where)


def _describing(package: Package, verdict: RoleVerdict) -> RoleVerdict:
    """Server- and client-side calls both, in a package that describes itself as a client: the
    server code is there (a shared TLS layer, a test accept) but the software is a client."""
    evidence = _description_evidence(package, Role.CLIENT)
    return RoleVerdict(Role.CLIENT, Component.LIBSSL, 0.7, (evidence, *verdict.evidence))


def _inherit(
    parent: tuple[str, RoleVerdict],
    what: str,
    factor: float,
    metadata: list[Evidence] | None = None,
    *,
    kind: str,
) -> RoleVerdict:
    """``parent``'s role, with why it passes on (evidence ``kind``) and a lower confidence."""
    name, verdict = parent
    evidence = Evidence(kind, f"{what}; takes the role of {name}")
    return RoleVerdict(
        verdict.role,
        verdict.component,
        round(verdict.confidence * factor, 2),
        (evidence, *(metadata or ()), *verdict.evidence),
        verdict.missing,
    )


def _binary_version(version: str) -> str:
    """The version without a binNMU suffix (``+b1``): parts of one source upload compare equal."""
    return _BINNMU.sub("", version)


_BINNMU = re.compile(r"\+b\d+$")


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


def with_runtime(verdict: RoleVerdict, listening: list[tuple[int, str, str]]) -> RoleVerdict:
    """Signal 3, what runs: ``(pid, address:port/tcp, mapped library file)`` for each TCP socket
    a process of the package listens on while it maps the library. A process that maps libssl and
    accepts TCP connections is a TLS server whatever its files suggested (an interpreter running a
    server script); one that maps libcrypto alone stays what it was (sshd)."""
    ssl = [entry for entry in listening if entry[2].rsplit("/", 1)[-1].startswith("libssl")]
    if not ssl:
        return verdict
    pid, address, path = ssl[0]
    detail = f"pid {pid} listens on {address} and maps {path}"
    if len(ssl) > 1:
        detail += f" (+{len(ssl) - 1} more)"
    evidence = Evidence("listening-socket", detail, path)
    if verdict.role is Role.SERVER:
        return replace(verdict, evidence=(evidence, *verdict.evidence))
    if verdict.role is Role.NON_SSL and verdict.component is not Component.LIBSSL:
        return verdict
    confidence = max(verdict.confidence, 0.8)
    return RoleVerdict(Role.SERVER, Component.LIBSSL, confidence, (evidence, *verdict.evidence))
