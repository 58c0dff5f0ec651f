"""Imports flow one way along the pipeline; an import of a later stage is a failure."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "verify"

# Pipeline order (DESIGN.md): foundations, problems → symbolic → rules → golden/runners →
# compare → claims → report → cli. A module may import only modules of a lower or equal rank.
RANK = {
    "errors": 0, "outcomes": 0, "cache": 0, "paths": 0, "tomlfile": 0, "expr": 0, "arith": 0,
    "certify": 0, "evaluate": 0, "trace": 0,
    "generated": 0, "problems": 1, "symbolic": 2, "witness": 2, "identities": 2, "rules": 3,
    "spec": 3, "engine": 4,
    "golden": 5, "float64": 5, "streams": 6, "runners": 6, "goldenset": 6, "compare": 7,
    "claims": 8, "experiments": 7, "codecheck": 7, "codevalues": 7, "draft": 8, "provenance": 8,
    "slips": 0, "figures": 10,
    "assemble": 9, "bench": 9, "thirdparty": 9, "auditing": 8, "testing": 9,
    "report": 10, "derivation_docs": 10, "cli": 11, "cli_audit": 11, "cli_common": 11,
    "pytest_plugin": 11, "__main__": 12, "__init__": 12,
}
# Subpackages (runners/, auditing/, report/) are one stage each: a module inside one is ranked as
# its package, and its relative imports are resolved against the package.


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG)
    return rel.parts[0].removesuffix(".py")


def imported_modules(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = (node.module or "").split(".")[0]
            if node.level == 1 and path.parent != PKG:
                base = path.parent.name  # a sibling inside the same subpackage
            if base:
                yield base, node.lineno
            else:
                for alias in node.names:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("verify"):
            parts = node.module.split(".")
            yield (parts[1] if len(parts) > 1 else node.names[0].name), node.lineno


def test_every_module_is_ranked():
    names = {module_name(p) for p in PKG.rglob("*.py")}
    assert names <= set(RANK), names - set(RANK)


def test_no_upward_imports():
    bad = []
    for path in PKG.rglob("*.py"):
        me = module_name(path)
        for other, line in imported_modules(path):
            if other in RANK and RANK[other] > RANK[me]:
                bad.append(f"{path.relative_to(PKG)}:{line} imports {other}")
    assert not bad, bad


def test_report_does_no_io():
    renderers = sorted((PKG / "report").glob("*.py"))
    assert len(renderers) >= 3
    for path in renderers:
        tree = ast.parse(path.read_text())
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not names & {"open", "print"}, path
        assert not attrs & {"write_text", "read_text", "write_atomic", "savefig"}, path
