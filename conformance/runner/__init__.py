"""Executing cases: inputs, the tf.keras side, judging, and running many in parallel."""
