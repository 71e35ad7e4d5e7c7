"""The compatibility tables (bridge/bridging/compatibility.yaml, rendered into the README) against
what the code does:

- the README's tables are exactly the rendering of the data (nothing edited by hand, no drift);
- every command, setting and URC (and URC variant) of each host dialect has a row, and every
  name a row claims to cover exists in the dialect file;
- every test a row names exists;
- every row's probe, sent by firmware through a real bridge (real ptys, an emulated module,
  a loopback server), gets the answer the row claims -- a refused row the error it names.
"""
from __future__ import annotations

import ast
import fnmatch
import re
from functools import lru_cache
from pathlib import Path

import pytest

from bridge.bridging import compatibility
from bridge.at.dialect import COMMON, load
from support.bridged import bridged
from support.paths import REPO, TESTS

ROOT = REPO
README = (ROOT / "README.md").read_text(encoding="utf-8")
TABLES = compatibility.load()
FINAL = r"\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n"

pytestmark = pytest.mark.timeout(60)


def test_the_readme_tables_are_the_rendered_data():
    assert sorted(compatibility.blocks(README)) == sorted(TABLES), "a table is missing from the README, or unknown"
    assert compatibility.rewrite(README, TABLES) == README, \
        "README tables differ from bridge/bridging/compatibility.yaml: run `python -m bridge.bridging.compatibility README.md`"


def _dialect_names(dialect: str) -> set[str]:
    """The host dialect's own commands, their settings, its URCs and their variants."""
    spec, basics = load(dialect), load(COMMON)
    names: set[str] = set()
    for name, command in spec.commands.items():
        if name not in basics.commands:
            names.add(name)
            names.update(f'{name} "{setting}"' for setting in command.settings)
    for name, frame in spec.frames.items():
        if frame.unsolicited and name not in basics.frames:
            variants = [f'{name} "{variant}"' for variant in frame.variants]
            names.update(variants or [name])
    return names


@pytest.mark.parametrize("host", sorted({t.host for t in TABLES.values()}))
def test_every_command_setting_and_urc_has_a_row(host):
    names = _dialect_names(host)
    assert len(names) > 15
    covered = {name for table in TABLES.values() if table.host == host for row in table.rows for name in row.covers}
    assert not names - covered, f"no row for {sorted(names - covered)} ({host} firmware)"
    assert not covered - names, f"rows cover names the {host} dialect does not have: {sorted(covered - names)}"


@lru_cache(maxsize=None)
def _test_functions(file: Path) -> frozenset[str]:
    tree = ast.parse(file.read_text(encoding="utf-8"))
    return frozenset(node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"))


def _resolves(reference: str, tests_in: str) -> bool:
    if "::" not in reference:
        return re.fullmatch(r"manual \d[\w./ -]*", reference) is not None
    file, name = reference.split("::")
    found = sorted(TESTS.glob(f"*/{file if file.startswith('test_') else tests_in + file}.py"))  # unit/, system/ ...
    path = found[0] if found else TESTS / "missing"
    pattern = name.split("[")[0]
    return path.exists() and bool(fnmatch.filter(_test_functions(path), pattern if pattern != "*" else "test_*"))


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_row_has_a_status_and_tests_that_exist(name):
    table = TABLES[name]
    for row in table.rows:
        assert row.status_class, f"{row.cells[0]}: status {row.status!r} is none of {compatibility.STATUSES}"
        if row.status_class == "refused":
            assert row.refusal and row.probe, f"{row.cells[0]}: a refused row names its error and probes it"
        if row.status_class in ("fully", "partly"):
            assert row.tests or row.probe, f"{row.cells[0]}: nothing shows it"
        missing = [t for t in row.tests if not _resolves(t, table.tests_in)]
        assert not missing, f"{row.cells[0]}: no such test {missing}"


PROBES = [(name, index) for name, table in TABLES.items() for index, row in enumerate(table.rows) if row.probe]


@pytest.mark.parametrize("name,index", PROBES, ids=[f"{name}-{index}" for name, index in PROBES])
def test_probe_gets_the_answer_the_row_claims(name, index, blob_server, tmp_path):
    table = TABLES[name]
    row = table.rows[index]
    with bridged(table.host, table.module, tmp_path) as (firmware, _bridge, _module):
        for step in row.probe:
            answer = _run(firmware, step, blob_server.port)
            _assert_answer(answer, step.answer, f"{row.cells[0]}: {step.send}")
            if step.then:
                firmware.expect(re.escape(step.then.format(port=blob_server.port)), timeout=20)
    if row.status_class == "refused":
        assert row.probe[-1].answer[-1] == row.refusal


def _run(firmware, step: compatibility.ProbeStep, port: int) -> bytes:
    line = step.send.format(port=port)
    if step.data is None:
        return firmware.transact(line)
    firmware.command(line)
    firmware.expect(rb">")
    firmware.send(step.data.encode())
    return firmware.expect(rb"(.*?)" + FINAL.encode()).group(0)


def _assert_answer(answer: bytes, expected: tuple[str, ...], what: str) -> None:
    lines = [line.strip().decode("latin-1") for line in answer.split(b"\r\n") if line.strip()]
    assert lines and lines[-1] == expected[-1], f"{what}: final {lines[-1:]} is not {expected[-1]!r} ({lines})"
    position = 0
    for wanted in expected[:-1]:
        assert wanted in lines[position:], f"{what}: {wanted!r} not in {lines}"
        position = lines.index(wanted, position) + 1
