"""User-defined regularizers, initializers and constraints: `op: custom.regularizer` /
`custom.initializer` / `custom.constraint`."""
from __future__ import annotations

from conformance.ops.registry import CustomOp, register

register(
    CustomOp(
        name="custom.regularizer", family="custom", params={}, open_params=True, kind="regularizer",
        doc="a user's keras.regularizers.Regularizer subclass against the user's NumPy penalty",
        example={"input_shape": [4, 3], "params": {}},
    ),
    CustomOp(
        name="custom.initializer", family="custom", params={}, open_params=True, kind="initializer",
        doc="a user's keras.initializers.Initializer subclass against the user's expected Distribution",
        example={"shape": [64, 32], "params": {}},
    ),
    CustomOp(
        name="custom.constraint", family="custom", params={}, open_params=True, kind="constraint",
        doc="a user's keras.constraints.Constraint subclass against the user's NumPy projection",
        example={"input_shape": [6, 4], "params": {}},
    ),
)
