"""What 02_what-lora-saves teaches, tested outside the notebook (tests/nbcode.py runs its definitions).

The parameter tables are deterministic: the notebook's formula and PEFT must give exactly the counts students
reported for the same configurations. The training step and the T4 calculator are checked as plain functions.
"""
import matplotlib.pyplot as plt
import pytest
import torch

import helpers
from nbcode import definitions

NOTEBOOK = "02_what-lora-saves.ipynb"
PREAMBLE = "import torch\nimport peft\nimport matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nimport helpers\n"

# (model id, targets label, r) -> (trainable, PEFT's "all params"): PEFT 0.21.2 on the real architectures
TABLE = {
    ("EleutherAI/pythia-70m", "all linear", 2): (98_304, 70_524_928),
    ("EleutherAI/pythia-70m", "all linear", 4): (196_608, 70_623_232),
    ("EleutherAI/pythia-70m", "all linear", 8): (393_216, 70_819_840),
    ("EleutherAI/pythia-70m", "all linear", 16): (786_432, 71_213_056),
    ("EleutherAI/pythia-160m", "query_key_value", 8): (294_912, 162_617_856),
    ("EleutherAI/pythia-1.4b", "query_key_value", 8): (1_572_864, 1_416_220_672),
    ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "all 7 projections", 4): (3_153_920, 1_103_202_304),
    ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "all 7 projections", 8): (6_307_840, 1_106_356_224),
    ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "q, k, v", 8): (1_531_904, 1_101_580_288),
    ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "q, v", 16): (2_252_800, 1_102_301_184),
    ("HuggingFaceTB/SmolLM2-135M", "all 7 projections", 16): (4_884_480, 139_399_488),
    ("HuggingFaceTB/SmolLM2-360M", "all 7 projections", 16): (8_683_520, 370_504_640),
    ("Qwen/Qwen2.5-0.5B", "all 7 projections", 16): (8_798_208, 502_830_976),
}


@pytest.fixture(scope="module")
def nb():
    return definitions(NOTEBOOK, "lora_count", "peft_count", "PYTHIA_ALL", "LLAMA_ALL", "CONFIGS", "make_trainable",
                       "train_step", "PARTS", "plot_breakdown", "fit_report", "tensor_bytes", "saved_tensor_bytes",
                       preamble=PREAMBLE)


def test_the_notebook_tabulates_every_configuration(nb):
    assert {(m, label, r) for m, label, _, r in nb["CONFIGS"]} == set(TABLE)


@pytest.mark.parametrize("key", sorted(TABLE), ids=lambda k: f"{k[0].split('/')[1]}-{k[1]}-r{k[2]}")
def test_formula_and_peft_give_the_reported_counts(nb, key):
    model_id, label, r = key
    targets = next(t for m, lab, t, rank in nb["CONFIGS"] if (m, lab, rank) == key)
    meta = helpers.build_model(model_id, device="meta")
    trainable, total = nb["peft_count"](meta, targets, r)
    assert (trainable, total) == TABLE[key]
    assert nb["lora_count"](meta, targets, r) == trainable
    assert nb["peft_count"](meta, targets, r) == (trainable, total)   # unloading left the model as it was


def test_the_homework_figures():
    trainable, total = TABLE[("EleutherAI/pythia-70m", "all linear", 8)]
    assert trainable == 393_216 and f"{100 * trainable / total:.2f}%" == "0.56%"


@pytest.mark.parametrize("method", ["full", "lora"])
def test_training_step_learns_and_keeps_trainable_weights_fp32(nb, method):
    model_id = "HuggingFaceTB/SmolLM2-360M"
    dtype = torch.float32 if method == "full" else torch.float16       # a half-precision frozen base for LoRA
    model, optimizer = nb["make_trainable"](helpers.load_model(model_id, "quick", dtype=dtype), method,
                                            helpers.train.lora_config(model_id, r=8, dropout=0.0))
    assert all(p.dtype == torch.float32 for p in model.parameters() if p.requires_grad)
    prec = helpers.env.Precision("fp16", torch.float16, fp16=True, bf16=False)    # the T4 recipe, on the CPU
    scaler = torch.amp.GradScaler("cpu", enabled=True)
    optimizer.param_groups[0]["lr"] = 1e-2
    ids = torch.randint(0, model.config.vocab_size, (4, 32), generator=torch.Generator().manual_seed(0))
    losses = [nb["train_step"](model, optimizer, scaler, {"input_ids": ids, "labels": ids}, prec).item()
              for _ in range(12)]
    assert losses[-1] < losses[0] - 0.5
    assert all(p.grad is None for p in model.parameters())             # zero_grad(set_to_none=True)


def test_checkpointing_keeps_only_block_inputs(nb):
    model_id = "HuggingFaceTB/SmolLM2-360M"
    recipe = helpers.train.lora_config(model_id, r=8, dropout=0.05)
    ids = torch.randint(0, 1000, (2, 32))
    kept = {}
    for ckpt in (False, True):
        model, _ = nb["make_trainable"](helpers.load_model(model_id, "quick"), "lora", recipe, ckpt)
        kept[ckpt] = nb["saved_tensor_bytes"](lambda: model(input_ids=ids, labels=ids, use_cache=False).loss, model)[1]
    assert kept[True] < kept[False] / 2


def test_fit_report_is_a_plain_function(nb, capsys):
    est = nb["fit_report"]("HuggingFaceTB/SmolLM2-360M", "lora", 16, 8, 512, False, show=False)
    assert est.fits() and "fits" in capsys.readouterr().out
    assert not nb["fit_report"]("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "full", 16, 1, 512, False, show=False).fits()
    assert "does NOT fit" in capsys.readouterr().out
    est = nb["fit_report"]("EleutherAI/pythia-160m", "qlora", 8, 4, 256, True, limit_gib=1.0, show=True)
    assert est.total == helpers.estimate_memory("EleutherAI/pythia-160m", "qlora", r=8, batch_size=4, seq_len=256,
                                                checkpointing=True).total


def test_breakdown_figure_is_labelled_in_words_with_units(nb):
    """Axes with units, legend entries in words (never raw field names), one fixed colour per memory part."""
    plans = {m: helpers.estimate_memory("EleutherAI/pythia-160m", m, r=8, batch_size=2, seq_len=128)
             for m in ("full", "lora")}
    fig, axes = plt.subplots(1, 2)
    for ax in axes:
        nb["plot_breakdown"](plans, ax, "test", ymax_gib=20)
    labels = axes[0].get_legend_handles_labels()[1]
    assert "AdamW states" in labels and "optimizer" not in labels and any("T4" in label for label in labels)
    assert "GiB" in axes[0].get_ylabel() and axes[0].get_xlabel()
    assert axes[0].get_ylim() == axes[1].get_ylim() == (0, 20)
    colours = [[patch.get_facecolor() for patch in ax.patches] for ax in axes]
    assert colours[0] == colours[1]                    # the same part has the same colour in every panel
    plt.close(fig)
