"""YAML is the only table: no string literal in bridge/ repeats a table of dialects/*.yaml.

Every bridge/**/*.py is parsed with ast and each literal compared with the tables of every dialect
(common.yaml included):

- an error token of errors.sync / errors.async ("+HTTPSETUP: FAIL", "650", "1413") -- one-digit
  codes excepted, since "1" or "3" in code is any small number; they are caught in key lists;
- an enum key list: a tuple, list, set, dict's keys or dict's values, every element a literal,
  whose elements are the keys of an enum or inline `values:` table (("0", "1", "2", "99"),
  {VerifyMode.NONE: 0, VerifyMode.SERVER: 1, VerifyMode.MUTUAL: 2});
- an exact answer (`answer:` of any form): the whole answer, one of its lines, a line without its
  "+NAME: " prefix, or one parenthesised range of it ("+CEREG: (0-5)", "(0-5)");
- a parameter's code: a comparison of an expression that names a parameter with an enum or
  `values:` table (`values["eof"] == 1`, `.get("cached", "cached") != "1"`) with a literal (or a
  tuple of literals) that is one of that table's keys -- ask what the value `means` instead.

A hit names the file and line, what it copies and where the table is.  Code asks the dialect
instead (bridge/at/meaning.py, bridge/at/errors.py, FormSpec.answer).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import pytest

from bridge.at.dialect import COMMON, Dialect, available, load
from support.paths import REPO

ROOT = REPO / "bridge"
SOURCES = sorted(ROOT.rglob("*.py"))

# Literals that equal a table entry but are not a copy of one.  Keep this short; say why.
ALLOWED = {
    # Final.result names the three V.250 final results ("OK" | "ERROR" | "CME", bridge/at/frames.py):
    # code that reads a Final compares with the frame model's own word, not with a dialect's token.
    "ERROR": "the frame model's name of the ERROR final result (Final.result)",
}


@dataclass(frozen=True)
class Tables:
    tokens: dict[str, str]  # literal -> where it is declared
    key_sets: dict[frozenset[str], str]
    answers: dict[str, str]
    codes: dict[str, tuple[set[str], str]]  # parameter name -> its table's keys, where (the first)


def _answer_pieces(answer: str) -> set[str]:
    pieces = set()
    for line in filter(None, answer.split("\n")):
        pieces |= {line, line.partition(":")[2].strip()}
        pieces |= set(re.findall(r"\([^()]*\)", line))
    return pieces - {""}


def _add_key_set(tables: Tables, keys: object, where: str) -> None:
    keys = frozenset(str(key) for key in keys)  # type: ignore[union-attr]
    if len(keys) >= 2:
        tables.key_sets.setdefault(keys, where)


def collect(dialects: dict[str, Dialect]) -> Tables:
    tables = Tables({}, {}, {}, {})
    for name, dialect in dialects.items():
        file = f"dialects/{name}.yaml"
        for channel, table in (("sync", dialect.sync_errors), ("async", dialect.async_errors)):
            for token in table:
                if not (token.isdigit() and len(token) == 1):
                    tables.tokens.setdefault(token, f"{file}: errors.{channel}")
        for enum, values in dialect.enums.items():
            _add_key_set(tables, values, f"{file}: enums.{enum}")
        for command, spec in dialect.commands.items():
            params = [(f"forms.{form}", p) for form, f in spec.forms.items() for p in f.params]
            params += [(f"settings.{setting}", p) for setting, ps in spec.settings.items() for p in ps]
            for path, param in params:
                if param.values and not param.enum:
                    _add_key_set(tables, param.values, f"{file}: commands.{command}.{path}.{param.name}.values")
                if param.values:
                    keys, _ = tables.codes.setdefault(param.name, (set(), f"{file}: commands.{command}.{path}.{param.name}"))
                    keys.update(param.values)
            for form, spec_form in spec.forms.items():
                for piece in _answer_pieces(spec_form.answer or ""):
                    tables.answers.setdefault(piece, f"{file}: commands.{command}.forms.{form}.answer")
    return tables


def _literal(node: ast.AST) -> object:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int)) and not isinstance(node.value, bool):
        return node.value
    return None


def _groups(node: ast.AST) -> list[list[ast.expr]]:
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [node.elts]
    if isinstance(node, ast.Dict):
        return [[key for key in node.keys if key is not None], node.values]
    return []


def _is_length(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len"


def _compared_codes(node: ast.Compare, tables: Tables) -> list[str]:
    """What a comparison of a named parameter with its own codes compares ("eof" with 1)."""
    if len(node.ops) != 1:
        return []
    found = []
    sides = [node.left, node.comparators[0]]
    for codes, named in (sides, sides[::-1]):
        values = [_literal(e) for e in codes.elts] if isinstance(codes, (ast.Tuple, ast.List, ast.Set)) else [_literal(codes)]
        if not values or None in values or _is_length(named):
            continue
        names = {n.value for n in ast.walk(named) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        for name in sorted(names & set(tables.codes)):
            keys, where = tables.codes[name]
            if all(str(value) in keys for value in values):
                found.append(f"parameter {name!r} compared with its code {values} ({where})")
    return found


def copies(text: str, tables: Tables, allowed: dict[str, str] = ALLOWED) -> list[tuple[int, str]]:
    """(line, complaint) for every literal of the source `text` that repeats a table."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Compare):
            found += [(node.lineno, what) for what in _compared_codes(node, tables)]
        value = _literal(node)
        if isinstance(value, str) and value not in allowed:
            if value in tables.tokens:
                found.append((node.lineno, f"error token {value!r} ({tables.tokens[value]})"))
            if value in tables.answers:
                found.append((node.lineno, f"answer {value!r} ({tables.answers[value]})"))
        for group in _groups(node):
            values = [_literal(element) for element in group]
            if len(values) >= 2 and None not in values:
                keys = frozenset(str(v) for v in values)
                if keys in tables.key_sets:
                    found.append((node.lineno, f"enum keys {sorted(keys)} ({tables.key_sets[keys]})"))
    return found


TABLES = collect({COMMON: load(COMMON), **{name: load(name) for name in available()}})  # common first: where it is declared


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_no_literal_repeats_a_yaml_table(path):
    text = path.read_text(encoding="utf-8")
    assert [f"{path.relative_to(ROOT.parent)}:{line}: {what}" for line, what in copies(text, TABLES)] == []


@pytest.mark.parametrize("source, complaint", [
    ('SETUP_FAIL = "+HTTPSETUP: FAIL"', "error token '+HTTPSETUP: FAIL' (dialects/neoway.yaml: errors.sync)"),
    ('BUSY = "653"', "error token '653' (dialects/onemo.yaml: errors.sync)"),
    ('GET, HEAD, POST, RAW = "0", "1", "2", "99"', "enum keys ['0', '1', '2', '99'] (dialects/neoway.yaml: enums.action_mode)"),
    ("AUTH = {VerifyMode.NONE: 0, VerifyMode.SERVER: 1, VerifyMode.MUTUAL: 2}", "enum keys ['0', '1', '2']"),
    ('if value not in ("0", "1"): pass', "enum keys ['0', '1']"),
    ('side.line("+CEREG: (0-5)")', "answer '+CEREG: (0-5)' (dialects/common.yaml: commands.CEREG.forms.test.answer)"),
    ('text = "(0-5)"', "answer '(0-5)' (dialects/common.yaml: commands.CEREG.forms.test.answer)"),
    ('side.line("+CPIN: READY")', "answer '+CPIN: READY' (dialects/common.yaml: commands.CPIN.forms.read.answer)"),
    ('append = values["eof"] == 1', "parameter 'eof' compared with its code [1]"),
    ('if settings.get("cached", "cached") != "1": pass', "parameter 'cached' compared with its code ['1']"),
    ('ignored = values.get("ignore_verify") in ("1",)', "parameter 'ignore_verify' compared with its code ['1']"),
])
def test_the_guard_catches_a_planted_copy(source, complaint):
    """The check itself, on planted literals: each is refused, saying what it copies."""
    found = [what for _, what in copies(source, TABLES)]
    assert len(found) == 1 and found[0].startswith(complaint)


@pytest.mark.parametrize("source", [
    'x = "1"',                              # a one-digit code is any small number
    'names = ("url", "port")',              # two of http_para's four keys: no whole table
    'if final.result == "ERROR": pass',     # allowed: the frame model's own word
    'line = f"+CEREG: {level}"',            # built from state, not copied
    "span = (0, 1, 2, 3, 4, 5, 6)",         # no enum has these keys
    'if values["eof"] is None: pass',       # no code
    'if values["eof"] == 7: pass',          # no code of <eof>
    'if len(values["eof"]) == 1: pass',     # ... nor is a length
])
def test_the_guard_lets_non_copies_pass(source):
    assert copies(source, TABLES) == []
