"""reference_impl.regularization_layers: argument rules at the shape level (rate, noise_shape,
stddev, data_format), the training-mask shape, and the formula helpers at the ends of [0, 1].

The argument cases replay Keras's own tests (keras/src/layers/regularization/dropout_test.py,
alpha_dropout_test.py, gaussian_dropout_test.py, spatial_dropout_test.py): what they reject
must be rejected by the shape rules, so that `conformance validate` sees it.
"""
import math

import numpy as np
import pytest

from reference_impl import regularization_layers as R

RATE_LAYERS = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianDropout", "AlphaDropout")
SHAPES = {"SpatialDropout1D": (2, 5, 3), "SpatialDropout2D": (2, 4, 5, 3), "SpatialDropout3D": (2, 3, 4, 5, 3)}


def shape_of(layer):
    return SHAPES.get(layer, (2, 5, 3))


@pytest.mark.parametrize("layer", RATE_LAYERS)
@pytest.mark.parametrize("rate", [-0.5, 1.5, -1e-12, 1.0000001, math.nan, math.inf])
def test_rate_outside_zero_one_is_a_value_error_at_the_shape_level(layer, rate):
    # "rate: Float between 0 and 1" (GaussianDropout: "drop probability (as with `Dropout`)")
    for rule in (R.output_shape, R.weight_shapes):
        with pytest.raises(ValueError, match=r"`rate`.*Received: rate=") as info:
            rule(layer, shape_of(layer), rate=rate)
        assert repr(rate) in str(info.value)
    with pytest.raises(ValueError, match="rate="):
        R.check_modelled(layer, {"rate": rate}, {"training": True})


@pytest.mark.parametrize("layer", RATE_LAYERS)
@pytest.mark.parametrize("rate", ["0.5", [0.5], None, True])
def test_rate_of_another_type_is_a_type_error(layer, rate):
    with pytest.raises(TypeError, match=r"`rate` must be a float\. Received: rate="):
        R.output_shape(layer, shape_of(layer), rate=rate)


@pytest.mark.parametrize("layer", RATE_LAYERS)
def test_both_ends_of_the_rate_range_are_accepted(layer):
    # "between 0 and 1" read inclusively: no unit and every unit are both fractions to drop
    for rate in (0, 0.0, 1, 1.0, 0.5):
        assert R.output_shape(layer, shape_of(layer), rate=rate) == shape_of(layer)
        assert R.weight_shapes(layer, shape_of(layer), rate=rate) == {}


def test_rate_one_in_training():
    # Dropout: every unit is set to 0, the 1 / (1 - rate) factor applies to none: NaN, so that
    # no output value passes for a kept one
    assert math.isnan(R.dropout_scale(1.0))
    assert R.dropout_scale(0.0) == 1.0 and R.dropout_scale(0.75) == 4.0
    R.check_modelled("Dropout", {"rate": 1.0}, {"training": True})
    R.check_modelled("SpatialDropout2D", {"rate": 1.0}, {"training": True})
    # GaussianDropout / AlphaDropout: the documented formulas divide by zero
    for layer in ("GaussianDropout", "AlphaDropout"):
        with pytest.raises(NotImplementedError, match="rate=1"):
            R.check_modelled(layer, {"rate": 1.0}, {"training": True})
        R.check_modelled(layer, {"rate": 1.0}, {"training": False})  # inference: the identity
        R.check_modelled(layer, {"rate": 0.999}, {"training": True})
    with pytest.raises(ValueError, match="rate=1"):
        R.gaussian_dropout_stddev(1.0)
    with pytest.raises(ValueError, match="rate=1"):
        R.alpha_dropout_affine(1.0)


def test_rate_zero_is_the_identity_in_training():
    assert R.dropout_scale(0.0) == 1.0
    assert R.gaussian_dropout_stddev(0.0) == 0.0
    assert R.alpha_dropout_affine(0.0) == (1.0, 0.0)


def test_formula_helpers_hand_values():
    assert R.gaussian_dropout_stddev(0.2) == pytest.approx(0.5, rel=1e-15)  # sqrt(0.2 / 0.8)
    # a = ((1 - p)(1 + p alpha'^2))^-1/2, b = -a alpha' p at p = 0.5
    a, b = R.alpha_dropout_affine(0.5)
    assert a == pytest.approx((0.5 * (1 + 0.5 * R.ALPHA_PRIME**2)) ** -0.5, rel=1e-15)
    assert b == pytest.approx(-a * R.ALPHA_PRIME * 0.5, rel=1e-15)
    for helper in (R.dropout_scale, R.gaussian_dropout_stddev, R.alpha_dropout_affine):
        with pytest.raises(ValueError, match="rate=1.5"):
            helper(1.5)


# noise_shape: keras's dropout_test.py test_validate_noise_shape_* (and the same docstring for AlphaDropout)


@pytest.mark.parametrize("layer", ["Dropout", "AlphaDropout"])
@pytest.mark.parametrize("noise_shape", [
    "Invalid",            # test_validate_noise_shape_non_iterable
    3,                    # not iterable
    (20, 1.5, 10),        # test_validate_noise_shape_invalid_type
    (20, -1, 10),         # test_validate_noise_shape_negative_value
    (20, 0, 10),          # test_validate_noise_shape_zero_value
    (20, True, 10),       # a bool is not an integer here
    ("20", 1, 10),
    {"a": 1},
])
def test_invalid_noise_shape_is_a_value_error_at_the_shape_level(layer, noise_shape):
    for rule in (R.output_shape, R.weight_shapes):
        with pytest.raises(ValueError, match=r"`noise_shape`.*Received: noise_shape="):
            rule(layer, (20, 5, 10), rate=0.5, noise_shape=noise_shape)


@pytest.mark.parametrize("layer", ["Dropout", "AlphaDropout"])
def test_valid_noise_shapes(layer):
    # test_validate_noise_shape_none, _integer_tuple, _none_values, _cast_to_a_tuple
    for noise_shape in (None, (20, 1, 10), (None, 1, None), [20, 1, 10], (1,), ()):
        assert R.output_shape(layer, (20, 5, 10), rate=0.5, noise_shape=noise_shape) == (20, 5, 10)
    assert R.noise_shape_argument([20, 1, 10]) == (20, 1, 10)
    assert R.noise_shape_argument((None, 1, None)) == (None, 1, None)
    assert R.noise_shape_argument(np.array([4, 1])) == (4, 1)


def test_mask_shape_resolves_and_broadcasts():
    assert R.mask_shape("Dropout", (20, 5, 10)) == (20, 5, 10)
    assert R.mask_shape("Dropout", (20, 5, 10), noise_shape=(None, 1, None)) == (20, 1, 10)
    assert R.mask_shape("Dropout", (20, 5, 10), noise_shape=[20, 1, 10]) == (20, 1, 10)
    # shorter: aligned from the right, as a product with the input broadcasts
    assert R.mask_shape("AlphaDropout", (20, 5, 10), noise_shape=(1, 10)) == (1, 1, 10)
    assert R.mask_shape("SpatialDropout2D", (2, 4, 5, 3)) == (2, 1, 1, 3)
    assert R.mask_shape("SpatialDropout2D", (2, 3, 4, 5), data_format="channels_first") == (2, 3, 1, 1)
    assert R.mask_shape("SpatialDropout1D", (2, 5, 3)) == (2, 1, 3)
    # a mask that would not broadcast to the input, or would enlarge it
    for noise_shape in ((20, 2, 10), (40, 1, 10), (20, 1, 1, 10), (10, 1)):
        with pytest.raises(ValueError, match=r"noise_shape=.*input of shape \(20, 5, 10\)"):
            R.mask_shape("Dropout", (20, 5, 10), noise_shape=noise_shape)
    with pytest.raises(ValueError, match="noise_shape="):
        R.mask_shape("Dropout", (20, 5, 10), noise_shape=(20, 0, 10))


def test_inference_does_not_look_at_noise_shape_against_the_input():
    # the layer does nothing at inference, so a noise_shape that does not fit this input is
    # not a shape-level error (only its own form is)
    assert R.output_shape("Dropout", (20, 5, 10), rate=0.5, noise_shape=(7, 1, 3)) == (20, 5, 10)


def test_spatial_rank_and_data_format():
    with pytest.raises(ValueError, match="input_shape"):
        R.output_shape("SpatialDropout1D", (2, 4, 5, 3), rate=0.5)
    with pytest.raises(ValueError, match="input_shape"):
        R.output_shape("SpatialDropout2D", (2, 5, 3), rate=0.5)
    with pytest.raises(ValueError, match="input_shape"):
        R.output_shape("SpatialDropout3D", (2, 4, 5, 3), rate=0.5)
    for data_format in (None, "channels_last", "channels_first"):
        assert R.output_shape("SpatialDropout2D", (2, 4, 5, 3), rate=0.5, data_format=data_format) == (2, 4, 5, 3)
    with pytest.raises(ValueError, match="data_format='NHWC'"):
        R.output_shape("SpatialDropout2D", (2, 4, 5, 3), rate=0.5, data_format="NHWC")
    with pytest.raises(ValueError, match="data_format="):
        R.mask_shape("SpatialDropout3D", (2, 3, 4, 5, 3), data_format="NDHWC")


def test_gaussian_noise_stddev():
    # "Float, standard deviation of the noise distribution"
    for stddev in (0, 0.1, 1.0, 3.0):
        assert R.output_shape("GaussianNoise", (4, 6), stddev=stddev) == (4, 6)
    for stddev in (-0.1, math.nan):
        with pytest.raises(ValueError, match=r"`stddev`.*Received: stddev="):
            R.output_shape("GaussianNoise", (4, 6), stddev=stddev)
    with pytest.raises(TypeError, match="stddev='1'"):
        R.output_shape("GaussianNoise", (4, 6), stddev="1")


def test_unknown_and_missing_arguments():
    with pytest.raises(TypeError, match="noise_shape"):
        R.output_shape("SpatialDropout1D", (2, 5, 3), rate=0.5, noise_shape=(2, 1, 3))
    with pytest.raises(TypeError, match="rate"):
        R.output_shape("Dropout", (2, 5, 3))
    with pytest.raises(TypeError, match="GaussianNoise: rate"):
        R.output_shape("GaussianNoise", (2, 5, 3), rate=0.5)
    with pytest.raises(TypeError, match="stddev"):
        R.output_shape("GaussianNoise", (2, 5, 3))
    # seed only feeds the random draws
    assert R.output_shape("Dropout", (2, 5, 3), rate=0.5, seed=3) == (2, 5, 3)
    with pytest.raises(ValueError, match="layer_name="):
        R.output_shape("Dense", (2, 5), rate=0.5)


def test_identity_at_inference():
    x = np.arange(6.0).reshape(2, 3)
    y = R.identity(x)
    assert y.dtype == np.float64 and np.array_equal(y, x)


def test_the_bound_at_inference_is_zero_and_one_ulp_off_is_caught():
    # at inference every layer is the identity: its error bound is 0, so tf.keras must return
    # the input bit for bit; one unit in the last place of float32 off is a failure
    from conformance.compare import compare_arrays
    from conformance.ops.registry import get_op
    from reference_impl import rounding

    fmt = rounding.format_of("float32")
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype(np.float32).astype(np.float64)
    for layer in ("Dropout", "SpatialDropout1D", "GaussianDropout", "GaussianNoise", "AlphaDropout"):
        op = get_op(layer)
        params = {"stddev": 0.5} if layer == "GaussianNoise" else {"rate": 0.3}
        output = op.compute(x, {}, params, {"training": False})
        bound = op.error_bound(x, {}, params, {"training": False}, fmt, output=output)
        assert bound.shape == x.shape and np.all(bound == 0)
        assert compare_arrays(output, x, rtol=1e-5, atol=1e-5, bound=bound).ok
        off = x.astype(np.float32)
        off[0, 0, 0] = np.nextafter(off[0, 0, 0], np.float32(np.inf))
        assert not compare_arrays(off.astype(np.float64), x, rtol=1e-5, atol=1e-5, bound=bound).ok
