"""Safe YAML loading that remembers the line of every key and list item.

Errors in a hand-written catalogue must name file:line and the key, so we compose the
YAML node tree with the safe loader and build plain Python values alongside a map from
each value's path (a tuple of keys and list indices) to its 1-based line.
"""
from __future__ import annotations

import re

import yaml


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads `1e-5` as a float (YAML 1.1 requires a dot)."""


# libyaml's parser composes the same node tree, with the same marks, about ten times faster
# (the catalogue is read whole by every run, pytest collection and `conformance new`).
_Composer = type("_Composer", (getattr(yaml, "CSafeLoader", _Loader),), {"__doc__": "_Loader's resolver on libyaml's parser."})

for _resolving in {_Loader, _Composer}:
    _resolving.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
        list("-+0123456789"),
    )

Path = tuple  # a path of mapping keys and list indices


class YamlError(Exception):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


def load(text: str) -> tuple[object, dict[Path, int]]:
    """Parse `text`; return (value, lines) where lines maps each path to its line."""
    try:
        node = yaml.compose(text, Loader=_Composer)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlError(f"not valid YAML: {exc.problem or exc}", line) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"not valid YAML: {exc}", None) from None
    lines: dict[Path, int] = {}
    if node is None:
        return None, lines
    constructor = _Loader("")
    return _build(node, (), lines, constructor), lines


_PLAIN_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _build(node, path, lines, constructor):
    lines[path] = node.start_mark.line + 1
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_COLLECTION_TAGS:
        raise YamlError(f"the YAML tag {node.tag!r} is not allowed: a catalogue is plain data", node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        constructor.flatten_mapping(node)
        out = {}
        for key_node, value_node in node.value:
            key = _build(key_node, path, {}, constructor)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise YamlError(f"mapping keys must be plain scalars, got {key!r}", key_node.start_mark.line + 1)
            if key in out:
                raise YamlError(f"duplicate key {key!r}", key_node.start_mark.line + 1)
            out[key] = _build(value_node, path + (key,), lines, constructor)
            lines[path + (key,)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), lines, constructor) for i, item in enumerate(node.value)]
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:  # e.g. a !!python/... tag: the safe loader refuses it
        raise YamlError(f"{exc.problem}: a catalogue is plain data", node.start_mark.line + 1) from None


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of `path`, or of its nearest ancestor that has one."""
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)
