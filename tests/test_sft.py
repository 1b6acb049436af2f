"""03_sft's recipe pieces in helpers.train, and the notebook's own definitions against TRL."""
import json
import types

import datasets
import pytest
import torch

import helpers
from helpers.data import DataFormatError
from helpers.dialogue import split_dialogue
from nbcode import definitions

from tests.conftest import MODEL_ID  # noqa: E402


@pytest.fixture(scope="module")
def pairs():
    return helpers.load_preferences("quick", "train")


@pytest.fixture(scope="module")
def tokenizer():
    return helpers.load_tokenizer(MODEL_ID, "quick")


@pytest.fixture(scope="module")
def notebook():
    return definitions("03_sft.ipynb", "split_dialogue", "masked_labels", "real_token_share")


def test_sft_dataset_counts_the_dialogues_that_do_not_parse(pairs):
    sft, skipped = helpers.train.sft_dataset(pairs)
    # data/README.md: lines 23 and 87 of train.jsonl have a broken `chosen`; line 142 only mismatches `rejected`
    assert [row for row, _ in skipped] == [22, 86] and len(sft) == len(pairs) - 2
    assert sorted(reason for _, reason in skipped) == ["no '\\n\\nAssistant:' turn in the dialogue",
                                                       "the final assistant response is empty"]
    assert sft.column_names == ["prompt", "completion", "row"]
    for example in sft:
        prompt, response = split_dialogue(pairs[example["row"]]["chosen"])
        assert example["completion"] == [{"role": "assistant", "content": response}]
        assert example["prompt"] == helpers.to_messages(prompt) and example["prompt"][-1]["role"] == "user"


def test_sft_dataset_names_a_missing_column():
    with pytest.raises(DataFormatError, match="chosen"):
        helpers.train.sft_dataset(datasets.Dataset.from_list([{"text": "hi"}]))


def test_pick_rows_is_a_seeded_sample_in_the_original_order(pairs):
    picked = helpers.train.pick_rows(pairs, 20, seed=3)
    rows = [list(pairs["chosen"]).index(text) for text in picked["chosen"]]
    assert len(picked) == 20 and rows == sorted(rows) and rows != list(range(20))
    assert list(picked["chosen"]) == list(helpers.train.pick_rows(pairs, 20, seed=3)["chosen"])
    assert helpers.train.pick_rows(pairs, None) is pairs and helpers.train.pick_rows(pairs, 10_000) is pairs


def test_sft_config_takes_the_precision_and_sizes_it_is_given(tmp_path):
    args = helpers.train.sft_config(tmp_path, max_steps=7, batch_size=3, grad_accum=2, learning_rate=1e-3,
                                    max_length=128, checkpointing=False, eval_steps=5, save_steps=5)
    prec = helpers.precision()
    assert (args.fp16, args.bf16) == (prec.fp16, prec.bf16)  # never TRL's bf16 default on a T4 or a CPU
    assert not args.activation_checkpointing and not args.gradient_checkpointing
    assert (args.max_steps, args.per_device_train_batch_size, args.gradient_accumulation_steps) == (7, 3, 2)
    assert args.completion_only_loss and not args.packing and args.train_sampling_strategy == "group_by_length"
    assert args.eval_strategy == "steps" and args.save_strategy == "steps" and args.report_to == []
    assert helpers.train.sft_config(tmp_path, max_steps=1, batch_size=1, grad_accum=1, learning_rate=1e-3,
                                    max_length=64, checkpointing=True, save_strategy="no").save_strategy == "no"


def test_lora_config_is_the_course_recipe():
    config = helpers.train.lora_config(MODEL_ID)
    assert (config.r, config.lora_alpha, config.lora_dropout) == (16, 32, 0.05)
    assert set(config.target_modules) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}


def test_checkpoint_helpers(tmp_path):
    assert helpers.latest_checkpoint(tmp_path) is None and helpers.train.checkpoint_step(None) == 0
    for step in (5, 40, 10):
        (tmp_path / f"checkpoint-{step}").mkdir()
        for name in ("optimizer.pt", "scheduler.pt", "rng_state.pth"):  # whole files: latest_checkpoint checks them
            torch.save({}, tmp_path / f"checkpoint-{step}" / name)
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps({"global_step": step}))
        (tmp_path / f"checkpoint-{step}" / "adapter_model.safetensors").write_bytes(b"\x02" + bytes(7) + b"{}")
    (tmp_path / "checkpoint-notes").mkdir()
    assert helpers.train.checkpoint_step(helpers.latest_checkpoint(tmp_path)) == 40


def test_progress_printer_warns_once_when_the_run_would_blow_the_budget(capsys):
    printer_cls = helpers.train.progress._progress_callback_class()
    printer = printer_cls(budget_min=1)
    state = types.SimpleNamespace(global_step=0, max_steps=1_000)
    printer.on_train_begin(None, state, None)
    printer.start -= 10.0  # 10 s for the first step: 1,000 steps would take ~2.8 hours
    state.global_step = 1
    printer.on_log(None, state, None, logs={"loss": 2.0})
    state.global_step = 2
    printer.on_log(None, state, None, logs={"loss": 1.9})
    out = capsys.readouterr().out
    assert out.count("WARNING") == 1 and "min left" in out and "loss 2.0000" in out


def test_notebook_split_matches_the_helper_on_every_dialogue(notebook, pairs):
    for text in list(pairs["chosen"]) + list(pairs["rejected"]):
        try:
            want = split_dialogue(text)
        except DataFormatError:
            with pytest.raises(DataFormatError):
                notebook["split_dialogue"](text)
            continue
        assert notebook["split_dialogue"](text) == want


def make_trainer(output_dir, train_dataset, tokenizer, **sizes):
    """The course's SFTTrainer on the quick stand-in, as 03_sft builds it."""
    from trl import SFTTrainer

    datasets.disable_progress_bars()
    args = helpers.train.sft_config(output_dir, max_steps=1, grad_accum=1, learning_rate=1e-3, checkpointing=False,
                                    **sizes)
    return SFTTrainer(model=helpers.load_model(MODEL_ID, "quick"), args=args, train_dataset=train_dataset,
                      processing_class=tokenizer, peft_config=helpers.train.lora_config(MODEL_ID))


def test_notebook_labels_equal_trl_labels(notebook, pairs, tokenizer, tmp_path):
    sft, _ = helpers.train.sft_dataset(pairs)
    trainer = make_trainer(tmp_path, sft, tokenizer, batch_size=2, max_length=80)  # 80 tokens: some are cut
    processed = trainer.train_dataset
    ours = {ex["row"]: notebook["masked_labels"](tokenizer, ex) for ex in sft}
    assert sum(len(ids) > 80 for ids, _ in ours.values()) > 0
    for row, ids, labels in zip(processed["row"], processed["input_ids"], processed["labels"]):
        assert ids == ours[row][0][:80] and labels == ours[row][1][:80]
    assert len(processed) == sum(any(l != -100 for l in labels[:80]) for _, labels in ours.values())


def test_notebook_real_token_share_matches_the_collator(notebook, pairs, tokenizer, tmp_path):
    sft, _ = helpers.train.sft_dataset(pairs)
    trainer = make_trainer(tmp_path, sft, tokenizer, batch_size=4, max_length=512)
    examples = [trainer.train_dataset[i] for i in range(10)]
    lengths = [len(ex["input_ids"]) for ex in examples]
    masks = [trainer.data_collator(examples[i:i + 4])["attention_mask"] for i in range(0, 10, 4)]
    measured = sum(int(m.sum()) for m in masks) / sum(m.numel() for m in masks)
    assert notebook["real_token_share"](lengths, 4) == pytest.approx(measured, abs=1e-12)


@pytest.fixture()
def adapter_home(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path))
    return tmp_path / "03_sft" / "adapters" / "smollm2-360m-quick"


SFT_SIZES = dict(batch_size=4, grad_accum=1, learning_rate=1e-3, max_length=256)  # a config cell's SFT sizes


def test_ensure_sft_adapter_trains_once_then_reuses(adapter_home, capsys):
    from peft import PeftModel

    path = helpers.train.ensure_sft_adapter(MODEL_ID, "quick", max_steps=2, **SFT_SIZES)
    assert path == adapter_home == helpers.sft_adapter_dir(MODEL_ID, "quick")
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json"} <= {f.name for f in path.iterdir()}
    assert helpers.train.adapter_base_model(path) == helpers.load_model(MODEL_ID, "quick").name_or_path
    assert "Training an SFT adapter" in capsys.readouterr().out
    stamp = (path / "adapter_model.safetensors").stat().st_mtime_ns

    assert helpers.train.ensure_sft_adapter(MODEL_ID, "quick", max_steps=2, **SFT_SIZES) == path
    assert "found" in capsys.readouterr().out and (path / "adapter_model.safetensors").stat().st_mtime_ns == stamp
    assert not list(path.parent.glob("adapter.partial-*"))

    model = PeftModel.from_pretrained(helpers.load_model(MODEL_ID, "quick"), path, is_trainable=True)
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert trainable and all(p.dtype == torch.float32 for p in trainable)
    assert any(p.abs().sum() > 0 for n, p in model.named_parameters() if "lora_B" in n)  # B moved off zero


def test_ensure_sft_adapter_retrains_for_another_base_model(adapter_home, capsys):
    adapter_home.mkdir(parents=True)
    (adapter_home / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "EleutherAI/pythia-70m"}))
    helpers.train.ensure_sft_adapter(MODEL_ID, "quick", max_steps=1, **SFT_SIZES)
    assert "the one there is for 'EleutherAI/pythia-70m'" in capsys.readouterr().out
    assert helpers.train.adapter_base_model(adapter_home).startswith(MODEL_ID)


def readme_estimates_03():
    """03's README row (T4 minutes, GPU memory) from the notebook's own FLOP and memory models, evaluated on its
    full-profile config: the training upper bound (every sequence MAX_LENGTH tokens) and one step's memory."""
    import math

    nb = definitions("03_sft.ipynb", "MODEL_ID", "EVAL_PAIRS", "MAX_LENGTH", "BATCH_SIZE", "GRAD_ACCUM", "MAX_STEPS",
                     "CHECKPOINTING", "EVAL_STEPS", "SAVE_STEPS", "DISCONNECT_AT", "EFFECTIVE_BATCH", "resume_step",
                     "steps_run", "evals_run", "n_params", "sft_flops", "lora_step_memory",
                     preamble="import torch\nimport helpers\nprofile = helpers.Profile('full')\n")
    flops = nb["sft_flops"](nb["n_params"], train_tokens=nb["steps_run"] * nb["EFFECTIVE_BATCH"] * nb["MAX_LENGTH"],
                            eval_tokens=nb["evals_run"] * nb["EVAL_PAIRS"] * nb["MAX_LENGTH"],
                            checkpointing=nb["CHECKPOINTING"])
    memory = nb["lora_step_memory"](nb["MODEL_ID"], nb["BATCH_SIZE"], nb["MAX_LENGTH"], nb["CHECKPOINTING"])
    return flops, f"\u2264 {math.ceil(helpers.t4_minutes(flops))}", f"~{memory.total / 2**30:.1f} GiB"


def test_readme_row_comes_from_the_notebooks_own_models():
    import nbformat

    from nbcode import NOTEBOOKS

    flops, minutes, memory = readme_estimates_03()
    meta = nbformat.read(NOTEBOOKS / "03_sft.ipynb", as_version=4).metadata["course"]
    assert (meta["t4_minutes"], meta["gpu_memory"]) == (minutes, memory), (
        f"set 03_sft's metadata t4_minutes={minutes!r}, gpu_memory={memory!r} ({flops / 1e15:.2f} PFLOP), then run "
        "python scripts/teachers/sync_notebooks.py")
    assert helpers.t4_minutes(flops) <= 15 * 0.9, "03's full profile must fit a T4's 15 minutes with a margin"


def test_plot_history_legends_in_words_and_one_colour_per_series():
    import matplotlib

    matplotlib.use("Agg")
    history = [{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.5, "eval_loss": 1.7}]
    ax = helpers.plot_history(history, ["loss", "eval_loss", "missing"], ylabel="loss (nats per token)",
                              labels={"loss": "training batches"}, colors={"eval_loss": "C3"}, styles={"loss": "--"})
    assert [line.get_label() for line in ax.lines] == ["training batches", "eval_loss"]  # unlabelled keys stay raw
    assert ax.lines[1].get_color() == "C3" and ax.lines[0].get_linestyle() == "--"
    assert ax.get_ylabel() == "loss (nats per token)" and ax.get_xlabel() == "optimizer step"
    one = helpers.plot_history(history, "loss")          # a single name is one series, not one per letter
    assert [line.get_label() for line in one.lines] == ["loss"]


def test_one_tagged_config_cell():
    import nbformat

    from nbcode import NOTEBOOKS

    nb = nbformat.read(NOTEBOOKS / "03_sft.ipynb", as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "profile.pick(" in tagged[0].source, "tag 03's config cell with 'parameters'"
    assert all("profile.pick(" not in c.source for c in nb.cells if c.cell_type == "code" and c is not tagged[0])
    assert "T4_TFLOPS" not in "".join(c.source for c in nb.cells), "one T4 figure: helpers.budget"


# --- 03's recipe is defined once (helpers.train.sft_recipe) and 03's config cell, which teaches it, agrees ----------
@pytest.mark.parametrize("profile", ["full", "quick"])
def test_03_config_cell_teaches_the_one_sft_recipe(profile):
    knobs = {"max_steps": "MAX_STEPS", "batch_size": "BATCH_SIZE", "grad_accum": "GRAD_ACCUM",
             "learning_rate": "LEARNING_RATE", "max_length": "MAX_LENGTH", "checkpointing": "CHECKPOINTING"}
    preamble = f"import helpers\nprofile = helpers.Profile({profile!r})\n"
    nb = definitions("03_sft.ipynb", *knobs.values(), preamble=preamble)
    recipe = helpers.train.sft_recipe(profile)
    assert set(recipe) == set(knobs)
    assert {k: nb[name] for k, name in knobs.items()} == recipe, "03's config cell and helpers.train.SFT_RECIPE differ"


@pytest.mark.parametrize("notebook", ["04_dpo.ipynb", "06_evaluation.ipynb"])
def test_04_and_06_run_03s_recipe_with_fewer_steps_only(notebook):
    for profile in ("full", "quick"):
        nb = definitions(notebook, "SFT_RECIPE", preamble=f"import helpers\nprofile = helpers.Profile({profile!r})\n")
        changed = {k for k, v in nb["SFT_RECIPE"].items() if v != helpers.train.sft_recipe(profile)[k]}
        assert changed <= {"max_steps"}, f"{notebook} changes {changed} of 03's recipe"


def test_sft_recipe_refuses_an_unknown_knob():
    assert helpers.train.sft_recipe("quick", max_steps=3)["max_steps"] == 3
    with pytest.raises(TypeError, match="no max_len.*max_length"):
        helpers.train.sft_recipe("quick", max_len=256)
