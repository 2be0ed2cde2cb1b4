#!/usr/bin/env python3
"""Builds extra tiny random-weight models and their transformers fp32 logits, for rope and
attention variants that ../shared/models/tiny does not cover (linear, dynamic, yarn, longrope
rope scaling; attention/MLP biases; Qwen2 sliding layers).

Runs where PyTorch + transformers exist (the device machine), not in CI. Output layout matches
../shared/models/tiny/<name>/: config.json, model.safetensors (bf16), ref.json, ref_logits.f32.
Usage: make_tiny_references.py OUT_DIR
"""
import json
import os
import sys

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM

BASE = dict(hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=32, vocab_size=256, max_position_embeddings=32,
            rms_norm_eps=1e-6, tie_word_embeddings=False)

VARIANTS = {
    "llama_rope_linear": ("llama", dict(rope_scaling=dict(rope_type="linear", factor=2.0))),
    "llama_rope_dynamic": ("llama", dict(rope_scaling=dict(rope_type="dynamic", factor=2.0))),
    "llama_rope_yarn": ("llama", dict(rope_scaling=dict(rope_type="yarn", factor=4.0,
                                                        original_max_position_embeddings=8),
                                      max_position_embeddings=32)),
    "llama_bias": ("llama", dict(attention_bias=True, mlp_bias=True)),
    "phi3_longrope": ("phi3", dict(pad_token_id=0, original_max_position_embeddings=16, max_position_embeddings=64,
                                   rope_scaling=dict(type="longrope",
                                                     short_factor=[1.0 + 0.05 * i for i in range(16)],
                                                     long_factor=[1.0 + 0.25 * i for i in range(16)]))),
    "qwen2_sliding": ("qwen2", dict(use_sliding_window=True, sliding_window=8, max_window_layers=1,
                                    layer_types=None)),
}
N_TOKENS = 40


def build(name, model_type, extra, out_dir):
    torch.manual_seed(hash(name) % (2 ** 31))
    cfg_dict = dict(BASE)
    cfg_dict.update(extra)
    cfg = AutoConfig.for_model(model_type, **{k: v for k, v in cfg_dict.items() if v is not None})
    if model_type == "qwen2":
        cfg.layer_types = ["full_attention", "sliding_attention"]
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager")
    model = model.to(torch.bfloat16).to(torch.float32)  # weights rounded to bf16, computed in f32
    path = os.path.join(out_dir, name)
    model.to(torch.bfloat16).save_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    g = torch.Generator().manual_seed(1234)
    ids = torch.randint(0, cfg.vocab_size, (1, N_TOKENS), generator=g)
    with torch.no_grad():
        logits = model(ids).logits[0].float().contiguous()
    logits.numpy().astype("<f4").tofile(os.path.join(path, "ref_logits.f32"))
    with open(os.path.join(path, "ref.json"), "w") as f:
        json.dump({"arch": model_type, "variant": name, "input_ids": ids[0].tolist(),
                   "logits_file": "ref_logits.f32", "logits_shape": list(logits.shape),
                   "compute": "transformers fp32 eager attention on the bf16 weights",
                   "versions": {"torch": torch.__version__,
                                "transformers": transformers.__version__}}, f, indent=1)
    print(name, "ok", list(logits.shape))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, (mt, extra) in VARIANTS.items():
        build(name, mt, extra, out)


if __name__ == "__main__":
    main()
