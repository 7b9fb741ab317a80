"""The reference stands alone: it never imports tensorflow or keras."""
import ast
import subprocess
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[1] / "reference_impl"
FORBIDDEN = {"tensorflow", "keras", "tf_keras", "jax", "torch"}


def test_no_forbidden_import_statement():
    offenders = []
    for path in REFERENCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}:{node.lineno}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_every_module_loads_no_framework():
    modules = sorted(p.stem for p in REFERENCE.glob("*.py") if p.stem != "__init__")
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module('reference_impl.' + m)\n"
        f"print(sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REFERENCE.parent, check=True)
    assert out.stdout.strip() == "[]"
    assert len(modules) >= 2
