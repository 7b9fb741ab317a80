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
