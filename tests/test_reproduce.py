"""The reproduction snippet runs standalone and shows the same numbers as the run."""
import contextlib
import io

from conformance.catalogue.model import Case
from conformance.reproduce import snippet
from conformance.runner.execute import run_case


def run_snippet(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<snippet>", "exec"), {"__name__": "__snippet__"})
    return out.getvalue()


def make_case(op, params, shape, dtype="float32", expect=None):
    return Case(id=f"t::{op}", file="t", line=1, name="t", op=op, params=params, dtype=dtype,
                input_shape=tuple(shape), expect=expect or {})


def test_snippet_reproduces_a_divergence_exactly():
    # ReLU with max_value below threshold: the documented first rule gives max_value for x in
    # [max_value, threshold), tf.keras gives 0 there (relu-max-value-below-threshold; a divergence
    # of Keras's Python, the same on every CPU, unlike the channels_first convolutions, which
    # have no kernel where oneDNN is off)
    record = run_case(make_case("ReLU", {"threshold": 0.5, "max_value": 0.125}, [2, 7, 3]))
    assert record.status == "fail"
    assert record.metrics["n_out_of_tolerance"] > 0
    printed = run_snippet(snippet(record.to_json()))
    assert "output shapes: tf.keras (2, 7, 3) reference (2, 7, 3)" in printed
    assert f"elements out of tolerance: {record.metrics['n_out_of_tolerance']} of 42" in printed
    assert f"max abs error {record.metrics['max_abs_error']}" in printed


def test_snippet_of_a_passing_case_shows_agreement():
    record = run_case(make_case("Conv2DTranspose", {"filters": 3, "kernel_size": [3, 2], "strides": 2, "padding": "same"}, [2, 4, 5, 3], dtype="float64"))
    assert record.status == "pass"
    printed = run_snippet(snippet(record.to_json()))
    assert "elements out of tolerance: 0 of" in printed
    assert f"max abs error {record.metrics['max_abs_error']}" in printed


def test_snippet_of_an_expected_rejection_shows_both_sides():
    record = run_case(make_case("Conv2D", {"filters": 1, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, [1, 8, 8, 1], expect={"error": "ValueError"}))
    printed = run_snippet(snippet(record.to_json()))
    assert "reference: ValueError: `strides > 1` not supported" in printed
    assert "tf.keras: ValueError" in printed


def test_replay_snippet_for_a_multi_input_case():
    case = Case(id="t::mha", file="t", line=1, name="t", op="MultiHeadAttention", params={"num_heads": 2, "key_dim": 3},
                dtype="float64", input_shape=(2, 4, 6),
                inputs={"query": {"shape": [2, 4, 6]}, "value": {"shape": [2, 5, 6]}}, call={"return_attention_scores": True})
    record = run_case(case)
    code = snippet(record.to_json())
    assert "replay(" in code
    printed = run_snippet(code)
    assert printed.startswith(f"t::mha: {record.status}")
    assert f"max_abs_error: {record.metrics['max_abs_error']}" in printed


def test_replay_snippet_for_an_initializer_case():
    case = Case(id="t::glorot", file="t", line=1, name="t", op="initializers.GlorotUniform", params={},
                dtype="float32", input_shape=(8, 6))
    record = run_case(case)
    assert record.status == "pass"
    assert run_snippet(snippet(record.to_json())).startswith("t::glorot: pass")


def test_snippet_of_a_compiled_mode_calls_the_layer_in_that_mode():
    case = make_case("Conv2D", {"filters": 3, "kernel_size": 2, "padding": "same"}, [2, 5, 4, 3])
    record = run_case(Case(**{**case.__dict__, "mode": "xla", "id": "t::Conv2D[xla]"}))
    assert record.status == "pass", record.message
    code = snippet(record.to_json())
    assert "mode = 'xla'" in code and "MODES[mode].wrap(tf," in code
    printed = run_snippet(code)
    assert "elements out of tolerance: 0 of 120" in printed  # 2 x 5 x 4 x 3
