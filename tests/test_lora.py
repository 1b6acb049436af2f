"""The LoRA of 01_lora-from-scratch, tested outside the notebook: the notebook's own definitions (tests/nbcode.py)
against PEFT - outputs and gradients, logits after injection, trainable counts on real-size architectures, the
errors a wrong target gives, merging, half precision."""
import copy
import io
import logging
import warnings
from contextlib import redirect_stdout

import pytest
import torch
from nbcode import definitions
from torch import nn

import helpers

logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
peft = pytest.importorskip("peft")

PREAMBLE = ("import copy\nimport math\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n"
            "from transformers.pytorch_utils import Conv1D\nimport helpers\nimport peft\n")
NB = definitions("01_lora-from-scratch.ipynb", "lora_scaling", "LoRALinear", "LoRAConv1D", "peft_lora_linear",
                 "copy_lora_weights",
                 "find_targets", "replace_module", "inject_lora", "lora_param_count", "lora_layers",
                 "merge_and_unload", preamble=PREAMBLE)
LoRALinear, inject_lora = NB["LoRALinear"], NB["inject_lora"]
LLAMA, NEOX = "HuggingFaceTB/SmolLM2-360M", "EleutherAI/pythia-410m"


def random_pair(d_in, d_out, r, alpha, dropout=0.0, bias=True, seed=0, **options):
    """Our layer and PEFT's around the same base weights, with the same random (non-zero) A and B."""
    torch.manual_seed(seed)
    ours = LoRALinear(nn.Linear(d_in, d_out, bias=bias), r=r, alpha=alpha, dropout=dropout,
                      rslora=options.get("use_rslora", False))
    with torch.no_grad():
        ours.B.normal_()
    theirs = NB["peft_lora_linear"](ours.base, r, alpha, dropout, **options)
    NB["copy_lora_weights"](ours, theirs)
    return ours.eval(), theirs.eval()


@pytest.mark.parametrize("d_in, d_out, r, alpha, bias, rslora", [
    (64, 64, 8, 16, True, False), (96, 40, 4, 32, False, False), (33, 130, 16, 32, True, True), (960, 320, 16, 32, False, False)])
def test_layer_equals_peft_outputs_and_gradients(d_in, d_out, r, alpha, bias, rslora):
    ours, theirs = random_pair(d_in, d_out, r, alpha, bias=bias, use_rslora=rslora)
    assert ours.scaling == theirs.scaling["default"]
    x = torch.randn(3, 7, d_in, requires_grad=True)
    x_peft = x.detach().clone().requires_grad_(True)
    grad_out = torch.randn(3, 7, d_out)
    out_ours, out_theirs = ours(x), theirs(x_peft)
    (out_ours * grad_out).sum().backward()
    (out_theirs * grad_out).sum().backward()
    assert (out_ours - out_theirs).abs().max() <= 1e-6
    assert (ours.A.grad - theirs.lora_A["default"].weight.grad).abs().max() <= 1e-6
    assert (ours.B.grad - theirs.lora_B["default"].weight.grad).abs().max() <= 1e-6
    assert (x.grad - x_peft.grad).abs().max() <= 1e-6
    assert ours.A.grad.abs().max() > 0 and ours.B.grad.abs().max() > 0   # the comparison is not between zeros


def test_dropout_in_training_mode_matches_peft_with_the_same_seed():
    ours, theirs = random_pair(48, 24, 4, 8, dropout=0.3)
    x = torch.randn(5, 48)
    torch.manual_seed(7)
    out_ours = ours.train()(x)
    torch.manual_seed(7)
    out_theirs = theirs.train()(x)
    assert (out_ours - out_theirs).abs().max() <= 1e-6
    assert not torch.allclose(out_ours, ours.eval()(x))                 # dropout really acted


def test_new_layer_is_a_no_op_and_keeps_trainable_weights_fp32():
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        base = nn.Linear(16, 8).to(dtype)
        layer = LoRALinear(base, r=4, alpha=8)
        x = torch.randn(2, 16).to(dtype)
        assert torch.equal(layer(x), base(x))
        assert layer.A.dtype == layer.B.dtype == torch.float32 and layer(x).dtype == dtype
        assert [n for n, p in layer.named_parameters() if p.requires_grad] == ["A", "B"]


def test_fp16_base_trains_under_grad_scaler():
    layer = LoRALinear(nn.Linear(16, 8).half(), r=4, alpha=8)
    optimizer = torch.optim.AdamW([layer.A, layer.B], lr=1e-2)
    scaler = torch.amp.GradScaler("cpu")
    scaler.scale(layer(torch.randn(4, 16).half()).float().pow(2).mean()).backward()
    scaler.step(optimizer)                                               # would raise for fp16 A and B
    scaler.update()
    assert layer.B.abs().max() > 0


def test_merge_and_unmerge_round_trip():
    ours, theirs = random_pair(40, 24, 4, 8)
    x = torch.randn(6, 40)
    W0 = ours.base.weight.detach().clone()
    with torch.no_grad():
        before = ours(x)
        assert (ours.delta_weight() - theirs.get_delta_weight("default")).abs().max() <= 1e-7
        ours.merge()
        assert (ours(x) - before).abs().max() <= 1e-5
        theirs.merge()
        assert (ours.base.weight - theirs.base_layer.weight).abs().max() <= 1e-6
        ours.unmerge()
        assert (ours.base.weight - W0).abs().max() <= 1e-6 and (ours(x) - before).abs().max() <= 1e-5
    with pytest.raises(RuntimeError):
        ours.unmerge()


def standin_pair(model_id):
    return helpers.load_model(model_id, "quick", device="cpu"), helpers.load_model(model_id, "quick", device="cpu")


@pytest.mark.parametrize("model_id", [LLAMA, NEOX])
def test_logits_unchanged_after_injection_and_equal_to_peft_with_trained_weights(model_id):
    model, reference = standin_pair(model_id)
    targets = helpers.lora_targets(model_id)
    ids = torch.randint(0, 500, (2, 16), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        base_logits = model(input_ids=ids).logits
    names = inject_lora(model, targets, r=4, alpha=8, dropout=0.1)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids).logits, base_logits)
    config = peft.LoraConfig(r=4, lora_alpha=8, lora_dropout=0.1, target_modules=targets)
    peft_model = peft.get_peft_model(reference, config).eval()
    gen = torch.Generator().manual_seed(1)
    for name in names:                                                   # "train": random B everywhere
        layer = model.get_submodule(name)
        with torch.no_grad():
            layer.B.copy_(torch.randn(layer.B.shape, generator=gen) * 0.1)
        NB["copy_lora_weights"](layer, peft_model.base_model.model.get_submodule(name))
    with torch.no_grad():
        ours, theirs = model(input_ids=ids).logits, peft_model(input_ids=ids).logits
        assert not torch.allclose(ours, base_logits)
        assert (ours - theirs).abs().max() <= 1e-6
        NB["merge_and_unload"](model)
        assert not NB["lora_layers"](model)
        # 01's rule: fp32 rounding of the merged weights, at most 1e-5 of the largest logit (the pretrained
        # micro-model's logits reach several units; a random stand-in's stay near zero)
        assert (model(input_ids=ids).logits - ours).abs().max() <= 1e-5 * max(1.0, ours.abs().max().item())


def peft_counts(model_id, targets, r):
    peft_model = peft.get_peft_model(helpers.build_model(model_id, device="meta"),
                                     peft.LoraConfig(r=r, lora_alpha=2 * r, target_modules=targets, task_type="CAUSAL_LM"))
    with redirect_stdout(io.StringIO()) as printed:
        peft_model.print_trainable_parameters()
    return peft_model.get_nb_trainable_parameters(), printed.getvalue().strip()


@pytest.mark.parametrize("model_id, which", [(LLAMA, "all"), (LLAMA, "attention"), (NEOX, "all"), (NEOX, "mlp"),
                                             ("Qwen/Qwen2.5-0.5B", "all")])
def test_trainable_counts_equal_peft_on_real_size_architectures(model_id, which):
    targets = helpers.lora_targets(model_id, which)
    (want_trainable, want_total), want_line = peft_counts(model_id, targets, 16)
    meta = helpers.build_model(model_id, device="meta")
    assert NB["lora_param_count"](meta, targets, 16) == want_trainable
    inject_lora(meta, targets, r=16, alpha=32)
    assert helpers.count_parameters(meta) == (want_trainable, want_total)
    assert helpers.describe_trainable(meta) == want_line
    assert want_trainable > 0


def test_param_count_doubles_with_rank():
    meta = helpers.build_model(LLAMA, device="meta")
    targets = helpers.lora_targets(LLAMA)
    counts = [NB["lora_param_count"](meta, targets, r) for r in (2, 4, 8, 16)]
    assert counts == [counts[0] * k for k in (1, 2, 4, 8)]
    assert counts[-1] == 8_683_520                                        # r = 16 on SmolLM2-360M, as PEFT counts


def test_wrong_target_name_is_a_clear_value_error():
    with pytest.raises(ValueError) as err:
        inject_lora(helpers.build_model(LLAMA, device="meta"), ["query_key_value"], r=4, alpha=8)
    message = str(err.value)
    assert "'query_key_value'" in message and "q_proj" in message and "lora_targets" in message
    with pytest.raises(ValueError) as err:
        inject_lora(helpers.build_model(NEOX, device="meta"), ["q_proj"], r=4, alpha=8)
    assert "query_key_value" in str(err.value)


def test_conv1d_and_double_injection_are_clear_type_errors():
    with pytest.raises(TypeError) as err:
        inject_lora(helpers.build_model("openai-community/gpt2", device="meta"), ["c_attn"], r=4, alpha=8)
    assert "Conv1D" in str(err.value) and "fan_in_fan_out" in str(err.value) and "LoRAConv1D" in str(err.value)
    model = helpers.build_model(LLAMA, device="meta")
    inject_lora(model, ["q_proj"], r=4, alpha=8)
    with pytest.raises(TypeError) as err:
        inject_lora(model, ["q_proj"], r=4, alpha=8)
    assert "already injected" in str(err.value)
    with pytest.raises(TypeError):
        LoRALinear(nn.Embedding(10, 4), r=2, alpha=4)


def test_conv1d_lora_equals_peft_fan_in_fan_out_and_merges():
    """GPT-2's Conv1D (W0 stored (d_in, d_out)): LoRAConv1D = PEFT with fan_in_fan_out=True; merging transposes."""
    from transformers.pytorch_utils import Conv1D

    LoRAConv1D = NB["LoRAConv1D"]
    torch.manual_seed(0)
    base = Conv1D(48, 20)                                  # nf=48 outputs, nx=20 inputs: weight (20, 48)
    with torch.no_grad():
        base.weight.normal_(std=0.1)
        base.bias.normal_()
    ours = LoRAConv1D(copy.deepcopy(base), r=4, alpha=8).eval()
    assert ours.A.shape == (4, 20) and ours.B.shape == (48, 4)
    with torch.no_grad():
        ours.B.normal_()
    holder = nn.Module()
    holder.layer = copy.deepcopy(base)
    peft.inject_adapter_in_model(peft.LoraConfig(r=4, lora_alpha=8, target_modules=["layer"], fan_in_fan_out=True),
                                 holder)
    theirs = holder.layer.eval()
    NB["copy_lora_weights"](ours, theirs)
    x = torch.randn(3, 5, 20)
    out_ours, out_theirs = ours(x), theirs(x)
    assert (out_ours - base(x)).abs().max() > 1e-3         # the branch matters
    assert (out_ours - out_theirs).abs().max() <= 1e-6
    assert torch.allclose(ours.delta_weight(), theirs.get_delta_weight("default"), atol=1e-6)
    with torch.no_grad():
        ours.merge()
        assert (ours(x) - out_ours).abs().max() <= 1e-5
        ours.unmerge()
    assert torch.allclose(ours.base.weight, base.weight, atol=1e-6)
    with pytest.raises(TypeError, match="LoRAConv1D"):
        LoRALinear(copy.deepcopy(base), r=4, alpha=8)


def test_only_lora_weights_train_after_injection():
    model, _ = standin_pair(LLAMA)
    names = inject_lora(model, ["q_proj", "down_proj"], r=2, alpha=4)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert sorted(trainable) == sorted(f"{n}.{ab}" for n in names for ab in ("A", "B"))
    assert len(names) == 2 * model.config.num_hidden_layers


def test_a_check_that_loads_a_wrong_shape_gives_its_own_hint_or_the_shape_rule():
    """helpers.check.lora._put, which loads a check's A and B into the student's layer: a wrong shape or a missing
    parameter is named, with the hint of the check that called it (inject_lora's) when it gives one, else the rule."""
    from helpers.check import SelfCheckError
    from helpers.check import lora as checks

    layer, values = LoRALinear(nn.Linear(6, 5), r=3, alpha=6), {"A": torch.zeros(2, 6), "B": torch.zeros(5, 2)}
    for hint, shown in [("", checks._SHAPE_HINT), ("build it with the r you were given", None)]:
        with pytest.raises(SelfCheckError) as err:
            checks._put("lora_forward", layer, values, ("A", "B"), hint)
        assert str(err.value) == f"lora_forward: A has shape (3, 6), expected (2, 6)\nHint: {shown or hint}"
    for hint, shown in [("", checks._NAMES_HINT), ("keep A", None)]:
        with pytest.raises(SelfCheckError) as err:
            checks._put("lora_forward", nn.Linear(6, 5), values, ("A",), hint)
        assert str(err.value) == f"lora_forward: the layer (Linear) has no parameter 'A'\nHint: {shown or hint}"
