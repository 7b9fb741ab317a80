"""The op registry: what each catalogue `op:` name means.

An op declares its parameters (for validation without TensorFlow), how the reference
predicts shapes and computes values, and which tf.keras object it exercises. Families
add thin mappings in their own module (conv.py, ...) onto the generic op kinds here.
"""
from conformance.ops.registry import (  # noqa: F401
    CustomOp, FunctionOp, InitializerOp, LayerOp, Op, UnknownOp, all_ops, check_of, get_op,
)
