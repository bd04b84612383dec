"""The layering holds: no import cycle, kamctl imports at module top, a light root command.

import-linter (pyproject.toml [tool.importlinter], run by .ci/run) checks the layer order; these tests
need nothing but the standard library and run with the suite.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main

from kamctl.cli.app import COMMANDS

PACKAGE = Path(__file__).resolve().parent.parent / "kamctl"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imported(node: ast.Import | ast.ImportFrom, module: str) -> list[str]:
    """The kamctl modules one import statement loads (`from kamctl import x` is kamctl.x when a module)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in MODULES]
    base = node.module or ""
    if node.level:  # relative: resolve against this module's package
        package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
        base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
    if base not in MODULES:
        return []
    subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
    return subs + ([base] if len(subs) < len(node.names) else [])


def _imports(module: str) -> list[tuple[ast.Import | ast.ImportFrom, str, bool]]:
    """(statement, imported module, inside a function) for every kamctl import in module."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = []

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend((child, target, in_function) for target in _imported(child, module))
            walk(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    walk(tree, False)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (depth-first search, grey/black marking)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_between_kamctl_modules():
    """Counting every import statement, at the top and inside functions."""
    graph = {m: {t for _, t, _ in _imports(m) if t != m} for m in MODULES}
    assert sum(map(len, graph.values())) > 50  # the graph was really built
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_kamctl_imports_sit_at_the_top_of_the_module():
    """Only a line that says why (a comment with "lazy") may import a kamctl module inside a function."""
    inner = []
    for module, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node, target, in_function in _imports(module):
            if in_function and "lazy" not in lines[node.lineno - 1]:
                inner.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {target}")
    assert not inner, "import at the top of the module:\n" + "\n".join(inner)


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_import_no_pydantic_nor_the_core(args):
    code = ("import sys\n"
            f"sys.argv = ['kamctl', *{args!r}]\n"
            "from kamctl.cli.entry import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            # kamctl.model.vocabulary is plain enums (the labels fail() and present show); no pydantic
            "light = {'kamctl.model', 'kamctl.model.vocabulary'}\n"
            "print(sorted(m for m in sys.modules if m not in light and (m == 'pydantic' or m.startswith(("
            "'kamctl.model', 'kamctl.workspace', 'kamctl.checks', 'kamctl.cli.score', 'ruamel', 'jinja2')))))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "[]", r.stdout.splitlines()[-1]


def _registered() -> dict[str, str]:
    """Command name -> the first paragraph of its help, as each command module registers them."""
    out: dict[str, str] = {}
    for module in dict.fromkeys(module for module, _ in COMMANDS.values()):
        app = typer.Typer()
        __import__(module, fromlist=["register"]).register(app)
        for name, command in typer.main.get_group(app).commands.items():
            out[name] = inspect.cleandoc(command.help or "").split("\n\n")[0]
    return out


def test_every_command_is_in_the_table_with_its_docstring_summary():
    """The root --help reads summaries from the table, so they must not drift from the docstrings."""
    registered = _registered()
    assert set(COMMANDS) == set(registered)
    for name, (_, summary) in COMMANDS.items():
        assert summary == registered[name], f"cli/app.py COMMANDS[{name!r}] differs from its docstring"


def test_root_help_lists_every_command_and_commands_still_run(kamctl):
    result = kamctl("--help")
    assert result.exit_code == 0
    names = [line[2:].split(" ")[0] for line in result.stdout.splitlines() if line.startswith("│ ") and line[2] != " "]
    listed = [name for name in names if name in COMMANDS]
    assert listed == list(COMMANDS)
    assert kamctl("rules", "KAM001").exit_code == 0  # loaded on demand


def test_a_mistyped_command_is_still_suggested(kamctl):
    result = kamctl("scroe")
    assert result.exit_code == 2
    assert "Did you mean 'score'?" in result.stdout + result.stderr
