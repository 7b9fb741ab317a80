import textwrap

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def write_catalogue(tmp_path):
    """Write a dedented catalogue file under tmp_path and return its path."""

    def write(text: str, name: str = "case.yaml"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


def registry_text(entries: dict) -> str:
    """A divergences.yaml holding `entries`: id -> signature (a mapping, or a list of them)."""
    import json

    lines = ["divergences:"]
    for ident, signature in entries.items():
        lines += [f"  {ident}:", "    category: wrong-result", f"    title: {ident} title", "    evidence: seen in a test",
                  "    seen: {tensorflow: 2.21.0, keras: 3.15.1}", f"    signature: {json.dumps(signature)}"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def write_registry(tmp_path):
    """Write tmp_path/divergences.yaml (beside the catalogues write_catalogue writes); each id's
    signature defaults to "values out of tolerance"."""

    def write(*ids, **signatures):
        entries = {i: {"values": {}} for i in ids}
        entries.update({k.replace("_", "-"): v for k, v in signatures.items()})
        path = tmp_path / "divergences.yaml"
        path.write_text(registry_text(entries), encoding="utf-8")
        return path

    return write
