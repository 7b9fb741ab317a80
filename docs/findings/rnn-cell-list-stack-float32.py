"""RNN(cells=[...], dtype="float64"): a list of cells is documented to be stacked ("a list of
RNN cell instances, in which case the cells get stacked one after the other in the RNN"), and
the layer's dtype is "the dtype of the layer's computations and weights". tf.keras wraps the
list in a StackedRNNCells of the default dtype (float32): with float64 cells the stack's output
is rounded through float32 (errors of 1e-7 relative where an explicit
StackedRNNCells(cells, dtype="float64") agrees with float64 to 1e-15), and with a mask the
call raises InvalidArgumentError (SelectV2 given a double and a float tensor).

Recorded in cases/recurrent_cells.yaml (stacked_cells, stacked_cells_with_mask_backwards).
"""
import sys

import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
L = tf.keras.layers
x = np.random.default_rng(0).normal(0.25, 1.0, size=(2, 5, 3))


def cells():
    return [L.GRUCell(3, dtype="float64"), L.SimpleRNNCell(2, dtype="float64")]


as_list = L.RNN(cells(), dtype="float64")
explicit = L.RNN(L.StackedRNNCells(cells(), dtype="float64"), dtype="float64")
as_list.build(x.shape)
explicit.build(x.shape)
explicit.set_weights(as_list.get_weights())
a, b = np.asarray(as_list(x)), np.asarray(explicit(x))
print("output dtype", a.dtype, "stack dtype", as_list.cell.dtype_policy.name)
print("max |list - explicit StackedRNNCells(dtype=float64)|:", np.abs(a - b).max())
try:
    as_list(x, mask=np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1]], dtype=bool))
    raised = False
    print("with a mask: no error")
except tf.errors.InvalidArgumentError as e:
    raised = True
    print("with a mask: InvalidArgumentError:", str(e).splitlines()[0][:160])
sys.exit(0 if np.abs(a - b).max() > 1e-12 or raised else 1)
