#!/usr/bin/env bash
# GPU check: a short DPO run of our runner on CUDA in bf16; prints tokens/s, MFU and peak GPU memory.
# For a GPU host with no network and a Python that has torch, transformers, peft and accelerate but not
# trl or datasets. Bring along (about 60 MB in all):
#   gpu_wheels/   wheels of trl, datasets and what they need that the host lacks, made here with
#                 pip download --only-binary=:all: --python-version 3.12 -d gpu_wheels trl datasets
#   gpu_assets/smollm2-tokenizer/   the SmolLM2 tokenizer: python scripts/gpu_check.py --save-tokenizer
# The model is SmolLM2-135M's architecture with random weights (throughput does not depend on the
# weights). A 135M model cannot fill a large GPU: read MFU with that in mind.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --no-index --find-links gpu_wheels trl datasets
python3 scripts/gpu_check.py --steps "${STEPS:-30}" --batch "${BATCH:-16}"
