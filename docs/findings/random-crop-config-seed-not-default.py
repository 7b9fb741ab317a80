"""RandomCrop() without a seed reports a random integer seed in get_config(), not None.

Documentation (keras.layers.RandomCrop): signature `seed=None`; "seed: Integer. Used to create
a random seed." Every other image augmentation layer (RandomFlip, RandomZoom, ...) reports
seed None when none is given; RandomCrop replaces None by backend.random.make_default_seed(),
so get_config() differs from the documented default and a layer rebuilt from the config of an
unseeded layer is seeded (repeats the same crops as every other copy).

Exit status: 0 while get_config()["seed"] is an integer for RandomCrop(3, 4), 1 once it is None.
Run: python docs/findings/random-crop-config-seed-not-default.py
"""
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

seeds = [keras.layers.RandomCrop(3, 4).get_config()["seed"] for _ in range(2)]
print(f"RandomCrop(3, 4).get_config()['seed'], twice: {seeds}")
print(f"RandomFlip().get_config()['seed']: {keras.layers.RandomFlip().get_config()['seed']}")
raise SystemExit(0 if seeds[0] is not None else 1)
