"""The direction of data through the package: no stage imports a stage above it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import qdistill

PACKAGE = Path(qdistill.__file__).parent

#: Rank of each stage; a module may import its own rank or lower ones. Top-level modules
#: (features, devices, kinematics, metrics, errors, atomic, keras_backend) are the foundation.
RANK = {
    "": 0,
    "data": 1,
    "teacher": 2,
    "student": 2,
    "firmware": 3,
    "synth": 4,
    "physics": 5,
    "bench": 5,
    "scan": 6,
    "cli": 7,
}


def _stage(module: str) -> str:
    parts = module.split(".")
    if len(parts) < 2 or parts[1] not in RANK:
        return ""
    return parts[1]


def _module(path: Path, package_dir: Path) -> str:
    return ".".join(("qdistill", *path.relative_to(package_dir).with_suffix("").parts))


def _imports(path: Path, package_dir: Path = PACKAGE) -> set[str]:
    """Every qdistill module ``path`` imports, at module level or inside functions."""
    module = _module(path, package_dir)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "qdistill" or name.startswith("qdistill.")}


def upward_imports(package_dir: Path = PACKAGE) -> list[str]:
    """One line for each import of a higher stage by a module of the tree at ``package_dir``."""
    bad = []
    for path in sorted(package_dir.rglob("*.py")):
        module = _module(path, package_dir)
        for target in sorted(_imports(path, package_dir)):
            here, there = _stage(module), _stage(target)
            if RANK[there] > RANK[here]:
                bad.append(f"{module} ({here or 'foundation'}) imports {target} ({there})")
    return bad


def test_no_stage_imports_a_higher_one() -> None:
    assert upward_imports() == []


def test_teacher_and_students_do_not_import_each_other() -> None:
    crossing = [
        f"{path.relative_to(PACKAGE)} imports {target}"
        for stage, other in (("teacher", "student"), ("student", "teacher"))
        for path in sorted((PACKAGE / stage).rglob("*.py"))
        for target in _imports(path)
        if _stage(target) == other
    ]
    assert crossing == []


def test_the_check_sees_a_lazy_upward_import(tmp_path: Path) -> None:
    """The rule itself can fail: an import inside a function of data/ naming physics/ is found."""
    (tmp_path / "data").mkdir()
    (tmp_path / "features.py").write_text("from qdistill.data import layout\n")
    (tmp_path / "data" / "layout.py").write_text(
        "from .. import features\n\ndef f():\n    from ..physics import jets\n    return jets\n"
    )
    assert upward_imports(tmp_path) == [
        "qdistill.data.layout (data) imports qdistill.physics (physics)",
        "qdistill.features (foundation) imports qdistill.data (data)",
    ]


#: The modules that define Keras classes, and so import TensorFlow when they are imported.
KERAS_CLASS_MODULES = {
    "qdistill.teacher.model",
    "qdistill.student.losses",
    "qdistill.student.callbacks",
}


def test_importing_the_stages_does_not_start_tensorflow() -> None:
    """TensorFlow starts when first used (keras_backend), never as a side effect of an import."""
    modules = sorted(
        _module(path, PACKAGE).removesuffix(".__init__")
        for path in PACKAGE.rglob("*.py")
        if path.name != "__main__.py"
    )
    chosen = [m for m in modules if m not in KERAS_CLASS_MODULES]
    code = (
        "import importlib, sys\n"
        f"for name in {chosen!r}:\n"
        "    importlib.import_module(name)\n"
        "heavy = ('tensorflow', 'tf_keras', 'qkeras', 'hls4ml')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


MAX_FUNCTION_LINES = 80


def _function_lengths(package_dir: Path) -> list[tuple[int, str]]:
    """(lines, "file:line name") of every function; a CLI command counts from its body.

    A typer command declares each option in its signature (help text included), so the lines
    that hold work in ``cli/`` are those after the signature and docstring.
    """
    lengths = []
    for path in sorted(package_dir.rglob("*.py")):
        in_cli = "cli" in path.relative_to(package_dir).parts[:1]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            first = node.lineno
            if in_cli:
                body = node.body[1:] if ast.get_docstring(node) is not None else node.body
                first = body[0].lineno if body else node.end_lineno or node.lineno
            where = f"{path.relative_to(package_dir)}:{node.lineno} {node.name}"
            lengths.append(((node.end_lineno or node.lineno) - first + 1, where))
    return lengths


def test_no_function_is_longer_than_80_lines() -> None:
    too_long = [f for f in _function_lengths(PACKAGE) if f[0] >= MAX_FUNCTION_LINES]
    assert too_long == []


def test_function_length_probe_sees_a_long_function(tmp_path: Path) -> None:
    (tmp_path / "long.py").write_text("def f():\n" + "    x = 1\n" * 90)
    ((lines, where),) = _function_lengths(tmp_path)
    assert lines == 91 and where == "long.py:1 f"
