"""CategoryEncoding, Hashing and Discretization with a float16 or bfloat16 dtype cannot count.

Layer: "dtype: The dtype of the layer's computations and weights"; CategoryEncoding output_mode
"count": "a tensor with the number of times each index appeared". With dtype="float16" or
"bfloat16" the count and multi_hot outputs of these layers raise InvalidArgumentError
("Value for attr 'T' of half is not in the list of allowed values: int32, int64, float, double;
NodeDef: {{node DenseBincount}}"): the counting kernel has no 16-bit float type, and the layers do
not count in another type and cast. one_hot, which does not count, works; so does float32.

Exit status: 0 while the float16 count raises, 1 once it runs.
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
ids = tf.constant(np.array([[0, 1, 1], [2, 3, 3]]), dtype=tf.int64)
raised = False
for dtype in ("float16", "bfloat16", "float32"):
    try:
        out = tf.keras.layers.CategoryEncoding(num_tokens=4, output_mode="count", dtype=dtype)(ids)
        print(f"CategoryEncoding(count) {dtype:9}: {np.asarray(out, dtype=np.float64).tolist()}")
    except Exception as exc:
        print(f"CategoryEncoding(count) {dtype:9}: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:100]}")
        raised |= dtype == "float16"
raise SystemExit(0 if raised else 1)
