"""How much GPU memory a fine-tuning step needs, predicted from the architecture before anything is loaded.

Taught, and checked against measurements, in 02_what-lora-saves (section 3); 04 uses it to pick a T4 batch size.
It counts weights, gradients, AdamW's state and what autograd saves, op by op, for Llama-style and GPT-NeoX blocks,
under the course's recipe (fused SDPA, ``use_cache=False``, fused AdamW, autocast, fp32 LoRA adapters). Not covered:
GPT-2 (Conv1D), attention that materialises T x T scores, the CUDA context and allocator fragmentation.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import torch

from .budget import T4_USABLE_GIB
from .models import build_model, model_spec

__all__ = ["estimate_memory"]

METHODS = ("full", "lora", "qlora")
ADAMW_BYTES_PER_PARAM = 8    # exp_avg + exp_avg_sq, fp32
ADAMW_BYTES_PER_TENSOR = 4   # the step counter (a 0-d fp32 tensor per parameter tensor)
NF4_BLOCK, NF4_BLOCK2 = 64, 256   # bitsandbytes: one absmax per 64 weights; double quant: one per 256 absmax
# the loss backward holds three fp32 (B*T, V) tensors at once (the saved log-probabilities, the incoming and the
# outgoing gradient): the largest block for big vocabularies
LOSS_COPIES = 3


@dataclass(frozen=True)
class MemoryEstimate:
    """Predicted bytes of one training step. ``parts`` itemises each field (name -> bytes)."""

    model_id: str
    method: str
    weights: int
    gradients: int
    optimizer: int
    activations: int
    saved: int = 0               # what autograd keeps at the end of the forward pass (02's saved_tensor_bytes)
    params: int = 0
    trainable: int = 0
    parts: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        """weights + gradients + optimizer + activations: the safe number (exact with gradient accumulation)."""
        return self.weights + self.gradients + self.optimizer + self.activations

    @property
    def peak(self) -> int:
        """The allocator's peak with zero_grad(set_to_none=True) and no gradient accumulation: gradients appear
        as activations are freed, so the step needs weights + optimizer + the larger of the two."""
        return self.weights + self.optimizer + max(self.activations, self.gradients)

    def fits(self, limit_gib: float = T4_USABLE_GIB) -> bool:
        return self.total <= limit_gib * 2**30

    def breakdown(self) -> dict:
        return {"weights": self.weights, "gradients": self.gradients, "optimizer": self.optimizer,
                "activations": self.activations}

    def __str__(self) -> str:
        gib = 2**30
        parts = ", ".join(f"{k} {v / gib:,.2f}" for k, v in self.breakdown().items())
        return (f"{self.model_id} {self.method}: total {self.total / gib:,.2f} GiB ({parts} GiB; "
                f"peak without accumulation {self.peak / gib:,.2f} GiB)")


def _dims(config) -> dict:
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    rope = getattr(config, "rope_parameters", None) or {}
    rotary = int(head_dim * rope.get("partial_rotary_factor", getattr(config, "rotary_pct", 1.0)))
    return dict(d=config.hidden_size, i=config.intermediate_size, heads=heads, kv=kv_heads * head_dim,
                q=heads * head_dim, layers=config.num_hidden_layers, vocab=config.vocab_size, rotary=rotary)


@dataclass
class _Recipe:
    """What decides which tensors a step keeps: dtypes, what trains, the block type and the device's kernels."""

    full: bool            # every weight trains
    targets: set          # LoRA target names ('' in full fine-tuning)
    r: int
    dropout: float
    c: int                # bytes of the compute dtype (2: fp16/bf16 autocast, 4: fp32)
    s: int                # bytes of the residual stream (fp32 master weights in full FT, else the base dtype)
    mask: int             # bytes per element of a dropout mask: bool on CUDA, a float "noise" tensor on the CPU
    cuda: bool
    neox: bool = False    # GPT-NeoX blocks (LayerNorm, parallel residual), else Llama-style (RMSNorm, sequential)

    @property
    def autocast(self) -> bool:
        return self.c < 4

    @property
    def ln(self) -> int:
        """Bytes per element of a norm's output: CUDA autocast runs NeoX's LayerNorm in fp32."""
        return 4 if self.neox and self.autocast and self.cuda else self.s


class _Kept:
    """What one block (or the head) keeps: bytes per token, plus fixed bytes (autocast weight copies)."""

    def __init__(self, rc: _Recipe, shapes: dict):
        self.rc, self.shapes, self.per_token, self.fixed = rc, shapes, 0, 0

    def linears(self, names, x_bytes: int, x_grad: bool, x_kept: bool):
        """What the linear layers ``names``, all reading one input (x_bytes per element), keep about it.

        A trainable weight needs its input for its gradient: the input itself when already in the compute
        dtype (shared by every reader), else its own autocast copy. A frozen layer keeps nothing for dW, but
        dx needs W: under autocast that is a half-precision copy of a non-half weight. A LoRA adapter keeps
        the (dropped-out, cast) input of A, the dropout mask, and A's output for B.
        """
        rc, shared = self.rc, 0
        for name in names:
            n_in, n_out = self.shapes[name]
            if rc.full:
                if x_bytes == rc.c:
                    shared = 1
                else:
                    self.per_token += rc.c * n_in
            if rc.autocast and (rc.full or rc.s == 4) and (x_grad or rc.full):
                self.fixed += rc.c * n_in * n_out                 # autocast copy of the weight, for dx
            if name in rc.targets:
                if rc.dropout > 0:
                    self.per_token += (rc.mask * n_in if x_grad else 0) + rc.c * n_in
                elif x_bytes == 4 and not rc.autocast:
                    shared = 1
                else:
                    self.per_token += rc.c * n_in
                self.per_token += rc.c * rc.r                     # A's output, kept by B
                if rc.autocast:                                   # copies of A (for dx, if x needs it) and B
                    self.fixed += rc.c * rc.r * (n_in * x_grad + n_out)
        if shared and not x_kept:
            self.per_token += x_bytes * self.shapes[names[0]][0]


def _norm(dm: dict, rc: _Recipe, inputs: int = 1) -> int:
    """Bytes per token kept by the norms reading one input (``inputs`` of them: NeoX's two). RMSNorm computes in fp32:
    an fp32 copy of its input and 1/rms (and the normalised x if its weight trains). LayerNorm keeps its input, a mean
    and a 1/std; CUDA autocast runs it in fp32, each norm on its own fp32 copy of a half input."""
    d = dm["d"]
    if not rc.neox:
        return 4 * d + 4 + (4 * d if rc.full else 0)
    return (rc.s * d if rc.ln == rc.s else inputs * rc.ln * d) + inputs * 2 * rc.ln


# the linear layers of a block: attention's inputs, its output, the MLP's inputs, its output
_LAYERS = {False: (("q_proj", "k_proj", "v_proj"), "o_proj", ("gate_proj", "up_proj"), "down_proj"),
           True: (("query_key_value",), "dense", ("dense_h_to_4h",), "dense_4h_to_h")}


def _block(dm: dict, rc: _Recipe, shapes: dict, x_grad: bool) -> _Kept:
    """What one block keeps: Llama-style (attention, then a SwiGLU MLP, each after its own RMSNorm) or GPT-NeoX
    (parallel residual: x + attn(ln1(x)) + mlp(ln2(x)), both LayerNorms reading x)."""
    k, (qkv, out, up, down) = _Kept(rc, shapes), _LAYERS[rc.neox]
    k.per_token += _norm(dm, rc, inputs=2 if rc.neox else 1) if x_grad else 0
    k.linears(qkv, rc.ln, x_grad, False)
    attn_grad = x_grad or bool(rc.targets & set(qkv))
    if attn_grad:
        # fused SDPA keeps q, k, v, its output, and a logsumexp per head and token (NeoX: q and k are new after
        # rotary, v a view that keeps the whole q|k|v output)
        qkv_kept = 6 * dm["d"] if rc.neox else 2 * dm["q"] + 2 * dm["kv"]
        k.per_token += rc.c * qkv_kept + 4 * dm["heads"]
    # NeoX's `dense` reads the output reshaped: a view of it on CUDA; on the CPU SDPA's layout makes it a copy
    k.linears((out,), rc.c, attn_grad, rc.cuda or not rc.neox)
    if not rc.neox:   # the MLP reads norm(x + attention)
        x_grad = attn_grad or out in rc.targets
        k.per_token += _norm(dm, rc) if x_grad else 0
    k.linears(up, rc.ln, x_grad, False)
    mlp_grad = x_grad or bool(rc.targets & set(up))
    if mlp_grad:    # GELU keeps its input; SiLU keeps gate, and the product silu(gate) * up both factors
        k.per_token += (1 if rc.neox else 3) * rc.c * dm["i"]
    k.linears((down,), rc.c, mlp_grad, False)
    return k


def _head(dm: dict, rc: _Recipe) -> _Kept:
    """What comes after the last block keeps: the final norm, and the output layer's input (and weight copy)."""
    k = _Kept(rc, {"lm_head": (dm["d"], dm["vocab"])})
    k.per_token += _norm(dm, rc)
    k.linears(("lm_head",), rc.ln, True, False)
    return k


def lora_shapes(model, target_modules) -> list[tuple[str, int, int]]:
    """(name, in_features, out_features) of each layer LoRA would adapt: nn.Linear modules whose name ends
    with a target (PEFT's rule for a list of names; lm_head only if named)."""
    targets = set(target_modules)
    return [(name, m.in_features, m.out_features) for name, m in model.named_modules()
            if isinstance(m, torch.nn.Linear) and name.split(".")[-1] in targets]


def _nf4_bytes(n: int) -> int:
    """Bytes of one NF4 weight of n parameters with double quantization (bitsandbytes' QLoRA default):
    packed 4-bit values, an 8-bit absmax per 64 weights, an fp32 absmax per 256 of those, and the code tables."""
    blocks = math.ceil(n / NF4_BLOCK)
    return math.ceil(n / 2) + blocks + 4 * math.ceil(blocks / NF4_BLOCK2) + 4 * (16 + 256 + 1)


def estimate_memory(model_id, method: str, *, r: int = 16, target_modules=None, batch_size: int = 1,
                    seq_len: int = 512, checkpointing: bool = False, weight_dtype: torch.dtype = torch.float16,
                    compute_dtype: torch.dtype = torch.float16, lora_dropout: float = 0.05,
                    device: str = "cuda") -> MemoryEstimate:
    """Predict the memory of one training step of ``model_id`` (a registered id, built on the meta device, or a model).

    method: 'full' (every weight trains, fp32), 'lora' (frozen base in weight_dtype + fp32 adapters) or 'qlora'
    (frozen NF4 linear layers); r, target_modules (default: every linear layer of a block), lora_dropout: the LoRA
    config; batch_size x seq_len: the padded batch; checkpointing: keep only each block's input and recompute it;
    compute_dtype: the autocast dtype (torch.float32: none); device: 'cuda', or 'cpu' (its kernels keep other tensors).
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r}: choose one of {', '.join(METHODS)}")
    if isinstance(model_id, str):
        model, name = _meta_model(model_spec(model_id).model_id), model_spec(model_id).model_id
    else:
        model, name = model_id, getattr(model_id, "name_or_path", type(model_id).__name__)
    family = model.config.model_type
    if family not in ("llama", "qwen2", "gpt_neox"):
        raise ValueError(f"The memory model covers Llama-style, Qwen2 and GPT-NeoX blocks, not {family} "
                         f"({name}). Pick one of those, or measure with helpers.peak_memory on a GPU.")
    if min(batch_size, seq_len, r) < 1:
        raise ValueError(f"batch_size, seq_len and r must be at least 1 (got {batch_size}, {seq_len}, {r})")
    if device not in ("cuda", "cpu"):
        raise ValueError(f"device={device!r}: 'cuda' or 'cpu'")
    dm, shapes = _dims(model.config), _block_shapes(model)
    names = list(shapes)
    targets = set() if method == "full" else set(target_modules or names)
    adapted = lora_shapes(model, targets)
    if method != "full" and not adapted:
        raise ValueError(f"target_modules={sorted(targets)} match no linear layer of {name}; its linear layers "
                         f"are {names} (helpers.lora_targets gives the usual choice)")
    c = compute_dtype.itemsize
    w = 4 if method == "full" else weight_dtype.itemsize
    rc = _Recipe(full=method == "full", targets=targets, r=r, dropout=lora_dropout, c=c, s=w,
                 mask=1 if device == "cuda" else 4, cuda=device == "cuda", neox=family == "gpt_neox")

    # --- parameters, gradients, optimizer ------------------------------------------------------------------
    params = sum(p.numel() for p in model.parameters())
    if method == "full":
        trainable, tensors = params, len(list(model.parameters()))
        weights = 4 * params
    else:
        trainable, tensors = sum(r * (i + o) for _, i, o in adapted), 2 * len(adapted)
        quantized = [m.weight.numel() for name, m in model.named_modules()
                     if isinstance(m, torch.nn.Linear) and m is not model.get_output_embeddings()]
        base = (params - sum(quantized)) * w + sum(map(_nf4_bytes, quantized)) if method == "qlora" else params * w
        weights = base + 4 * trainable
    gradients = 4 * trainable
    optimizer = ADAMW_BYTES_PER_PARAM * trainable + ADAMW_BYTES_PER_TENSOR * tensors

    # --- activations -----------------------------------------------------------------------------------------
    tokens = batch_size * seq_len
    first = _block(dm, rc, shapes, x_grad=rc.full)           # the first block reads the (frozen?) embeddings
    later = _block(dm, rc, shapes, x_grad=True)
    head = _head(dm, rc)
    rotary = 2 * seq_len * dm["rotary"] * rc.s                # cos and sin, shared by all blocks
    # int64 shifted labels (with one sequence, a view of the padded labels: T + 1), input ids if the
    # embeddings train, the loss
    labels = 8 * (tokens if batch_size > 1 else seq_len + 1) + (8 * tokens if rc.full else 0) + 4
    logits_saved, logits_peak = 4 * tokens * dm["vocab"], LOSS_COPIES * 4 * tokens * dm["vocab"]
    fixed = rotary + labels + tokens * head.per_token + head.fixed
    if checkpointing:   # keep each block's input; in backward recompute one block at a time
        blocks = tokens * dm["layers"] * rc.s * dm["d"]
        saved = blocks + fixed - rotary + logits_saved   # cos/sin live on as checkpoint arguments, not saved
        # autocast caches half copies of trainable weights until the forward pass ends; the forward's own
        # logits (compute dtype), their fp32 copy and the log-probabilities are alive at that moment too
        forward_end = (dm["layers"] * later.fixed if rc.full else 0) + tokens * dm["vocab"] * (
            8 + (rc.c if rc.autocast else 0))
        activations = blocks + fixed + max(logits_peak, tokens * later.per_token + later.fixed, forward_end)
    else:
        blocks = tokens * (first.per_token + (dm["layers"] - 1) * later.per_token)
        blocks += first.fixed + (dm["layers"] - 1) * later.fixed
        saved = blocks + fixed + logits_saved
        activations = blocks + fixed + logits_peak
    parts = {"weights": weights, "gradients": gradients, "optimizer": optimizer, "blocks": blocks,
             "final norm + output layer": tokens * head.per_token + head.fixed, "logits (loss peak)": logits_peak,
             "other (rotary, labels)": rotary + labels}
    return MemoryEstimate(name, method, int(weights), int(gradients), int(optimizer), int(activations),
                          saved=int(saved), params=params, trainable=trainable, parts=parts)


@functools.lru_cache(maxsize=None)
def _meta_model(model_id: str):
    """The real-size architecture on the meta device, built once per model id (it is only read)."""
    return build_model(model_id, device="meta")


def _block_shapes(model) -> dict:
    """{linear name: (in_features, out_features)} of the first block (all blocks are alike)."""
    first = model.base_model.layers[0]
    return {name.split(".")[-1]: (m.in_features, m.out_features) for name, m in first.named_modules()
            if isinstance(m, torch.nn.Linear)}
