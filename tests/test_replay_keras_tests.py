"""tools/replay_keras_tests.py: what it reads out of a (synthetic) Keras test file, and why it
skips the rest. Nothing here imports TensorFlow or Keras: the file is read with ast, the cases
are mapped through the op registry, and positional arguments are named by hand."""
import importlib.util
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "replay_keras_tests.py"


@pytest.fixture(scope="module")
def replay():
    spec = importlib.util.spec_from_file_location("replay_keras_tests", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


SOURCE = textwrap.dedent('''
    import numpy as np
    import pytest
    from absl.testing import parameterized

    from keras.src import backend
    from keras.src import layers
    from keras.src import testing


    class PoolingTest(testing.TestCase):
        @parameterized.parameters(
            (2, "valid", (3, 5, 4)),
            ((3,), "same", (None, 6, 4)),
            (2, "valid", (3, None, 4)),
        )
        def test_pool(self, pool_size, padding, input_shape):
            if backend.backend() == "jax":
                self.skipTest("not on jax")
            self.run_layer_test(
                layers.MaxPooling1D,
                init_kwargs={"pool_size": pool_size, "padding": padding},
                input_shape=input_shape,
                expected_output_shape=(3, 4, 4),
            )

        def test_direct(self):
            x = np.random.random((2, 7, 3)).astype("float32")
            layer = layers.Conv1D(4, 3, padding="same")
            layer.build(x.shape)
            layer(x)

        def test_errors(self):
            with self.assertRaises(ValueError):
                layers.Conv1D(filters=0, kernel_size=1)
                layers.Conv1D(filters=-1, kernel_size=1)  # never reached: the first one raises
            with self.assertRaisesRegex(KeyError, "no"):
                layers.Conv1D(filters=2, kernel_size=1)

        def test_not_mapped(self):
            layers.Dense(units=compute_units())(np.ones((2, 3)))
            layers.TextVectorization()(np.ones((2, 3)))
            layers.Dense(2)(some_tensor)
            layer = layers.Dense(3)
            layer.get_config()

        @pytest.mark.skipif(backend.backend() == "tensorflow", reason="not on tf")
        def test_not_on_tf(self):
            layers.Dense(2)(np.ones((2, 3)))
''')


def test_extracts_cases_and_counts_skips(replay):
    signatures = replay.Signatures(None)
    signatures.add("layer", "Conv1D", ["filters", "kernel_size", "strides", "padding"])
    signatures.add("layer", "Dense", ["units"])
    found = replay.extract(SOURCE, "pooling/synthetic_test.py", signatures)
    cases, skips, origin = replay.map_file(found, replay.layer_ops())

    assert found.tests == ["PoolingTest.test_pool", "PoolingTest.test_direct", "PoolingTest.test_errors",
                           "PoolingTest.test_not_mapped", "PoolingTest.test_not_on_tf"]
    assert len(found.param_sets) == 3 + 1 + 1 + 1 + 1

    got = [{k: c[k] for k in ("name", "op", "input_shape", "params", "expect") if k in c} for c in cases]
    assert got == [
        {"name": "PoolingTest.test_pool.p0.s0", "op": "MaxPooling1D", "input_shape": [3, 5, 4],
         "params": {"pool_size": 2, "padding": "valid"}, "expect": {"output_shape": [3, 4, 4]}},
        # a None batch becomes 2, and Keras's expected shape no longer applies
        {"name": "PoolingTest.test_pool.p1.s0", "op": "MaxPooling1D", "input_shape": [2, 6, 4],
         "params": {"pool_size": [3], "padding": "same"}},
        # positional arguments named from the signature; build() does not change the layer
        {"name": "PoolingTest.test_direct.p0.s0", "op": "Conv1D", "input_shape": [2, 7, 3],
         "params": {"filters": 4, "kernel_size": 3, "padding": "same"}},
        # a constructor that must raise: the op's own example input stands in
        {"name": "PoolingTest.test_errors.p0.s0", "op": "Conv1D", "input_shape": [2, 9, 4],
         "params": {"filters": 0, "kernel_size": 1}, "expect": {"error": "ValueError"}},
    ]
    assert origin["PoolingTest.test_pool.p1.s0"] == ("PoolingTest.test_pool", 1)

    assert Counter(s.reason for s in skips) == {
        replay.UNKNOWN_DIM: 1,          # test_pool p2: (3, None, 4)
        replay.NOT_REACHED: 1,          # the second constructor in the assertRaises block
        replay.ERROR_TYPE: 1,           # KeyError is not an error a case can expect
        replay.NON_LITERAL_ARG: 1,      # units=compute_units()
        replay.NOT_IN_CATALOGUE: 1,     # TextVectorization
        replay.INPUT_NOT_LITERAL: 1,    # Dense(2)(some_tensor)
        replay.NEVER_CALLED: 1,         # Dense(3), only configured
        replay.SKIPPED_ON_TF: 1,        # skipif(backend.backend() == "tensorflow")
    }
