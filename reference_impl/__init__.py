"""Plain-NumPy float64 reference of documented Keras semantics; never imports tensorflow or keras."""
