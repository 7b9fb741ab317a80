"""The comparison: accepts float noise, catches real differences, measures them right."""
import numpy as np
import pytest

from conformance.compare import compare_arrays


@pytest.fixture
def reference():
    return np.random.default_rng(7).normal(0.3, 1.5, size=(2, 6, 5, 3))


def test_float32_rounding_of_the_reference_passes(reference):
    result = compare_arrays(reference.astype(np.float32), reference, rtol=1e-5, atol=1e-5, map_axes=(1, 2))
    assert result.ok, result.message
    # float32 rounding is at most half an ulp: |x| * 2**-24
    assert result.metrics["max_abs_error"] <= np.abs(reference).max() * 2.0**-24
    assert result.metrics["n_out_of_tolerance"] == 0


def test_one_element_off_is_caught_and_located(reference):
    actual = reference.copy()
    actual[1, 4, 2, 0] += 3e-3
    result = compare_arrays(actual, reference, rtol=1e-5, atol=1e-5)
    assert not result.ok
    m = result.metrics
    assert m["worst_index"] == [1, 4, 2, 0]
    assert m["worst_keras"] == actual[1, 4, 2, 0] and m["worst_reference"] == reference[1, 4, 2, 0]
    assert m["max_abs_error"] == pytest.approx(3e-3, rel=1e-9)
    assert m["max_rel_error"] == pytest.approx(3e-3 / abs(reference[1, 4, 2, 0]), rel=1e-9)
    assert m["n_out_of_tolerance"] == 1
    assert m["fraction_out_of_tolerance"] == pytest.approx(1 / reference.size)
    assert "1 of 180 elements out of tolerance" in result.message and "[1, 4, 2, 0]" in result.message


def test_tolerance_is_atol_plus_rtol_times_reference():
    reference = np.array([0.0, 100.0, -4.0])
    inside = reference + np.array([1e-5, 1e-5 + 100 * 1e-5, -(1e-5 + 4e-5)]) * 0.999
    outside = reference + np.array([0.0, (1e-5 + 100 * 1e-5) * 1.001, 0.0])
    assert compare_arrays(inside, reference, rtol=1e-5, atol=1e-5).ok
    assert not compare_arrays(outside, reference, rtol=1e-5, atol=1e-5).ok


def test_nan_and_inf_must_sit_at_the_same_places():
    reference = np.array([np.nan, np.inf, -np.inf, 1.0])
    assert compare_arrays(reference.copy(), reference, rtol=0, atol=0).ok
    moved = np.array([1.0, np.inf, -np.inf, np.nan])
    result = compare_arrays(moved, reference, rtol=1e-5, atol=1e-5)
    assert not result.ok and result.metrics["n_nonfinite_mismatch"] == 2 and "NaN/Inf" in result.message
    flipped = np.array([np.nan, -np.inf, -np.inf, 1.0])
    assert not compare_arrays(flipped, reference, rtol=1e-5, atol=1e-5).ok
    finite_for_inf = np.array([np.nan, 3e38, -np.inf, 1.0])
    assert not compare_arrays(finite_for_inf, reference, rtol=1e-5, atol=1e-5).ok


def test_shape_mismatch_is_reported_first():
    result = compare_arrays(np.zeros((2, 3)), np.zeros((3, 2)), rtol=1, atol=1)
    assert not result.ok and result.message == "shape differs: tf.keras [2, 3], reference [3, 2]"


def test_histogram_counts_errors_by_decade():
    reference = np.zeros(5)
    actual = np.array([0.0, 2e-9, 5e-9, 3e-4, 0.5])
    h = compare_arrays(actual, reference, rtol=0, atol=1.0).metrics["error_histogram"]
    assert h["zeros"] == 1
    by_decade = dict(zip(h["decades"], h["counts"]))
    assert by_decade[-9] == 2 and by_decade[-4] == 1 and by_decade[-1] == 1
    assert sum(h["counts"]) == 4


def test_error_map_shows_where_the_errors_are(reference):
    actual = reference.copy()
    actual[0, 5, 0, 2] += 1.0  # bottom-left corner of the (6, 5) spatial plane
    m = compare_arrays(actual, reference, rtol=1e-5, atol=1e-5, map_axes=(1, 2)).metrics["error_map"]
    values = np.array(m["values"], dtype=float)
    assert values.shape == (6, 5)
    assert np.unravel_index(values.argmax(), values.shape) == (5, 0)
    assert values.max() > 1e4 and np.delete(values.ravel(), 25).max() == 0


def test_a_bound_replaces_the_flat_tolerance_and_is_recorded_as_a_ratio():
    reference = np.array([1.0, 2.0, 3.0])
    actual = reference + np.array([1.5e-5, 2.5e-5, 0.0])
    bound = np.array([2e-5, 1e-5, 0.0])  # covers the first error, not the second; the third must be exact
    result = compare_arrays(actual, reference, rtol=1e-5, atol=1e-5, bound=bound)
    assert not result.ok
    assert result.metrics["n_out_of_tolerance"] == 1 and result.metrics["worst_index"] == [1]
    assert result.metrics["judged_by"] == "bound" and result.metrics["max_bound_ratio"] == 2.5
    assert "out of the error bound (up to 2e-05; error / bound up to 2.5)" in result.message
    # the flat tolerance (atol 1e-5 + rtol 1e-5 |reference|) passes all three
    assert compare_arrays(actual, reference, rtol=1e-5, atol=1e-5).ok
    # a zero bound: any difference fails
    assert not compare_arrays(reference + [0.0, 0.0, 1e-15], reference, rtol=1, atol=1, bound=np.zeros(3)).ok


def test_a_nan_in_the_bound_is_judged_by_the_tolerance_not_passed():
    reference = np.array([1.0, 2.0])
    actual = reference + np.array([0.5, 1e-6])
    result = compare_arrays(actual, reference, rtol=1e-5, atol=1e-5, bound=np.array([np.nan, np.nan]))
    assert not result.ok and result.metrics["n_out_of_tolerance"] == 1 and result.metrics["worst_index"] == [0]
    assert compare_arrays(reference + [1e-6, 1e-6], reference, rtol=1e-5, atol=1e-5, bound=np.array([np.nan, 0.0])).ok is False
    assert compare_arrays(reference + [1e-6, 0.0], reference, rtol=1e-5, atol=1e-5, bound=np.array([np.nan, 0.0])).ok
