"""docs/CONTRACTS.md states the real import graph between stages and the store tables each stage reads."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "shadowfleet"
TABLE_READ = re.compile(r'\.(?:read|scan|files)\(\s*"([a-z_]+)"')


def _stage(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imports_by_stage() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for f in PACKAGE.rglob("*.py"):
        stage = _stage(f)
        graph[stage]  # a stage importing nothing is still a stage
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = ([f"shadowfleet.{a.name}" for a in node.names] if node.module == "shadowfleet"
                         else [node.module])
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "shadowfleet" and len(parts) > 1 and parts[1] != stage:
                    graph[stage].add(parts[1])
    return {s: deps for s, deps in graph.items() if s not in ("__init__", "__main__")}


def _documented() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    imports, reads = {}, {}
    for line in (ROOT / "docs" / "CONTRACTS.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 3 and cells[0] not in ("stage", "---"):
            imports[cells[0]] = {x.strip() for x in cells[1].split(",") if x.strip()}
            reads[cells[0]] = {x.strip() for x in cells[2].split(",") if x.strip()}
    return imports, reads


def test_contracts_list_exactly_the_imports_each_stage_makes():
    documented, _ = _documented()
    assert _imports_by_stage() == documented


def test_every_store_table_a_stage_reads_by_name_is_in_the_contracts():
    _, documented = _documented()
    found: dict[str, set[str]] = defaultdict(set)
    for f in PACKAGE.rglob("*.py"):
        found[_stage(f)] |= set(TABLE_READ.findall(f.read_text(encoding="utf-8")))
    undeclared = {s: sorted(t - documented.get(s, set())) for s, t in found.items() if t - documented.get(s, set())}
    assert undeclared == {}
    assert "segments" in documented["registry"]  # the registry's track reads what detect writes
