"""User-defined regularizers and initializers: `op: custom.regularizer` / `custom.initializer`."""
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
)
