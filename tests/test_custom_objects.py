"""User-defined objects: loaded only from beside the catalogue, and judged on values,
config round trip, serialization and use in a layer."""
import textwrap

from conformance.catalogue.loader import load_file, load_paths
from conformance.runner.execute import run_case

GOOD_AND_BROKEN = '''
import keras
import numpy as np


class Squares(keras.regularizers.Regularizer):
    def __init__(self, strength):
        self.strength = strength

    def __call__(self, x):
        return self.strength * keras.ops.sum(keras.ops.square(x))

    def get_config(self):
        return {"strength": self.strength}


class HalfSquares(Squares):
    """A planted fault: half the documented penalty."""

    def __call__(self, x):
        return 0.5 * self.strength * keras.ops.sum(keras.ops.square(x))


class ForgetsItsConfig(Squares):
    """A planted fault: get_config loses the strength."""

    def get_config(self):
        return {"strength": 1.0}


class WideNormal(keras.initializers.Initializer):
    """A planted fault: 3% too wide."""

    def __init__(self, stddev):
        self.stddev = stddev

    def __call__(self, shape, dtype=None):
        return keras.random.normal(shape, stddev=1.03 * self.stddev, dtype=dtype)

    def get_config(self):
        return {"stddev": self.stddev}


class Normal(keras.initializers.Initializer):
    def __init__(self, mean, stddev):
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        return keras.random.normal(shape, mean=self.mean, stddev=self.stddev, dtype=dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev}


class Clip(keras.constraints.Constraint):
    def __init__(self, low, high):
        self.low, self.high = low, high

    def __call__(self, w):
        return keras.ops.clip(w, self.low, self.high)

    def get_config(self):
        return {"low": self.low, "high": self.high}


class ClipForgetsItsBounds(Clip):
    """A planted fault: get_config loses the upper bound."""

    def get_config(self):
        return {"low": self.low, "high": 10.0}


def clip(w, low, high):
    return np.clip(np.asarray(w, dtype=np.float64), low, high)


def clip_from_above_only(w, low, high):
    """A planted fault in the reference: the lower bound forgotten."""
    return np.minimum(np.asarray(w, dtype=np.float64), high)


def normal(shape, stddev):
    from reference_impl.initializers import Distribution

    return Distribution("normal", loc=0.0, stddev=float(stddev))


def normal_at(shape, mean, stddev):
    from reference_impl.initializers import Distribution

    return Distribution("normal", loc=float(mean), stddev=float(stddev))


def squares(x, strength):
    return strength * np.sum(np.square(np.asarray(x, dtype=np.float64)))
'''


def catalogue(tmp_path, custom, reference="objs.py:squares", folder="cat"):
    (tmp_path / folder).mkdir(exist_ok=True)
    (tmp_path / "objs.py").write_text(textwrap.dedent(GOOD_AND_BROKEN))
    (tmp_path / folder / "objs.py").write_text(textwrap.dedent(GOOD_AND_BROKEN))
    path = tmp_path / folder / "custom.yaml"
    path.write_text(
        "cases:\n  - name: c\n    op: custom.regularizer\n"
        f"    custom: {custom}\n    reference: {reference}\n    input_shape: [4, 3]\n    params: {{strength: 0.25}}\n"
    )
    return path


def test_a_correct_custom_regularizer_passes(tmp_path):
    (case,), errors = load_file(catalogue(tmp_path, "objs.py:Squares"))
    assert errors == []
    record = run_case(case)
    assert record.status == "pass", record.message
    assert abs(record.metrics["penalty"] - record.metrics["reference_penalty"]) < 1e-5


def test_a_wrong_penalty_is_caught(tmp_path):
    (case,), _ = load_file(catalogue(tmp_path, "objs.py:HalfSquares"))
    record = run_case(case)
    assert record.status == "fail"
    assert record.message.startswith("penalty:")
    assert "Dense(kernel_regularizer=...).losses" in record.message


def test_a_config_that_does_not_round_trip_is_caught(tmp_path):
    (case,), _ = load_file(catalogue(tmp_path, "objs.py:ForgetsItsConfig"))
    record = run_case(case)
    assert record.status == "fail"
    assert "the from_config copy gives" in record.message or "the deserialize copy gives" in record.message


def test_only_files_beside_the_catalogue_are_loaded(tmp_path):
    cases, errors = load_file(catalogue(tmp_path, "../objs.py:Squares"))
    assert cases == [] and len(errors) == 1
    assert "outside the catalogue's folder" in str(errors[0]) and ":4: custom:" in str(errors[0])


def test_an_undefined_name_is_a_catalogue_error_without_running_the_file(tmp_path):
    path = catalogue(tmp_path, "objs.py:Nope")
    (path.parent / "objs.py").write_text("raise SystemExit('this file must not run at validation')\nclass Other: pass\n")
    cases, errors = load_file(path)
    assert cases == [] and "defines no top-level 'Nope'" in str(errors[0])


def test_a_three_percent_scale_error_of_an_initializer_is_caught(tmp_path):
    path = catalogue(tmp_path, "objs.py:Squares")
    path.write_text(
        "cases:\n  - name: wide\n    op: custom.initializer\n    custom: objs.py:WideNormal\n"
        "    reference: objs.py:normal\n    shape: [64, 32]\n    params: {stddev: 0.5}\n"
    )
    (case,), errors = load_file(path)
    assert errors == []
    record = run_case(case)
    assert record.status == "fail"
    assert record.message.startswith("samples:") and "std" in record.message


def test_a_custom_initializer_in_16_bits_is_judged_after_rounding_and_a_wrong_scale_still_caught(tmp_path):
    """N(1.5, 0.05) in bfloat16 has a tie every 0.16 standard deviations: its draws, and a Dense
    kernel drawn with it in bfloat16, are judged against the law rounded to bfloat16, while a 3%
    too wide law is still caught."""
    path = catalogue(tmp_path, "objs.py:Squares")
    path.write_text(
        "cases:\n  - name: narrow\n    op: custom.initializer\n    custom: objs.py:Normal\n"
        "    reference: objs.py:normal_at\n    shape: [64, 32]\n    params: {mean: 1.5, stddev: 0.05}\n"
        "  - name: wide\n    op: custom.initializer\n    custom: objs.py:WideNormal\n"
        "    reference: objs.py:normal\n    shape: [64, 32]\n    params: {stddev: 0.5}\n"
    )
    # 16 bits are run as `conformance run --dtypes` runs them (a custom case names float32 or
    # float64; a policy applies to layers only, so an initializer keeps its dtype under it)
    cases, errors = load_paths([path], dtypes=("bfloat16",))
    assert errors == [] and [(c.name, c.dtype) for c in cases] == [("narrow", "bfloat16"), ("wide", "bfloat16")]
    narrow, wide = (run_case(case) for case in cases)
    assert narrow.status == "pass", narrow.message
    assert wide.status == "fail" and wide.message.startswith("samples:")


def constraint_catalogue(tmp_path, custom, reference):
    path = catalogue(tmp_path, custom)
    path.write_text(
        "cases:\n  - name: k\n    op: custom.constraint\n"
        f"    custom: {custom}\n    reference: {reference}\n    input_shape: [3, 4, 5]\n"
        "    params: {low: -0.2, high: 0.3}\n    dtype: [float32, float64]\n"
    )
    cases, errors = load_file(path)
    assert errors == [] and len(cases) == 2
    return cases


def test_a_correct_custom_constraint_passes(tmp_path):
    for case in constraint_catalogue(tmp_path, "objs.py:Clip", "objs.py:clip"):
        record = run_case(case)
        assert record.status == "pass", record.message


def test_a_constraint_that_disagrees_with_its_reference_is_caught_on_a_tensor_and_in_a_layer(tmp_path):
    for case in constraint_catalogue(tmp_path, "objs.py:Clip", "objs.py:clip_from_above_only"):
        record = run_case(case)
        assert record.status == "fail"
        assert record.message.startswith("projected weights:")
        assert "Dense(kernel_constraint=...).kernel.constraint(kernel):" in record.message


def test_a_constraint_config_that_does_not_round_trip_is_caught_also_through_the_layer(tmp_path):
    (case, _) = constraint_catalogue(tmp_path, "objs.py:ClipForgetsItsBounds", "objs.py:clip")
    record = run_case(case)
    assert record.status == "fail"
    assert "the from_config copy differs from the original" in record.message
    assert "of the Dense.from_config copy differs from the original" in record.message
