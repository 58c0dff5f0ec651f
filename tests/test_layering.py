"""The house: one folder per pipeline stage, imports flow one way, no circles, small modules.

Parses every module with ``ast`` (function-level imports included, so a circle cannot hide
behind a deferred import) and checks the rules DESIGN.md sets for ``verify/``.
"""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "verify"

# Pipeline order: what every stage uses, then symbolic → rules → golden → runners → auditing →
# experiments → claims (documents) → report → cli, then the package face. A module may import
# only from its own stage or a stage of lower rank.
RANK = {
    "errors": 0, "version": 0, "paths": 0, "files": 0, "tomlfile": 0, "cache": 0,
    "symbolic": 1, "rules": 2, "golden": 3, "runners": 4, "auditing": 5, "experiments": 6,
    "claims": 7, "report": 8, "cli": 9,
    "testing": 10, "pytest_plugin": 10, "__main__": 10, "__init__": 10,
}
STAGE_FOLDERS = {"symbolic", "rules", "golden", "runners", "auditing", "experiments", "claims", "report",
                 "cli"}
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80


def modules() -> dict[str, Path]:
    """Dotted name (relative to ``verify``; a package is its ``__init__``) → file."""
    out = {}
    for path in PKG.rglob("*.py"):
        parts = list(path.relative_to(PKG).with_suffix("").parts)
        if parts[0] == "derivations":
            continue
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = modules()


def stage(name: str) -> str:
    return name.split(".")[0]


def imports(name: str) -> set[str]:
    """Every module of the package that ``name`` imports, wherever the import statement is."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if name == "__init__":
        package = []
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
            elif (node.module or "").split(".")[0] == "verify":
                base = []
            else:
                continue
            mod = node.module or ""
            if node.level == 0:
                mod = mod.removeprefix("verify").lstrip(".")
            target = ".".join(base + ([mod] if mod else []))
            for alias in node.names:
                sub = f"{target}.{alias.name}" if target else alias.name
                found.add(sub if sub in MODULES else (target or "__init__"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "verify":
                    found.add(alias.name.removeprefix("verify").lstrip(".") or "__init__")
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imports(name) for name in MODULES}


def test_root_holds_the_face_and_what_every_stage_uses():
    root = {p.stem for p in PKG.glob("*.py")}
    folders = {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == STAGE_FOLDERS
    assert root <= set(RANK), root - set(RANK)


def test_every_module_is_ranked():
    assert {stage(m) for m in MODULES} <= set(RANK)


def test_no_upward_imports():
    bad = [f"{a} imports {b}" for a, deps in GRAPH.items() for b in deps
           if RANK[stage(b)] > RANK[stage(a)]
           or (RANK[stage(b)] == RANK[stage(a)] and stage(a) != stage(b) and RANK[stage(a)] > 0)]
    assert not bad, bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each a circle."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    assert cycles(GRAPH) == []


def test_no_stage_circles():
    stages = {}
    for a, deps in GRAPH.items():
        stages.setdefault(stage(a), set()).update(stage(b) for b in deps if stage(b) != stage(a))
    assert cycles(stages) == []


def test_modules_and_functions_are_short():
    long_modules = {m: n for m, p in MODULES.items()
                    if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    long_functions = []
    for m, p in MODULES.items():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long_functions.append(f"{m}.{node.name}: {n} lines")
    assert not long_modules, long_modules
    assert not long_functions, long_functions


def test_report_does_no_io():
    renderers = sorted((PKG / "report").glob("*.py"))
    assert len(renderers) >= 3
    for path in renderers:
        tree = ast.parse(path.read_text())
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not names & {"open", "print"}, path
        # figures render PNGs into memory (savefig on a BytesIO); only the CLI writes files
        assert not attrs & {"write_text", "read_text", "write_bytes", "read_bytes", "mkdir"}, path
        assert "write_atomic" not in names | attrs, path
