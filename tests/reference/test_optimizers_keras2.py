"""Keras 2's documented exponential moving average (reference_impl.optimizers.run_keras2), checked
against the worked example of tf_keras's Optimizer docstring, by hand."""
import numpy as np

from reference_impl import optimizers


def test_the_docstring_example_overwrites_with_minus_one_eighth():
    # SGD(learning_rate=1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=3), var1 = 2,
    # gradient 1 each step: the variable is 1, 0, -1 after the steps; the average starts at 2 and
    # is 1.5, 0.75, then 0.5 * 0.75 + 0.5 * (-1) = -0.125, which the third step writes into var1
    params = {"learning_rate": 1.0, "use_ema": True, "ema_momentum": 0.5, "ema_overwrite_frequency": 3}
    steps = optimizers.run_keras2("SGD", params, {"var1": np.array([2.0])}, [{"var1": np.array([1.0])}] * 3)
    assert [float(s["variables"]["var1"][0]) for s in steps] == [1.0, 0.0, -0.125]
    # Keras 3's reference starts the average at the first update (1.0): 0.5 * 0.5 + 0.5 * (-1) = -0.25
    steps3 = optimizers.run("SGD", params, {"var1": np.array([2.0])}, [{"var1": np.array([1.0])}] * 3)
    assert [float(s["variables"]["var1"][0]) for s in steps3] == [1.0, 0.0, -0.25]
