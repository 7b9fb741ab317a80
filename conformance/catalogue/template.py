"""`conformance new`: append a valid, commented template case that the user edits."""
from __future__ import annotations

import json
import re
from pathlib import Path

from conformance.axes import CHECK_MODES, MODES
from conformance.catalogue.loader import load_file
from conformance.ops import check_of, get_op


def snake_case(name: str) -> str:
    name = name.split(".")[-1]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[0-9])(?=[A-Z][a-z])", "_", name).lower()


def _flow(value) -> str:
    """A value in YAML flow style (JSON is valid YAML; bare words read better)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", value) and value not in ("null", "true", "false", "yes", "no", "on", "off"):
        return value
    return json.dumps(value)


def new_case(op_name: str, name: str, file: str | None, default_dir: str) -> tuple[Path, str]:
    op = get_op(op_name)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"--name must use letters, digits, '_', '-' or '.', got {name!r}")
    path = Path(file) if file else Path(default_dir) / f"{snake_case(op.name)}.yaml"
    example = dict(op.example) or {"input_shape": [2, 8], "params": {}}
    header = ""
    per_case_op = ""
    if path.exists():
        existing, _ = load_file(path)
        if any(c.name == name for c in existing):
            raise ValueError(f"{path} already has a case named {name!r}")
        text = path.read_text(encoding="utf-8")
        match = re.search(r"^op\s*:\s*(\S+)", text, re.M)
        if not match or match.group(1).strip("'\"") != op.name:
            per_case_op = f"    op: {op.name}\n"
        if not text.endswith("\n"):
            header = "\n"
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        header = f"op: {op.name}\ncases:\n"
    if "inputs" in example:
        given = "    inputs:\n" + "".join(f"      {n}: {_flow(spec)}\n" for n, spec in example["inputs"].items())
    elif "shape" in example:
        given = f"    shape: {_flow(example['shape'])}   # the variable to initialize\n"
    else:
        given = f"    input_shape: {_flow(example['input_shape'])}   # batch first\n"
    call = f"    call: {_flow(example['call'])}\n" if example.get("call") else ""
    if op.name.startswith("custom."):  # the user's own code: name it (a file beside the catalogue)
        given = "    custom: custom_objects.py:YourClass           # your Keras class\n" \
                "    reference: custom_objects.py:your_reference   # its NumPy reference\n" + given
    modes = CHECK_MODES[check_of(op, example.get("call") or {})]
    block = (
        f"  - name: {name}\n{per_case_op}"
        f"{given}"
        f"    params: {_flow(example['params'])}\n{call}"
        f"    # sweep: {{argument: [value, value]}}     # every combination becomes a case\n"
        f"    # dtype: [float32, float64]\n"
        f"    # modes: [{', '.join(modes)}]   # the default; any of {', '.join(MODES)}\n"
        f"    # expect: {{output_shape: [...]}}  or  {{error: ValueError}}\n"
        f"    # xfail: {{reason: what differs and why, link: https://..., when: {{mode: xla}}}}\n"
    )
    with path.open("a", encoding="utf-8") as f:
        f.write(header + block)
    return path, block
