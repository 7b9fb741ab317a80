"""User-defined objects named by a case: `custom: file.py:Name`, `reference: file.py:name`.

Loading a file runs it, so only files inside the folder of the catalogue file that names
them (or below it) are accepted. Validation parses the file without running it (the name
must be defined at its top level); the runner imports it when the case runs.
"""
from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

_loaded: dict[Path, object] = {}


class UserCodeError(ValueError):
    pass


def resolve(spec, catalogue_file: Path) -> tuple[Path, str]:
    """'file.py:Name' -> (absolute file path, Name), checked without running the file."""
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise UserCodeError(f"expected 'file.py:Name', got {spec!r}")
    file, name = spec.split(":")
    folder = catalogue_file.resolve().parent
    path = (folder / file).resolve()
    if not path.is_relative_to(folder):
        raise UserCodeError(f"{file!r} is outside the catalogue's folder {folder}; only files there are loaded")
    if path.suffix != ".py" or not path.is_file():
        raise UserCodeError(f"no Python file {file!r} beside the catalogue (looked for {path})")
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise UserCodeError(f"{file} does not parse: line {exc.lineno}: {exc.msg}") from None
    defined = {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    defined |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    if name not in defined:
        raise UserCodeError(f"{file} defines no top-level {name!r}; it defines {', '.join(sorted(defined)) or 'nothing'}")
    return path, name


def load(path: Path, name: str):
    """Import the file (once per process) and return its attribute `name`."""
    module = _loaded.get(path)
    if module is None:
        module_name = f"conformance_user_{abs(hash(str(path)))}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        _loaded[path] = module
    return getattr(module, name)
