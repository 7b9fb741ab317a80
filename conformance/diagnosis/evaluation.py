"""What the reference was given for one case, and how to run it again with one thing changed.

A hypothesis (hypotheses.py) never re-implements an op: it changes the input, the weights,
the arguments or the call of the reference's own evaluation (`Evaluation.run`), or
transforms the reference's output, and so inherits every documented detail it does not
touch. `runs` counts the reference evaluations, so that a test can hold each hypothesis to
its budget of one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from conformance.ops import FunctionOp
from reference_impl import activations as ref_activations


@dataclass
class Evaluation:
    op: object  # conformance.ops.LayerOp or FunctionOp
    x: object  # the input: an array, or a dict of named inputs (attention)
    weights: dict
    params: dict
    call: dict
    reference: np.ndarray  # the reference's (main) output for exactly these
    dtype: str
    runs: int = 0

    def run(self, *, x=None, weights=None, params=None, call=None) -> np.ndarray:
        """The reference's main output with the given parts replaced (one evaluation)."""
        self.runs += 1
        x = self.x if x is None else x
        params = self.params if params is None else params
        if isinstance(self.op, FunctionOp):
            output = self.op.compute(x, params)
        else:
            output = self.op.compute(x, self.weights if weights is None else weights, params,
                                     self.call if call is None else call)
        if isinstance(output, (tuple, list)):  # further outputs (states, scores, a mask) are not diagnosed
            output = output[0]
        return np.asarray(output, dtype=np.float64)

    # --- the layout of the op's tensors, as its arguments say -----------------------------

    @property
    def channels_first(self) -> bool:
        return self.params.get("data_format") == "channels_first"

    def channel_axis(self, ndim: int) -> int:
        return 1 if self.channels_first else ndim - 1

    def spatial_axes(self, ndim: int) -> tuple[int, ...]:
        return tuple(range(2, ndim)) if self.channels_first else tuple(range(1, ndim - 1))

    @property
    def activation(self):
        """The reference's activation function of the `activation` argument (None: linear)."""
        return ref_activations.get(self.params.get("activation"))

    @property
    def has_activation(self) -> bool:
        return self.params.get("activation") not in (None, "linear")

    def along(self, vector: np.ndarray, axis: int, ndim: int) -> np.ndarray:
        """A 1-D weight shaped to broadcast along `axis` of a rank-`ndim` tensor."""
        shape = [1] * ndim
        shape[axis] = vector.size
        return vector.reshape(shape)

    def linear_part(self) -> np.ndarray:
        """The output before the bias and the activation (one evaluation): the layer run with
        activation=None, use_bias=False and no bias weight."""
        weights = {k: v for k, v in self.weights.items() if k != "bias"}
        return self.run(weights=weights, params={**self.params, "activation": None, "use_bias": False})

    def finish(self, linear: np.ndarray, bias_axis: int | None) -> np.ndarray:
        """activation(linear + bias along bias_axis), bias_axis None: no bias."""
        y = linear if bias_axis is None else linear + self.along(self.weights["bias"], bias_axis, linear.ndim)
        return np.asarray(self.activation(y), dtype=np.float64)
