"""What an ELF file links and imports, read with pyelftools (System V gABI, "Dynamic Section").

For each file: the ``DT_NEEDED`` sonames, the undefined dynamic symbols it imports, and (for a
library) the symbols it exports. A file that is not ELF, is truncated, cannot be read or loops
through symlinks gives an :class:`ElfFacts` with ``problem`` set, never an exception: a package's
file list names scripts, data and dangling links as well as binaries.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import Section

from depgraph.sources.files import InputError, Kind, open_input, starts_with

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
        with open_input(path, Kind.BINARY) as stream:  # a FIFO or device is not read
            if stream.read(4) != ELF_MAGIC:
                return ElfFacts(shown, problem="not an ELF file")
            stream.seek(0)
            return _facts(shown, ELFFile(stream), with_exports, symbols_if_needs)
    except InputError as error:
        return ElfFacts(shown, problem=f"cannot read: {error.detail or error.reason}")
    except OSError as error:
        return ElfFacts(shown, problem=f"cannot read: {error.strerror or error}")
    except (
        ELFError,
        ValueError,
        KeyError,
        IndexError,
        AssertionError,
        EOFError,
        struct.error,
    ) as error:
        return ElfFacts(shown, problem=f"malformed or truncated ELF: {error}")


def _facts(
    shown: str, elf: ELFFile, with_exports: bool, symbols_if_needs: frozenset[str] | None
) -> ElfFacts:
    dynamic = symbols = None
    for section in elf.iter_sections():
        if section["sh_type"] == "SHT_DYNAMIC" and dynamic is None:
            dynamic = section
        elif section["sh_type"] == "SHT_DYNSYM" and symbols is None:
            symbols = section
    layout = _Layout(elf)
    needed: list[str] = []
    soname: str | None = None
    if dynamic is not None:
        strings = _strings(elf, dynamic)
        for tag, value in layout.dynamic.iter_unpack(_whole(dynamic.data(), layout.dynamic)):
            if tag == DT_NEEDED:
                needed.append(_name(strings, value))
            elif tag == DT_SONAME:
                soname = _name(strings, value) or None
            elif tag == DT_NULL:
                break
    imports: set[str] = set()
    exports: set[str] = set()
    wanted = with_exports or symbols_if_needs is None or not symbols_if_needs.isdisjoint(needed)
    if wanted and symbols is not None:
        strings = _strings(elf, symbols)
        for record in layout.symbol.iter_unpack(_whole(symbols.data(), layout.symbol)):
            offset, info, shndx = layout.fields(record)
            if not offset:
                continue
            if shndx == SHN_UNDEF:
                imports.add(_name(strings, offset))
            elif with_exports and info >> 4 in (STB_GLOBAL, STB_WEAK):
                exports.add(_name(strings, offset))
        imports.discard("")
        exports.discard("")
    return ElfFacts(
        shown,
        soname=soname,
        needed=tuple(needed),
        imports=frozenset(imports),
        exports=frozenset(exports),
        machine=str(elf["e_machine"]),
    )


DT_NULL, DT_NEEDED, DT_SONAME = 0, 1, 14
SHN_UNDEF, STB_GLOBAL, STB_WEAK = 0, 1, 2


class _Layout:
    """The fixed-size ``Elf32_Dyn``/``Elf64_Dyn`` and ``Elf32_Sym``/``Elf64_Sym`` records (gABI,
    "Dynamic Section" and "Symbol Table") of one file's class and byte order.

    pyelftools finds the sections; their records are decoded here in bulk with :mod:`struct`,
    because pyelftools' per-record parsing costs ~60 us a symbol, and a first ``collect`` or cold
    audit reads some 700,000 of them (measured: 100 s -> 6 s for ``collect``).
    """

    def __init__(self, elf: ELFFile) -> None:
        order = "<" if elf.little_endian else ">"
        self.wide = elf.elfclass == 64
        if self.wide:
            self.dynamic = struct.Struct(order + "qQ")
            self.symbol = struct.Struct(order + "IBBHQQ")
        else:
            self.dynamic = struct.Struct(order + "iI")
            self.symbol = struct.Struct(order + "IIIBBH")

    def fields(self, record: tuple[int, ...]) -> tuple[int, int, int]:
        """``(st_name, st_info, st_shndx)`` of one symbol record."""
        if self.wide:
            return record[0], record[1], record[3]
        return record[0], record[3], record[5]


def _whole(data: bytes, record: struct.Struct) -> bytes:
    """``data`` cut to whole records (a truncated section loses its partial last record)."""
    return data[: len(data) - len(data) % record.size]


def _strings(elf: ELFFile, section: Section) -> bytes:
    """The string table a section's ``sh_link`` names (its names are offsets into it)."""
    return bytes(elf.get_section(section["sh_link"]).data())


def _name(strings: bytes, offset: int) -> str:
    """The NUL-terminated string at ``offset``; empty when the offset is outside the table."""
    if offset >= len(strings):
        return ""
    end = strings.find(b"\0", offset)
    return strings[offset : end if end >= 0 else len(strings)].decode("utf-8", "replace")


def elf_candidates(paths: Iterable[Path | str]) -> list[Path]:
    """Regular files among ``paths`` that start with the ELF magic (cheap pre-filter: one ``open``
    each, a symlink in the last component skipped, a FIFO or device never read)."""
    return [Path(path) for path in paths if starts_with(path, ELF_MAGIC)]
