"""Keras 3 Hashing and HashedCrossing in NumPy, from their docstrings and the published hash
algorithms (vectorized uint64 arithmetic; strings are grouped by length, and every other loop
runs over the 8- or 64-byte blocks of a length or HashedCrossing's documented crosses, never over
the elements of a batch).

Hashing(num_bins, mask_value=None, salt=None, output_mode="int", sparse=False) "element-wise
converts ints or strings to ints in a fixed range" with FarmHash64 ("This layer uses
FarmHash64 by default"), or with SipHash64 when a `salt` is given ("the layer will use the
SipHash64 hash function, with the salt value serving as additional input"):

    bin(v) = H(bytes(v)) mod num_bins                      (mask_value None)
    bin(v) = 0 if v == mask_value, else 1 + H(bytes(v)) mod (num_bins - 1)
             ("mask_value: A value that represents masked inputs, which are mapped to index 0";
              num_bins "includes the mask_value bin, so the effective number of bins is
              (num_bins - 1)")

with H(m) the hash as an unsigned 64-bit integer and `mod` the remainder of unsigned division.
bytes(v) of a string is its UTF-8 encoding. Of an integer, the docstrings say nothing (the
input may be "an int32 or int64 tensor", nothing says how it becomes bytes): the reading taken
is its decimal text in ASCII, as Python's str(int) writes it ("-" for negatives, no leading
zeros, "0" for zero). Reasons: the layer is documented as one hash of categorical values that
come as "ints or strings", and only the decimal text makes an integer and its string form land
in the same bin whatever the integer dtype (int32 and int64 would otherwise hash 4 and 8
different bytes). The other readings, the integer's 4 or 8 little-endian bytes (what
`tensorflow::ops::Fingerprint`, which the docstring names, hashes of a numeric tensor), give
other bins; tests/reference/test_hashing.py pins the reading taken.

FarmHash64 is Google's FarmHash Fingerprint64 (github.com/google/farmhash, src/farmhash.cc:
`Fingerprint64(s, len) = farmhashna::Hash64(s, len)`), a fixed function of the bytes. All
arithmetic is modulo 2^64; Fetch64/Fetch32 read 8/4 bytes little-endian at an offset;
Rot(v, r) is the right rotation (v >> r) | (v << (64 - r)); ShiftMix(v) = v ^ (v >> 47);

    k0 = 0xC3A5C85C97CB3127, k1 = 0xB492B66FBE98F273, k2 = 0x9AE16A3B2F90404F
    HashLen16(u, v, mul): a = (u ^ v) * mul; a ^= a >> 47; b = (v ^ a) * mul; b ^= b >> 47;
                          return b * mul

By the length n of the message s:
    n = 0:        k2
    n in 1..3:    a, b, c = s[0], s[n >> 1], s[n - 1] (bytes); y = a + (b << 8); z = n + (c << 2);
                  ShiftMix(y * k2 ^ z * k0) * k2
    n in 4..7:    mul = k2 + 2n; HashLen16(n + (Fetch32(0) << 3), Fetch32(n - 4), mul)
    n in 8..16:   mul = k2 + 2n; a = Fetch64(0) + k2; b = Fetch64(n - 8);
                  HashLen16(Rot(b, 37) * mul + a, (Rot(a, 25) + b) * mul, mul)
    n in 17..32:  mul = k2 + 2n; a = Fetch64(0) * k1; b = Fetch64(8); c = Fetch64(n - 8) * mul;
                  d = Fetch64(n - 16) * k2;
                  HashLen16(Rot(a + b, 43) + Rot(c, 30) + d, a + Rot(b + k2, 18) + c, mul)
    n in 33..64:  mul = k2 + 2n; a = Fetch64(0) * k2; b = Fetch64(8); c = Fetch64(n - 8) * mul;
                  d = Fetch64(n - 16) * k2; y = Rot(a + b, 43) + Rot(c, 30) + d;
                  z = HashLen16(y, a + Rot(b + k2, 18) + c, mul); e = Fetch64(16) * mul;
                  f = Fetch64(24); g = (y + Fetch64(n - 32)) * mul; h = (z + Fetch64(n - 24)) * mul;
                  HashLen16(Rot(e + f, 43) + Rot(g, 30) + h, e + Rot(f + a, 18) + g, mul)
    n > 64:       seed = 81; x = seed * k2 + Fetch64(0); y = seed * k1 + 113;
                  z = ShiftMix(y * k2 + 113) * k2; v = w = (0, 0);
                  Weak(p, a, b) (32 bytes at p, two seeds): with W, X, Y, Z = Fetch64(p), ..(p + 8),
                      ..(p + 16), ..(p + 24): a += W; b = Rot(b + a + Z, 21); c = a; a += X; a += Y;
                      b += Rot(a, 44); return (a + Z, b + c)
                  for each 64-byte block at p = 0, 64, ..., while p < 64 * floor((n - 1) / 64):
                      x = Rot(x + y + v0 + Fetch64(p + 8), 37) * k1;
                      y = Rot(y + v1 + Fetch64(p + 48), 42) * k1; x ^= w1; y += v0 + Fetch64(p + 40);
                      z = Rot(z + w0, 33) * k1; v = Weak(p, v1 * k1, x + w0);
                      w = Weak(p + 32, z + w1, y + Fetch64(p + 16)); swap(x, z)
                  then on the last 64 bytes, p = n - 64, with mul = k1 + ((z & 0xff) << 1):
                      w0 += (n - 1) & 63; v0 += w0; w0 += v0;
                      x = Rot(x + y + v0 + Fetch64(p + 8), 37) * mul;
                      y = Rot(y + v1 + Fetch64(p + 48), 42) * mul; x ^= w1 * 9;
                      y += v0 * 9 + Fetch64(p + 40); z = Rot(z + w0, 33) * mul;
                      v = Weak(p, v1 * mul, x + w0); w = Weak(p + 32, z + w1, y + Fetch64(p + 16));
                      swap(x, z)
                  HashLen16(HashLen16(v0, w0, mul) + ShiftMix(y) * k0 + z,
                            HashLen16(v1, w1, mul) + x, mul)

SipHash64 is SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012,
the paper the docstring cites; the "SipHash64" of github.com/google/highwayhash is the same
function of a 128-bit key given as two 64-bit words). The key is (k0, k1) = (salt[0], salt[1])
for a "tuple/list of 2 unsigned integer numbers", (salt, salt) for "a single unsigned integer"
(the docstring's example: `salt=133` is the "same as `salt=[133, 133]`"); each word is an
unsigned 64-bit integer, 0 <= word < 2^64. With RotL the left rotation:

    v0 = k0 ^ 0x736F6D6570736575, v1 = k1 ^ 0x646F72616E646F6D,
    v2 = k0 ^ 0x6C7967656E657261, v3 = k1 ^ 0x7465646279746573
    SipRound: v0 += v1; v1 = RotL(v1, 13); v1 ^= v0; v0 = RotL(v0, 32);
              v2 += v3; v3 = RotL(v3, 16); v3 ^= v2;
              v0 += v3; v3 = RotL(v3, 21); v3 ^= v0;
              v2 += v1; v1 = RotL(v1, 17); v1 ^= v2; v2 = RotL(v2, 32)
    the message in 8-byte little-endian words m_0 .. m_{w-1}, w = floor(n / 8) + 1, the last one
    holding the n mod 8 remaining bytes and (n mod 256) << 56; per word: v3 ^= m; two SipRounds;
    v0 ^= m; then v2 ^= 0xFF, four SipRounds, H = v0 ^ v1 ^ v2 ^ v3.

output_mode "one_hot", "multi_hot", "count" encode the bins as CategoryEncoding does with
num_tokens = num_bins (reference_impl.preprocessing.encode: one_hot adds a last axis, or
encodes on a last axis of size 1; multi_hot and count reduce the last axis, the sample); a
masked value is in bin 0 and counts there (the docstrings drop nothing). sparse=True (a
SparseTensor) is not modelled.

HashedCrossing(num_bins, output_mode="int", sparse=False) crosses features "using the hashing
trick. Conceptually, the transformation can be thought of as: hash(concatenate(features)) %
num_bins", on inputs of shape (batch_size, 1), (batch_size,) or () ("Valid input shapes are");
output_mode "one_hot" "encodes each individual element in the input into an array the same
size as num_bins": a scalar input gives (num_bins,), a (batch_size,) input (batch_size,
num_bins) whatever the batch size, one or more; for a (batch_size, 1) input the reading taken is
(batch_size, num_bins), encoded on that last axis of size 1 as Hashing's one_hot and
CategoryEncoding document it (not (batch_size, 1, num_bins)). The hash itself is not documented:
"conceptually" names no function, no byte form of the features and no way of joining them.
What the documentation does fix: with num_bins = 1 every cross is in bin 0 (x mod 1 = 0), and
the docstring's examples, with num_bins = 5: ("A", 101) -> 1, ("B", 101) -> 4, ("B", 102) -> 1,
("A", 102) -> 3 (DOCUMENTED_CROSSES). Other crosses raise NotImplementedError: the reference
does not invent the hash.
"""
from __future__ import annotations

import numbers

import numpy as np

# the preprocessing layers' argument rules: unknown keywords refused, positive integers
from reference_impl.preprocessing import _check, _positive_int, encode

K0 = 0xC3A5C85C97CB3127
K1 = 0xB492B66FBE98F273
K2 = 0x9AE16A3B2F90404F
FARMHASH_SEED = 81
SIPHASH_INIT = (0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573)
OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")
CROSSING_OUTPUT_MODES = ("int", "one_hot")
# HashedCrossing's docstring examples: num_bins -> {(feature 1, feature 2): bin}
DOCUMENTED_CROSSES = {5: {("A", 101): 1, ("B", 101): 4, ("B", 102): 1, ("A", 102): 3}}
_MASK64 = (1 << 64) - 1
_U = np.uint64


# --- bytes ---------------------------------------------------------------------------------------


def utf8(strings) -> np.ndarray:
    """Strings as an array of their UTF-8 bytes (NumPy 'S'), same shape. NumPy's fixed-width
    strings drop trailing NUL characters: a string must not end with NUL (the catalogue's
    `strings` argument refuses NUL, conformance.ops.hashing_layers)."""
    return np.char.encode(np.asarray(strings, dtype=np.str_), "utf-8").astype(np.bytes_)


def decimal(x) -> np.ndarray:
    """Integers as their decimal text in ASCII (str(int)), same shape."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"Expected integer values. Received dtype {x.dtype}")
    return x.astype(np.int64).astype(np.bytes_)


def _messages(data):
    """(bytes matrix uint8 (n, width), lengths (n,)) of a flat 'S' array."""
    flat = np.ascontiguousarray(np.asarray(data, dtype=np.bytes_).reshape(-1))
    width = max(flat.dtype.itemsize, 1)
    if flat.dtype.itemsize == 0:
        flat = flat.astype("S1")
    matrix = flat.view(np.uint8).reshape(flat.size, width)
    return matrix, np.char.str_len(flat).astype(np.int64)


def _by_length(data, hash_block):
    """hash_block(bytes (m, L), L) -> uint64 (m,), applied to each group of equal length."""
    data = np.asarray(data, dtype=np.bytes_)
    matrix, lengths = _messages(data)
    out = np.zeros(lengths.shape, dtype=np.uint64)
    for n in np.unique(lengths):  # grouping: one pass per distinct length
        rows = lengths == n
        out[rows] = hash_block(matrix[rows, :n], int(n))
    return out.reshape(data.shape)


def _fetch64(block, i):
    return np.ascontiguousarray(block[:, i:i + 8]).view("<u8")[:, 0].astype(np.uint64)


def _fetch32(block, i):
    return np.ascontiguousarray(block[:, i:i + 4]).view("<u4")[:, 0].astype(np.uint64)


def _rotr(v, r):
    return v if r == 0 else (v >> _U(r)) | (v << _U(64 - r))


def _rotl(v, r):
    return (v << _U(r)) | (v >> _U(64 - r))


def _shift_mix(v):
    return v ^ (v >> _U(47))


def _hash_len16(u, v, mul):
    a = (u ^ v) * mul
    a ^= a >> _U(47)
    b = (v ^ a) * mul
    b ^= b >> _U(47)
    return b * mul


def _weak32(block, p, a, b):
    w, x, y, z = (_fetch64(block, p + k) for k in (0, 8, 16, 24))
    a = a + w
    b = _rotr(b + a + z, 21)
    c = a
    a = a + x + y
    b = b + _rotr(a, 44)
    return a + z, b + c


# --- FarmHash Fingerprint64 -----------------------------------------------------------------------


def _farmhash_block(block, n):
    """Fingerprint64 of m messages of n bytes each (module docstring), as uint64 (m,)."""
    m = block.shape[0]
    k0, k1, k2 = _U(K0), _U(K1), _U(K2)
    mul = _U((K2 + 2 * n) & _MASK64)
    if n == 0:
        return np.full(m, k2, dtype=np.uint64)
    if n < 4:
        a, b, c = (block[:, i].astype(np.uint64) for i in (0, n >> 1, n - 1))
        y = a + (b << _U(8))
        z = _U(n) + (c << _U(2))
        return _shift_mix(y * k2 ^ z * k0) * k2
    if n < 8:
        return _hash_len16(_U(n) + (_fetch32(block, 0) << _U(3)), _fetch32(block, n - 4), mul)
    if n <= 16:
        a = _fetch64(block, 0) + k2
        b = _fetch64(block, n - 8)
        return _hash_len16(_rotr(b, 37) * mul + a, (_rotr(a, 25) + b) * mul, mul)
    if n <= 32:
        a = _fetch64(block, 0) * k1
        b = _fetch64(block, 8)
        c = _fetch64(block, n - 8) * mul
        d = _fetch64(block, n - 16) * k2
        return _hash_len16(_rotr(a + b, 43) + _rotr(c, 30) + d, a + _rotr(b + k2, 18) + c, mul)
    if n <= 64:
        a = _fetch64(block, 0) * k2
        b = _fetch64(block, 8)
        c = _fetch64(block, n - 8) * mul
        d = _fetch64(block, n - 16) * k2
        y = _rotr(a + b, 43) + _rotr(c, 30) + d
        z = _hash_len16(y, a + _rotr(b + k2, 18) + c, mul)
        e = _fetch64(block, 16) * mul
        f = _fetch64(block, 24)
        g = (y + _fetch64(block, n - 32)) * mul
        h = (z + _fetch64(block, n - 24)) * mul
        return _hash_len16(_rotr(e + f, 43) + _rotr(g, 30) + h, e + _rotr(f + a, 18) + g, mul)
    zeros = np.zeros(m, dtype=np.uint64)
    y0 = (FARMHASH_SEED * K1 + 113) & _MASK64  # the state's starting words, in Python integers mod 2^64
    t = (y0 * K2 + 113) & _MASK64
    x = _U((FARMHASH_SEED * K2) & _MASK64) + _fetch64(block, 0)
    y = zeros + _U(y0)
    z = zeros + _U(((t ^ (t >> 47)) * K2) & _MASK64)
    v0, v1, w0, w1 = zeros, zeros, zeros, zeros
    for p in range(0, ((n - 1) // 64) * 64, 64):  # the 64-byte blocks before the last 64 bytes
        x = _rotr(x + y + v0 + _fetch64(block, p + 8), 37) * k1
        y = _rotr(y + v1 + _fetch64(block, p + 48), 42) * k1
        x = x ^ w1
        y = y + v0 + _fetch64(block, p + 40)
        z = _rotr(z + w0, 33) * k1
        v0, v1 = _weak32(block, p, v1 * k1, x + w0)
        w0, w1 = _weak32(block, p + 32, z + w1, y + _fetch64(block, p + 16))
        x, z = z, x
    mul = k1 + ((z & _U(0xFF)) << _U(1))
    p = n - 64
    w0 = w0 + _U((n - 1) & 63)
    v0 = v0 + w0
    w0 = w0 + v0
    x = _rotr(x + y + v0 + _fetch64(block, p + 8), 37) * mul
    y = _rotr(y + v1 + _fetch64(block, p + 48), 42) * mul
    x = x ^ (w1 * _U(9))
    y = y + v0 * _U(9) + _fetch64(block, p + 40)
    z = _rotr(z + w0, 33) * mul
    v0, v1 = _weak32(block, p, v1 * mul, x + w0)
    w0, w1 = _weak32(block, p + 32, z + w1, y + _fetch64(block, p + 16))
    x, z = z, x
    return _hash_len16(_hash_len16(v0, w0, mul) + _shift_mix(y) * _U(K0) + z, _hash_len16(v1, w1, mul) + x, mul)


def fingerprint64(data) -> np.ndarray:
    """FarmHash Fingerprint64 of each byte string of `data` (an 'S' array), as uint64."""
    with np.errstate(over="ignore"):
        return _by_length(data, _farmhash_block)


# --- SipHash-2-4 -------------------------------------------------------------------------------


def _sip_round(v0, v1, v2, v3):
    v0 = v0 + v1
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = v2 + v3
    v3 = _rotl(v3, 16) ^ v2
    v0 = v0 + v3
    v3 = _rotl(v3, 21) ^ v0
    v2 = v2 + v1
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def _siphash_block(key0, key1):
    def block_hash(block, n):
        m = block.shape[0]
        full = n // 8
        padded = np.zeros((m, 8 * full + 8), dtype=np.uint8)
        padded[:, :n] = block
        zeros = np.zeros(m, dtype=np.uint64)
        v0, v1, v2, v3 = (zeros + _U(key ^ c) for key, c in zip((key0, key1, key0, key1), SIPHASH_INIT))
        for i in range(full + 1):  # the 8-byte words of the message, the last with the length
            word = _fetch64(padded, 8 * i)
            if i == full:
                word = word | _U((n & 0xFF) << 56)
            v3 = v3 ^ word
            v0, v1, v2, v3 = _sip_round(*_sip_round(v0, v1, v2, v3))
            v0 = v0 ^ word
        v2 = v2 ^ _U(0xFF)
        for _ in range(4):
            v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
        return v0 ^ v1 ^ v2 ^ v3

    return block_hash


def siphash24(data, key0: int, key1: int) -> np.ndarray:
    """SipHash-2-4 with the 128-bit key (key0, key1) of each byte string of `data`, as uint64."""
    with np.errstate(over="ignore"):
        return _by_length(data, _siphash_block(int(key0), int(key1)))


def salt_key(salt) -> tuple[int, int]:
    """The SipHash key words of a `salt`: (s, s) for one unsigned integer, (s0, s1) for two."""
    words = [salt, salt] if isinstance(salt, numbers.Integral) and not isinstance(salt, bool) else salt
    if not isinstance(words, (list, tuple)) or len(words) != 2 or any(
            isinstance(s, bool) or not isinstance(s, numbers.Integral) or not 0 <= s <= _MASK64 for s in words):
        raise ValueError(f"`salt` must be an unsigned 64-bit integer or a list of two. Received: salt={salt!r}")
    return int(words[0]), int(words[1])


# --- the layers ------------------------------------------------------------------------------------


def _values(x, strings):
    """(the values as the layer sees them, their bytes): the integers of x, or with `strings`,
    strings[x] (x indexes the list) and their UTF-8 bytes."""
    x = np.asarray(x)
    if strings is None:
        return x.astype(np.int64), decimal(x)
    table = np.asarray(list(strings), dtype=np.str_)
    index = x.astype(np.int64)
    if index.size and (index.min() < 0 or index.max() >= table.size):
        raise ValueError(f"The input indexes `strings` (length {table.size}). Received: min={index.min()}, max={index.max()}")
    values = table[index]
    return values, utf8(values)


def _encoded(bins, num_bins, output_mode):
    if output_mode == "int":
        return bins
    return encode(bins, num_bins, output_mode)


def hashing(x, weights=None, *, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, strings=None,
            **ignored):
    """The bins of the integers x (or of strings[x]), encoded as `output_mode` asks (module docstring)."""
    _check("Hashing", ignored)
    num_bins = _positive_int("num_bins", num_bins)
    if output_mode not in OUTPUT_MODES:
        raise ValueError(f"`output_mode` must be one of {', '.join(OUTPUT_MODES)}. Received: {output_mode!r}")
    check_modelled("Hashing", {"num_bins": num_bins, "mask_value": mask_value, "sparse": sparse},
                   {"strings": None if strings is None else {"x": strings}})
    values, data = _values(x, strings)
    if salt is None:
        digest = fingerprint64(data)
    else:
        digest = siphash24(data, *salt_key(salt))
    if mask_value is None:
        bins = (digest % _U(num_bins)).astype(np.int64)
    else:
        bins = np.where(values == mask_value, 0, 1 + (digest % _U(num_bins - 1)).astype(np.int64))
    return _encoded(bins, num_bins, output_mode)


def hashed_crossing(inputs: dict, weights=None, *, num_bins, output_mode="int", sparse=False, strings=None, **ignored):
    """The cross of two features where the documentation fixes it (module docstring)."""
    _check("HashedCrossing", ignored)
    num_bins = _positive_int("num_bins", num_bins)
    if output_mode not in CROSSING_OUTPUT_MODES:
        raise ValueError(f"`output_mode` must be one of {', '.join(CROSSING_OUTPUT_MODES)}. Received: {output_mode!r}")
    features = list(inputs.values())
    if len(features) != 2:
        raise NotImplementedError(f"HashedCrossing of {len(features)} features is not modelled (two are)")
    shape = crossing_shape([np.shape(f) for f in features])
    strings = strings or {}
    check_modelled("HashedCrossing", {"num_bins": num_bins, "sparse": sparse}, {"strings": strings})
    (first, _), (second, _) = (_values(f, strings.get(name)) for name, f in inputs.items())
    if num_bins == 1:
        bins = np.zeros(shape, dtype=np.int64)
    else:
        bins = np.full(shape, -1, dtype=np.int64)
        for (a, b), documented in DOCUMENTED_CROSSES[num_bins].items():  # a pass per documented pair
            hit = (first == a) & (second == b) if first.dtype.kind == np.asarray(a).dtype.kind \
                and second.dtype.kind == np.asarray(b).dtype.kind else np.zeros(shape, bool)
            bins = np.where(hit, documented, bins)
        if np.any(bins < 0):
            raise NotImplementedError(f"HashedCrossing's hash is not documented; with num_bins={num_bins} only the crosses "
                                      f"{sorted(DOCUMENTED_CROSSES[num_bins])} of its docstring are known")
    if output_mode == "int":
        return bins
    return np.eye(num_bins)[bins.reshape(shape[:1])]  # each cross, not the batch, becomes a vector


def crossing_shape(shapes) -> tuple:
    """The shape every feature has: (), (batch,) or (batch, 1), the same for all."""
    shapes = [tuple(s) for s in shapes]
    for s in shapes:
        if not (len(s) == 0 or len(s) == 1 or (len(s) == 2 and s[1] == 1)):
            raise ValueError(f"HashedCrossing inputs should have shape (), (batch_size,) or (batch_size, 1). Received: {s}")
    if len(set(shapes)) > 1:
        raise NotImplementedError(f"HashedCrossing of features of different shapes {shapes} is not documented")
    return shapes[0]


def check_modelled(layer, params: dict, call: dict) -> None:
    """Raise NotImplementedError for documented arguments the reference does not model."""
    if params.get("sparse"):
        raise NotImplementedError("sparse=True (a SparseTensor output) is not modelled")
    strings = (call or {}).get("strings") or {}
    if layer == "Hashing":
        mask_value = params.get("mask_value")
        if mask_value is not None and params.get("num_bins") == 1:
            raise NotImplementedError("num_bins=1 with a mask_value leaves no bin for unmasked values: not documented")
        if mask_value is not None and isinstance(mask_value, str) != ("x" in strings):
            raise NotImplementedError("a mask_value of another kind than the inputs (a string for integers, or the "
                                      "reverse) is not modelled")
    if layer == "HashedCrossing":
        num_bins = params.get("num_bins")
        if num_bins != 1 and (num_bins not in DOCUMENTED_CROSSES or "feat1" not in strings):
            raise NotImplementedError(f"HashedCrossing's hash is not documented: num_bins={num_bins} is modelled only "
                                      f"as its docstring's examples (num_bins 1, or {', '.join(map(str, DOCUMENTED_CROSSES))} "
                                      "with the strings of feat1)")


LAYERS = {"Hashing": hashing, "HashedCrossing": hashed_crossing}


def output_shape(layer, input_shape, num_bins, output_mode="int", **ignored):
    """The output's shape: the input's for "int"; one_hot adds a last axis of num_bins (or
    replaces a last axis of size 1); multi_hot and count replace the last axis by num_bins.
    HashedCrossing's `input_shape` is the list of its features' shapes: its one_hot is (batch_size,
    num_bins), or (num_bins,) for scalars."""
    if layer == "HashedCrossing":
        shape = crossing_shape(input_shape)
        return shape if output_mode == "int" else shape[:1] + (num_bins,)
    shape = tuple(input_shape)
    if output_mode == "int":
        return shape
    if output_mode == "one_hot":
        return shape[:-1] + (num_bins,) if shape and shape[-1] == 1 else shape + (num_bins,)
    return shape[:-1] + (num_bins,)
