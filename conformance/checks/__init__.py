"""Checks of tf.keras outputs that are random rather than computed (initializers).

Each check is a pure function of NumPy samples drawn from tf.keras and of the distribution the
reference (`reference_impl`) predicts; it never imports TensorFlow. `distribution.check_samples`
judges whether samples follow a `reference_impl.initializers.Distribution`.
"""
