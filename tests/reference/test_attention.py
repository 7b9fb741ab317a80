"""reference_impl.attention: hand-computed cases, explicit-loop formulations, mask and causal properties,
multi-axis attention, GQA = MHA with repeated key/value heads, shapes and errors.

The loop formulations here (Python loops over batch, heads and positions, math.exp, written from
the formulas of the papers and docstrings) are independent of the module and used only here.
"""
import itertools
import math

import numpy as np
import pytest

from reference_impl import attention as A

RTOL = 1e-12
ATOL = 1e-13
LN2, LN3 = math.log(2.0), math.log(3.0)


def close(got, want, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def rng(seed):
    return np.random.default_rng(seed)


def normal(r, *shape):
    """Non-integer, asymmetric random values."""
    return r.normal(0.3, 0.9, size=shape)


# --- loop formulations -----------------------------------------------------------------------


def loop_softmax(scores, keep):
    """softmax of a Python list over the kept entries; masked entries and an all-masked list give 0."""
    kept = [s for s, k in zip(scores, keep) if k]
    if not kept:
        return [0.0] * len(scores)
    m = max(kept)
    total = sum(math.exp(s - m) for s in kept)
    return [math.exp(s - m) / total if k else 0.0 for s, k in zip(scores, keep)]


def loop_attention(q, k, v, score, query_mask=None, value_mask=None, causal=False):
    """Attention layers by loops: score(q_t, k_s) for each (b, t, s), softmax over kept s, weighted sum of v."""
    batch, tq, _ = q.shape
    tv, dv = v.shape[1], v.shape[2]
    out = np.zeros((batch, tq, dv))
    weights = np.zeros((batch, tq, tv))
    for b in range(batch):
        for t in range(tq):
            keep = [(value_mask is None or value_mask[b][s]) and (not causal or s <= t) for s in range(tv)]
            a = loop_softmax([score(q[b, t], k[b, s]) for s in range(tv)], keep)
            weights[b, t] = a
            for s in range(tv):
                out[b, t] += a[s] * v[b, s]
            if query_mask is not None and not query_mask[b][t]:
                out[b, t] = 0.0
    return out, weights


def dense(x, kernel, bias):
    """x (D,) . kernel (D, *rest) + bias, by a loop over D."""
    y = sum(x[d] * kernel[d] for d in range(len(x)))
    return y + bias if bias is not None else y


def loop_mha(q, k, v, w, heads_of_kv, scale, mask=None, causal=False, window=None, gate=False):
    """Rank-3 multi-head attention by loops: query head h uses key/value head heads_of_kv(h)."""
    batch, tq, _ = q.shape
    ts = k.shape[1]
    hq = w["query/kernel"].shape[1]
    b_ = w.get
    out_shape = w["attention_output/kernel"].shape[2:]
    out = np.zeros((batch, tq) + out_shape)
    scores = np.zeros((batch, hq, tq, ts))
    for b in range(batch):
        qp = [dense(q[b, t], w["query/kernel"], b_("query/bias")) for t in range(tq)]  # (H, k) each
        kp = [dense(k[b, s], w["key/kernel"], b_("key/bias")) for s in range(ts)]
        vp = [dense(v[b, s], w["value/kernel"], b_("value/bias")) for s in range(ts)]
        for t in range(tq):
            heads = []
            for h in range(hq):
                g = heads_of_kv(h)
                keep = [
                    (mask is None or bool(mask[b][t][s]))
                    and (not causal or s <= t)
                    and (window is None or abs(t - s) <= window - 1)
                    for s in range(ts)
                ]
                e = [sum(qp[t][h][c] * kp[s][g][c] for c in range(len(qp[t][h]))) * scale for s in range(ts)]
                a = loop_softmax(e, keep)
                scores[b, h, t] = a
                o = sum(a[s] * vp[s][g] for s in range(ts))
                if gate:
                    z = dense(q[b, t], w["gate/kernel"], b_("gate/bias"))[h]
                    o = o / (1.0 + np.exp(-z))
                heads.append(o)
            y = sum(heads[h][c] * w["attention_output/kernel"][h, c] for h in range(hq) for c in range(len(heads[h])))
            out[b, t] = y + (w["attention_output/bias"] if "attention_output/bias" in w else 0.0)
    return out, scores


def random_weights(r, shapes):
    return {name: normal(r, *shape) for name, shape in shapes.items()}


# --- Attention: hand-computed ---------------------------------------------------------------

# One batch, 2 queries, 3 keys, dim 2, value dim 2.
# q0 = [1, 0]:  scores q0 . k = [0, ln 2, ln 3]          -> softmax [1, 2, 3] / 6
# q1 = [2, 0]:  scores       = [0, 2 ln 2, 2 ln 3] = ln[1, 4, 9] -> [1, 4, 9] / 14
Q = np.array([[[1.0, 0.0], [2.0, 0.0]]])
K = np.array([[[0.0, 5.0], [LN2, 1.0], [LN3, -1.0]]])
V = np.array([[[6.0, 0.0], [0.0, 6.0], [-6.0, 12.0]]])


def test_attention_dot_hand():
    # out0 = [6,0]/6 + 2*[0,6]/6 + 3*[-6,12]/6 = [1,0] + [0,2] + [-3,6] = [-2, 8]
    # out1 = ([6,0] + 4*[0,6] + 9*[-6,12]) / 14 = [6 - 54, 24 + 108] / 14 = [-48/14, 132/14]
    out, scores = A.attention({"query": Q, "value": V, "key": K}, {}, call={"return_attention_scores": True})
    close(scores[0], [[1 / 6, 2 / 6, 3 / 6], [1 / 14, 4 / 14, 9 / 14]])
    close(out[0], [[-2.0, 8.0], [-48 / 14, 132 / 14]])
    assert out.dtype == np.float64 and scores.dtype == np.float64


def test_attention_use_scale_hand():
    # scale 0.5: q0 scores [0, ln2/2, ln3/2] -> weights proportional to [1, sqrt 2, sqrt 3]
    _, scores = A.attention({"query": Q, "value": V, "key": K}, {"scale": 0.5}, call={"return_attention_scores": True},
                            use_scale=True)
    total = 1 + math.sqrt(2) + math.sqrt(3)
    close(scores[0, 0], [1 / total, math.sqrt(2) / total, math.sqrt(3) / total])


def test_attention_causal_hand():
    # query 0 sees key 0 only: out0 = v0 = [6, 0]
    # query 1 sees keys 0, 1 with weights [1, 4] / 5: out1 = ([6, 0] + 4 [0, 6]) / 5 = [6/5, 24/5]
    out, scores = A.attention({"query": Q, "value": V, "key": K}, {},
                              call={"use_causal_mask": True, "return_attention_scores": True})
    close(scores[0], [[1, 0, 0], [1 / 5, 4 / 5, 0]])
    close(out[0], [[6.0, 0.0], [6 / 5, 24 / 5]])


def test_attention_masks_hand():
    # value_mask drops key 2: q0 weights [1, 2] / 3 -> out0 = [6, 0]/3 + 2 [0, 6]/3 = [2, 4]
    # query_mask False at query 1: out1 = 0 (its scores are still returned: [1, 4] / 5)
    mask = [np.array([[True, False]]), np.array([[True, True, False]])]
    out, scores = A.attention({"query": Q, "value": V, "key": K}, {},
                              call={"mask": mask, "return_attention_scores": True})
    close(out[0], [[2.0, 4.0], [0.0, 0.0]])
    close(scores[0], [[1 / 3, 2 / 3, 0], [1 / 5, 4 / 5, 0]])


def test_attention_concat_hand():
    # q = [atanh(0.5), 0], keys [0, 0] and [0, atanh(0.25)], w = 2:
    # key 0: 2 * (tanh(atanh .5) + tanh 0) = 1;  key 1: 2 * (0.5 + 0.25) = 1.5
    # softmax [1, 1.5] = [1, e^0.5] / (1 + e^0.5)
    q = np.array([[[math.atanh(0.5), 0.0]]])
    k = np.array([[[0.0, 0.0], [0.0, math.atanh(0.25)]]])
    v = np.array([[[1.0], [3.0]]])
    out, scores = A.attention({"query": q, "value": v, "key": k}, {"concat_score_weight": 2.0},
                              call={"return_attention_scores": True}, score_mode="concat")
    e = math.exp(0.5)
    close(scores[0, 0], [1 / (1 + e), e / (1 + e)])
    close(out[0, 0], [(1 + 3 * e) / (1 + e)])
    # use_scale multiplies the scores (the docstring's "scale the attention scores"): scale 4 -> [4, 6]
    _, scaled = A.attention({"query": q, "value": v, "key": k}, {"concat_score_weight": 2.0, "scale": 4.0},
                            call={"return_attention_scores": True}, score_mode="concat", use_scale=True)
    close(scaled[0, 0], [1 / (1 + math.exp(2)), math.exp(2) / (1 + math.exp(2))])


def test_additive_attention_hand():
    # e = sum_d tanh(q_d + k_d); q = [0, 0], keys [atanh .5, atanh .5] and [atanh .25, -atanh .25]:
    # key 0: 0.5 + 0.5 = 1; key 1: 0.25 - 0.25 = 0; scale 3 -> [3, 0]
    q = np.zeros((1, 1, 2))
    k = np.array([[[math.atanh(0.5), math.atanh(0.5)], [math.atanh(0.25), -math.atanh(0.25)]]])
    v = np.array([[[2.0, 1.0], [-1.0, 4.0]]])
    out, scores = A.additive_attention({"query": q, "value": v, "key": k}, {"scale": 3.0},
                                       call={"return_attention_scores": True})
    e3 = math.exp(3)
    close(scores[0, 0], [e3 / (1 + e3), 1 / (1 + e3)])
    close(out[0, 0], [(2 * e3 - 1) / (1 + e3), (e3 + 4) / (1 + e3)])
    # use_scale=False: [1, 0]
    _, plain = A.additive_attention({"query": q, "value": v, "key": k}, {}, call={"return_attention_scores": True},
                                    use_scale=False)
    close(plain[0, 0], [math.e / (1 + math.e), 1 / (1 + math.e)])


# --- Attention layers: loop formulation, random inputs ------------------------------------


@pytest.mark.parametrize("score_mode", ["dot", "concat"])
@pytest.mark.parametrize("use_scale", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_attention_matches_loops(score_mode, use_scale, causal):
    r = rng(1)
    q, k, v = normal(r, 3, 4, 5), normal(r, 3, 6, 5), normal(r, 3, 6, 2)
    query_mask = r.random((3, 4)) > 0.3
    value_mask = r.random((3, 6)) > 0.3
    value_mask[2] = False  # a fully masked batch row
    w = {}
    scale, cw = 1.0, 1.0
    if use_scale:
        w["scale"] = scale = 0.73
    if score_mode == "concat":
        w["concat_score_weight"] = cw = -1.41

    def score(qt, ks):
        if score_mode == "dot":
            return scale * sum(qt[d] * ks[d] for d in range(len(qt)))
        return scale * cw * sum(math.tanh(qt[d] + ks[d]) for d in range(len(qt)))

    want_out, want_w = loop_attention(q, k, v, score, query_mask, value_mask, causal)
    out, weights = A.attention(
        {"query": q, "value": v, "key": k}, w,
        call={"mask": [query_mask, value_mask], "use_causal_mask": causal, "return_attention_scores": True},
        use_scale=use_scale, score_mode=score_mode,
    )
    close(out, want_out)
    close(weights, want_w)


@pytest.mark.parametrize("scale_shape", ["none", "scalar", "vector"])
def test_additive_attention_matches_loops(scale_shape):
    r = rng(2)
    q, v = normal(r, 2, 3, 4), normal(r, 2, 5, 4)  # no key: the value is the key
    svec = normal(r, 4)
    w = {} if scale_shape == "none" else {"scale": 1.7 if scale_shape == "scalar" else svec}
    value_mask = r.random((2, 5)) > 0.4

    def score(qt, ks):
        terms = [math.tanh(qt[d] + ks[d]) for d in range(4)]
        if scale_shape == "scalar":
            return 1.7 * sum(terms)
        if scale_shape == "vector":
            return sum(svec[d] * terms[d] for d in range(4))
        return sum(terms)

    want_out, want_w = loop_attention(q, v, v, score, None, value_mask, causal=True)
    out, weights = A.additive_attention({"query": q, "value": v}, w,
                                        call={"mask": [None, value_mask], "use_causal_mask": True,
                                              "return_attention_scores": True},
                                        use_scale=scale_shape != "none")
    close(out, want_out)
    close(weights, want_w)


def test_additive_vector_scale_with_equal_entries_is_the_scalar():
    r = rng(3)
    inputs = {"query": normal(r, 2, 3, 4), "value": normal(r, 2, 5, 4)}
    a = A.additive_attention(inputs, {"scale": 0.6}, call={})
    b = A.additive_attention(inputs, {"scale": np.full(4, 0.6)}, call={})
    close(a, b)


def test_attention_key_defaults_to_value_and_dropout_ignored_at_inference():
    r = rng(4)
    q, v = normal(r, 2, 3, 4), normal(r, 2, 5, 4)
    a = A.attention({"query": q, "value": v}, {}, call={})
    b = A.attention({"query": q, "value": v, "key": v}, {}, call={"training": False}, dropout=0.4, seed=3, name="att")
    c = A.attention({"query": q, "value": v, "key": None}, None, call=None)
    close(a, b)
    close(a, c)


def test_attention_key_permutation_invariance():
    # Without a causal mask, reordering the (key, value) pairs leaves the output unchanged.
    r = rng(5)
    q, k, v = normal(r, 2, 3, 4), normal(r, 2, 5, 4), normal(r, 2, 5, 3)
    perm = [3, 0, 4, 2, 1]
    for fn in (A.attention, A.additive_attention):
        w = {} if fn is A.attention else {"scale": 0.8}
        a, sa = fn({"query": q, "value": v, "key": k}, w, call={"return_attention_scores": True})
        b, sb = fn({"query": q, "value": v[:, perm], "key": k[:, perm]}, w, call={"return_attention_scores": True})
        close(a, b)
        close(sa[:, :, perm], sb)


# --- mask properties -----------------------------------------------------------------------


def test_masked_keys_get_exactly_zero_and_rows_sum_to_one():
    r = rng(6)
    q, v = normal(r, 3, 7, 4), normal(r, 3, 7, 4)
    value_mask = r.random((3, 7)) > 0.5
    value_mask[:, 0] = True  # every row keeps key 0, so no row is fully masked
    for fn, w in ((A.attention, {}), (A.additive_attention, {"scale": 1.3})):
        _, s = fn({"query": q, "value": v}, w,
                  call={"mask": [None, value_mask], "use_causal_mask": True, "return_attention_scores": True})
        causal = np.tril(np.ones((7, 7), dtype=bool))
        keep = value_mask[:, None, :] & causal
        assert np.all(s[~keep] == 0.0)
        assert np.all(s[keep] > 0.0)
        close(s.sum(-1), np.ones((3, 7)))


def test_fully_masked_row_gives_zero_weights_and_zero_output():
    r = rng(7)
    q, v = normal(r, 2, 3, 4), normal(r, 2, 5, 4)
    value_mask = np.ones((2, 5), dtype=bool)
    value_mask[1] = False
    out, s = A.attention({"query": q, "value": v}, {},
                         call={"mask": [None, value_mask], "return_attention_scores": True})
    assert np.all(s[1] == 0.0) and np.all(out[1] == 0.0)
    close(s[0].sum(-1), np.ones(3))
    # causal + value mask: query 0 sees key 0 only, which is masked -> row 0 is all 0
    vm = np.ones((2, 5), dtype=bool)
    vm[:, 0] = False
    out, s = A.attention({"query": q, "value": v}, {}, call={"mask": [None, vm], "use_causal_mask": True,
                                                             "return_attention_scores": True})
    assert np.all(s[:, 0] == 0.0) and np.all(out[:, 0] == 0.0)
    close(s[:, 1:].sum(-1), np.ones((2, 2)))


def test_mha_masked_keys_zero_rows_sum_to_one_and_fully_masked_row_is_bias():
    r = rng(8)
    q, v = normal(r, 2, 4, 5), normal(r, 2, 6, 3)
    params = dict(num_heads=3, key_dim=2)
    w = random_weights(r, A.weight_shapes("MultiHeadAttention", {"query": q.shape, "value": v.shape}, **params))
    mask = r.random((2, 4, 6)) > 0.4
    mask[:, :, 0] = True
    mask[1, 2] = False  # fully masked row
    out, s = A.multi_head_attention({"query": q, "value": v}, w,
                                    call={"attention_mask": mask, "use_causal_mask": True,
                                          "return_attention_scores": True}, **params)
    keep = (mask & np.tril(np.ones((4, 6), dtype=bool)))[:, None]  # head axis
    keep = np.broadcast_to(keep, s.shape)
    assert np.all(s[~keep] == 0.0) and np.all(s[keep] > 0.0)
    sums = s.sum(-1)
    close(np.delete(sums[1], 2, axis=1), np.ones((3, 3)))
    close(sums[0], np.ones((3, 4)))
    assert np.all(s[1, :, 2] == 0.0)
    close(out[1, 2], w["attention_output/bias"])  # zero attention output, then the projection bias


def test_mha_mask_broadcasts_over_missing_batch_and_size_one_dims():
    r = rng(9)
    q, v = normal(r, 2, 3, 4), normal(r, 2, 5, 4)
    params = dict(num_heads=2, key_dim=3)
    w = random_weights(r, A.weight_shapes("MultiHeadAttention", {"query": q.shape, "value": v.shape}, **params))
    key_keep = np.array([True, False, True, True, False])
    full = np.broadcast_to(key_keep, (2, 3, 5))
    want = A.multi_head_attention({"query": q, "value": v}, w, call={"attention_mask": full}, **params)
    for mask in (full[0], key_keep[None, None, :], key_keep[None, :], full.astype(int)):
        close(A.multi_head_attention({"query": q, "value": v}, w, call={"attention_mask": mask}, **params), want)


# --- MultiHeadAttention ----------------------------------------------------------------------


def test_mha_hand_one_head():
    # 1 head, key_dim 2, identity projections, no bias: out = softmax(q k^T / sqrt 2) v
    # q0 = [sqrt 2, 0], keys [0,0], [ln 2, 1], [ln 3, -1]: scores [0, ln 2, ln 3] -> [1, 2, 3] / 6
    # q1 = [0, 0]: scores [0, 0, 0] -> 1/3 each
    # values [6, 0], [0, 6], [-6, 12]: out0 = [-2, 8] (as in test_attention_dot_hand), out1 = [0, 6]
    eye = np.eye(2)
    w = {"query/kernel": eye[:, None, :], "key/kernel": eye[:, None, :], "value/kernel": eye[:, None, :],
         "attention_output/kernel": eye[None, :, :]}
    q = np.array([[[math.sqrt(2), 0.0], [0.0, 0.0]]])
    k = np.array([[[0.0, 0.0], [LN2, 1.0], [LN3, -1.0]]])
    out, s = A.multi_head_attention({"query": q, "value": V, "key": k}, w, call={"return_attention_scores": True},
                                    num_heads=1, key_dim=2, use_bias=False)
    close(s[0, 0], [[1 / 6, 2 / 6, 3 / 6], [1 / 3, 1 / 3, 1 / 3]])
    close(out[0], [[-2.0, 8.0], [0.0, 6.0]])


@pytest.mark.parametrize("params,call", [
    (dict(num_heads=2, key_dim=3), {}),
    (dict(num_heads=3, key_dim=2, value_dim=4, output_shape=(2, 3)), {"use_causal_mask": True}),
    (dict(num_heads=2, key_dim=3, use_bias=False, output_shape=7), {"mask": True}),
    (dict(num_heads=2, key_dim=2, use_gate=True), {"mask": True, "use_causal_mask": True}),
    (dict(num_heads=2, key_dim=2, sliding_window=2), {"use_causal_mask": False}),
    (dict(num_heads=1, key_dim=4, sliding_window=3), {"use_causal_mask": True, "mask": True}),
])
def test_mha_matches_loops(params, call):
    r = rng(10)
    q, k, v = normal(r, 2, 4, 5), normal(r, 2, 6, 3), normal(r, 2, 6, 7)
    shapes = {"query": q.shape, "value": v.shape, "key": k.shape}
    w = random_weights(r, A.weight_shapes("MultiHeadAttention", shapes, **params))
    mask = (r.random((2, 4, 6)) > 0.35) if call.get("mask") else None
    causal = call.get("use_causal_mask", False)
    want_out, want_s = loop_mha(q, k, v, w, lambda h: h, 1 / math.sqrt(params["key_dim"]), mask, causal,
                                params.get("sliding_window"), params.get("use_gate", False))
    out, s = A.multi_head_attention({"query": q, "value": v, "key": k}, w,
                                    call={"attention_mask": mask, "use_causal_mask": causal,
                                          "return_attention_scores": True}, **params)
    assert out.shape == A.output_shape("MultiHeadAttention", shapes, **params)
    assert s.shape == A.scores_shape("MultiHeadAttention", shapes, **params) == (2, params["num_heads"], 4, 6)
    close(out, want_out)
    close(s, want_s)


def test_mha_sliding_window_band():
    # |i - j| <= window - 1: window 2 on 5 positions keeps the tridiagonal band
    r = rng(11)
    x = normal(r, 1, 5, 3)
    params = dict(num_heads=1, key_dim=2, sliding_window=2)
    w = random_weights(r, A.weight_shapes("MultiHeadAttention", {"query": x.shape, "value": x.shape}, **params))
    _, s = A.multi_head_attention({"query": x, "value": x}, w, call={"return_attention_scores": True}, **params)
    band = np.abs(np.subtract.outer(np.arange(5), np.arange(5))) <= 1
    assert np.all(s[0, 0][~band] == 0.0) and np.all(s[0, 0][band] > 0.0)


def loop_mha_axes(q, k, v, w, axes, mask=None):
    """MHA over several attention axes by loops: for each batch-like index (batch and the other middle
    axes) and head, each query attention multi-index attends over every key attention multi-index."""
    rank = q.ndim
    others = [a for a in range(1, rank - 1) if a not in axes]
    heads, key_dim = w["query/kernel"].shape[1:]
    qp = np.tensordot(q, w["query/kernel"], axes=([-1], [0])) + w["query/bias"]  # (B, *dims, H, k)
    kp = np.tensordot(k, w["key/kernel"], axes=([-1], [0])) + w["key/bias"]
    vp = np.tensordot(v, w["value/kernel"], axes=([-1], [0])) + w["value/bias"]
    out = np.zeros(q.shape[:-1] + w["attention_output/kernel"].shape[2:])
    t_ranges = [range(q.shape[a]) for a in axes]
    s_ranges = [range(k.shape[a]) for a in axes]
    scores = np.zeros((q.shape[0],) + tuple(q.shape[a] for a in others) + (heads,)
                      + tuple(q.shape[a] for a in axes) + tuple(k.shape[a] for a in axes))

    def index(b, other_idx, attn_idx):
        idx = [b] + [0] * (rank - 2)
        for a, i in zip(others, other_idx):
            idx[a] = i
        for a, i in zip(axes, attn_idx):
            idx[a] = i
        return tuple(idx)

    for b in range(q.shape[0]):
        for o in itertools.product(*[range(q.shape[a]) for a in others]):
            for t in itertools.product(*t_ranges):
                qi = index(b, o, t)
                heads_out = []
                for h in range(heads):
                    s_list = list(itertools.product(*s_ranges))
                    e = [float(np.dot(qp[qi][h], kp[index(b, o, s)][h])) / math.sqrt(key_dim) for s in s_list]
                    keep = [True if mask is None else bool(mask[(b,) + o + t + s]) for s in s_list]
                    a = loop_softmax(e, keep)
                    for s, p in zip(s_list, a):
                        scores[(b,) + o + (h,) + t + s] = p
                    heads_out.append(sum(p * vp[index(b, o, s)][h] for s, p in zip(s_list, a)))
                y = sum(np.tensordot(heads_out[h], w["attention_output/kernel"][h], axes=1) for h in range(heads))
                out[qi] = y + w["attention_output/bias"]
    return out, scores


@pytest.mark.parametrize("axes,normalized,key_dims", [
    ((2, 3), (2, 3), (3, 3, 2)),    # axis 1 batch-like: key axis 1 = query axis 1 = 3
    ((3, 2), (3, 2), (3, 3, 2)),    # same axes, scores laid out in the order given
    ((1, 3), (1, 3), (4, 2, 3)),    # axis 2 batch-like (2)
    (2, (2,), (3, 5, 4)),           # axes 1 and 3 batch-like
    (-2, (3,), (3, 2, 3)),          # -2 counts from the end of the rank-5 input: axis 3
    (None, (1, 2, 3), (2, 3, 2)),   # every axis but batch and features
])
def test_mha_attention_axes_match_loops(axes, normalized, key_dims):
    r = rng(12)
    q = normal(r, 2, 3, 2, 4, 5)  # (B, A1, A2, A3, Dq)
    k, v = normal(r, 2, *key_dims, 4), normal(r, 2, *key_dims, 6)
    params = dict(num_heads=2, key_dim=3, output_shape=(2, 2), attention_axes=axes)
    shapes = {"query": q.shape, "value": v.shape, "key": k.shape}
    w = random_weights(r, A.weight_shapes("MultiHeadAttention", shapes, **params))
    others = [a for a in range(1, 4) if a not in normalized]
    mask_shape = ((2,) + tuple(q.shape[a] for a in others) + tuple(q.shape[a] for a in normalized)
                  + tuple(k.shape[a] for a in normalized))
    mask = r.random(mask_shape) > 0.3
    want_out, want_s = loop_mha_axes(q, k, v, w, list(normalized), mask)
    out, s = A.multi_head_attention({"query": q, "value": v, "key": k}, w,
                                    call={"attention_mask": mask, "return_attention_scores": True}, **params)
    assert out.shape == A.output_shape("MultiHeadAttention", shapes, **params) == q.shape[:-1] + (2, 2)
    assert s.shape == A.scores_shape("MultiHeadAttention", shapes, **params) == want_s.shape
    close(out, want_out)
    close(s, want_s)


def test_mha_multi_axis_softmax_is_joint_over_key_axes():
    r = rng(13)
    q, v = normal(r, 2, 3, 4, 5), normal(r, 2, 2, 3, 5)
    params = dict(num_heads=2, key_dim=2, attention_axes=(1, 2))
    w = random_weights(r, A.weight_shapes("MultiHeadAttention", {"query": q.shape, "value": v.shape}, **params))
    _, s = A.multi_head_attention({"query": q, "value": v}, w, call={"return_attention_scores": True}, **params)
    assert s.shape == (2, 2, 3, 4, 2, 3)
    close(s.sum(axis=(-2, -1)), np.ones((2, 2, 3, 4)))


# --- GroupQueryAttention ---------------------------------------------------------------------


@pytest.mark.parametrize("q_heads,kv_heads", [(6, 2), (4, 1), (3, 3)])
@pytest.mark.parametrize("use_gate", [False, True])
def test_gqa_matches_loops(q_heads, kv_heads, use_gate):
    r = rng(14)
    q, k, v = normal(r, 2, 4, 5), normal(r, 2, 3, 6), normal(r, 2, 3, 7)
    params = dict(head_dim=3, num_query_heads=q_heads, num_key_value_heads=kv_heads, use_gate=use_gate)
    shapes = {"query": q.shape, "value": v.shape, "key": k.shape}
    w = random_weights(r, A.weight_shapes("GroupQueryAttention", shapes, **params))
    mask = r.random((2, 4, 3)) > 0.3
    group = q_heads // kv_heads
    want_out, want_s = loop_mha(q, k, v, w, lambda h: h // group, 1 / math.sqrt(3), mask, True, None, use_gate)
    out, s = A.group_query_attention({"query": q, "value": v, "key": k}, w,
                                     call={"attention_mask": mask, "use_causal_mask": True,
                                           "return_attention_scores": True}, **params)
    assert out.shape == A.output_shape("GroupQueryAttention", shapes, **params) == (2, 4, 5)
    assert s.shape == A.scores_shape("GroupQueryAttention", shapes, **params) == (2, q_heads, 4, 3)
    close(out, want_out)
    close(s, want_s)


@pytest.mark.parametrize("use_bias", [True, False])
def test_gqa_equals_mha_with_repeated_key_value_heads(use_bias):
    r = rng(15)
    q, v = normal(r, 3, 5, 4), normal(r, 3, 6, 4)
    hq, g, d = 6, 2, 3
    gqa_params = dict(head_dim=d, num_query_heads=hq, num_key_value_heads=g, use_bias=use_bias, sliding_window=3)
    w = random_weights(r, A.weight_shapes("GroupQueryAttention", {"query": q.shape, "value": v.shape}, **gqa_params))
    mha_w = {name: (np.repeat(x, hq // g, axis=1 if name.endswith("kernel") else 0)
                    if name.split("/")[0] in ("key", "value") else x) for name, x in w.items()}
    mask = r.random((3, 5, 6)) > 0.3
    call = {"attention_mask": mask, "use_causal_mask": True, "return_attention_scores": True}
    a, sa = A.group_query_attention({"query": q, "value": v}, w, call=call, **gqa_params)
    b, sb = A.multi_head_attention({"query": q, "value": v}, mha_w, call=call, num_heads=hq, key_dim=d,
                                   use_bias=use_bias, sliding_window=3)
    close(a, b)
    close(sa, sb)


# --- shapes and names ------------------------------------------------------------------------


def test_weight_shapes_keras_names():
    qv = {"query": (2, 3, 4), "value": (2, 5, 6), "key": (2, 5, 7)}
    assert A.weight_shapes("Attention", {"query": (2, 3, 4), "value": (2, 5, 4)}) == {}
    assert A.weight_shapes("Attention", {"query": (2, 3, 4), "value": (2, 5, 4)}, use_scale=True,
                           score_mode="concat") == {"scale": (), "concat_score_weight": ()}
    assert A.weight_shapes("AdditiveAttention", {"query": (2, 3, 4), "value": (2, 5, 4)}) == {"scale": ()}
    assert A.weight_shapes("AdditiveAttention", {"query": (2, 3, 4), "value": (2, 5, 4)}, use_scale=False) == {}
    assert A.weight_shapes("MultiHeadAttention", qv, num_heads=2, key_dim=3) == {
        "query/kernel": (4, 2, 3), "query/bias": (2, 3),
        "key/kernel": (7, 2, 3), "key/bias": (2, 3),
        "value/kernel": (6, 2, 3), "value/bias": (2, 3),
        "attention_output/kernel": (2, 3, 4), "attention_output/bias": (4,),
    }
    assert A.weight_shapes("MultiHeadAttention", qv, num_heads=2, key_dim=3, value_dim=5, output_shape=(2, 3),
                           use_bias=False, use_gate=True) == {
        "query/kernel": (4, 2, 3), "key/kernel": (7, 2, 3), "gate/kernel": (4, 2, 5), "value/kernel": (6, 2, 5),
        "attention_output/kernel": (2, 5, 2, 3),
    }
    assert A.weight_shapes("GroupQueryAttention", qv, head_dim=3, num_query_heads=4, num_key_value_heads=2) == {
        "query/kernel": (4, 4, 3), "query/bias": (4, 3),
        "key/kernel": (7, 2, 3), "key/bias": (2, 3),
        "value/kernel": (6, 2, 3), "value/bias": (2, 3),
        "attention_output/kernel": (4, 3, 4), "attention_output/bias": (4,),
    }


def test_output_and_scores_shapes():
    assert A.output_shape("Attention", {"query": (2, 3, 4), "value": (2, 5, 6), "key": (2, 5, 4)}) == (2, 3, 6)
    assert A.scores_shape("AdditiveAttention", {"query": (None, 3, 4), "value": (None, 5, 4)}) == (None, 3, 5)
    assert A.output_shape("MultiHeadAttention", {"query": (2, 3, 4), "value": (2, 5, 6)}, num_heads=2,
                          key_dim=3, output_shape=7) == (2, 3, 7)
    shapes = {"query": (2, 3, 2, 4, 5), "value": (2, 3, 3, 2, 6)}
    mha = dict(num_heads=2, key_dim=3)
    # (B, other axis 1, H, query axes 2 and 3, key axes 2 and 3), in the order of attention_axes
    assert A.scores_shape("MultiHeadAttention", shapes, **mha, attention_axes=(2, 3)) == (2, 3, 2, 2, 4, 3, 2)
    assert A.scores_shape("MultiHeadAttention", shapes, **mha, attention_axes=(3, 2)) == (2, 3, 2, 4, 2, 2, 3)
    assert A.output_shape("MultiHeadAttention", shapes, **mha, attention_axes=(2, 3)) == (2, 3, 2, 4, 5)
    assert A.scores_shape("GroupQueryAttention", {"query": (2, 3, 4), "value": (2, 5, 6)}, head_dim=2,
                          num_query_heads=4, num_key_value_heads=2) == (2, 4, 3, 5)
    assert set(A.LAYERS) == {"Attention", "AdditiveAttention", "MultiHeadAttention", "GroupQueryAttention"}


def test_ignored_arguments_accepted():
    r = rng(16)
    q, v = normal(r, 2, 3, 4), normal(r, 2, 5, 4)
    shapes = {"query": q.shape, "value": v.shape}
    w = random_weights(r, A.weight_shapes("MultiHeadAttention", shapes, num_heads=2, key_dim=2))
    a = A.multi_head_attention({"query": q, "value": v}, w, call={}, num_heads=2, key_dim=2)
    b = A.multi_head_attention(
        {"query": q, "value": v}, w, call={"training": False}, num_heads=2, key_dim=2, dropout=0.5,
        kernel_initializer="zeros", bias_initializer="ones", kernel_regularizer="l2", bias_regularizer=None,
        activity_regularizer=None, kernel_constraint=None, bias_constraint=None, flash_attention=False, seed=1,
        name="mha", trainable=False,
    )
    close(a, b)


# --- errors --------------------------------------------------------------------------------


QV = {"query": np.ones((2, 3, 4)), "value": np.ones((2, 5, 4))}
MHA_W = random_weights(rng(17), A.weight_shapes("MultiHeadAttention", {"query": (2, 3, 4), "value": (2, 5, 4)},
                                                num_heads=2, key_dim=2))


@pytest.mark.parametrize("kwargs,match", [
    (dict(num_heads=0, key_dim=2), "num_heads=0"),
    (dict(num_heads=2, key_dim=-1), "key_dim=-1"),
    (dict(num_heads=2, key_dim=2, value_dim=1.5), "value_dim=1.5"),
    (dict(num_heads=2, key_dim=2, attention_axes=0), "attention_axes=0"),
    (dict(num_heads=2, key_dim=2, attention_axes=-1), "attention_axes=-1"),
    (dict(num_heads=2, key_dim=2, attention_axes=(1, 1)), r"attention_axes=\(1, 1\)"),
    (dict(num_heads=2, key_dim=2, output_shape=(2, 0)), r"output_shape=\(2, 0\)"),
    (dict(num_heads=2, key_dim=2, sliding_window=0), "sliding_window=0"),
    (dict(num_heads=2, key_dim=2, dropout=1.5), "dropout=1.5"),
    (dict(num_heads=2, key_dim=2, use_bias="yes"), "use_bias='yes'"),
])
def test_mha_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        A.weight_shapes("MultiHeadAttention", {"query": (2, 3, 4), "value": (2, 5, 4)}, **kwargs)


def test_errors():
    with pytest.raises(ValueError, match="score_mode='add'"):
        A.attention(QV, {}, call={}, score_mode="add")
    with pytest.raises(ValueError, match="num_query_heads=5, num_key_value_heads=2"):
        A.weight_shapes("GroupQueryAttention", {"query": (2, 3, 4), "value": (2, 5, 4)}, head_dim=2,
                        num_query_heads=5, num_key_value_heads=2)
    with pytest.raises(ValueError, match="head_dim=0"):
        A.weight_shapes("GroupQueryAttention", {"query": (2, 3, 4), "value": (2, 5, 4)}, head_dim=0,
                        num_query_heads=4, num_key_value_heads=2)
    with pytest.raises(ValueError, match="layer_name='Dense'"):
        A.weight_shapes("Dense", {"query": (2, 3, 4), "value": (2, 5, 4)})
    with pytest.raises(TypeError, match="causal"):
        A.attention(QV, {}, call={}, causal=True)
    with pytest.raises(TypeError, match="query_mask"):
        A.multi_head_attention(QV, MHA_W, call={"query_mask": np.ones((2, 3), bool)}, num_heads=2, key_dim=2)
    with pytest.raises(TypeError, match="attention_mask"):
        A.attention(QV, {}, call={"attention_mask": np.ones((2, 3, 5), bool)})
    with pytest.raises(TypeError, match="num_heads"):
        A.multi_head_attention(QV, MHA_W, call={}, key_dim=2)
    with pytest.raises(TypeError, match="Missing required input"):
        A.attention({"query": QV["query"]}, {}, call={})
    with pytest.raises(NotImplementedError, match="training=True, dropout=0.3"):
        A.attention(QV, {}, call={"training": True}, dropout=0.3)
    A.attention(QV, {}, call={"training": True}, dropout=0.0)  # no dropout: training changes nothing
    with pytest.raises(ValueError, match=r"value_mask.shape=\(2, 4\)"):
        A.attention(QV, {}, call={"mask": [None, np.ones((2, 4), bool)]})
    with pytest.raises(ValueError, match="mask="):
        A.attention(QV, {}, call={"mask": np.ones((2, 5), bool)})
    with pytest.raises(ValueError, match=r"attention_mask.shape=\(2, 5\)"):
        A.multi_head_attention(QV, MHA_W, call={"attention_mask": np.ones((2, 5), bool)}, num_heads=2, key_dim=2)
    with pytest.raises(ValueError, match="attention_mask"):
        A.multi_head_attention(QV, MHA_W, call={"attention_mask": np.full((2, 3, 5), 0.5)}, num_heads=2, key_dim=2)
    with pytest.raises(ValueError, match="scale"):
        A.attention(QV, {}, call={}, use_scale=True)  # missing weight
    with pytest.raises(ValueError, match="concat_score_weight"):
        A.attention(QV, {"concat_score_weight": 1.0}, call={})  # weight the layer does not have
    with pytest.raises(ValueError, match=r"query/kernel.shape=\(4, 2, 3\)"):
        A.multi_head_attention(QV, {**MHA_W, "query/kernel": np.ones((4, 2, 3))}, call={}, num_heads=2, key_dim=2)
    with pytest.raises(ValueError, match="rank-3"):
        A.attention({"query": np.ones((1, 2, 3, 4)), "value": np.ones((1, 2, 3, 4))}, {}, call={})
    with pytest.raises(ValueError, match="feature dim"):
        A.attention({"query": np.ones((2, 3, 4)), "value": np.ones((2, 5, 3))}, {}, call={})
    with pytest.raises(ValueError, match="use_causal_mask"):
        q = np.ones((1, 2, 3, 4))
        w = random_weights(rng(18), A.weight_shapes("MultiHeadAttention", {"query": q.shape, "value": q.shape},
                                                    num_heads=1, key_dim=2))
        A.multi_head_attention({"query": q, "value": q}, w, call={"use_causal_mask": True}, num_heads=1, key_dim=2)
    with pytest.raises(ValueError, match="sliding_window"):
        A.weight_shapes("MultiHeadAttention", {"query": (1, 2, 3, 4), "value": (1, 2, 3, 4)}, num_heads=1,
                        key_dim=2, sliding_window=2)


@pytest.mark.parametrize("layer, params", [
    ("Attention", {}), ("AdditiveAttention", {}), ("MultiHeadAttention", {"num_heads": 2, "key_dim": 2}),
    ("GroupQueryAttention", {"head_dim": 2, "num_query_heads": 2, "num_key_value_heads": 1}),
])
def test_check_modelled_refuses_dropout_in_training(layer, params):
    # dropout of the attention weights in training is random: not modelled, so refused before a run
    with pytest.raises(NotImplementedError, match=r"training=True, dropout=0.2"):
        A.check_modelled(layer, {**params, "dropout": 0.2}, {"training": True})
    # without dropout, or at inference, there is nothing random
    A.check_modelled(layer, {**params, "dropout": 0.2}, {"training": False})
    A.check_modelled(layer, {**params, "dropout": 0.2}, {})
    A.check_modelled(layer, {**params, "dropout": 0.2}, None)
    A.check_modelled(layer, params, {"training": True})
    A.check_modelled(layer, {**params, "dropout": 0.0}, {"training": True})
    # a dropout or training value it rejects is a ValueError naming it
    with pytest.raises(ValueError, match="dropout=1.5"):
        A.check_modelled(layer, {**params, "dropout": 1.5}, {"training": False})
    with pytest.raises(ValueError, match="training='yes'"):
        A.check_modelled(layer, params, {"training": "yes"})
    with pytest.raises(ValueError, match="layer_name='Dense'"):
        A.check_modelled("Dense", params, {})


# --- error bounds -------------------------------------------------------------------------------------

from conformance.compare import compare_arrays  # noqa: E402
from reference_impl import rounding  # noqa: E402
from reference_impl.activations import softmax_error_bound  # noqa: E402

F32, F16, BF16 = rounding.format_of("float32"), rounding.format_of("float16"), rounding.format_of("bfloat16")
SCORES = {"return_attention_scores": True}


def _contract(x, w, dtype):
    """sum_i x[..., i] w[i, ...] in dtype: each product rounded, partial sums rounded, in order."""
    total = np.zeros(x.shape[:-1] + w.shape[1:], dtype=dtype)
    for i in range(x.shape[-1]):
        total = (total + np.multiply.outer(x[..., i], w[i]).astype(dtype)).astype(dtype)
    return total


def _softmax_rows(e, keep, dtype, order="forward"):
    """softmax over the last axis in dtype, every operation rounded; masked entries are 0.
    "forward": exp(e - max e), the terms summed from the first key on, a division;
    "reverse": exp(e) without subtracting the max, summed from the last key on, the reciprocal
    of the sum times each exp."""
    keep = np.broadcast_to(keep, e.shape)
    e = np.where(keep, e, dtype(-np.inf)).astype(dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        if order == "forward":
            x = np.exp((e - e.max(axis=-1, keepdims=True)).astype(dtype)).astype(dtype)
        else:
            x = np.exp(e).astype(dtype)
        keys = range(e.shape[-1]) if order == "forward" else reversed(range(e.shape[-1]))
        total = np.zeros(e.shape[:-1] + (1,), dtype=dtype)
        for s in keys:
            total = (total + x[..., s : s + 1]).astype(dtype)
        if order == "forward":
            y = (x / total).astype(dtype)
        else:
            y = (x * (dtype(1) / total).astype(dtype)).astype(dtype)
    return np.where(keep, np.nan_to_num(y), dtype(0))


def _mha_in(dtype, q, v, w, key_dim, keep, *, score_scale=1.0, drop_mask=False, order="forward", softmax_dtype=None):
    """MultiHeadAttention (rank 3, one attention axis) evaluated in dtype, every operation rounded:
    projections, scores, softmax, weighted sum, output projection. Returns (output, scores
    (B, H, T, S)). order "forward": Q scaled by 1 / sqrt(key_dim) (rounded) first, sums from the
    first term on, the softmax with its max subtracted; "reverse": the dot products summed from
    the last term on and then scaled, the softmax without the max (_softmax_rows), the weighted
    sum from the last key on. score_scale, drop_mask, softmax_dtype (the softmax in another
    format): planted faults."""
    c = {n: a.astype(dtype) for n, a in w.items()}
    q, v = q.astype(dtype), v.astype(dtype)
    proj = {n: (_contract(x, c[f"{n}/kernel"], dtype) + c[f"{n}/bias"]).astype(dtype)
            for n, x in (("query", q), ("key", v), ("value", v))}
    scale = dtype(1.0 / math.sqrt(key_dim))
    query = (proj["query"] * scale).astype(dtype) if order == "forward" else proj["query"]  # (B, T, H, k)
    key, value = proj["key"], proj["value"]
    scores = np.zeros(query.shape[:1] + (query.shape[2], query.shape[1], key.shape[1]), dtype=dtype)  # (B, H, T, S)
    for i in (range(key_dim) if order == "forward" else reversed(range(key_dim))):
        term = np.einsum("bth,bsh->bhts", query[..., i], key[..., i]).astype(dtype)
        scores = (scores + term).astype(dtype)
    if order != "forward":
        scores = (scores * scale).astype(dtype)
    scores = (scores * dtype(score_scale)).astype(dtype)
    inner = softmax_dtype or dtype
    a = _softmax_rows(scores.astype(inner), np.ones_like(keep) if drop_mask else keep, inner, order).astype(dtype)
    out = np.zeros(query.shape[:3] + (value.shape[-1],), dtype=dtype)  # (B, T, H, v)
    for s in (range(value.shape[1]) if order == "forward" else reversed(range(value.shape[1]))):
        term = np.einsum("bht,bhv->bthv", a[..., s], value[:, s]).astype(dtype)
        out = (out + term).astype(dtype)
    flat = out.reshape(out.shape[:2] + (-1,))
    kernel = c["attention_output/kernel"].reshape(-1, c["attention_output/kernel"].shape[-1])
    output = (_contract(flat, kernel, dtype) + c["attention_output/bias"]).astype(dtype)
    return output.astype(np.float64), a.astype(np.float64)


def _mha_case(dtype, seed=0, query_shape=(2, 4, 6), value_shape=(2, 5, 6), params=None):
    r = rng(seed)
    q = r.normal(0.25, 1.0, query_shape).astype(dtype).astype(np.float64)
    v = r.normal(-0.5, 1.0, value_shape).astype(dtype).astype(np.float64)
    params = params or {"num_heads": 2, "key_dim": 3}
    shapes = A.weight_shapes("MultiHeadAttention", {"query": q.shape, "value": v.shape}, **params)
    w = {n: r.normal(0.5 if n.endswith("bias") else 0.05, 0.5, s).astype(dtype).astype(np.float64) for n, s in shapes.items()}
    mask = r.random(query_shape[:-1] + value_shape[1:-1]) < 0.7
    mask[..., 0] = True
    return {"query": q, "value": v}, w, params, mask


@pytest.mark.parametrize("dtype,fmt", [(np.float16, F16), (np.float32, F32)])
@pytest.mark.parametrize("masked", [False, True])
def test_mha_bound_holds_for_an_evaluation_in_the_format(dtype, fmt, masked):
    inputs, w, params, mask = _mha_case(dtype)
    call = {"attention_mask": mask} if masked else {}
    exact = A.multi_head_attention(inputs, w, call=call, **params)
    bound = A.error_bound("MultiHeadAttention", inputs, w, fmt, call=call, **params)
    keep = mask[:, None] if masked else np.ones((1, 1, 4, 5), dtype=bool)
    computed, _ = _mha_in(dtype, inputs["query"], inputs["value"], w, 3, keep)
    result = compare_arrays(computed, exact, rtol=0, atol=0, bound=bound)
    assert result.ok, result.message
    assert result.metrics["max_bound_ratio"] > 1e-3  # the float16 error is a visible share of it


def test_mha_bound_catches_a_scale_of_the_scores_and_a_dropped_mask():
    inputs, w, params, mask = _mha_case(np.float32)
    call = {"attention_mask": mask}
    exact = A.multi_head_attention(inputs, w, call=call, **params)
    bound = A.error_bound("MultiHeadAttention", inputs, w, F32, call=call, **params)
    q, v = inputs["query"], inputs["value"]
    assert compare_arrays(_mha_in(np.float32, q, v, w, 3, mask[:, None])[0], exact, rtol=0, atol=0, bound=bound).ok
    scaled, _ = _mha_in(np.float32, q, v, w, 3, mask[:, None], score_scale=1 + 1e-3)
    assert not compare_arrays(scaled, exact, rtol=0, atol=0, bound=bound).ok
    unmasked, _ = _mha_in(np.float32, q, v, w, 3, mask[:, None], drop_mask=True)
    assert not compare_arrays(unmasked, exact, rtol=0, atol=0, bound=bound).ok
    # in float16 the dropped mask is caught as well
    inputs16, w16, _, _ = _mha_case(np.float16)
    exact16 = A.multi_head_attention(inputs16, w16, call=call, **params)
    bound16 = A.error_bound("MultiHeadAttention", inputs16, w16, F16, call=call, **params)
    unmasked16, _ = _mha_in(np.float16, inputs16["query"], inputs16["value"], w16, 3, mask[:, None], drop_mask=True)
    assert not compare_arrays(unmasked16, exact16, rtol=0, atol=0, bound=bound16).ok


def test_gqa_bound_equals_mha_bound_with_repeated_heads():
    # GroupQueryAttention with as many key/value heads as query heads is MultiHeadAttention
    # with key_dim = head_dim: the same value and the same bounds, the scores' too
    inputs, w, params, _ = _mha_case(np.float32)
    gqa = {"head_dim": 3, "num_query_heads": 2, "num_key_value_heads": 2}
    mha_bound = A.error_bound("MultiHeadAttention", inputs, w, F16, call={"use_causal_mask": True}, **params)
    gqa_bound = A.error_bound("GroupQueryAttention", inputs, w, F16, call={"use_causal_mask": True}, **gqa)
    close(gqa_bound, mha_bound, rtol=1e-12)
    call = {"use_causal_mask": True, **SCORES}
    mha_bounds = A.error_bound("MultiHeadAttention", inputs, w, F16, call=call, **params)
    gqa_bounds = A.error_bound("GroupQueryAttention", inputs, w, F16, call=call, **gqa)
    close(gqa_bounds["output"], mha_bound, rtol=1e-12)
    close(gqa_bounds["output_1"], mha_bounds["output_1"], rtol=1e-12)


def _dense_attention_in(dtype, q, k, v, keep, scale, *, score_scale=1.0, order="forward"):
    """Attention "dot" in dtype: q . k summed in order ("reverse": from the last feature on),
    times scale, softmax over kept keys (_softmax_rows in that order), weights . v. Returns
    (output, scores)."""
    q, k, v = q.astype(dtype), k.astype(dtype), v.astype(dtype)
    scores = np.zeros(q.shape[:2] + k.shape[1:2], dtype=dtype)
    for d in (range(q.shape[-1]) if order == "forward" else reversed(range(q.shape[-1]))):
        scores = (scores + np.einsum("bt,bs->bts", q[..., d], k[..., d]).astype(dtype)).astype(dtype)
    scores = (scores * dtype(scale) * dtype(score_scale)).astype(dtype)
    a = _softmax_rows(scores, keep, dtype, order)
    out = np.zeros(q.shape[:2] + v.shape[-1:], dtype=dtype)
    for s in range(v.shape[1]):
        out = (out + np.einsum("bt,bv->btv", a[..., s], v[:, s]).astype(dtype)).astype(dtype)
    return out.astype(np.float64), a.astype(np.float64)


@pytest.mark.parametrize("dtype,fmt", [(np.float16, F16), (np.float32, F32)])
def test_dot_attention_bound_holds_with_masks_and_catches_faults(dtype, fmt):
    r = rng(5)
    q, k, v = (r.normal(0.25, 1.0, s).astype(dtype).astype(np.float64) for s in ((2, 4, 6), (2, 5, 6), (2, 5, 6)))
    scale = np.asarray(dtype(1.25), dtype=np.float64)
    value_mask = np.array([[1, 0, 1, 1, 0], [0, 1, 1, 1, 1]], dtype=bool)
    query_mask = np.array([[1, 1, 0, 1], [1, 0, 1, 1]], dtype=bool)
    call = {"mask": [query_mask, value_mask], "use_causal_mask": False}
    inputs, weights = {"query": q, "value": v, "key": k}, {"scale": scale}
    exact = A.attention(inputs, weights, call=call, use_scale=True)
    bound = A.error_bound("Attention", inputs, weights, fmt, call=call, use_scale=True)
    keep = np.broadcast_to(value_mask[:, None, :], (2, 4, 5))
    computed = _dense_attention_in(dtype, q, k, v, keep, scale)[0] * query_mask[:, :, None]
    assert compare_arrays(computed, exact, rtol=0, atol=0, bound=bound).ok
    # query_mask zeroes rows exactly: the bound there is 0
    assert np.all(bound[~query_mask] == 0)
    dropped = _dense_attention_in(dtype, q, k, v, np.ones_like(keep), scale)[0] * query_mask[:, :, None]
    assert not compare_arrays(dropped, exact, rtol=0, atol=0, bound=bound).ok
    if dtype is np.float32:
        scaled = _dense_attention_in(dtype, q, k, v, keep, scale, score_scale=1 + 1e-3)[0] * query_mask[:, :, None]
        assert not compare_arrays(scaled, exact, rtol=0, atol=0, bound=bound).ok


def _additive_scores_in(dtype, q, v, order):
    """AdditiveAttention (no scale, key = value) scores in dtype: q + k rounded, tanh rounded,
    summed over the features in order ("reverse": from the last on), then _softmax_rows."""
    t = (q.astype(dtype)[:, :, None, :] + v.astype(dtype)[:, None, :, :]).astype(dtype)
    tanh = np.tanh(t).astype(dtype)
    scores = np.zeros(t.shape[:3], dtype=dtype)
    for d in (range(t.shape[-1]) if order == "forward" else reversed(range(t.shape[-1]))):
        scores = (scores + tanh[..., d]).astype(dtype)
    return _softmax_rows(scores, np.ones(scores.shape, dtype=bool), dtype, order)


def test_additive_attention_bound_holds_for_a_float16_evaluation():
    r = rng(6)
    q, v = (r.normal(0.25, 1.0, s).astype(np.float16).astype(np.float64) for s in ((2, 3, 4), (2, 5, 4)))
    inputs = {"query": q, "value": v}
    exact = A.additive_attention(inputs, {}, use_scale=False)
    bound = A.error_bound("AdditiveAttention", inputs, {}, F16, use_scale=False)
    h = np.float16
    a = _additive_scores_in(h, q, v, "forward")
    out = np.zeros((2, 3, 4), dtype=h)
    for s in range(5):
        out = (out + np.einsum("bt,bv->btv", a[..., s], v.astype(h)[:, s]).astype(h)).astype(h)
    assert compare_arrays(out.astype(np.float64), exact, rtol=0, atol=0, bound=bound).ok
    assert not compare_arrays(exact + 0.05 * np.abs(exact).max(), exact, rtol=0, atol=0, bound=bound).ok


# --- error bounds of the returned attention scores (output_1) --------------------------------------


def _judge(computed, exact, bound):
    return compare_arrays(computed, exact, rtol=0, atol=0, bound=bound)


def test_scores_bound_is_returned_only_with_the_scores():
    inputs, w, params, mask = _mha_case(np.float32)
    plain = A.error_bound("MultiHeadAttention", inputs, w, F16, call={"attention_mask": mask}, **params)
    assert isinstance(plain, np.ndarray) and plain.shape == (2, 4, 6)
    both = A.error_bound("MultiHeadAttention", inputs, w, F16, call={"attention_mask": mask, **SCORES}, **params)
    assert set(both) == {"output", "output_1"}
    close(both["output"], plain, rtol=0, atol=0)  # the main output's bound does not change
    _, scores = A.multi_head_attention(inputs, w, call={"attention_mask": mask, **SCORES}, **params)
    assert both["output_1"].shape == scores.shape == (2, 2, 4, 5)
    # Attention: (B, Tq, Tv) beside the output's (B, Tq, Dv)
    r = rng(7)
    q, v = r.normal(size=(2, 3, 4)), r.normal(size=(2, 5, 6))
    dense = A.error_bound("Attention", {"query": q, "value": v, "key": r.normal(size=(2, 5, 4))}, {}, F16, call=SCORES)
    assert dense["output"].shape == (2, 3, 6) and dense["output_1"].shape == (2, 3, 5)


@pytest.mark.parametrize("dtype,fmt", [(np.float16, F16), (np.float32, F32)])
@pytest.mark.parametrize("order", ["forward", "reverse"])
@pytest.mark.parametrize("masking", ["none", "mask", "causal"])
def test_mha_scores_bound_holds_for_evaluations_in_the_format(dtype, fmt, order, masking):
    inputs, w, params, mask = _mha_case(dtype, seed=1)
    call = {"none": {}, "mask": {"attention_mask": mask}, "causal": {"use_causal_mask": True}}[masking]
    keep = {"none": np.ones((1, 1, 4, 5), dtype=bool), "mask": mask[:, None],
            "causal": np.arange(5)[None, :] <= np.arange(4)[:, None]}[masking]
    _, exact = A.multi_head_attention(inputs, w, call={**call, **SCORES}, **params)
    bounds = A.error_bound("MultiHeadAttention", inputs, w, fmt, call={**call, **SCORES}, **params)
    output, scores = _mha_in(dtype, inputs["query"], inputs["value"], w, 3, keep, order=order)
    result = _judge(scores, exact, bounds["output_1"])
    assert result.ok, result.message
    assert result.metrics["max_bound_ratio"] > (1e-2 if dtype is np.float16 else 1e-4)  # not vacuous
    assert _judge(output, A.multi_head_attention(inputs, w, call=call, **params), bounds["output"]).ok
    # a masked (query, key) pair has weight exactly 0, on both sides: bound 0
    masked = ~np.broadcast_to(keep, exact.shape)
    assert np.all(exact[masked] == 0) and np.all(scores[masked] == 0) and np.all(bounds["output_1"][masked] == 0)
    assert np.all(bounds["output_1"][~masked] > 0)


def test_mha_scores_bound_carries_the_error_of_the_scores():
    # scores up to about 20 in float16: their projections' and products' rounding moves the
    # softmax far more than its own evaluation does. The float16 evaluation is 5 times outside
    # softmax's own bound at the exact scores (activations.softmax_error_bound), well within the
    # chained bound of the scores.
    inputs, w, params, _ = _mha_case(np.float16, seed=20)
    inputs = {n: (2.5 * x).astype(np.float16).astype(np.float64) for n, x in inputs.items()}
    _, exact = A.multi_head_attention(inputs, w, call=SCORES, **params)
    bound = A.error_bound("MultiHeadAttention", inputs, w, F16, call=SCORES, **params)["output_1"]
    _, scores = _mha_in(np.float16, inputs["query"], inputs["value"], w, 3, np.ones((1, 1, 4, 5), dtype=bool))
    assert _judge(scores, exact, bound).ok
    projected = {n: np.tensordot(inputs[x], w[f"{n}/kernel"], axes=1) + w[f"{n}/bias"]
                 for n, x in (("query", "query"), ("key", "value"))}
    e = np.einsum("bthc,bshc->bhts", projected["query"], projected["key"]) / math.sqrt(3)
    assert float(_judge(scores, exact, softmax_error_bound(e, F16, axis=-1)).metrics["max_bound_ratio"]) > 3


@pytest.mark.parametrize("fault", ["scaled scores", "softmax in float16", "dropped mask"])
def test_mha_scores_bound_catches_planted_faults_in_float32(fault):
    inputs, w, params, mask = _mha_case(np.float32, seed=1)
    call = {"attention_mask": mask, **SCORES}
    _, exact = A.multi_head_attention(inputs, w, call=call, **params)
    bound = A.error_bound("MultiHeadAttention", inputs, w, F32, call=call, **params)["output_1"]
    q, v, keep = inputs["query"], inputs["value"], mask[:, None]
    assert _judge(_mha_in(np.float32, q, v, w, 3, keep)[1], exact, bound).ok
    planted = {"scaled scores": {"score_scale": 1 + 1e-3}, "softmax in float16": {"softmax_dtype": np.float16},
               "dropped mask": {"drop_mask": True}}[fault]
    result = _judge(_mha_in(np.float32, q, v, w, 3, keep, **planted)[1], exact, bound)
    assert not result.ok
    assert float(result.metrics["max_bound_ratio"]) > 10  # "inf" where a masked pair's bound is 0


def test_mha_scores_bound_catches_a_float16_dropped_mask_and_a_6_percent_scale():
    inputs, w, params, mask = _mha_case(np.float16, seed=1)
    call = {"attention_mask": mask, **SCORES}
    _, exact = A.multi_head_attention(inputs, w, call=call, **params)
    bound = A.error_bound("MultiHeadAttention", inputs, w, F16, call=call, **params)["output_1"]
    q, v, keep = inputs["query"], inputs["value"], mask[:, None]
    assert not _judge(_mha_in(np.float16, q, v, w, 3, keep, drop_mask=True)[1], exact, bound).ok
    assert not _judge(_mha_in(np.float16, q, v, w, 3, keep, score_scale=1.0625)[1], exact, bound).ok


@pytest.mark.parametrize("order", ["forward", "reverse"])
def test_gqa_scores_bound_holds_for_a_float16_evaluation_with_shared_heads(order):
    # GroupQueryAttention with 4 query heads on 2 key/value heads is MultiHeadAttention with
    # the key/value kernels' heads repeated [0, 0, 1, 1]: evaluate that in float16
    r = rng(8)
    h = np.float16
    q = r.normal(0.25, 1.0, (2, 4, 6)).astype(h).astype(np.float64)
    v = r.normal(-0.5, 1.0, (2, 5, 6)).astype(h).astype(np.float64)
    gqa = {"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2}
    shapes = A.weight_shapes("GroupQueryAttention", {"query": q.shape, "value": v.shape}, **gqa)
    w = {n: r.normal(0.5 if n.endswith("bias") else 0.05, 0.5, s).astype(h).astype(np.float64) for n, s in shapes.items()}
    call = {"use_causal_mask": True, **SCORES}
    _, exact = A.group_query_attention({"query": q, "value": v}, w, call=call, **gqa)
    bounds = A.error_bound("GroupQueryAttention", {"query": q, "value": v}, w, F16, call=call, **gqa)
    assert bounds["output_1"].shape == exact.shape == (2, 4, 4, 5)
    repeated = {n: (np.repeat(a, 2, axis=-2 if n.endswith("kernel") else 0) if n.split("/")[0] in ("key", "value") else a)
                for n, a in w.items()}
    causal = np.arange(5)[None, :] <= np.arange(4)[:, None]
    _, scores = _mha_in(h, q, v, repeated, 3, causal, order=order)
    result = _judge(scores, exact, bounds["output_1"])
    assert result.ok, result.message
    assert result.metrics["max_bound_ratio"] > 1e-2


def test_mha_scores_bound_layout_with_several_attention_axes():
    # attention over axes (1, 2) of a rank-4 input is attention over the flattened positions of a
    # rank-3 input; over axis (2,) alone, axis 1 is a batch axis. The scores' bound follows the
    # scores' layout (B, *other axes, H, *Tattn, *Sattn) exactly as the scores do.
    inputs, w, params, mask = _mha_case(np.float32, seed=2, query_shape=(2, 2, 3, 6), value_shape=(2, 3, 2, 6))
    q, v = inputs["query"], inputs["value"]
    joint = A.error_bound("MultiHeadAttention", inputs, w, F16, call={"attention_mask": mask, **SCORES},
                          attention_axes=(1, 2), **params)["output_1"]
    _, scores = A.multi_head_attention(inputs, w, call={"attention_mask": mask, **SCORES}, attention_axes=(1, 2), **params)
    assert joint.shape == scores.shape == (2, 2, 2, 3, 3, 2)
    flat = A.error_bound("MultiHeadAttention", {"query": q.reshape(2, 6, 6), "value": v.reshape(2, 6, 6)}, w, F16,
                         call={"attention_mask": mask.reshape(2, 6, 6), **SCORES}, **params)["output_1"]
    close(joint.reshape(2, 2, 6, 6), flat, rtol=1e-12, atol=0)
    assert np.all(joint[~np.broadcast_to(mask[:, None], joint.shape)] == 0)
    # attention_axes=(2,): the scores are (B, T1, H, T2, S2), the bound that of (B * T1) rank-3 rows
    inputs, w, params, _ = _mha_case(np.float32, seed=3, query_shape=(2, 2, 3, 6), value_shape=(2, 2, 4, 6))
    q, v = inputs["query"], inputs["value"]
    other = A.error_bound("MultiHeadAttention", inputs, w, F16, call=SCORES, attention_axes=(2,), **params)["output_1"]
    assert other.shape == (2, 2, 2, 3, 4)
    rows = A.error_bound("MultiHeadAttention", {"query": q.reshape(4, 3, 6), "value": v.reshape(4, 4, 6)}, w, F16,
                         call=SCORES, **params)["output_1"]
    close(other.reshape(4, 2, 3, 4), rows, rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype,fmt", [(np.float16, F16), (np.float32, F32)])
@pytest.mark.parametrize("order", ["forward", "reverse"])
def test_dot_attention_scores_bound_holds_with_masks_and_causal(dtype, fmt, order):
    r = rng(9)
    q, k, v = (r.normal(0.25, 1.0, s).astype(dtype).astype(np.float64) for s in ((2, 5, 6), (2, 5, 6), (2, 5, 6)))
    scale = np.asarray(dtype(1.25), dtype=np.float64)
    value_mask = np.array([[1, 0, 1, 1, 0], [0, 1, 1, 1, 1]], dtype=bool)
    query_mask = np.array([[1, 1, 0, 1, 1], [1, 0, 1, 1, 0]], dtype=bool)
    call = {"mask": [query_mask, value_mask], "use_causal_mask": True, **SCORES}
    inputs, weights = {"query": q, "value": v, "key": k}, {"scale": scale}
    _, exact = A.attention(inputs, weights, call=call, use_scale=True)
    bound = A.error_bound("Attention", inputs, weights, fmt, call=call, use_scale=True)["output_1"]
    # row 0 of batch 1 keeps no key (its only causal key is masked): all 0
    keep = value_mask[:, None, :] & (np.arange(5)[None, :] <= np.arange(5)[:, None])
    _, scores = _dense_attention_in(dtype, q, k, v, keep, scale, order=order)
    result = _judge(scores, exact, bound)
    assert result.ok, result.message
    assert result.metrics["max_bound_ratio"] > (1e-2 if dtype is np.float16 else 1e-4)
    assert np.all(bound[~keep] == 0) and np.all(exact[~keep] == 0) and np.all(bound[keep] > 0)
    # the query_mask zeroes output rows, not the scores nor their bound
    assert np.all(bound[~query_mask][keep[~query_mask]] > 0)
    dropped = _dense_attention_in(dtype, q, k, v, np.ones_like(keep), scale, order=order)[1]
    assert not _judge(dropped, exact, bound).ok
    if dtype is np.float32:
        scaled = _dense_attention_in(dtype, q, k, v, keep, scale, score_scale=1 + 1e-3, order=order)[1]
        assert not _judge(scaled, exact, bound).ok


@pytest.mark.parametrize("order", ["forward", "reverse"])
def test_additive_attention_scores_bound_holds_in_float16_and_float32_and_tells_them_apart(order):
    r = rng(6)
    q, v = (r.normal(0.25, 1.0, s).astype(np.float16).astype(np.float64) for s in ((2, 3, 4), (2, 5, 4)))
    inputs = {"query": q, "value": v}
    _, exact = A.additive_attention(inputs, {}, call=SCORES, use_scale=False)
    bound = A.error_bound("AdditiveAttention", inputs, {}, F16, call=SCORES, use_scale=False)["output_1"]
    scores = _additive_scores_in(np.float16, q, v, order).astype(np.float64)
    result = _judge(scores, exact, bound)
    assert result.ok, result.message
    assert result.metrics["max_bound_ratio"] > 1e-2
    # the same evaluation in float32 on the same inputs, judged by the float32 bound: within it
    bound32 = A.error_bound("AdditiveAttention", inputs, {}, F32, call=SCORES, use_scale=False)["output_1"]
    assert _judge(_additive_scores_in(np.float32, q, v, order).astype(np.float64), exact, bound32).ok
    # but the float16 evaluation is not a float32 one
    assert not _judge(scores, exact, bound32).ok


def test_scores_bound_survives_where_the_output_chain_is_too_long():
    # bfloat16 (u = 2^-8) with 256 keys: the softmax is bounded ((n - 1) u < 1), the weighted
    # sum's gamma_256 is not: the output falls back to the flat tolerance, the scores keep theirs
    r = rng(10)
    q, v = r.normal(size=(1, 2, 3)), r.normal(size=(1, 256, 3))
    bounds = A.error_bound("Attention", {"query": q, "value": v}, {}, BF16, call=SCORES)
    assert bounds["output"] is None
    assert bounds["output_1"].shape == (1, 2, 256) and np.all(np.isfinite(bounds["output_1"]))
    assert A.error_bound("Attention", {"query": q, "value": v}, {}, BF16) is None
