"""The direction of imports (docs/ARCHITECTURE.md): frontends -> engine -> ipc; inside engine, the
domains -> jobs -> core. Read from the source with ast, so a new import against the grain fails here
rather than in a review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ("storage", "files", "keys", "host", "access")

# Pure leaf modules of a domain the core may use: formats the agents write and read block by block,
# the NUMA reading the supervisor places workers by, the inline-task key file the workers are forked
# with. None of them is a domain's service or holds state.
CORE_MAY_IMPORT = {"engine.files.lz4_frames", "engine.files.sealed", "engine.host.numa", "engine.keys.engine_key"}


def imports(path: Path, *, module_level_only: bool = False) -> set[str]:
    """The engine/ipc/frontends modules ``path`` imports (TYPE_CHECKING blocks left out: not run)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import) and (top or not module_level_only):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and (top or not module_level_only):
                found.add(child.module)
                found.update(f"{child.module}.{alias.name}" for alias in child.names)
            is_def = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, top and not is_def)

    visit(tree, True)
    return {name for name in found if name.split(".")[0] in ("engine", "ipc", "frontends")}


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def known(name: str) -> bool:
    """``name`` is a module (engine.files.sealed) rather than a name imported from one (...sealed.LENGTH)."""
    path = ROOT / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


@pytest.mark.parametrize("path", modules("ipc"), ids=lambda p: str(p.relative_to(ROOT)))
def test_ipc_imports_only_ipc(path: Path) -> None:
    assert {name for name in imports(path) if not name.startswith("ipc")} == set()


@pytest.mark.parametrize("path", modules("engine"), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_never_imports_frontends_at_module_level(path: Path) -> None:
    """The two entry points that start a frontend import it inside the function that needs it."""
    assert {name for name in imports(path, module_level_only=True) if name.startswith("frontends")} == set()


@pytest.mark.parametrize(
    "path", [*modules("engine/core"), *modules("engine/jobs")], ids=lambda p: str(p.relative_to(ROOT))
)
def test_core_and_jobs_import_no_domain_service(path: Path) -> None:
    against = {
        name
        for name in imports(path)
        if known(name) and name.split(".")[1:2] and name.split(".")[1] in DOMAINS and name not in CORE_MAY_IMPORT
    }
    assert against == set(), f"{path.relative_to(ROOT)} imports domain modules {sorted(against)}"


@pytest.mark.parametrize("path", modules("engine/core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_no_job_manager(path: Path) -> None:
    """The core runs tasks; the job manager keeps their records (TaskService names it for types only)."""
    assert {name for name in imports(path) if name.startswith("engine.jobs")} == set()
