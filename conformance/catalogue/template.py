"""`conformance new`: append a valid, commented template case that the user edits.

Where it goes: the catalogue file that already holds the op's cases (found by the loader,
so a case that names the op through a sweep or a value set counts), or, for an op with no
cases yet, a new file named by `file_stem` beside the others. A new file starts with the
modeline that points editors at the catalogue folder's schema (when that folder has one);
a file appended to keeps its head as its author wrote it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from conformance.axes import CHECK_MODES, MODES
from conformance.catalogue import yaml_lines
from conformance.catalogue.loader import VALUE_SETS_FILE, discover, display_path, load_file
from conformance.catalogue.schema import SCHEMA_FILE, modeline
from conformance.ops import check_of, get_op


def file_stem(op_name: str) -> str:
    """The catalogue file name of an op, as Keras names a layer by default
    (keras.src.utils.naming.to_snake_case): Conv2D -> conv2d, Conv1DTranspose ->
    conv1d_transpose, DepthwiseConv2D -> depthwise_conv2d, BatchNormalization ->
    batch_normalization, MaxPooling3D -> max_pooling3d. A word starts at a capital followed
    by lowercase letters, or at a capital after a lowercase letter; a digit never starts one,
    so a dimension suffix ("2D") stays on its word. A dotted name keeps its prefix, so that
    `initializers.Identity` and the Identity layer do not share a file:
    initializers.HeNormal -> initializers_he_normal."""
    return "_".join(
        re.sub(r"([a-z])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", part)).lower()
        for part in op_name.split(".")
    )


@dataclass(frozen=True)
class Placement:
    """Where a template goes and why (said in the message `conformance new` prints)."""

    path: Path
    reason: str
    created: bool  # the file does not exist yet
    others: tuple[Path, ...] = ()  # further files that hold the op's cases


def files_holding(op_name: str, folder) -> list[Path]:
    """The catalogue files under `folder` that hold cases of `op_name`, the likeliest home
    first: a file whose top-level `op:` is the op, then by how many cases (entries, before
    sweeps) use it, then by path. A file holds the op when one of its expanded cases has
    `case.op == op_name` (the loader decides, so a swept op or a value set counts), or when
    its top-level `op:` names it."""
    scored = []
    for path in _candidates(op_name, folder):
        top = _top_op(path) == op_name
        cases, _ = load_file(path)
        entries = len({c.name for c in cases if c.op == op_name})
        if top or entries:
            scored.append((not top, -entries, path.as_posix(), path))
    return [path for *_, path in sorted(scored)]


def _top_op(path: Path) -> str | None:
    """The file's top-level `op:` (a key at column 0; read without parsing the YAML twice)."""
    try:
        match = re.search(r"^op\s*:\s*([^\s#]+)", path.read_text(encoding="utf-8"), re.M)
    except (OSError, UnicodeDecodeError):
        return None
    return match.group(1).strip("'\"") if match else None


def _candidates(op_name: str, folder) -> list[Path]:
    """Files that may hold the op: those that name it, or name a value set of their folder's
    values.yaml that holds it. Only a pre-filter, so that `new` does not load the whole
    catalogue (files_holding asks the loader); an op is always written out in full somewhere
    in the YAML its case comes from."""
    names = {}  # values.yaml -> a pattern matching the op or a set that holds it
    found = []
    for path in discover([folder]) if Path(folder).is_dir() else []:
        shared = path.parent / VALUE_SETS_FILE
        if shared not in names:
            names[shared] = _word([op_name, *_sets_holding(shared, op_name)])
        if names[shared].search(path.read_text(encoding="utf-8", errors="replace")):
            found.append(path)
    return found


def _word(words) -> re.Pattern:
    return re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w.])")


def _sets_holding(values_file: Path, op_name: str) -> list[str]:
    """The names of the value sets in `values_file` with `op_name` somewhere in their value."""
    try:
        data, _ = yaml_lines.load(values_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml_lines.YamlError):
        return []
    sets = data.get("values") if isinstance(data, dict) else None

    def holds(value) -> bool:
        if isinstance(value, dict):
            return any(holds(k) or holds(v) for k, v in value.items())
        if isinstance(value, list):
            return any(holds(v) for v in value)
        return value == op_name

    return [str(name) for name, value in sets.items() if holds(value)] if isinstance(sets, dict) else []


def place(op_name: str, file: str | None, folder) -> Placement:
    """The file a template for `op_name` goes to: `file` if given, else the file holding the
    op's cases (files_holding's first), else a new `<file_stem>.yaml` in `folder`."""
    if file:
        return Placement(Path(file), "--file", not Path(file).exists())
    holding = files_holding(op_name, folder)
    if holding:
        first = holding[0]
        with_top = f"its top-level op is {op_name}" if _top_op(first) == op_name else f"it holds the {op_name} cases"
        return Placement(first, with_top, False, tuple(holding[1:]))
    path = Path(folder) / f"{file_stem(op_name)}.yaml"
    return Placement(path, f"no file in {display_path(folder)}/ holds {op_name} cases yet", not path.exists())


def _flow(value) -> str:
    """A value in YAML flow style (JSON is valid YAML; bare words read better)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", value) and value not in ("null", "true", "false", "yes", "no", "on", "off"):
        return value
    return json.dumps(value)


def new_case(op_name: str, name: str, file: str | None, default_dir) -> tuple[Placement, str]:
    """Write a template case named `name` for `op_name` where `place` says; returns the
    placement and the text written. The file must load as well after as before (no new
    catalogue error), else it is left as it was and ValueError says why."""
    op = get_op(op_name)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"--name must use letters, digits, '_', '-' or '.', got {name!r}")
    placement = place(op.name, file, default_dir)
    path = placement.path
    existed = not placement.created
    if existed:
        text = path.read_text(encoding="utf-8")
        data = _parse(path, text)
        raw_cases = data.get("cases")
        if isinstance(raw_cases, list) and any(isinstance(c, dict) and c.get("name") == name for c in raw_cases):
            raise ValueError(f"{path} already has a case named {name!r}")
        per_case_op = data.get("op") != op.name
    else:
        schema = Path(default_dir) / SCHEMA_FILE
        head = modeline(path, schema) if schema.is_file() else ""
        text, per_case_op = f"{head}op: {op.name}\ncases:\n", False
    block = _template(op, name, per_case_op)
    updated = _insert_case(path, text, block)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(updated, encoding="utf-8")
    # Never leave a catalogue worse than it was: a template that does not load where it
    # landed (more errors than the file had before) is taken out again. A custom op's
    # template names the user's class, which is not written yet.
    errors = [] if op.name.startswith("custom.") else load_file(path)[1]
    if errors:
        if existed:
            path.write_text(text, encoding="utf-8")
            if len(errors) <= len(load_file(path)[1]):
                path.write_text(updated, encoding="utf-8")  # the file's own errors, not the template's
                errors = []
        else:
            path.unlink()
    if errors:
        raise ValueError(f"the template for {op.name} does not load in {path}, which is left as it was:\n"
                         + "\n".join(str(e) for e in errors) + "\n(choose another file with --file)")
    return placement, block


def _parse(path: Path, text: str) -> dict:
    try:
        data, _ = yaml_lines.load(text)
    except yaml_lines.YamlError as exc:
        raise ValueError(f"{path}:{exc.line}: cannot append to a file that is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a catalogue file (a mapping with `cases:`)")
    return data


def _insert_case(path: Path, text: str, block: str) -> str:
    """`text` with `block` (indented as `  - name: ...`) added as the last item of its
    top-level `cases:` list, indented like the items already there. The list need not
    end the file: a top-level key after it (`values:`) stays after it."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    at = next((i for i, line in enumerate(lines) if re.match(r"cases\s*:", line)), None)
    if at is None:
        return "".join(lines) + "cases:\n" + block
    head = re.match(r"cases\s*:\s*(\[\s*\])?\s*(#.*)?$", lines[at].rstrip("\n"))
    if not head:
        raise ValueError(f"{path}: `cases:` is written in flow style; append to it by hand, or choose another file with --file")
    if head.group(1):  # `cases: []`
        lines[at] = "cases:\n"
    end = next((i for i in range(at + 1, len(lines)) if re.match(r"[^\s#-]", lines[i])), len(lines))
    while end > at + 1 and re.match(r"\s*(#.*)?$", lines[end - 1]) and end < len(lines):
        end -= 1  # blank lines and comments just before the next key belong to that key
    item = next((re.match(r"( *)- ", line) for line in lines[at + 1:end] if re.match(r" *- ", line)), None)
    indent = item.group(1) if item else "  "
    block = "".join(indent + line[2:] for line in block.splitlines(keepends=True))
    return "".join(lines[:end]) + block + "".join(lines[end:])


def _template(op, name: str, per_case_op: bool) -> str:
    example = dict(op.example) or {"input_shape": [2, 8], "params": {}}
    op_line = f"    op: {op.name}\n" if per_case_op else ""
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
        f"  - name: {name}\n{op_line}"
        f"{given}"
        f"{_params(op, example['params'])}{call}"
        f"    # sweep: {{argument: [value, value]}}     # every combination becomes a case\n"
        f"    # dtype: [float32, float64]\n"
        f"    # modes: [{', '.join(modes)}]   # the default; any of {', '.join(MODES)}\n"
        f"    # expect: {{output_shape: [...]}}  or  {{error: ValueError}}\n"
        f"    # known: {{id: ID, when: {{mode: xla}}}}  # a finding recorded in divergences.yaml beside this file\n"
    )
    return block


def _params(op, given: dict) -> str:
    """The example's arguments, then every other argument with a declared default, commented
    out at its default with its range or choices: uncommenting one keeps the file valid."""
    others = [(name, kind) for name, kind in op.params.items() if name not in given and kind.has_default]
    if not others:
        return f"    params: {_flow(given)}\n"
    lines = [f"      # {name}: {_flow(kind.default)}{_rule(kind)}\n" for name, kind in others]
    if not given:  # a mapping with only comments would be null
        return "    params: {}   # or, in block style, any of:\n" + "".join(lines)
    return "    params:\n" + "".join(f"      {k}: {_flow(v)}\n" for k, v in given.items()) + "".join(lines)


def _rule(kind) -> str:
    """What a value may be, as a trailing comment: its choices (unless too many) and range."""
    rules = [kind.range_text] if kind.range_text else []
    if kind.choices:
        rules.append(kind.choices_text if len(kind.choices) <= 8 else f"one of {len(kind.choices)} names (`conformance ops`)")
    return f"   # {'; '.join(rules)}" if rules else ""
