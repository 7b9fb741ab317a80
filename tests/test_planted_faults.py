"""The comparison catches planted faults in a real tf.keras output, and accepts the honest one.

Each test runs a catalogue-style case through the reference, then builds the tf.keras
layer twice: once honestly (must pass) and once with a planted fault (must fail).
"""
import numpy as np
import pytest

from conformance.catalogue.model import Case
from conformance.compare import compare_arrays
from conformance.ops import get_op
from conformance.checks.values import run_reference
from conformance.runner.inputs import make_input
from conformance.target.tf_keras import tensorflow

TOL = {"rtol": 1e-5, "atol": 1e-5}  # the documented float32 default


def case(op, params, shape):
    return Case(id="planted::" + op, file="planted", line=1, name=op, op=op, params=params, dtype="float32", input_shape=tuple(shape))


def reference_and_weights(c):
    x = make_input(c.input_shape, c.dtype, c.seed)
    side, weights = run_reference(get_op(c.op), c, [x], [{}])
    assert side.error is None
    return x, side.output, weights


def keras_output(op, params, x, weights):
    tf = tensorflow()
    layer = getattr(tf.keras.layers, op)(**params, dtype="float32")
    layer.build(x.shape)
    for variable in layer.weights:
        variable.assign(weights[variable.name].astype(np.float32))
    return np.asarray(layer(x.astype(np.float32)), dtype=np.float64)


def judged(actual, reference):
    return compare_arrays(actual, reference, **TOL).ok


def test_flipped_transposed_conv_kernel_is_caught():
    params = {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}
    c = case("Conv2DTranspose", params, [2, 5, 4, 3])
    x, ref, w = reference_and_weights(c)
    assert judged(keras_output(c.op, params, x, w), ref)
    flipped = {**w, "kernel": w["kernel"][::-1, ::-1]}
    assert not judged(keras_output(c.op, params, x, flipped), ref)


def test_same_padding_on_the_wrong_side_is_caught():
    params = {"filters": 3, "kernel_size": 2, "padding": "same"}
    c = case("Conv2D", params, [2, 7, 6, 3])
    x, ref, w = reference_and_weights(c)
    assert judged(keras_output(c.op, params, x, w), ref)
    # documented: the odd pixel of padding goes after (bottom/right); plant it before
    tf = tensorflow()
    shifted = np.asarray(tf.pad(x.astype(np.float32), [[0, 0], [1, 0], [1, 0], [0, 0]]), dtype=np.float64)
    wrong = keras_output(c.op, {**params, "padding": "valid"}, shifted, w)
    assert wrong.shape == ref.shape
    assert not judged(wrong, ref)


def test_mixed_up_groups_are_caught():
    params = {"filters": 4, "kernel_size": 3, "groups": 2}
    c = case("Conv2D", params, [2, 6, 5, 4])
    x, ref, w = reference_and_weights(c)
    assert judged(keras_output(c.op, params, x, w), ref)
    swapped = {**w, "kernel": np.concatenate([w["kernel"][..., 2:], w["kernel"][..., :2]], axis=-1)}
    assert not judged(keras_output(c.op, params, x, swapped), ref)


def test_dropped_bias_is_caught():
    params = {"filters": 3, "kernel_size": 3}
    c = case("Conv1D", params, [2, 9, 2])
    x, ref, w = reference_and_weights(c)
    assert judged(keras_output(c.op, params, x, w), ref)
    no_bias = {k: v for k, v in w.items() if k != "bias"}
    assert not judged(keras_output(c.op, {**params, "use_bias": False}, x, no_bias), ref)


@pytest.mark.parametrize("scale", [1e-7, 3e-7])
def test_float_noise_is_accepted(scale):
    params = {"filters": 4, "kernel_size": 3, "padding": "same"}
    c = case("Conv2D", params, [2, 7, 6, 3])
    _, ref, _ = reference_and_weights(c)
    noise = np.random.default_rng(3).uniform(-scale, scale, size=ref.shape)
    assert judged(ref * (1 + noise), ref)


def test_the_regularization_losses_are_judged_by_their_bound_and_catch_a_missing_batch_division():
    """Dense(5) with kernel_regularizer L2(0.1) and activity_regularizer L1(0.05) in float16:
    layer.losses is the kernel's penalty plus the output's L1 penalty over the batch of 6. The
    sum evaluated in float16 (the kernel's squares and the output's magnitudes accumulated term
    by term) is within the reference's bound; the activity penalty left undivided by the batch
    size, and the kernel penalised by L1 instead of L2, are not."""
    params = {"units": 5, "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.1}},
              "activity_regularizer": {"class_name": "L1", "config": {"l1": 0.05}}}
    c = Case(id="planted::losses", file="planted", line=1, name="Dense", op="Dense", params=params, dtype="float16",
             input_shape=(6, 7))
    x = make_input(c.input_shape, c.dtype, c.seed)
    side, weights = run_reference(get_op(c.op), c, [x], [{}])
    assert side.error is None and "losses" in side.state_bounds
    want, bound = float(side.state["losses"]), float(side.state_bounds["losses"])
    kernel, y = weights["kernel"], side.output
    half = np.float16

    def accumulate(values):
        total = half(0)
        for v in np.ravel(values):
            total = half(total + half(v))
        return float(total)
    # the output as float16 would compute it (within its own bound of the reference's)
    y16 = y.astype(half)
    kernel_penalty = float(half(0.1) * half(accumulate((kernel.astype(half) * kernel.astype(half)).astype(half))))
    activity = float(half(half(0.05) * half(accumulate(np.abs(y16)))) / half(6))
    assert abs(kernel_penalty + activity - want) <= bound
    assert abs(kernel_penalty + activity * 6 - want) > bound  # the activity penalty not divided by the batch
    assert abs(0.1 * np.sum(np.abs(kernel)) + activity - want) > bound  # L1 where L2 is asked


def test_the_activity_penalty_of_a_batch_of_one_carries_the_outputs_error():
    """The activity regularizer penalises the computed output whatever the batch size: with a
    batch of one (no division) its error still counts, and without the output's bound there is none."""
    from conformance.checks.values import losses_error_bound
    from reference_impl import rounding
    fmt = rounding.FORMATS["float16"]
    params = {"activity_regularizer": {"class_name": "L1", "config": {"l1": 0.5}}}
    output = np.array([[1.5, -2.0, 0.25]])
    exact = losses_error_bound(params, {}, output, np.zeros(3), fmt)
    moved = losses_error_bound(params, {}, output, np.full(3, 0.01), fmt)
    assert moved - exact >= 0.5 * 3 * 0.01  # l1 times the output's error, summed
    assert losses_error_bound(params, {}, output, None, fmt) is None
