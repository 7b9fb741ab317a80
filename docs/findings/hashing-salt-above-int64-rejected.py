"""Hashing rejects a salt of 2^63 or more, which its docstring accepts: the salt is taken as a
signed 64-bit integer, not an unsigned one.

Hashing's docstring: "salt: A single unsigned integer or None. If passed, the hash function used
will be SipHash64, with these values used as an additional input ... It also supports
tuple/list of 2 unsigned integer numbers, see reference paper for details." SipHash-2-4's key
(the cited paper) is 128 bits, two unsigned 64-bit words, 0 <= word < 2^64. Hashing(salt=2**63)
raises OverflowError "int too big to convert" when called eagerly (ValueError "Value out of
range" inside tf.function), and so do salt=2**64 - 1 and salt=[1, 2**64 - 1]; salt=2**63 - 1
works. A negative salt, which is not unsigned, is accepted: salt=-1 gives exactly the bins that
SipHash-2-4 keyed by 2^64 - 1 documents (its two's complement), computed here from the paper.
Keras 2 (tf_keras) behaves the same.

Recorded as hashing-salt-above-int64-rejected (cases/hashing_layers.yaml, hashing_salt_above_int64).
Exits 0 while salt=2**63 raises, 1 once it hashes.
"""
import re
import sys

import numpy as np
import tensorflow as tf

MASK = (1 << 64) - 1


def siphash24(k0, k1, message: bytes) -> int:
    """SipHash-2-4 (Aumasson and Bernstein, 2012) of `message` with the key words (k0, k1)."""
    def rotl(v, s):
        return ((v << s) | (v >> (64 - s))) & MASK

    def rounds(v, n):
        v0, v1, v2, v3 = v
        for _ in range(n):
            v0 = (v0 + v1) & MASK; v1 = rotl(v1, 13) ^ v0; v0 = rotl(v0, 32)  # noqa: E702
            v2 = (v2 + v3) & MASK; v3 = rotl(v3, 16) ^ v2  # noqa: E702
            v0 = (v0 + v3) & MASK; v3 = rotl(v3, 21) ^ v0  # noqa: E702
            v2 = (v2 + v1) & MASK; v1 = rotl(v1, 17) ^ v2; v2 = rotl(v2, 32)  # noqa: E702
        return [v0, v1, v2, v3]

    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D, k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]
    full = len(message) // 8 * 8
    words = [int.from_bytes(message[i:i + 8], "little") for i in range(0, full, 8)]
    words.append(int.from_bytes(message[full:], "little") | ((len(message) & 0xFF) << 56))
    for m in words:
        v[3] ^= m
        v = rounds(v, 2)
        v[0] ^= m
    v[2] ^= 0xFF
    v = rounds(v, 4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def documented(values, salt, num_bins=10):
    """The bins SipHash-2-4 keyed by (salt, salt) gives the decimal text of each integer."""
    return [[siphash24(salt, salt, str(v).encode()) % num_bins for v in row] for row in values]


print("tensorflow", tf.__version__, "(tf.keras is", tf.keras.__name__ + ")")
x = np.array([[3, -4, 5], [6, 0, 812345]], dtype=np.int64)
below = 2 ** 63 - 1
print("salt=2**63-1:", np.asarray(tf.keras.layers.Hashing(num_bins=10, salt=below)(x)).tolist(),
      "documented:", documented(x.tolist(), below))
print("salt=-1:     ", np.asarray(tf.keras.layers.Hashing(num_bins=10, salt=-1)(x)).tolist(),
      "= documented for salt=2**64-1:", documented(x.tolist(), MASK))
try:
    out = np.asarray(tf.keras.layers.Hashing(num_bins=10, salt=2 ** 63)(x))
except (OverflowError, ValueError) as exc:
    print("salt=2**63 raises", type(exc).__name__ + ":", re.sub(r"\x1b\[[0-9;]*m", "", " ".join(str(exc).split()))[:160])
    print("documented:", documented(x.tolist(), 2 ** 63))
    sys.exit(0)
print("salt=2**63:", out.tolist(), "documented:", documented(x.tolist(), 2 ** 63))
sys.exit(1)
