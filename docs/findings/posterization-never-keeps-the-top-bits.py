"""RandomPosterization(factor=b) keeps 1 to b - 1 bits, never b; a pair (lo, hi) never keeps hi bits.

Documentation (keras.layers.RandomPosterization):
    Reduces the number of bits for each color channel.
    factor: integer, the number of bits to keep for each channel. Must be a
        value between 1-8.
factor=4 should keep the top 4 bits of every value: y = (floor(x) >> 4) << 4. In training no image
keeps 4 bits; each keeps 1, 2 or 3. _set_factor turns an integer b into the range (1, b) and
get_random_transformation draws randint(minval=1, maxval=b), whose maxval is excluded. A pair
(2, 6) (not documented; read as every number of bits from 2 to 6) keeps 2 to 5 bits, never 6.

Exit status: 0 while no image keeps 4 bits with factor=4, 1 otherwise.
Run: python docs/findings/posterization-never-keeps-the-top-bits.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

x = np.random.default_rng(0).normal(127.5, 30.0, (200, 6, 7, 3)).clip(0, 255).astype("float32")


def bits_kept(layer):
    y = np.asarray(layer(x, training=True)).astype(np.float64)
    level = np.floor(x.astype(np.float64)).astype(np.int64)
    kept = []
    for i in range(len(x)):
        fits = [b for b in range(1, 9) if np.array_equal((level[i] >> (8 - b)) << (8 - b), y[i])]
        kept.append(fits[0] if fits else None)
    return kept


single = bits_kept(keras.layers.RandomPosterization(factor=4, seed=1))
pair = bits_kept(keras.layers.RandomPosterization(factor=(2, 6), seed=1))
count = lambda kept: {b: kept.count(b) for b in sorted(set(kept), key=str)}
print(f"factor=4:      bits kept per image {count(single)} (documented: 4 for every image)")
print(f"factor=(2, 6): bits kept per image {count(pair)} (2 to 6)")
raise SystemExit(0 if single.count(4) == 0 else 1)
