"""RandomTranslation, RandomShear and RandomElasticTransform default to fill_mode="reflect";
their docstrings say "constant".

Documentation (keras.layers.RandomTranslation, RandomShear and RandomElasticTransform):
    fill_mode: Points outside the boundaries of the input are filled
        according to the given mode. Available methods are `"constant"`,
        `"nearest"`, `"wrap"` and `"reflect"`. Defaults to `"constant"`.
The signatures say fill_mode="reflect", and get_config() of a layer built without fill_mode
reports "reflect": translated images are filled by reflection, not with fill_value.
(RandomZoom documents "reflect" and uses it; RandomRotation states no default.)

Exit status: 0 while any of the layers' default fill_mode is not "constant", 1 once all are.
Run: python docs/findings/fill-mode-documented-default-constant.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

defaults = {
    "RandomTranslation": keras.layers.RandomTranslation(0.2, 0.2).get_config()["fill_mode"],
    "RandomShear": keras.layers.RandomShear().get_config()["fill_mode"],
    "RandomElasticTransform": keras.layers.RandomElasticTransform().get_config()["fill_mode"],
}
print(f"default fill_mode in get_config(): {defaults}")
# what it does: a translation by exactly half the width leaves no zero (constant fill_value 0) column
x = np.arange(1, 1 + 4 * 8, dtype="float32").reshape(1, 4, 8, 1)
y = np.asarray(keras.layers.RandomTranslation(0.0, (0.5, 0.5), seed=0)(x, training=True))
print(f"translated by half the width, zero-filled elements: {int((y == 0).sum())} of {y.size}")
raise SystemExit(0 if any(v != "constant" for v in defaults.values()) else 1)
