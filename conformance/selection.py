"""`-k EXPR` for the CLI, with pytest's meaning: words are case-insensitive substrings
of the case id (or equal to its op, its mode or a tag), combined with and / or / not / ( )."""
from __future__ import annotations

import re

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


class SelectionError(ValueError):
    pass


def compile_expression(expr: str):
    """Return a predicate over (id, words) for `expr`; raise SelectionError if malformed."""
    tokens = _TOKEN.findall(expr or "")
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def parse_or():
        left = parse_and()
        while peek() == "or":
            take()
            right = parse_and()
            left = (lambda a, b: lambda t: a(t) or b(t))(left, right)
        return left

    def parse_and():
        left = parse_not()
        while peek() == "and":
            take()
            right = parse_not()
            left = (lambda a, b: lambda t: a(t) and b(t))(left, right)
        return left

    def parse_not():
        if peek() == "not":
            take()
            inner = parse_not()
            return lambda t: not inner(t)
        return parse_atom()

    def parse_atom():
        token = peek()
        if token is None:
            raise SelectionError(f"-k {expr!r}: expression ends early")
        if token == "(":
            take()
            inner = parse_or()
            if peek() != ")":
                raise SelectionError(f"-k {expr!r}: missing ')'")
            take()
            return inner
        if token in (")", "and", "or"):
            raise SelectionError(f"-k {expr!r}: unexpected {token!r}")
        word = take().lower()
        return lambda t: word in t[0].lower() or word in t[1]

    if not tokens:
        return lambda case_id, words=(): True
    predicate = parse_or()
    if pos != len(tokens):
        raise SelectionError(f"-k {expr!r}: unexpected {tokens[pos]!r}")
    return lambda case_id, words=(): predicate((case_id, {w.lower() for w in words}))


def select(cases, expr: str | None):
    if not expr:
        return list(cases)
    match = compile_expression(expr)
    return [c for c in cases if match(c.id, (c.op, c.mode, *c.tags))]


def select_modes(cases, modes) -> list:
    """The cases in one of `modes` (None: all); a case's own `modes:` still decides which
    modes it has at all."""
    return list(cases) if not modes else [c for c in cases if c.mode in modes]
