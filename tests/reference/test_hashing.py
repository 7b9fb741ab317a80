"""reference_impl.hashing against second formulations:

- FarmHash Fingerprint64 against the published self-test of google/farmhash (src/farmhash.cc,
  farmhashnaTest: the 64-bit hash of data[i*i : i*i + i] for the pseudo-random bytes its Setup()
  makes, as two 32-bit halves in its `expected[]` array; Fingerprint64 is farmhashna::Hash64);
- SipHash-2-4 against the published vectors of the reference implementation
  (github.com/veorq/SipHash, vectors.h: key 00 01 .. 0f, message 00 01 .. (n - 1)), the paper's
  example among them (n = 15: a129ca6149be45e5);
- both against slow scalar transcriptions of the published algorithms written here in plain
  Python integers, on messages of every length from 0 to 300 bytes;
- the layers against the Keras docstrings' own examples (hand values), the documented mask rule
  and encodings, and the reading taken for integers (their decimal text).
"""
import numpy as np
import pytest

from reference_impl import hashing as H

MASK = (1 << 64) - 1


# --- scalar transcriptions of the published algorithms ----------------------------------------------


def farmhash_setup(size):
    """farmhash.cc's self-test data: Setup() with a = 9, b = 777."""
    a, b, out = 9, 777, bytearray(size)
    for i in range(size):
        a = (a + b) & MASK
        b = (b + a) & MASK
        a = ((a ^ (a >> 41)) * H.K0) & MASK
        b = (((b ^ (b >> 41)) * H.K0) + i) & MASK
        out[i] = (b >> 37) & 0xFF
    return bytes(out)


def scalar_fingerprint64(s: bytes) -> int:
    """farmhashna::Hash64, one message, in Python integers."""
    k0, k1, k2 = H.K0, H.K1, H.K2
    n = len(s)

    def f64(i):
        return int.from_bytes(s[i:i + 8], "little")

    def f32(i):
        return int.from_bytes(s[i:i + 4], "little")

    def rot(v, r):
        return v if r == 0 else ((v >> r) | (v << (64 - r))) & MASK

    def mix(v):
        return v ^ (v >> 47)

    def len16(u, v, mul):
        a = ((u ^ v) * mul) & MASK
        a ^= a >> 47
        b = ((v ^ a) * mul) & MASK
        b ^= b >> 47
        return (b * mul) & MASK

    def weak(p, a, b):
        w, x, y, z = f64(p), f64(p + 8), f64(p + 16), f64(p + 24)
        a = (a + w) & MASK
        b = rot((b + a + z) & MASK, 21)
        c = a
        a = (a + x + y) & MASK
        b = (b + rot(a, 44)) & MASK
        return (a + z) & MASK, (b + c) & MASK

    mul = (k2 + 2 * n) & MASK
    if n == 0:
        return k2
    if n < 4:
        y = s[0] + (s[n >> 1] << 8)
        z = n + (s[n - 1] << 2)
        return (mix(((y * k2) ^ (z * k0)) & MASK) * k2) & MASK
    if n < 8:
        return len16((n + (f32(0) << 3)) & MASK, f32(n - 4), mul)
    if n <= 16:
        a, b = (f64(0) + k2) & MASK, f64(n - 8)
        return len16((rot(b, 37) * mul + a) & MASK, ((rot(a, 25) + b) * mul) & MASK, mul)
    if n <= 32:
        a, b = (f64(0) * k1) & MASK, f64(8)
        c, d = (f64(n - 8) * mul) & MASK, (f64(n - 16) * k2) & MASK
        return len16((rot((a + b) & MASK, 43) + rot(c, 30) + d) & MASK, (a + rot((b + k2) & MASK, 18) + c) & MASK, mul)
    if n <= 64:
        a, b = (f64(0) * k2) & MASK, f64(8)
        c, d = (f64(n - 8) * mul) & MASK, (f64(n - 16) * k2) & MASK
        y = (rot((a + b) & MASK, 43) + rot(c, 30) + d) & MASK
        z = len16(y, (a + rot((b + k2) & MASK, 18) + c) & MASK, mul)
        e, f = (f64(16) * mul) & MASK, f64(24)
        g, h = ((y + f64(n - 32)) * mul) & MASK, ((z + f64(n - 24)) * mul) & MASK
        return len16((rot((e + f) & MASK, 43) + rot(g, 30) + h) & MASK, (e + rot((f + a) & MASK, 18) + g) & MASK, mul)
    x, y = 81, (81 * k1 + 113) & MASK
    z = (mix((y * k2 + 113) & MASK) * k2) & MASK
    v, w = (0, 0), (0, 0)
    x = (x * k2 + f64(0)) & MASK
    p, end = 0, ((n - 1) // 64) * 64
    while True:
        x = (rot((x + y + v[0] + f64(p + 8)) & MASK, 37) * k1) & MASK
        y = (rot((y + v[1] + f64(p + 48)) & MASK, 42) * k1) & MASK
        x ^= w[1]
        y = (y + v[0] + f64(p + 40)) & MASK
        z = (rot((z + w[0]) & MASK, 33) * k1) & MASK
        v = weak(p, (v[1] * k1) & MASK, (x + w[0]) & MASK)
        w = weak(p + 32, (z + w[1]) & MASK, (y + f64(p + 16)) & MASK)
        z, x = x, z
        p += 64
        if p == end:
            break
    mul = (k1 + ((z & 0xFF) << 1)) & MASK
    p = n - 64
    w0 = (w[0] + ((n - 1) & 63)) & MASK
    v0 = (v[0] + w0) & MASK
    w0 = (w0 + v0) & MASK
    v, w = (v0, v[1]), (w0, w[1])
    x = (rot((x + y + v[0] + f64(p + 8)) & MASK, 37) * mul) & MASK
    y = (rot((y + v[1] + f64(p + 48)) & MASK, 42) * mul) & MASK
    x ^= (w[1] * 9) & MASK
    y = (y + v[0] * 9 + f64(p + 40)) & MASK
    z = (rot((z + w[0]) & MASK, 33) * mul) & MASK
    v = weak(p, (v[1] * mul) & MASK, (x + w[0]) & MASK)
    w = weak(p + 32, (z + w[1]) & MASK, (y + f64(p + 16)) & MASK)
    z, x = x, z
    return len16((len16(v[0], w[0], mul) + mix(y) * k0 + z) & MASK, (len16(v[1], w[1], mul) + x) & MASK, mul)


def scalar_siphash24(k0: int, k1: int, m: bytes) -> int:
    """SipHash-2-4 as the paper states it, one message, in Python integers."""
    def rotl(v, r):
        return ((v << r) | (v >> (64 - r))) & MASK

    def sip_round(v0, v1, v2, v3):
        v0 = (v0 + v1) & MASK; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)  # noqa: E702
        v2 = (v2 + v3) & MASK; v3 = rotl(v3, 16); v3 ^= v2  # noqa: E702
        v0 = (v0 + v3) & MASK; v3 = rotl(v3, 21); v3 ^= v0  # noqa: E702
        v2 = (v2 + v1) & MASK; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)  # noqa: E702
        return v0, v1, v2, v3

    v = (k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D, k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573)
    b = len(m) // 8 * 8
    words = [int.from_bytes(m[i:i + 8], "little") for i in range(0, b, 8)]
    words.append(int.from_bytes(m[b:], "little") | ((len(m) % 256) << 56))
    for word in words:
        v = (v[0], v[1], v[2], v[3] ^ word)
        v = sip_round(*sip_round(*v))
        v = (v[0] ^ word, v[1], v[2], v[3])
    v = (v[0], v[1], v[2] ^ 0xFF, v[3])
    for _ in range(4):
        v = sip_round(*v)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


# --- published vectors ------------------------------------------------------------------------------

# farmhash.cc, farmhashnaTest's expected[]: for Test(i * i, i), farmhashna::Hash64(data + i * i, i)
# as (h >> 32, h & 0xffffffff), the 5th and 6th entries of test i's six
FARMHASH_SELF_TEST = {
    0: (2598464059, 797982799), 1: (1410420968, 2134990486), 2: (255297188, 2992121793),
    3: (4019337850, 452431531), 4: (299850021, 2532580744), 5: (2199864459, 3696623795),
    7: (458884671, 3033004529), 8: (2700149065, 2699376854), 9: (4220361840, 1712034059),
    15: (1145519619, 3190844552), 16: (65721842, 489963606), 17: (1790705123, 2128624475),
    31: (1438494951, 507436733), 32: (126024219, 146044391), 33: (165589978, 1578546616),
    40: (22638523, 648000590), 50: (2115441882, 4081398201), 64: (3740748788, 3388062747),
    65: (1020177209, 734239551), 66: (2610427744, 49703572), 100: (95237878, 2005032160),
    127: (2567532373, 4075249328), 128: (4104757832, 3026358429), 129: (3573008472, 3615577014),
    150: (3377483696, 1788337208), 170: (3051522276, 4046477658),
}
FARMHASH_DATA = farmhash_setup(170 * 170 + 170)

# veorq/SipHash vectors.h, vectors_sip64[n]: the output bytes (little-endian) for the key
# 00 01 .. 0f and the message 00 01 .. (n - 1). n = 1 (the message b"\x00") is left out: NumPy
# byte strings drop a trailing NUL.
SIPHASH_KEY = (int.from_bytes(bytes(range(8)), "little"), int.from_bytes(bytes(range(8, 16)), "little"))
SIPHASH_VECTORS = {
    0: [0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72],
    2: [0x5a, 0x4f, 0xa9, 0xd9, 0x09, 0x80, 0x6c, 0x0d],
    7: [0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab],
    8: [0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93],
    15: [0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1],  # the paper's Appendix A: a129ca6149be45e5
    16: [0xdb, 0x9b, 0xc2, 0x57, 0x7f, 0xcc, 0x2a, 0x3f],
    63: [0x72, 0x45, 0x06, 0xeb, 0x4c, 0x32, 0x8a, 0x95],
}


def test_fingerprint64_matches_farmhash_self_test():
    messages = [FARMHASH_DATA[i * i:i * i + i] for i in FARMHASH_SELF_TEST]
    assert not any(m.endswith(b"\x00") for m in messages)  # NumPy's byte strings would drop it
    got = H.fingerprint64(np.array(messages, dtype=np.bytes_))
    expected = np.array([(hi << 32) | lo for hi, lo in FARMHASH_SELF_TEST.values()], dtype=np.uint64)
    np.testing.assert_array_equal(got, expected)
    for message, (hi, lo) in zip(messages, FARMHASH_SELF_TEST.values()):
        assert scalar_fingerprint64(message) == (hi << 32) | lo


def test_empty_string_fingerprint_is_k2():
    assert int(H.fingerprint64(np.array([b""]))[0]) == 0x9AE16A3B2F90404F


def test_siphash24_matches_reference_vectors():
    messages = [bytes(range(n)) for n in SIPHASH_VECTORS]
    got = H.siphash24(np.array(messages, dtype=np.bytes_), *SIPHASH_KEY)
    expected = np.array([int.from_bytes(bytes(v), "little") for v in SIPHASH_VECTORS.values()], dtype=np.uint64)
    np.testing.assert_array_equal(got, expected)
    assert int(got[list(SIPHASH_VECTORS).index(15)]) == 0xA129CA6149BE45E5
    for message, vector in zip(messages, SIPHASH_VECTORS.values()):
        assert scalar_siphash24(*SIPHASH_KEY, message) == int.from_bytes(bytes(vector), "little")


def random_messages(seed, lengths):
    """Random bytes of each length, none ending with NUL, shuffled so lengths interleave."""
    rng = np.random.default_rng(seed)
    out = []
    for n in lengths:
        m = bytearray(rng.integers(0, 256, size=n, dtype=np.uint8).tobytes())
        if n:
            m[-1] = int(rng.integers(1, 256))
        out.append(bytes(m))
    return [out[i] for i in rng.permutation(len(out))]


def test_vectorized_hashes_match_scalar_transcriptions_for_every_length():
    messages = random_messages(0, [*range(0, 301), *range(0, 301, 7)])  # repeated lengths share a group
    data = np.array(messages, dtype=np.bytes_)
    np.testing.assert_array_equal(H.fingerprint64(data), np.array([scalar_fingerprint64(m) for m in messages], dtype=np.uint64))
    key = (0xFEDCBA9876543210, 2 ** 64 - 1)
    np.testing.assert_array_equal(H.siphash24(data, *key), np.array([scalar_siphash24(*key, m) for m in messages], dtype=np.uint64))


def test_hashes_keep_the_input_shape():
    data = np.array([[b"a", b"bb", b"ccc"], [b"", b"a", b"dddddddddddddddddddddddd"]], dtype=np.bytes_)
    out = H.fingerprint64(data)
    assert out.shape == (2, 3) and out.dtype == np.uint64
    assert out[0, 0] == out[1, 1] and out[1, 0] == 0x9AE16A3B2F90404F


# --- the layers ------------------------------------------------------------------------------------

LETTERS = np.array([[0], [1], [2], [3], [4]])


@pytest.mark.parametrize("salt,expected", [
    (None, [1, 0, 1, 1, 2]),       # Example (FarmHash64)
    ([133, 137], [1, 2, 1, 0, 2]),  # Example (SipHash64)
    (133, [0, 0, 2, 1, 0]),         # Example (Siphash64 with a single integer, same as salt=[133, 133])
])
def test_hashing_docstring_examples(salt, expected):
    out = H.hashing(LETTERS, num_bins=3, salt=salt, strings=list("ABCDE"))
    np.testing.assert_array_equal(out, np.array(expected)[:, None])


def test_hashing_docstring_mask_example():
    out = H.hashing(LETTERS, num_bins=3, mask_value="", strings=["A", "B", "", "C", "D"])
    np.testing.assert_array_equal(out, [[1], [1], [0], [2], [2]])


def test_single_salt_is_the_pair_of_it():
    x = np.array([[3, -4, 5], [6, 0, 812345]])
    np.testing.assert_array_equal(H.hashing(x, num_bins=97, salt=42), H.hashing(x, num_bins=97, salt=[42, 42]))


def test_integers_are_hashed_as_their_decimal_text():
    """The reading taken (module docstring): an integer is hashed as str(int) in ASCII, so the
    integer and its string land in the same bin, whatever the integer dtype."""
    values = [0, 7, -7, 101, -2 ** 31, 2 ** 31 - 1, -2 ** 63, 2 ** 63 - 1]
    text = [str(v) for v in values]
    for dtype in (np.int32, np.int64):
        x = np.array([v for v in values if np.iinfo(dtype).min <= v <= np.iinfo(dtype).max], dtype=dtype)
        strings = [str(v) for v in x.tolist()]
        np.testing.assert_array_equal(H.hashing(x, num_bins=1000), H.hashing(np.arange(len(strings)), num_bins=1000, strings=strings))
    np.testing.assert_array_equal(H.decimal(np.array(values)), np.array([t.encode() for t in text]))
    # not the 8 little-endian bytes of the int64: a different bin for 101 with 2^32 bins
    eight_bytes = int(H.fingerprint64(np.array([(101).to_bytes(8, "little")], dtype=np.bytes_))[0]) % 2 ** 32
    assert int(H.hashing(np.array([101]), num_bins=2 ** 32)[0]) == scalar_fingerprint64(b"101") % 2 ** 32 != eight_bytes


def test_mask_value_takes_bin_zero_and_the_rest_shift_by_one():
    x = np.array([[3, -4, 5], [6, 0, 8]])
    digest = np.array([[scalar_fingerprint64(str(v).encode()) for v in row] for row in x.tolist()], dtype=np.uint64)
    expected = np.where(x == 0, 0, 1 + (digest % np.uint64(4)).astype(np.int64))
    np.testing.assert_array_equal(H.hashing(x, num_bins=5, mask_value=0), expected)
    np.testing.assert_array_equal(H.hashing(x, num_bins=5, mask_value=0), [[2, 3, 4], [4, 0, 4]])


def test_output_modes_encode_the_bins():
    x = np.array([[3, -4, 5, 5], [6, 0, 8, 3]])
    bins = H.hashing(x, num_bins=4)
    one_hot = H.hashing(x, num_bins=4, output_mode="one_hot")
    assert one_hot.shape == (2, 4, 4)
    np.testing.assert_array_equal(one_hot, np.eye(4)[bins])
    np.testing.assert_array_equal(H.hashing(x, num_bins=4, output_mode="count"), np.eye(4)[bins].sum(axis=1))
    np.testing.assert_array_equal(H.hashing(x, num_bins=4, output_mode="multi_hot"), np.eye(4)[bins].max(axis=1))
    column = H.hashing(x[:, :1], num_bins=4, output_mode="one_hot")  # a last axis of 1 is encoded on
    np.testing.assert_array_equal(column, np.eye(4)[bins[:, 0]])
    assert H.output_shape("Hashing", (2, 1), num_bins=4, output_mode="one_hot") == (2, 4)
    assert H.output_shape("Hashing", (6,), num_bins=4, output_mode="count") == (4,)


def test_salt_must_be_unsigned_64_bit():
    assert H.salt_key(2 ** 64 - 1) == (2 ** 64 - 1, 2 ** 64 - 1)
    for bad in (-1, 2 ** 64, [1], [1, 2, 3], True):
        with pytest.raises(ValueError):
            H.salt_key(bad)


def test_hashed_crossing_docstring_example_and_one_bin():
    feat1, feat2 = np.array([0, 1, 0, 1, 0]), np.array([101, 101, 101, 102, 102])
    out = H.hashed_crossing({"feat1": feat1, "feat2": feat2}, num_bins=5, strings={"feat1": ["A", "B"]})
    np.testing.assert_array_equal(out, [1, 4, 1, 1, 3])
    one_hot = H.hashed_crossing({"feat1": feat1, "feat2": feat2}, num_bins=5, output_mode="one_hot", strings={"feat1": ["A", "B"]})
    np.testing.assert_array_equal(one_hot, [[0, 1, 0, 0, 0], [0, 0, 0, 0, 1], [0, 1, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 1, 0]])
    np.testing.assert_array_equal(H.hashed_crossing({"a": feat2[:, None], "b": feat2[:, None]}, num_bins=1, output_mode="one_hot"),
                                  np.ones((5, 1)))


def test_hashed_crossing_refuses_to_invent_the_hash():
    with pytest.raises(NotImplementedError):
        H.hashed_crossing({"a": np.array([1, 2]), "b": np.array([3, 4])}, num_bins=5)  # not the documented pairs
    with pytest.raises(NotImplementedError):
        H.check_modelled("HashedCrossing", {"num_bins": 7}, {})
    with pytest.raises(ValueError):
        H.crossing_shape([(3, 2), (3, 2)])


@pytest.mark.parametrize("shape,expected", [((), (4,)), ((1,), (1, 4)), ((3,), (3, 4)), ((1, 1), (1, 4)), ((3, 1), (3, 4))])
def test_hashed_crossing_one_hot_shapes(shape, expected):
    """Each element becomes one array of num_bins: a scalar a vector, a batch (of any size, one
    included) a matrix; a (batch, 1) input is encoded on its last axis."""
    out = H.hashed_crossing({"feat1": np.zeros(shape, int), "feat2": np.ones(shape, int)}, num_bins=1, output_mode="one_hot")
    assert out.shape == expected[:-1] + (1,)
    assert H.output_shape("HashedCrossing", [shape, shape], num_bins=4, output_mode="one_hot") == expected
    assert H.output_shape("HashedCrossing", [shape, shape], num_bins=4) == shape
