"""Conformance harness: runs catalogue cases through tf.keras and the NumPy reference.

Dependency direction (each layer imports only those to its left):
    reference_impl  ->  ops  ->  catalogue  ->  runner/compare  ->  results  ->  cli / pytest_plugin / report
TensorFlow is imported lazily, only when a case is executed.
"""
__version__ = "0.1.0"
