"""Build a tiny random-weight llama GGUF whose vocabulary has FIM tokens.

Its output is noise, but llama.cpp loads it in milliseconds and reports its FIM
token ids, so the whole FIM path (vocabulary, token list, stop ids, decoding)
runs for real.
"""

from __future__ import annotations

from pathlib import Path

SPECIALS = (
    "<unk>",
    "<s>",
    "</s>",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    "<|fim_pad|>",
)
PRINTABLE = ["▁" if c == " " else c for c in map(chr, range(32, 127))]
FIM_IDS = {"prefix": 3, "suffix": 4, "middle": 5, "pad": 6}
N_EMBD, N_HEAD, N_FF, N_LAYER, N_CTX = 64, 4, 128, 1, 4096


def vocabulary() -> tuple[list[str], list[float], list[int]]:
    """SentencePiece-style pieces: specials, the 256 byte pieces, printable ASCII."""
    import gguf

    kinds = gguf.TokenType
    tokens = list(SPECIALS)
    types = [kinds.UNKNOWN, kinds.CONTROL, kinds.CONTROL] + [kinds.CONTROL] * 4
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [kinds.BYTE] * 256
    tokens += PRINTABLE
    types += [kinds.NORMAL] * len(PRINTABLE)
    scores = [0.0] * (len(tokens) - len(PRINTABLE)) + [-1.0] * len(PRINTABLE)
    return tokens, scores, [int(t) for t in types]


def build_fim_gguf(path: Path, seed: int = 0) -> Path:
    """Write the model to path and return it."""
    import gguf
    import numpy as np

    rng = np.random.default_rng(seed)
    tokens, scores, types = vocabulary()
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-fim-test")
    writer.add_context_length(N_CTX)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(False)
    writer.add_uint32(gguf.Keys.Tokenizer.FIM_PRE_ID, FIM_IDS["prefix"])
    writer.add_uint32(gguf.Keys.Tokenizer.FIM_SUF_ID, FIM_IDS["suffix"])
    writer.add_uint32(gguf.Keys.Tokenizer.FIM_MID_ID, FIM_IDS["middle"])
    writer.add_uint32(gguf.Keys.Tokenizer.FIM_PAD_ID, FIM_IDS["pad"])

    def weight(*shape: int) -> object:
        return (rng.standard_normal(shape) * 0.2).astype(np.float32)

    vocab = len(tokens)
    writer.add_tensor("token_embd.weight", weight(vocab, N_EMBD))
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    output = weight(vocab, N_EMBD)
    output[: vocab - len(PRINTABLE)] = 0.0  # noise made of printable characters
    writer.add_tensor("output.weight", output)
    for block in range(N_LAYER):
        name = f"blk.{block}"
        writer.add_tensor(f"{name}.attn_norm.weight", np.ones(N_EMBD, np.float32))
        for part in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"{name}.{part}.weight", weight(N_EMBD, N_EMBD))
        writer.add_tensor(f"{name}.ffn_norm.weight", np.ones(N_EMBD, np.float32))
        writer.add_tensor(f"{name}.ffn_gate.weight", weight(N_FF, N_EMBD))
        writer.add_tensor(f"{name}.ffn_up.weight", weight(N_FF, N_EMBD))
        writer.add_tensor(f"{name}.ffn_down.weight", weight(N_EMBD, N_FF))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


if __name__ == "__main__":  # pragma: no cover - a helper for trying it by hand
    import sys

    print(build_fim_gguf(Path(sys.argv[1] if len(sys.argv) > 1 else "tiny-fim.gguf")))
