"""Pictures, the HTML report and OpenVEX, on real 2012-2014 systems (issue "Pictures and
interchange"). The HTML report is rendered by a real headless Chromium, which measures the page
and takes a screenshot; OpenVEX documents are validated against the OpenVEX v0.2.0 rules."""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PIL import Image

from tests.conftest import FIXTURES, SCHEMAS, require_tool, run_depgraph, scenario

STATUS = scenario("ubuntu-12.04.3-armhf") / "var/lib/dpkg/status"
SERVER = FIXTURES / "audit" / "ubuntu-12.04-server" / "root"
SVG = "{http://www.w3.org/2000/svg}"


def graph_json() -> dict[str, Any]:
    run = run_depgraph("graph", "libssl1.0.0", "--status", STATUS, "--format", "json")
    assert run.status == 0, run.stderr
    document: dict[str, Any] = json.loads(run.stdout)
    return document


def dot_nodes(dot: str) -> dict[str, str]:
    """Node id -> its attribute text, from the DOT depgraph writes (one statement a line)."""
    found = {}
    for line in dot.splitlines():
        match = re.match(r'\s*"((?:[^"\\]|\\.)*)" (\[.*\]);$', line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def dot_edges(dot: str) -> set[tuple[str, str]]:
    return set(re.findall(r'^\s*"([^"]+)" -> "([^"]+)"', dot, re.MULTILINE))


# --- the picture: folding ---------------------------------------------------------------------


def test_folded_dot_counts_every_dependent_once() -> None:
    document = graph_json()
    dependents = {n["package"]: n for n in document["nodes"] if n["depth"] > 0}
    run = run_depgraph(
        "graph", "libssl1.0.0", "--status", STATUS, "--format", "dot", "--max-nodes", "8"
    )
    assert run.status == 0, run.stderr
    nodes = dot_nodes(run.stdout)
    drawn = {name for name in nodes if name in dependents}
    folds = {name: attrs for name, attrs in nodes.items() if name.startswith("more:")}
    assert len(drawn) > 0 and len(drawn) + 1 + len(folds) <= len(nodes)
    assert len(nodes) - len(folds) <= 8
    counted = sum(int(re.search(r'label="\+(\d+) more"', a).group(1)) for a in folds.values())  # type: ignore[union-attr]
    assert len(drawn) + counted == len(dependents)
    # every drawn dependent comes with the packages it reaches the library through
    for name in drawn:
        assert set(dependents[name]["path"]) <= set(nodes), name
    # each fold hangs from a drawn package
    edges = dot_edges(run.stdout)
    for fold in folds:
        assert (fold.removeprefix("more:"), fold) in edges
    assert "folded into '+N more'" in run.stdout


def test_expand_and_fold_depth() -> None:
    document = graph_json()
    everything = run_depgraph(
        "graph", "libssl1.0.0", "--status", STATUS, "--format", "dot", "--expand"
    )
    nodes = dot_nodes(everything.stdout)
    assert {n["package"] for n in document["nodes"]} <= set(nodes)
    assert not [name for name in nodes if name.startswith("more:")]
    shallow = run_depgraph(
        "graph", "libssl1.0.0", "--status", STATUS, "--format", "dot", "--fold-depth", "1"
    )
    drawn = dot_nodes(shallow.stdout)
    depth = {n["package"]: n["depth"] for n in document["nodes"]}
    assert {name for name in drawn if name in depth} == {p for p, d in depth.items() if d <= 1}


def test_edges_point_at_what_is_needed_and_alternatives_are_labelled() -> None:
    document = graph_json()
    run = run_depgraph("graph", "libssl1.0.0", "--status", STATUS, "--format", "dot", "--expand")
    lines = run.stdout.splitlines()
    for edge in document["edges"]:
        # drawn from the needed package to its dependent, arrow reversed (dir=back)
        line = next(x for x in lines if f'"{edge["to"]}" -> "{edge["from"]}" [' in x)
        assert 'dir="back"' in line
        if edge["kind"] == "Provides":
            assert 'label="provides' in line
        elif edge["alternative"]:
            assert 'label="| ' in line and 'style="dotted"' in line
        elif edge["kind"] == "Depends":
            assert "label=" not in line
    assert any(e["alternative"] for e in document["edges"])  # the fixture has one


def test_bad_picture_options() -> None:
    run = run_depgraph(
        "graph", "libssl1.0.0", "--status", STATUS, "--format", "svg", "--max-nodes", "1"
    )
    assert run.status == 2 and run.stderr.strip().count("\n") == 0
    assert "--max-nodes must be at least 2" in run.stderr


# --- Graphviz: svg and png --------------------------------------------------------------------


def test_svg_and_png_are_drawn_by_graphviz(tmp_path: Path) -> None:
    require_tool("dot")
    run = run_depgraph(
        "graph", "libssl1.0.0", "--root", scenario("ubuntu-12.04.3-armhf"), "--format", "svg"
    )
    assert run.status == 0, run.stderr
    svg = ET.fromstring(run.stdout)
    assert svg.tag == f"{SVG}svg"
    ids = {g.get("id"): g.get("class", "") for g in svg.iter(f"{SVG}g")}
    assert "library" in ids["node-libssl1.0.0"]
    assert "role-client" in ids["node-openssl"]  # classified (a command-line tool): shaped by role
    png = tmp_path / "graph.png"
    run = run_depgraph("graph", "libssl1.0.0", "--status", STATUS, "--format", "png", "-o", png)
    assert run.status == 0, run.stderr
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 300 and height > 100


def test_audit_svg_is_filled_by_risk() -> None:
    require_tool("dot")
    report = json.loads(run_depgraph("audit", "--root", SERVER, "--format", "json").stdout)
    run = run_depgraph("audit", "--root", SERVER, "--format", "svg")
    assert run.status == 1, run.stderr  # high findings
    svg = ET.fromstring(run.stdout)
    classes = {g.get("id"): g.get("class", "") for g in svg.iter(f"{SVG}g")}
    for package in report["packages"]:
        node = classes.get(f"node-{package['package']}")
        if node is not None:
            assert f"risk-{package['risk']['level']}" in node
            assert f"role-{package['role']}" in node
    assert "state-vulnerable" in classes["node-libssl1.0.0"]


def test_without_graphviz(tmp_path: Path) -> None:
    """No ``dot`` on PATH: svg is one error line and exit 2; html goes on without the picture."""
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {"PATH": str(empty)}
    run = run_depgraph("graph", "libssl1.0.0", "--status", STATUS, "--format", "svg", env=env)
    assert run.status == 2
    assert run.stderr.count("\n") == 1 and "Graphviz" in run.stderr and "dot" in run.stderr
    run = run_depgraph("audit", "--root", SERVER, "--format", "svg", env=env)
    assert run.status == 2 and run.stderr.count("\n") == 1
    out = tmp_path / "report.html"
    run = run_depgraph("audit", "--root", SERVER, "--format", "html", "-o", out, env=env)
    assert run.status == 1, run.stderr
    assert "Graphviz is not installed" in run.stderr
    page = out.read_text()
    assert "<svg" not in page and "not installed (apt-get install graphviz)" in page
    assert 'id="dependents-table"' in page


# --- the HTML report in a real browser --------------------------------------------------------

MEASURE = """
<script>
(function () {
  function box(el) {
    if (!el) { return null; }
    var r = el.getBoundingClientRect();
    return {x: r.left, y: r.top + window.scrollY, w: r.width, h: r.height};
  }
  var wide = [];
  document.querySelectorAll("body *").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > window.innerWidth + 1 && !el.closest("figure, .table-wrap")) {
      wide.push(el.tagName + "." + el.className);
    }
  });
  var facts = {
    inner: window.innerWidth, scroll: document.documentElement.scrollWidth,
    table: box(document.getElementById("dependents-table")),
    svg: box(document.querySelector("#graph svg")),
    rows: document.querySelectorAll("#dependents-table tbody tr").length,
    wide: wide
  };
  var risk = document.getElementById("risk-filter");
  risk.value = "high";
  risk.dispatchEvent(new Event("change"));
  facts.high = Array.prototype.filter.call(
    document.querySelectorAll("#dependents-table tbody tr"), function (r) { return !r.hidden; }
  ).map(function (r) { return r.cells[1].querySelector("b").textContent; });
  risk.value = "";
  risk.dispatchEvent(new Event("change"));
  document.querySelectorAll("#dependents-table th")[1].click();
  facts.sorted = Array.prototype.map.call(
    document.querySelectorAll("#dependents-table tbody tr"),
    function (r) { return r.cells[1].querySelector("b").textContent; });
  var out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify(facts);
  document.body.appendChild(out);
})();
</script>
"""


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    program = require_tool("chromium")
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [program, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
         "--force-device-scale-factor=1", "--hide-scrollbars", "--window-size=1280,2000", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_html_report_renders_in_chromium(tmp_path: Path) -> None:
    require_tool("dot")
    report = json.loads(run_depgraph("audit", "--root", SERVER, "--format", "json").stdout)
    page = tmp_path / "report.html"
    run = run_depgraph("audit", "--root", SERVER, "--format", "html", "-o", page)
    assert run.status == 1, run.stderr
    html = page.read_text()
    # self-contained: nothing is fetched
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html)
    assert "http://" not in html.replace("http://www.w3.org/", "")
    assert "https://" not in html
    measured = tmp_path / "measured.html"
    measured.write_text(html.replace("</body>", MEASURE + "</body>"))
    done = chromium(tmp_path, "--dump-dom", measured.as_uri())
    found = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout)
    assert found, done.stderr[-2000:]
    facts = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert facts["scroll"] <= facts["inner"], facts  # nothing overflows the page sideways
    assert facts["wide"] == [], facts
    for name in ("table", "svg"):
        box = facts[name]
        assert box is not None and box["w"] > 400 and box["h"] > 150, (name, box)
        assert box["x"] >= 0 and box["x"] + box["w"] <= facts["inner"], (name, box)
    assert facts["rows"] == len(report["packages"])
    high = [p["package"] for p in report["packages"] if p["risk"]["level"] == "high"]
    assert sorted(facts["high"]) == sorted(high) and high
    assert facts["sorted"] == sorted(p["package"] for p in report["packages"])
    # the screenshot shows them: the regions are not blank
    shot = tmp_path / "report.png"
    done = chromium(tmp_path, f"--screenshot={shot}", page.as_uri())
    assert shot.is_file(), done.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2000)
    for name in ("svg", "table"):
        box = facts[name]
        bottom = min(box["y"] + box["h"], image.size[1])
        region = image.crop((int(box["x"]), int(box["y"]), int(box["x"] + box["w"]), int(bottom)))
        colours = region.getcolors(maxcolors=1 << 16) or []
        ink = sum(count for count, rgb in colours if sum(rgb) < 600)
        assert len(colours) > 20 and ink > 0.01 * region.size[0] * region.size[1], name
    # the graph's library node is drawn red (vulnerable), the high servers orange
    reds = sum(
        c for c, rgb in image.getcolors(maxcolors=1 << 20) or [] if rgb == (0xD7, 0x30, 0x1F)
    )
    assert reds > 100


def test_html_lists_evidence_and_plan() -> None:
    run = run_depgraph("audit", "--root", SERVER, "--format", "html")
    report = json.loads(run_depgraph("audit", "--root", SERVER, "--format", "json").stdout)
    html = run.stdout
    for evidence in report["library"][0]["evidence"]:
        assert f"<b>{evidence['kind']}</b>" in html
    for action in report["actions"]:
        assert f'<li data-step="{action["step"]}"><label><input type="checkbox">' in html
    assert html.count('<tr data-risk="') == len(report["packages"])


# --- OpenVEX ----------------------------------------------------------------------------------


def openvex(*args: str | Path) -> dict[str, Any]:
    run = run_depgraph("audit", *args, "--format", "openvex")
    assert run.status in (0, 1), run.stderr
    document: dict[str, Any] = json.loads(run.stdout)
    schema = json.loads((SCHEMAS / "openvex-v0.2.0.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    return document


def by_product(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for statement in document["statements"]:
        name = statement["products"][0]["@id"].split("/")[2].split("@")[0]
        assert name not in found
        found[name] = statement
    return found


def test_openvex_vulnerable_precise_server() -> None:
    document = openvex("--root", SERVER)
    report = json.loads(run_depgraph("audit", "--root", SERVER, "--format", "json").stdout)
    statements = by_product(document)
    assert set(statements) == {p["package"] for p in report["packages"]} | {"libssl1.0.0"}
    library = statements["libssl1.0.0"]
    assert library["status"] == "affected" and "apt-get" in library["action_statement"]
    assert (
        library["products"][0]["@id"] == "pkg:deb/ubuntu/libssl1.0.0@1.0.1-4ubuntu5.10?arch=armhf"
    )
    for package in report["packages"]:
        statement = statements[package["package"]]
        assert statement["vulnerability"]["name"] == "CVE-2014-0160"
        assert statement["products"][0]["subcomponents"][0]["@id"].startswith(
            "pkg:deb/ubuntu/libssl1.0.0@"
        )
        if package["role"] in ("server", "client"):
            assert statement["status"] == "affected"
        elif package["role"] == "unknown":
            assert statement["status"] == "under_investigation"
        elif package["component"] == "libcrypto":  # openssh: libcrypto only, a libssl bug
            assert statement["status"] == "not_affected"
            assert statement["justification"] == "vulnerable_code_not_present"
    assert statements["nginx-full"]["status"] == "affected"
    assert statements["openssh-server"]["justification"] == "vulnerable_code_not_present"


def test_openvex_backport_and_debian_names() -> None:
    trusty = by_product(openvex("--root", scenario("ubuntu-14.04-core-armhf")))
    library = trusty["libssl1.0.0"]
    assert (library["status"], library["justification"]) == (
        "not_affected",
        "inline_mitigations_already_exist",
    )
    wheezy = openvex("--root", scenario("debian-7.0-i386"))
    assert all(s["products"][0]["@id"].startswith("pkg:deb/debian/") for s in wheezy["statements"])
    jessie = by_product(openvex("--root", scenario("debian-jessie-armel")))
    assert jessie["libssl1.0.0"]["status"] == "fixed"


def test_openvex_library_not_installed() -> None:
    document = openvex("--root", scenario("ubuntu-9.04-armel"))
    assert document["statements"]
    for statement in document["statements"]:
        assert (statement["status"], statement["justification"]) == (
            "not_affected",
            "component_not_present",
        )


def test_openvex_schema_rejects_what_the_spec_forbids() -> None:
    """The schema is not a tautology: the spec's MUSTs fail it."""
    document = openvex("--root", SERVER)
    schema = json.loads((SCHEMAS / "openvex-v0.2.0.schema.json").read_text())
    affected = next(s for s in document["statements"] if s["status"] == "affected")
    affected.pop("action_statement")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)
    document = openvex("--root", SERVER)
    spared = next(s for s in document["statements"] if s["status"] == "not_affected")
    spared.pop("justification")
    spared.pop("impact_statement", None)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)
    document = openvex("--root", SERVER)
    document["statements"][0]["status"] = "fine"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


def test_openvex_counts_the_stale_process_in_words() -> None:
    """raspbian-wheezy-stale: pid 2214 maps a deleted libssl: the library's note says '1 process
    still maps an old copy: restart it', not '1 processes ... restart them'."""
    args = (FIXTURES / "audit/raspbian-wheezy-stale/args").read_text().split()
    repo = FIXTURES.parent
    library = by_product(openvex(*(str(repo / a) if "/" in a else a for a in args)))["libssl1.0.0"]
    assert "1 process still maps an old copy: restart it" in json.dumps(library), library
    assert "1 processes" not in json.dumps(library)
