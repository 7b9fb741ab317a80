"""The pytest plugin, run in a separate pytest process as a user's CI would run it."""
import json
import textwrap
import xml.etree.ElementTree as ET

import pytest

CATALOGUE = """
op: Conv1D
cases:
  - name: agrees
    input_shape: [2, 7, 3]
    params: {filters: 2, kernel_size: 3}
    sweep: {padding: [valid, same]}
  - name: agrees_but_marked_divergent
    input_shape: [2, 7, 3]
    params: {filters: 2, kernel_size: 2}
    known: stale-record
  - name: fails_otherwise_than_recorded
    # a values failure (no tolerance at all) where the record says tf.keras raises
    input_shape: [2, 7, 3]
    params: {filters: 2, kernel_size: 3}
    tolerance: {rtol: 0.0, atol: 0.0}
    input_distribution: {mean: 0.3, std: 100.0}
    known: raises-on-call
  - name: rejected
    input_shape: [1, 9, 2]
    params: {filters: 1, kernel_size: 3, strides: 2, dilation_rate: 2}
    expect: {error: ValueError}
"""

KNOWN_DIVERGENCE = """
op: DepthwiseConv2D
cases:
  - name: stride_with_dilation
    input_shape: [1, 9, 8, 2]
    params: {kernel_size: 3, strides: 2, dilation_rate: 2}
    expect: {error: ValueError}
    known: depthwise-accepts
"""

REGISTRY = """
divergences:
  stale-record:
    category: wrong-result
    title: recorded, but the case agrees
    evidence: none
    seen: {tensorflow: 2.21.0, keras: 3.15.1}
    signature: {values: {}}
  raises-on-call:
    category: rejects-valid
    title: recorded as raising
    evidence: none
    seen: {tensorflow: 2.21.0, keras: 3.15.1}
    signature: {raises: {type: ValueError}}
  depthwise-accepts:
    category: accepts-invalid
    title: documented as rejected, accepted by tf.keras
    evidence: the docstring's Raises section
    seen: {tensorflow: 2.21.0, keras: 3.15.1}
    signature: {accepts: true}
  explains-float64:
    category: precision
    title: a float64 rounding that a case moved into float64 may show
    evidence: none
    seen: {tensorflow: 2.21.0, keras: 3.15.1}
    signature: {values: {max_rel_error: 1.0e-5}}
    applies_to: {op: Conv1D, padding: valid, dtype: float64, run_dtype: true}
"""

UNRELATED = {
    "workflow.yaml": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
    "data.yml": "cases:\n  - 1\n  - 2\n",
}


@pytest.fixture
def project(pytester):
    pytester.makefile(".yaml", **{"cases/conv1d": textwrap.dedent(CATALOGUE), "cases/depthwise": textwrap.dedent(KNOWN_DIVERGENCE),
                                  "cases/divergences": textwrap.dedent(REGISTRY)})
    for name, text in UNRELATED.items():
        (pytester.path / name).write_text(text)
    return pytester


def test_collects_only_catalogue_files_with_readable_ids(project):
    result = project.runpytest_subprocess("--collect-only", "-q", "-p", "no:cacheprovider")
    out = result.stdout.str()
    assert "cases/conv1d.yaml::agrees[padding=valid]" in out
    assert "cases/conv1d.yaml::agrees[padding=same]" in out
    assert "cases/depthwise.yaml::stride_with_dilation" in out
    assert "cases/conv1d.yaml::agrees[padding=same-xla]" in out
    assert "cases/depthwise.yaml::stride_with_dilation[function]" in out
    assert "workflow" not in out and "data.yml" not in out
    assert "\n18 tests collected" in out  # 6 value cases in three modes; a sound registry adds none


def test_statuses_strict_xfail_junit_and_merged_results_with_xdist(project):
    result = project.runpytest_subprocess("-n", "2", "--junitxml=junit.xml", "--conformance-out=out", "--conformance-modes=eager,xla", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    # in each of the two modes: agrees x2 and rejected pass; the real divergence is xfailed;
    # the stale record fails (XPASS strict), and so does the failure its record does not describe
    assert outcomes.get("passed") == 6, result.stdout.str()
    assert outcomes.get("xfailed") == 2
    assert outcomes.get("failed") == 4
    assert "XPASS(strict)" in result.stdout.str()
    assert "not the recorded divergence raises-on-call (tf.keras raises ValueError): values out of tolerance" in result.stdout.str()
    # the failure's message opens with its diagnosis (no hypothesis survives a zero tolerance)
    assert "\ndiagnosis: No known mistake reproduces it (2 tried: kernel_flipped, bias_dropped); " in result.stdout.str()

    doc = json.loads((project.path / "out" / "results.json").read_text())
    statuses = {r["id"]: r["status"] for r in doc["cases"]}
    assert statuses == {
        "cases/conv1d.yaml::agrees[padding=valid]": "pass",
        "cases/conv1d.yaml::agrees[padding=same]": "pass",
        "cases/conv1d.yaml::agrees_but_marked_divergent": "xpass",
        "cases/conv1d.yaml::fails_otherwise_than_recorded": "fail",
        "cases/conv1d.yaml::fails_otherwise_than_recorded[xla]": "fail",
        "cases/conv1d.yaml::rejected": "pass",
        "cases/depthwise.yaml::stride_with_dilation": "xfail",
        "cases/conv1d.yaml::agrees[padding=valid-xla]": "pass",
        "cases/conv1d.yaml::agrees[padding=same-xla]": "pass",
        "cases/conv1d.yaml::agrees_but_marked_divergent[xla]": "xpass",
        "cases/conv1d.yaml::rejected[xla]": "pass",
        "cases/depthwise.yaml::stride_with_dilation[xla]": "xfail",
    }
    assert {r["mode"] for r in doc["cases"]} == {"eager", "xla"}
    assert doc["summary"]["total"] == 12 and doc["meta"]["tensorflow"] and doc["meta"]["modes"] == ["eager", "xla"]
    assert sorted(doc["divergences"]) == ["depthwise-accepts", "explains-float64", "raises-on-call", "stale-record"]

    suite = ET.parse(project.path / "junit.xml").getroot()
    names = {case.get("name") for case in suite.iter("testcase")}
    assert "agrees[padding=valid]" in names and "agrees[padding=valid-xla]" in names and len(names) == 12


def test_an_entry_for_cases_moved_into_a_dtype_is_a_non_strict_xfail(project):
    # agrees[padding=valid] moved into float64 meets explains-float64, which it does not show:
    # an XPASS that does not fail the run (the entry explains a failure, it does not promise one)
    result = project.runpytest_subprocess("-k", "agrees and not marked", "--conformance-dtypes=float64",
                                          "--conformance-modes=eager", "-rX", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("xpassed") == 1 and outcomes.get("passed") == 1 and not outcomes.get("failed"), result.stdout.str()
    assert "XPASS(strict)" not in result.stdout.str()


def test_k_selects_and_failures_read_as_divergences(project):
    project.makefile(".yaml", **{"cases/wrong": "op: Conv1D\ncases:\n  - name: bad_expectation\n    input_shape: [2, 7, 3]\n    params: {filters: 2, kernel_size: 3}\n    expect: {output_shape: [2, 7, 2]}\n"})
    result = project.runpytest_subprocess("-k", "(bad_expectation or rejected) and eager", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 1 and outcomes.get("failed") == 1
    out = result.stdout.str()
    assert "harness error: the reference gives shape [2, 5, 2] but the case expects [2, 7, 2]" in out
    assert "case: cases/wrong.yaml::bad_expectation" in out
    assert "Traceback" not in out


def test_an_unknown_mode_is_a_usage_error(project):
    result = project.runpytest_subprocess("--conformance-modes=eager,jit", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--conformance-modes: unknown mode(s) 'jit'; modes: eager, function, xla" in result.stderr.str()


def test_a_broken_case_is_a_failing_item_not_a_crash(project):
    project.makefile(".yaml", **{"cases/broken": "op: Conv1D\ncases:\n  - name: typo\n    input_shape: [2, 7, 3]\n    params: {filters: 2, kernel_sise: 3}\n"})
    result = project.runpytest_subprocess("cases/broken.yaml", "-p", "no:cacheprovider")
    assert result.parseoutcomes().get("failed") == 1
    assert "broken.yaml:5: params.kernel_sise: Conv1D has no argument 'kernel_sise'; did you mean 'kernel_size'" in result.stdout.str()


def test_a_broken_registry_is_a_failing_item(project):
    (project.path / "cases" / "divergences.yaml").write_text(
        textwrap.dedent(REGISTRY).replace("category: accepts-invalid", "category: accepts-everything"))
    result = project.runpytest_subprocess("cases/divergences.yaml", "-p", "no:cacheprovider")
    assert result.parseoutcomes().get("failed") == 1
    assert "divergences.yaml:16: depthwise-accepts.category: unknown category 'accepts-everything'" in result.stdout.str()


def test_the_diagnosis_opens_the_failure_message():
    from conformance.catalogue.model import Case
    from conformance.pytest_plugin import Divergence, _describe
    from conformance.record import Record

    case = Case(id="cases/a.yaml::c", file="cases/a.yaml", line=3, name="c", op="Conv1D",
                params={"filters": 2, "kernel_size": 3}, dtype="float32", input_shape=(2, 7, 3))
    sentence = "tf.keras agrees with the reference when the kernel is flipped spatially."
    record = Record(case=case, family="convolution", status="fail", diagnosis={"sentence": sentence})
    lines = _describe(case, record, Divergence("3 of 10 elements out of tolerance")).splitlines()
    assert lines[:2] == [f"diagnosis: {sentence}", "divergence: 3 of 10 elements out of tolerance"]
    undiagnosed = Record(case=case, family="convolution", status="fail")
    assert _describe(case, undiagnosed, Divergence("x")).splitlines()[0] == "divergence: x"
