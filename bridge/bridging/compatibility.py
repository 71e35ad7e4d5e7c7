"""The compatibility tables: what the bridge does with each command and URC, in each direction.

The rows live in `compatibility.yaml` next to this file; the README's tables are rendered from
them (`python -m bridge.bridging.compatibility README.md` rewrites them in place).  Each row
says which dialect names it covers, its status, the tests that show it and, for commands, a
probe: command lines sent through a real bridge whose answers must be the ones the row claims
(tests/system/test_readme_compatibility.py runs them), so the tables cannot drift from the code.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from typing import Optional

import yaml

STATUSES = ("fully", "partly", "refused", "not produced", "not provoked")
_BLOCK = re.compile(r"(<!-- compatibility: (?P<table>[\w-]+) -->\n).*?(<!-- end -->)", re.S)


@dataclass(frozen=True)
class ProbeStep:
    """One command line (and the data after its prompt); `answer` lists lines of the answer, in
    order, the last one being the final result; `then` is a later line to wait for (a URC)."""

    send: str
    answer: tuple[str, ...]
    data: Optional[str] = None
    then: Optional[str] = None


@dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]
    status: str
    covers: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    probe: tuple[ProbeStep, ...] = ()

    @property
    def status_class(self) -> str:
        return next((s for s in STATUSES if self.status.startswith(s)), "")

    @property
    def refusal(self) -> Optional[str]:
        """The error a refused row names: "refused: `ERROR`" -> "ERROR"."""
        match = re.match(r"refused: `([^`]+)`", self.status)
        return match.group(1) if match else None


@dataclass(frozen=True)
class Table:
    name: str
    host: str
    module: str
    columns: tuple[str, ...]
    tests_in: str
    rows: tuple[Row, ...] = field(default_factory=tuple)


def load() -> dict[str, Table]:
    text = resources.files("bridge.bridging").joinpath("compatibility.yaml").read_text(encoding="utf-8")
    return {name: _table(name, raw) for name, raw in yaml.safe_load(text)["tables"].items()}


def _table(name: str, raw: dict) -> Table:
    rows = tuple(_row(r) for r in raw["rows"])
    return Table(name, raw["host"], raw["module"], tuple(raw["columns"]), raw["tests_in"], rows)


def _row(raw: dict) -> Row:
    steps = tuple(ProbeStep(s["send"], tuple(s["answer"]), s.get("data"), s.get("then")) for s in raw.get("probe", ()))
    return Row(tuple(raw["cells"]), raw["status"], tuple(raw.get("covers", ())), tuple(raw.get("tests", ())), steps)


def render(table: Table) -> str:
    """The table as Markdown: its cells, the status, and the tests (`file::name` in code style)."""
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    for row in table.rows:
        cells = [*row.cells, row.status, _tests_cell(row.tests)]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def _tests_cell(tests: tuple[str, ...]) -> str:
    return ", ".join(f"`{t}`" if "::" in t else t for t in tests) or "—"


def rewrite(readme: str, tables: dict[str, Table]) -> str:
    """`readme` with every `<!-- compatibility: NAME -->` ... `<!-- end -->` block re-rendered."""
    return _BLOCK.sub(lambda m: m.group(1) + render(tables[m.group("table")]) + m.group(3), readme)


def blocks(readme: str) -> list[str]:
    return [m.group("table") for m in _BLOCK.finditer(readme)]


def main(argv: list[str]) -> int:
    [path] = argv
    with open(path, encoding="utf-8") as file:
        text = file.read()
    with open(path, "w", encoding="utf-8") as file:
        file.write(rewrite(text, load()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
