"""``depgraph.elf`` against pyelftools' own record parsing, on real ELF files of this machine.

depgraph lets pyelftools find the sections and decodes the dynamic and symbol records in bulk
itself; the answer must be what pyelftools' ``iter_tags``/``iter_symbols`` give, file for file.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from depgraph.elf import ELF_MAGIC, read_elf


def _reference(path: Path) -> tuple[str | None, tuple[str, ...], set[str], set[str]]:
    """soname, needed, imports, exports as pyelftools' record parsers give them."""
    with open(path, "rb") as stream:
        elf = ELFFile(stream)
        soname, needed = None, []
        for section in elf.iter_sections():
            if isinstance(section, DynamicSection):
                for tag in section.iter_tags():
                    if tag.entry.d_tag == "DT_NEEDED":
                        needed.append(tag.needed)
                    elif tag.entry.d_tag == "DT_SONAME":
                        soname = tag.soname
                break
        imports, exports = set(), set()
        symbols = elf.get_section_by_name(".dynsym")
        if isinstance(symbols, SymbolTableSection):
            for symbol in symbols.iter_symbols():
                if not symbol.name:
                    continue
                if symbol["st_shndx"] == "SHN_UNDEF":
                    imports.add(symbol.name)
                elif symbol["st_info"]["bind"] in ("STB_GLOBAL", "STB_WEAK"):
                    exports.add(symbol.name)
    return soname, tuple(needed), imports, exports


def _real_elf_files() -> list[Path]:
    """Programs and libraries of this machine, including 32-bit or foreign ones if present."""
    found = []
    places = [Path("/usr/bin"), Path("/usr/sbin"), Path("/usr/lib/x86_64-linux-gnu")]
    for path in itertools.chain.from_iterable(sorted(p.iterdir()) for p in places if p.is_dir()):
        if path.is_symlink() or not path.is_file():
            continue
        with open(path, "rb") as stream:
            if stream.read(4) == ELF_MAGIC:
                found.append(path)
    return found[::7]  # a spread of a few hundred files keeps the test short


def test_bulk_decoding_equals_pyelftools() -> None:
    files = _real_elf_files()
    assert len(files) > 100
    with_symbols = 0
    for path in files:
        facts = read_elf(path, with_exports=True)
        soname, needed, imports, exports = _reference(path)
        assert facts.problem is None, (path, facts.problem)
        assert (facts.soname, facts.needed) == (soname, needed), path
        assert facts.imports == imports, path
        assert facts.exports == exports, path
        with_symbols += bool(imports)
    assert with_symbols > 100


def test_libssl_exports_and_openssl_imports() -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    program = read_elf(Path(openssl), symbols_if_needs=frozenset({"libssl.so.3"}))
    assert "libssl.so.3" in program.needed
    assert "SSL_CTX_new" in program.imports
    library = Path("/usr/lib/x86_64-linux-gnu/libssl.so.3")
    facts = read_elf(library, with_exports=True)
    assert facts.soname == "libssl.so.3"
    assert {"SSL_accept", "SSL_connect", "SSL_read"} <= facts.exports
    assert "SSL_accept" not in facts.imports


def test_truncated_symbol_table_is_a_problem_or_a_shorter_answer(tmp_path: Path) -> None:
    """A file cut in the middle never raises: the answer has a problem, or fewer symbols."""
    source = Path("/usr/lib/x86_64-linux-gnu/libssl.so.3").read_bytes()
    whole = read_elf(Path("/usr/lib/x86_64-linux-gnu/libssl.so.3"), with_exports=True)
    for cut in (64, 1000, len(source) // 3, len(source) - 100):
        damaged = tmp_path / f"cut-{cut}.so"
        damaged.write_bytes(source[:cut])
        facts = read_elf(damaged, with_exports=True)
        assert facts.problem is not None or facts.exports <= whole.exports, cut
