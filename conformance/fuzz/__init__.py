"""`conformance fuzz`: search an op's argument space for divergences with Hypothesis, shrink
each new one to a minimal catalogue case, and count the ones already recorded.

strategies.py draws catalogue cases from an op's typed arguments; cases.py turns them into
Cases through the loader; execute.py runs them (supervised, or in this process against a
given target); signature.py says which divergence a failure is; shrink.py is the final
greedy pass; engine.py is the loop and its output (DIR/fuzz_<op>.yaml, DIR/fuzz.json).
"""
import importlib

# Loaded on first use: `conformance` builds its parser (and so imports this package) for every
# command, and Hypothesis need not be imported for those.
_EXPORTS = {
    "Finding": "engine", "Fuzzer": "engine", "parse_budget": "engine", "resolve_ops": "engine",
    "InProcess": "execute", "Supervised": "execute", "KnownDivergences": "signature",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"conformance.fuzz.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'conformance.fuzz' has no attribute {name!r}")
