"""The migration report: each form a firmware used, and what the bridge does with it on the target.

Statuses come from the compatibility tables (bridge/bridging/compatibility.yaml), the data the
README's tables are rendered from; a form no row covers is "unknown".  A 3GPP basic command
(dialects/common.yaml) is passed through unchanged by the bridge, so it is carried as it is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

from bridge.bridging.compatibility import Row, Table, load as load_tables
from bridge.at.dialect import COMMON, Dialect, load
from bridge.app.migration.forms import Seen

CARRIED, DIFFERENT, NOT_CARRIED, UNKNOWN = "fully carried", "carried with a difference", "not carried", "unknown"
PASSED_THROUGH = "Passed through unchanged (a 3GPP basic both dialects share)."
_TEMPLATE = re.compile(r"`(AT[^`]*)`")
_CELL_NAME = re.compile(r"`(?:AT)?\+?([$A-Z][A-Z0-9$]*)")


@dataclass(frozen=True)
class Finding:
    seen: Seen
    status: str  # one of CARRIED, DIFFERENT, NOT_CARRIED, UNKNOWN
    becomes: str  # what the bridge turns it into on the target
    detail: str  # the row's own status text (why partly / which error), or why unknown


@dataclass(frozen=True)
class Report:
    source: str
    target: str
    findings: tuple[Finding, ...]

    def count(self, status: str) -> int:
        return sum(1 for f in self.findings if f.status == status)

    @property
    def verdict(self) -> str:
        blocked, unknown = self.count(NOT_CARRIED), self.count(UNKNOWN)
        if blocked or unknown:
            return (f"Not ready: {blocked} form(s) cannot be carried and {unknown} are unknown to the bridge; "
                    "see the rows marked below.")
        if self.count(DIFFERENT):
            return f"Ready with differences: every form is carried, {self.count(DIFFERENT)} with a difference to review."
        return "Ready: every form the firmware used is carried as it is."


def check(seen: Iterable[Seen], source: str, target: str) -> Report:
    tables = [t for t in load_tables().values() if t.host == source and t.module == target]
    if not tables:
        raise ValueError(f"no compatibility table for {source} firmware on a {target} module")
    basics = load(COMMON)
    return Report(source, target, tuple(_finding(s, tables, basics) for s in seen))


def _finding(seen: Seen, tables: list[Table], basics: Dialect) -> Finding:
    row = best_row(seen, tables)
    if row is not None:
        return Finding(seen, _status(row), row.cells[1] if len(row.cells) > 1 else "", row.status)
    if (seen.kind == "command" and seen.name in basics.commands) or (seen.kind == "urc" and seen.name in basics.frames):
        return Finding(seen, CARRIED, PASSED_THROUGH, "fully")
    if seen.kind == "error" and seen.name in ("ERROR", "+CME ERROR"):
        return Finding(seen, CARRIED, "Reported in the firmware's own dialect (see the error tables).", "fully")
    return Finding(seen, UNKNOWN, "Passed through unchanged; the target module may not know it.",
                   "no row of the compatibility tables covers it")


def _status(row: Row) -> str:
    return {"fully": CARRIED, "partly": DIFFERENT, "refused": NOT_CARRIED,
            "not produced": NOT_CARRIED, "not provoked": DIFFERENT}.get(row.status_class, UNKNOWN)


def best_row(seen: Seen, tables: list[Table]) -> Optional[Row]:
    """The row that covers the form's name and whose command template agrees best with the
    form's enumerated parameters (`AT+HTTPACTION=99,<length>` over `AT+HTTPACTION=0`)."""
    names = {seen.name, seen.name.split(" ")[0]}
    candidates = [row for table in tables for row in table.rows if names & (set(row.covers) or _cell_names(row))]
    scored = [(score, -i, row) for i, row in enumerate(candidates)
              if (score := _agreement(seen, row)) is not None]
    return max(scored, key=lambda item: item[:2])[2] if scored else None


def _agreement(seen: Seen, row: Row) -> Optional[int]:
    """How many enumerated parameters the row's template names alike; None if one differs."""
    if seen.kind != "command":
        return 1 if seen.name in row.covers else 0
    best: Optional[int] = None
    for template in _TEMPLATE.findall(row.cells[0]):
        literals = _template_literals(template)
        score = 0
        for mine, theirs in zip(seen.literals, literals):
            if mine is None or theirs is None:
                continue
            if mine.strip('"').lower() != theirs.strip('"').lower():
                score = None
                break
            score += 1
        if score is not None and (best is None or score > best):
            best = score + (1 if seen.name in row.covers else 0)
    return best if best is not None else (0 if not _TEMPLATE.search(row.cells[0]) else None)


def _cell_names(row: Row) -> set[str]:
    """Command names a row without `covers` names in its first cell (`$MYNETACT`, misprints)."""
    return set(_CELL_NAME.findall(row.cells[0]))


def _template_literals(template: str) -> list[Optional[str]]:
    if "=" not in template or template.rstrip().endswith(("?", "=?")):
        return []
    params = template.split("=", 1)[1].split(",")
    return [None if "<" in p or "[" in p or not p.strip() else p.strip() for p in params]
