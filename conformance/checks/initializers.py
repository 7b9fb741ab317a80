"""The distribution check of an initializer: tf.keras is sampled (one call per seed,
pooled) and the samples are judged against the distribution the documentation gives for
one entry (conformance.checks.distribution: bounds, Kolmogorov-Smirnov, mean, std);
constants and Identity exactly; Orthogonal also by its defining property; plus
repeatability under a seed, and (via_layer) the same values through a layer's
kernel_initializer."""
from __future__ import annotations

import numpy as np

from conformance.catalogue.model import Case
from conformance.checks.distribution import check_samples, sample_size
from conformance.checks.values import representable
from conformance.checks.verdict import Verdict, decide
from conformance.compare import compare_arrays
from conformance.outcome import SideOutcome, Timings, error_info
from reference_impl.initializers import identity_matrix, is_orthogonal

MAX_DRAWS = 4096  # initializer calls per case: small variables get fewer samples than the target
LAYER_DRAWS = 32  # layers built per via_layer case


def judge(op, case: Case, target, timings: Timings) -> Verdict:
    """Sample tf.keras's initializer and judge the samples against the documented
    distribution: exactly for constants and Identity, by statistics otherwise
    (conformance.checks.distribution: bounds, Kolmogorov-Smirnov, mean, std), plus
    Orthogonal's defining property, repeatability under a seed, and (via_layer) the same
    values through a layer's kernel_initializer."""
    shape = tuple(case.input_shape)
    size = max(1, int(np.prod(shape)))
    with timings("reference"):
        try:
            dist = op.distribution(case.params, shape)
            reference = SideOutcome(output=np.empty(shape))
        except ValueError as exc:
            dist, reference = None, SideOutcome(error=error_info(exc, "arguments"))
    deterministic = dist is not None and dist.kind in ("constant", "identity")
    draws = 2 if dist is None or deterministic else min(MAX_DRAWS, max(2, -(-sample_size(dist=dist) // size)))
    seeds = [case.seed * MAX_DRAWS + i for i in range(draws)]
    with timings("call"):
        keras = target.draw_initializer(op, case, shape, seeds)
        # one draw has the variable's shape; the draws are stacked along a new first axis
        drawn = SideOutcome(output=None if keras.output is None else keras.output[0], error=keras.error)
        layer = target.draw_layer_kernels(op, case, seeds[:LAYER_DRAWS]) if case.via_layer and keras.error is None and dist is not None else None
    with timings("judge"):
        verdict = decide(case, reference, drawn, lambda: _compare(case, dist, deterministic, draws, keras, layer))
    verdict.outcome["reference"]["distribution"] = None if dist is None else dist.kind
    return verdict


def _compare(case, dist, deterministic, draws, keras, layer):
    shape = tuple(case.input_shape)
    samples, messages = keras.output, []
    metrics = {"draws": draws, "n_samples": int(samples.size)}
    if deterministic:
        expected = (identity_matrix(shape, dist.gain) if dist.kind == "identity" else np.full(shape, dist.value))
        expected = representable(np.broadcast_to(expected, samples.shape).astype(np.float64), case.dtype)
        tol = case.effective_tolerance
        result = compare_arrays(samples, expected, rtol=tol["rtol"], atol=tol["atol"])
        metrics.update(result.metrics)
        if not result.ok:
            messages.append(result.message)
    else:
        check = check_samples(samples, dist, drawn_in=case.dtype)
        metrics.update(check.metrics)
        if not check.ok:
            messages.append(check.message)
        if dist.kind == "orthogonal":
            # the defining property, each draw: W W^T (or W^T W) = gain^2 I within 10 atol
            atol = 10 * case.effective_tolerance["atol"] * max(1.0, dist.gain**2)
            bad = sum(not is_orthogonal(d, dist.gain, atol) for d in samples)
            metrics["non_orthogonal_draws"] = bad
            if bad:
                messages.append(f"{bad} of {draws} draws are not orthogonal with gain {dist.gain} (atol {atol:g})")
    if not keras.state["repeat_same_object"]:
        messages.append("the seeded initializer gave different values when called twice")
    if not keras.state["repeat_new_object"]:
        messages.append("two initializers with the same seed gave different values")
    if layer is not None:
        if layer.error:
            messages.append(f"through {case.kernel_of['op']}: tf.keras {layer.describe()}")
        elif not np.array_equal(layer.output, samples[:LAYER_DRAWS]):
            # not the same values: then at least the same distribution
            check = check_samples(layer.output, dist, drawn_in=case.dtype) if not deterministic else None
            metrics["via_layer_identical"] = False
            if check is not None and not check.ok:
                messages.append(f"through {case.kernel_of['op']}'s kernel_initializer: {check.message}")
        else:
            metrics["via_layer_identical"] = True
    return messages, metrics


