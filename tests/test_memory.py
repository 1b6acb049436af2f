"""helpers.memory predicts what a training step keeps - checked tensor by tensor on the CPU.

Activations: autograd's saved-tensor hooks (02's saved_tensor_bytes) count exactly what the forward pass
keeps for backward; the model must predict it to the byte for both block families, full fine-tuning and LoRA,
fp32 and fp16 autocast, with and without dropout and activation checkpointing. Weights, gradients and AdamW
states: counted tensor by tensor after one optimizer step (02's training_state_bytes).
The counters are the notebook's own definitions (tests/nbcode.py).
"""
import peft
import pytest
import torch

import helpers
from helpers.memory import _nf4_bytes, estimate_memory, lora_shapes
from nbcode import definitions

COUNT = definitions("02_what-lora-saves.ipynb", "tensor_bytes", "quant_state_bytes", "training_state_bytes",
                    "saved_tensor_bytes")

STANDINS = ["HuggingFaceTB/SmolLM2-135M", "EleutherAI/pythia-70m", "Qwen/Qwen2.5-0.5B"]
F32, F16 = torch.float32, torch.float16
# (method, autocast dtype or None, base dtype, which targets, lora dropout, checkpointing)
RECIPES = [
    ("full", None, F32, None, 0.0, False),
    ("full", F16, F32, None, 0.0, False),
    ("lora", None, F32, "all", 0.05, False),
    ("lora", None, F32, "all", 0.0, False),
    ("lora", F16, F16, "all", 0.05, False),     # the T4 recipe
    ("lora", F16, F16, "all", 0.0, False),
    ("lora", F16, F32, "all", 0.05, False),     # an fp32 base under autocast: half copies of frozen weights
    ("lora", F16, F16, "first", 0.05, False),   # attention only (q_proj / query_key_value)
    ("lora", F16, F16, "last", 0.05, False),    # MLP only (down_proj / dense_4h_to_h)
    ("full", None, F32, None, 0.0, True),
    ("lora", F16, F16, "all", 0.05, True),
]


def lora_model(model, targets, r, dropout):
    config = peft.LoraConfig(r=r, lora_alpha=2 * r, lora_dropout=dropout, target_modules=targets,
                             task_type="CAUSAL_LM")
    return peft.get_peft_model(model, config)


def measured_saved(model, batch, autocast):
    def forward():
        with torch.autocast("cpu", dtype=autocast or F16, enabled=autocast is not None):
            return model(**batch, use_cache=False).loss

    return COUNT["saved_tensor_bytes"](forward, model)[1]


def pick_targets(model_id, which):
    names = helpers.lora_targets(model_id)
    return None if which is None else names if which == "all" else names[:1] if which == "first" else names[-1:]


@pytest.mark.parametrize("model_id", STANDINS)
@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: f"{r[0]}-{r[1]}-{r[2]}-{r[3]}-d{r[4]}-ckpt{r[5]}")
def test_saved_activations_exact(model_id, recipe):
    method, autocast, base, which, dropout, ckpt = recipe
    targets, r, batch_size, seq_len = pick_targets(model_id, which), 4, 3, 40
    model = helpers.load_model(model_id, "quick", dtype=base).train()
    if method == "lora":
        model = lora_model(model, targets, r, dropout)
    if ckpt:
        model.activation_checkpointing_enable()
    ids = torch.randint(0, model.config.vocab_size, (batch_size, seq_len), generator=torch.Generator().manual_seed(0))
    got = measured_saved(model, {"input_ids": ids, "labels": ids}, autocast)
    want = estimate_memory(helpers.load_model(model_id, "quick"), method, r=r, target_modules=targets,
                           batch_size=batch_size, seq_len=seq_len, checkpointing=ckpt, weight_dtype=base,
                           compute_dtype=autocast or F32, lora_dropout=dropout, device="cpu").saved
    assert got == want


@pytest.mark.parametrize("model_id", ["HuggingFaceTB/SmolLM2-360M", "EleutherAI/pythia-160m"])
def test_saved_activations_exact_at_real_width(model_id):
    """Real widths (GQA with 15 heads / 5 KV heads, partial rotary), two blocks to stay small."""
    config = helpers.models.model_config(model_id)
    config.num_hidden_layers = 2
    torch.manual_seed(0)
    model = peft.get_peft_model(
        __import__("transformers").AutoModelForCausalLM.from_config(config, dtype=F16),
        peft.LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=helpers.lora_targets(model_id),
                        task_type="CAUSAL_LM")).train()
    ids = torch.randint(0, 1000, (1, 24))
    got = measured_saved(model, {"input_ids": ids, "labels": ids}, F16)
    meta = helpers.build_model(model_id)
    meta.config.num_hidden_layers = 2
    meta.base_model.layers = meta.base_model.layers[:2]
    want = estimate_memory(meta, "lora", r=16, batch_size=1, seq_len=24, weight_dtype=F16, compute_dtype=F16,
                           device="cpu").saved
    assert got == want


@pytest.mark.parametrize("method", ["full", "lora"])
def test_weights_gradients_optimizer_exact_after_a_step(method):
    model_id = "HuggingFaceTB/SmolLM2-135M"
    model = helpers.load_model(model_id, "quick").train()
    if method == "lora":
        model = lora_model(model, helpers.lora_targets(model_id), 8, 0.05)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    ids = torch.randint(0, model.config.vocab_size, (2, 16))
    model(input_ids=ids, labels=ids).loss.backward()
    optimizer.step()
    got = COUNT["training_state_bytes"](model, optimizer)
    est = estimate_memory(helpers.load_model(model_id, "quick"), method, r=8, weight_dtype=F32, compute_dtype=F32,
                          device="cpu")
    assert got == {"weights": est.weights, "gradients": est.gradients, "optimizer": est.optimizer}


def test_lora_trainable_count_matches_peft_at_real_size():
    model_id = "HuggingFaceTB/SmolLM2-360M"
    est = estimate_memory(model_id, "lora", r=16)
    trainable, _ = lora_model(helpers.build_model(model_id), helpers.lora_targets(model_id), 16, 0.05) \
        .get_nb_trainable_parameters()
    assert est.trainable == trainable == 8_683_520
    assert est.params == 361_821_120
    assert est.gradients == 4 * trainable and est.optimizer == 8 * trainable + 4 * 2 * 7 * 32


def test_nf4_bytes_match_bitsandbytes():
    bnb = pytest.importorskip("bitsandbytes")
    for shape in [(192, 64), (2560, 960)]:
        weight = bnb.nn.Params4bit(torch.randn(*shape), requires_grad=False, quant_type="nf4",
                                   compress_statistics=True).to("cpu")
        assert weight.numel() + COUNT["quant_state_bytes"](weight.quant_state) == _nf4_bytes(shape[0] * shape[1])


def test_totals_and_the_course_story():
    kw = dict(batch_size=8, seq_len=512)
    full, lora, qlora = (estimate_memory("HuggingFaceTB/SmolLM2-360M", m, **kw) for m in ("full", "lora", "qlora"))
    for est in (full, lora, qlora):
        assert est.total == est.weights + est.gradients + est.optimizer + est.activations
        assert est.peak <= est.total
    assert qlora.weights < lora.weights < full.weights
    assert lora.activations > 0.9 * full.activations        # LoRA does not shrink activations
    ckpt = estimate_memory("HuggingFaceTB/SmolLM2-360M", "lora", checkpointing=True, **kw)
    assert ckpt.activations < lora.activations / 3
    big = estimate_memory("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "full", **kw)
    assert not big.fits() and estimate_memory("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "qlora", batch_size=1).fits()
    assert estimate_memory("HuggingFaceTB/SmolLM2-360M", "lora", batch_size=16, seq_len=512).activations \
        == pytest.approx(2 * estimate_memory("HuggingFaceTB/SmolLM2-360M", "lora", batch_size=8,
                                             seq_len=512).activations, rel=0.01)


def test_lora_shapes_follow_peft_name_matching():
    model = helpers.build_model("EleutherAI/pythia-70m")
    shapes = lora_shapes(model, ["query_key_value"])
    assert len(shapes) == 6 and shapes[0][1:] == (512, 1536)


def test_clear_errors():
    with pytest.raises(ValueError, match="method"):
        estimate_memory("HuggingFaceTB/SmolLM2-135M", "adapter")
    with pytest.raises(ValueError, match="GPT-NeoX"):
        estimate_memory("gpt2", "lora")
    with pytest.raises(ValueError, match="match no linear layer"):
        estimate_memory("EleutherAI/pythia-70m", "lora", target_modules=["q_proj"])
    with pytest.raises(ValueError, match="at least 1"):
        estimate_memory("EleutherAI/pythia-70m", "lora", batch_size=0)
    with pytest.raises(helpers.models.UnknownModelError):
        estimate_memory("no/such-model", "lora")


def test_qlora_weights_and_activations_exact_on_cpu(tmp_path):
    """bitsandbytes quantizes on the CPU too: the 4-bit weights (packed values + quantization constants) and
    what a QLoRA forward keeps are predicted to the byte."""
    transformers = pytest.importorskip("transformers")
    model_id = "HuggingFaceTB/SmolLM2-360M"
    helpers.load_model(model_id, "quick").save_pretrained(tmp_path)
    quantization = transformers.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                                   bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=F16)
    model = transformers.AutoModelForCausalLM.from_pretrained(tmp_path, dtype=F16, device_map={"": "cpu"},
                                                              quantization_config=quantization)
    assert model.is_loaded_in_4bit
    est = estimate_memory(helpers.load_model(model_id, "quick"), "qlora", r=16, batch_size=2, seq_len=16,
                          weight_dtype=F16, compute_dtype=F16, device="cpu")
    assert COUNT["training_state_bytes"](model)["weights"] == est.weights - 4 * est.trainable
    model = lora_model(model, helpers.lora_targets(model_id), 16, 0.05).train()
    ids = torch.randint(0, model.config.vocab_size, (2, 16))
    assert measured_saved(model, {"input_ids": ids, "labels": ids}, F16) == est.saved


def test_the_closed_forms_taught_in_the_notebook():
    """The per-token block formulas in 02's table (T4 recipe: fp16 autocast, CUDA) are what the model computes."""
    from helpers.memory import _block, _block_shapes, _dims, _Recipe

    for model_id, family in [("HuggingFaceTB/SmolLM2-360M", "llama"), ("EleutherAI/pythia-410m", "gpt_neox")]:
        model = helpers.build_model(model_id)
        dm, shapes, r = _dims(model.config), _block_shapes(model), 16
        d, i, kv, heads = dm["d"], dm["i"], dm["kv"], dm["heads"]
        neox = family == "gpt_neox"
        full = _Recipe(full=True, targets=set(), r=r, dropout=0.0, c=2, s=4, mask=1, cuda=True, neox=neox)
        lora = _Recipe(full=False, targets=set(helpers.lora_targets(model_id)), r=r, dropout=0.05, c=2, s=2, mask=1,
                       cuda=True, neox=neox)
        got_full, got_lora = _block(dm, full, shapes, True), _block(dm, lora, shapes, True)
        if family == "llama":
            assert got_full.per_token == 30 * d + 4 * kv + 8 * i + 4 * heads + 8
            assert got_lora.per_token == 30 * d + 4 * kv + 9 * i + 14 * r + 4 * heads + 8
        else:
            assert got_full.per_token == 20 * d + 4 * i + 4 * heads + 16
            assert got_lora.per_token == 29 * d + 5 * i + 8 * r + 4 * heads + 16
        assert got_full.fixed == 2 * sum(n_in * n_out for n_in, n_out in shapes.values())   # 2 bytes per weight
