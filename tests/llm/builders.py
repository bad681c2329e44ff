"""Builders of tiny chat models for tests: the real SmolLM2 tokenizer (read from the bundled GGUF once) on a
random-weight Llama of a few hundred thousand parameters, plus two random LoRA adapters on it."""

from pathlib import Path

from ml.llm.install import bundled_gguf


def smol_tokenizer(cache: Path):
    from transformers import AutoTokenizer

    if not (cache / "tokenizer_config.json").exists():
        gguf = bundled_gguf()
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        tokenizer.save_pretrained(cache)
    return AutoTokenizer.from_pretrained(cache)


def build_tiny_chat_model(folder: Path, tokenizer_cache: Path) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = smol_tokenizer(tokenizer_cache)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_random_adapter(base: Path, folder: Path, seed: int) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base)
    # init_lora_weights=False: random B as well as A, so the adapter really changes the outputs.
    lora = LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj", "o_proj"], init_lora_weights=False)
    get_peft_model(model, lora).save_pretrained(folder)
    return folder
