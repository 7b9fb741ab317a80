import pytest

from conformance.selection import SelectionError, compile_expression


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("conv2d", True),
        ("CONV2D", True),
        ("conv3d", False),
        ("conv2d and same", True),
        ("conv2d and not same", False),
        ("conv3d or float64", True),
        ("not (conv3d or valid)", True),
        ("slow", True),  # a tag
    ],
)
def test_expressions(expr, expected):
    match = compile_expression(expr)
    assert match("cases/conv2d.yaml::sweep[padding=same-float64]", ("Conv2D", "slow")) is expected


@pytest.mark.parametrize("expr", ["(", "a and", "and a", "a b", "a )"])
def test_malformed_expressions_are_rejected(expr):
    with pytest.raises(SelectionError):
        compile_expression(expr)
