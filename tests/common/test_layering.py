"""The house's layering, read from the source: no two modules import each other (however deep
in a function the import hides), and `common/` never reaches up into a model package."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("common", "covpoolfer", "pfe", "mobilefacenet", "microexpression")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, name: str) -> set[str]:
    """Every module name an import statement anywhere in the file names (relative ones resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {module_name(f): f for pkg in PACKAGES for f in (ROOT / pkg).rglob("*.py")}
    return {name: {m for m in imported(f, name) if m in files and m != name} for name, f in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_the_checker_finds_a_loop_hidden_in_a_function(tmp_path):
    (tmp_path / "a.py").write_text("def f():\n    from b import g\n")
    assert imported(tmp_path / "a.py", "a") == {"b", "b.g"}
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_no_two_modules_import_each_other():
    assert cycles(import_graph()) == []


def test_common_never_imports_a_model_package():
    graph = import_graph()
    upward = {m: sorted(d for d in deps if d.split(".")[0] in PACKAGES[1:])
              for m, deps in graph.items() if m.startswith("common")}
    assert {m: d for m, d in upward.items() if d} == {}
