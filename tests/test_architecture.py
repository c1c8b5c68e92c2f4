"""The package's structure holds (docs/architecture.md): data moves one way through the
stages, there are no import cycles, nothing installed imports the tests, modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers.essay import REPO

PACKAGE = REPO / "bot"
# The order of the flow; a module may import its own stage and the stages before it.
STAGES = {
    "corpus": 1,
    "index": 2,
    "search": 3,
    "render": 4,
    "telegram": 5,
    "chat": 5,
    "web": 5,
    "evals": 6,  # tools that drive the whole flow
    "bench": 6,
    "cli": 7,  # the entry point: commands for every front end and tool
    "__main__": 7,
}
SHARED = {"errors", "text", "config", "redaction", "ratelimit", "__init__"}
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {target for target in imports(path) if target in known and target != name}
        for name, path in known.items()
    }


def stage(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in SHARED:
        return 0
    return STAGES[parts[1]]


def test_nothing_installed_imports_the_tests() -> None:
    offenders = {
        name: sorted(t for t in imports(path) if t == "tests" or t.startswith("tests."))
        for name, path in modules().items()
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_data_moves_one_way() -> None:
    backwards = [
        f"{source} -> {target}"
        for source, targets in graph().items()
        for target in targets
        if stage(target) > stage(source)
    ]
    assert backwards == []


def test_no_import_cycles() -> None:
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges[node]):
            # A package and its own modules (bot.corpus -> bot.corpus.read) are one room.
            if target.startswith(node + ".") or node.startswith(target + "."):
                continue
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_every_stage_is_mapped() -> None:
    unknown = {name for name in modules() if name.count(".") >= 1}
    for name in unknown:
        stage(name)  # raises KeyError for a room nobody placed in the flow


def test_modules_stay_small() -> None:
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()
    }
    assert {name: size for name, size in sizes.items() if size > MAX_LINES} == {}
