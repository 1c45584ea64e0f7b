"""What an ELF file links and imports, read with pyelftools (System V gABI, "Dynamic Section").

For each file: the ``DT_NEEDED`` sonames, the undefined dynamic symbols it imports, and (for a
library) the symbols it exports. A file that is not ELF, is truncated, cannot be read or loops
through symlinks gives an :class:`ElfFacts` with ``problem`` set, never an exception: a package's
file list names scripts, data and dangling links as well as binaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

ELF_MAGIC = b"\x7fELF"


@dataclass(frozen=True, slots=True)
class ElfFacts:
    """The dynamic linking facts of one file, or why there are none."""

    path: str
    soname: str | None = None
    needed: tuple[str, ...] = ()
    imports: frozenset[str] = frozenset()
    exports: frozenset[str] = frozenset()
    machine: str | None = None
    problem: str | None = None

    @property
    def is_elf(self) -> bool:
        """The file was read as ELF (it may still link nothing)."""
        return self.problem is None


def read_elf(
    path: Path, *, with_exports: bool = False, symbols_if_needs: frozenset[str] | None = None
) -> ElfFacts:
    """The facts of ``path``; never raises for a bad file (see ``problem``).

    Reading the symbol table is most of the cost; with ``symbols_if_needs`` it is read only when the
    file needs one of those sonames (the imports of other files do not matter to the caller).
    """
    shown = str(path)
    try:
        with open(path, "rb") as stream:
            if stream.read(4) != ELF_MAGIC:
                return ElfFacts(shown, problem="not an ELF file")
            stream.seek(0)
            return _facts(shown, ELFFile(stream), with_exports, symbols_if_needs)
    except OSError as error:
        return ElfFacts(shown, problem=f"cannot read: {error.strerror or error}")
    except (ELFError, ValueError, KeyError, IndexError, AssertionError, EOFError) as error:
        return ElfFacts(shown, problem=f"malformed or truncated ELF: {error}")


def _facts(
    shown: str, elf: ELFFile, with_exports: bool, symbols_if_needs: frozenset[str] | None
) -> ElfFacts:
    needed: list[str] = []
    soname: str | None = None
    for section in elf.iter_sections():
        if isinstance(section, DynamicSection):
            for tag in section.iter_tags():
                # pyelftools sets .needed and .soname on those tags only, so its stubs omit them
                if tag.entry.d_tag == "DT_NEEDED":
                    needed.append(str(getattr(tag, "needed", "")))
                elif tag.entry.d_tag == "DT_SONAME":
                    soname = str(getattr(tag, "soname", "")) or None
            break
    imports: set[str] = set()
    exports: set[str] = set()
    wanted = with_exports or symbols_if_needs is None or not symbols_if_needs.isdisjoint(needed)
    symbols = elf.get_section_by_name(".dynsym") if wanted else None
    if isinstance(symbols, SymbolTableSection):
        for symbol in symbols.iter_symbols():
            name = symbol.name
            if not name:
                continue
            if symbol["st_shndx"] == "SHN_UNDEF":
                imports.add(name)
            elif with_exports and symbol["st_info"]["bind"] in ("STB_GLOBAL", "STB_WEAK"):
                exports.add(name)
    return ElfFacts(
        shown,
        soname=soname,
        needed=tuple(needed),
        imports=frozenset(imports),
        exports=frozenset(exports),
        machine=str(elf["e_machine"]),
    )


def elf_candidates(paths: list[Path]) -> list[Path]:
    """Regular files among ``paths`` that start with the ELF magic (cheap pre-filter)."""
    found = []
    for path in paths:
        try:
            if not path.is_file() or path.is_symlink():
                continue
            with open(path, "rb") as stream:
                if stream.read(4) == ELF_MAGIC:
                    found.append(path)
        except OSError:
            continue
    return found
