"""OrthogonalRegularizer on float16 or bfloat16 weights raises instead of returning its penalty.

Documentation: "Regularizer that encourages input vectors to be orthogonal to each other ...
factor: Float. The regularization factor." Called on a float16 (or bfloat16) kernel it raises
InvalidArgumentError ("cannot compute Mul as input #1(zero-based) was expected to be a float tensor
but is a half tensor"): a float32 term of the penalty is multiplied by the 16-bit product. The L1 and
L2 regularizers return a 16-bit penalty; a float16 layer with kernel_regularizer=
OrthogonalRegularizer cannot compute its losses. float32 works.

Exit status: 0 while float16 raises, 1 once it returns a penalty.
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
w = np.random.default_rng(0).normal(size=(4, 3))
raised = False
for dtype in ("float16", "bfloat16", "float32"):
    for mode in ("rows", "columns"):
        try:
            penalty = tf.keras.regularizers.OrthogonalRegularizer(factor=0.01, mode=mode)(tf.constant(w, dtype=dtype))
            print(f"{dtype:9} {mode:8}: {float(penalty)}")
        except Exception as exc:
            print(f"{dtype:9} {mode:8}: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:100]}")
            raised |= dtype == "float16"
raise SystemExit(0 if raised else 1)
