"""The import direction of bridge/, read from the source: each layer imports only the layers below
it, the two dialects never import each other, and a dialect's module side and host side never
import each other.  A new upward import fails here with the offending file and line."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from support.paths import REPO

ROOT = REPO / "bridge"

# lowest first; a package or module name matches itself and everything below it
LAYERS: list[tuple[str, ...]] = [
    ("bridge.model", "bridge.http", "bridge.secrets"),
    ("bridge.at",),
    ("bridge.device",),
    ("bridge.net",),
    ("bridge.roles",),
    ("bridge.onemo", "bridge.neoway"),
    ("bridge.registry",),
    ("bridge.bridging",),
    ("bridge.io",),
    ("bridge.app", "bridge.client", "bridge.__main__"),
]
DIALECTS = ("bridge.onemo", "bridge.neoway")
ROLES = ("module", "host")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layer_of(name: str) -> int:
    for level, prefixes in enumerate(LAYERS):
        if any(within(name, prefix) for prefix in prefixes):
            return level
    raise AssertionError(f"{name} belongs to no layer: add it to LAYERS")


def is_module(name: str) -> bool:
    path = ROOT.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports_of(package: str, text: str) -> list[tuple[int, str]]:
    """(line, absolute module) of every bridge import in `text`, a module of `package`;
    TYPE_CHECKING blocks included, `from pkg import submodule` read as the submodule."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found += [(node.lineno, f"{target}.{alias.name}" if is_module(f"{target}.{alias.name}") else target)
                      for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return [(line, target) for line, target in found if within(target, "bridge") and target != "bridge"]


SOURCES = sorted(p for p in ROOT.rglob("*.py") if p.name != "__init__.py" or module_name(p) != "bridge")


def package_of(path: Path) -> str:
    return module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]


def violations(source: str, text: str) -> list[str]:
    """What is wrong with the imports of module `source` whose code is `text`."""
    found = []
    for line, target in imports_of(source.rpartition(".")[0], text):
        where = f"{source}:{line} imports {target}"
        if layer_of(target) > layer_of(source):
            found.append(f"{where}: upward (layer {layer_of(source)} -> {layer_of(target)})")
        dialects = {d for d in DIALECTS if within(source, d) or within(target, d)}
        if len(dialects) == 2:
            found.append(f"{where}: one dialect imports the other")
        for dialect in DIALECTS:
            roles = {r for r in ROLES for name in (source, target) if within(name, f"{dialect}.{r}")}
            if len(roles) == 2:
                found.append(f"{where}: a module side and a host side import each other")
    return found


def test_every_module_sits_in_a_layer():
    for path in SOURCES:
        layer_of(module_name(path))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_imports_go_down_only(path):
    source = module_name(path) + (".__init__" if path.name == "__init__.py" else "")
    assert violations(source, path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("source, line, complaint", [
    ("bridge.model", "from bridge.bridging.engine import BridgeEngine", "upward (layer 0 -> 7)"),
    ("bridge.at.frames", "from . import dialect\nfrom ..roles import module", "upward (layer 1 -> 4)"),
    ("bridge.onemo.module.side", "from bridge.neoway.params import x", "one dialect imports the other"),
    ("bridge.neoway.host.side", "from ..module.side import NeowayModuleSide", "a module side and a host side import each other"),
])
def test_the_check_catches_a_violation(source, line, complaint):
    """The check itself, on planted imports: each is refused with the reason."""
    assert [v.partition(": ")[2] for v in violations(source, line)] == [complaint]


def test_no_import_cycles():
    graph = {module_name(p): {t for _, t in imports_of(package_of(p), p.read_text(encoding="utf-8"))} for p in SOURCES}
    seen: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        seen[name] = 1
        for target in sorted(graph.get(name, ())):
            if target not in graph:
                continue
            assert seen.get(target) != 1, "import cycle: " + " -> ".join(path[path.index(target):] + [target]) if target in path else target
            if target not in seen:
                visit(target, path + [target])
        seen[name] = 2

    for name in sorted(graph):
        if name not in seen:
            visit(name, [name])
