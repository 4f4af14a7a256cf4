"""The folders' dependencies point one way, as docs/architecture.md draws them:
``api → replay, importers, mail → desk → projections, store → languages → domain``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BELOW = {
    "domain": set(),
    "languages": {"domain"},
    "store": {"languages", "domain"},
    "projections": {"store", "languages", "domain"},
    "desk": {"projections", "store", "languages", "domain"},
    "mail": {"desk", "projections", "store", "languages", "domain"},
    "importers": {"desk", "projections", "store", "languages", "domain"},
    "replay": {"desk", "projections", "store", "languages", "domain"},
    "api": {"replay", "importers", "mail", "desk", "projections", "store", "languages", "domain"},
}
"""Each folder, and the folders of ours it may import."""


def imported_folders(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name.partition(".")[0] for name in names} & set(BELOW)


@pytest.mark.parametrize("folder", sorted(BELOW))
def test_a_folder_imports_only_the_folders_below_it(folder: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_folders(path) - BELOW[folder] - {folder})
        for path in sorted((ROOT / folder).rglob("*.py"))
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_the_domain_imports_the_standard_library_and_eventsourcing_domain_only() -> None:
    for path in sorted((ROOT / "domain").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                top = node.module.partition(".")[0]
                assert top != "eventsourcing" or node.module == "eventsourcing.domain", path
                assert top in {"domain", "eventsourcing", "__future__"} or is_stdlib(top), path


def is_stdlib(name: str) -> bool:
    import sys

    return name in sys.stdlib_module_names
