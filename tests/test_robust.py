"""Issue 12: runs that survive (checkpoints, one run per configuration, locks) and every bad input caught where
it enters, with one clear message. Quick profile, CPU; the two fault tests kill a forked copy of the test process (bounded)."""
import json
import os
import signal
import time
import types
from pathlib import Path
from unittest import mock

import datasets
import pytest
import torch

import helpers
from helpers.data import DataFormatError
from helpers.dialogue import split_dialogue
from helpers.train import PrecisionError, RunError, RunLock

pytestmark = pytest.mark.usefixtures("one_thread")   # tests/conftest.py

from tests.conftest import MODEL_ID  # noqa: E402
SIZES = dict(batch_size=2, grad_accum=1, learning_rate=2e-3, max_length=96, checkpointing=False, logging_steps=1,
             save_steps=2, seed=0)


@pytest.fixture(scope="module")
def sft_data():
    pairs = helpers.train.pick_rows(helpers.load_preferences("quick", "train"), 30, seed=0)
    return helpers.train.sft_dataset(pairs)[0]


def build_trainer(data, max_steps, **overrides):
    """The course's SFTTrainer on the quick stand-in, in the run folder its configuration keys."""
    from trl import SFTTrainer

    datasets.disable_progress_bars()
    sizes = {**SIZES, **overrides}
    args = helpers.train.sft_config(helpers.output_dir("03_sft"), max_steps=max_steps, **sizes)
    helpers.train.use_run_dir(args, "03_sft", model_id=MODEL_ID, profile="quick", data=helpers.train.fingerprint(data))
    trainer = SFTTrainer(model=helpers.load_model(MODEL_ID, "quick"), args=args, train_dataset=data,
                         processing_class=helpers.load_tokenizer(MODEL_ID, "quick", chat_template="course"),
                         peft_config=helpers.train.lora_config(MODEL_ID))
    return helpers.train.show_progress(trainer)


def lora_state(trainer):
    return {n: p.detach().clone() for n, p in trainer.model.named_parameters() if "lora_" in n}


def losses(trainer):
    return {h["step"]: h["loss"] for h in trainer.state.log_history if "loss" in h}


def complete_checkpoint(folder, step, drop=()):
    """A checkpoint folder whose files are whole (tiny, but each in the format its name says: latest_checkpoint
    checks that) - except the ones in ``drop``, left out."""
    from safetensors.torch import save_file

    path = Path(folder) / f"checkpoint-{step}"
    path.mkdir(parents=True)
    for name in ("adapter_model.safetensors", "optimizer.pt", "scheduler.pt", "rng_state.pth", "trainer_state.json"):
        if name in drop:
            continue
        if name.endswith(".json"):
            (path / name).write_text(json.dumps({"global_step": step}))
        elif name.endswith(".safetensors"):
            save_file({"w": torch.zeros(2)}, path / name)
        else:
            torch.save({"step": step}, path / name)
    return path


# --- faults 1: checkpoints ---------------------------------------------------------------------------------
def test_latest_checkpoint_skips_incomplete_ones_and_says_why(tmp_path, capsys):
    complete_checkpoint(tmp_path, 10)
    complete_checkpoint(tmp_path, 20, drop=("optimizer.pt", "scheduler.pt"))  # would restart AdamW and warm-up
    (tmp_path / "checkpoint-30").mkdir()                                        # killed before writing anything
    assert Path(helpers.latest_checkpoint(tmp_path)).name == "checkpoint-10"
    out = capsys.readouterr().out
    assert "skipping checkpoint-30: empty folder" in out and "skipping checkpoint-20: missing optimizer.pt, scheduler.pt" in out
    assert Path(helpers.latest_checkpoint(tmp_path, remove_incomplete=True)).name == "checkpoint-10"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-10"]


def in_child(work) -> int:
    """Run ``work`` in a forked copy of this process (libraries already imported: no start-up cost); the pid."""
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        try:
            work()
        finally:
            os._exit(1)
    return pid


def wait(pid, timeout=60.0) -> int:
    """The child's exit: a negative signal number if a signal killed it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise TimeoutError(f"child {pid} still running after {timeout} s")


def test_a_kill_during_a_save_does_not_block_the_rerun(home, sft_data, monkeypatch, capsys):
    import transformers

    original = transformers.Trainer._save_optimizer_and_scheduler

    def save_then_die(self, output_dir):
        if self.state.global_step == 4:  # the adapter is written; the runtime dies before the optimizer
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, output_dir)

    def first_session():
        monkeypatch.setattr(transformers.Trainer, "_save_optimizer_and_scheduler", save_then_die)
        helpers.train.fit(build_trainer(sft_data, 6))

    assert wait(in_child(first_session)) == -signal.SIGKILL
    run = next((home / "03_sft" / "runs").iterdir())
    assert (run / "checkpoint-4").is_dir() and not (run / "checkpoint-4" / "optimizer.pt").exists()
    assert (run / "run.lock").exists()  # the dead process could not release it
    capsys.readouterr()

    trainer = build_trainer(sft_data, 6)  # the rerun, in a new "runtime"
    assert Path(trainer.args.output_dir) == run  # same configuration, same folder
    result = helpers.train.fit(trainer)
    out = capsys.readouterr().out
    assert "taking over the lock" in out and "no longer runs" in out
    assert "skipping checkpoint-4: missing optimizer.pt, scheduler.pt, trainer_state.json, rng_state.pth" in out
    assert "resuming from checkpoint-2 (step 2 of 6)" in out
    assert result.global_step == 6 and (run / "finished.json").exists() and not (run / "run.lock").exists()


# --- faults 2: one run per configuration, one writer per run -------------------------------------------------
def test_run_dir_is_keyed_by_every_setting(home):
    args = lambda **kw: helpers.train.sft_config(home, max_steps=4, **{**SIZES, **kw})
    key = lambda a, **ident: helpers.train.use_run_dir(a, "03_sft", **{"model_id": MODEL_ID, "profile": "quick", **ident})
    base = key(args())
    assert base == key(args()) and base.name.startswith("smollm2-360m-")
    assert json.loads((base / "config.json").read_text())["args"]["learning_rate"] == SIZES["learning_rate"]
    others = {key(args(learning_rate=1e-3)), key(args(batch_size=4)), key(args(max_length=64)),
              key(args(), data="other-data"), key(args(logging_steps=3), model_id="Qwen/Qwen2.5-0.5B")}
    assert base not in others and len(others) == 5
    assert key(args(logging_steps=5, save_steps=3)) == base  # where/how often it logs or saves: the same run
    from trl import DPOConfig

    dpo = lambda **kw: DPOConfig(output_dir=str(home), report_to="none", activation_checkpointing=False,
                                **helpers.precision().trainer_args, **kw)
    assert len({key(dpo(loss_type=["sigmoid"])), key(dpo(loss_type=["ipo"])), key(dpo(max_length=128))}) == 3


def test_a_finished_run_is_reported_not_retrained(home, sft_data, capsys):
    first = helpers.train.fit(build_trainer(sft_data, 4))
    assert first.global_step == 4
    capsys.readouterr()
    trainer = build_trainer(sft_data, 4)
    helpers.train.fit(trainer)
    out = capsys.readouterr().out
    assert "finished earlier" in out and "no new steps" in out and "clear_run" in out
    assert trainer.state.global_step == 4 and max(losses(trainer)) == 4  # its history, read back
    (Path(trainer.args.output_dir) / "finished.json").unlink()  # killed after the last save, before the record
    again = build_trainer(sft_data, 4)
    assert helpers.train.fit(again).global_step == 4 == again.state.global_step  # not 5 of 4
    assert "finished earlier" in capsys.readouterr().out
    other = build_trainer(sft_data, 4, learning_rate=1e-3)  # another configuration: its own, fresh run
    assert other.args.output_dir != trainer.args.output_dir
    helpers.train.fit(other)
    assert "starting a fresh run" in capsys.readouterr().out


def test_a_second_live_writer_is_refused_and_a_dead_ones_lock_is_taken_over(home, sft_data, capsys):
    trainer = build_trainer(sft_data, 2)
    folder = trainer.args.output_dir
    ready = Path(folder) / "child-has-the-lock"

    def other_copy():  # a second copy of the notebook, training in the same folder
        with RunLock(folder):
            ready.touch()
            time.sleep(60)

    pid = in_child(other_copy)
    try:
        for _ in range(300):
            if ready.exists():
                break
            time.sleep(0.1)
        with pytest.raises(RunError, match=f"Another live process is training .*pid {pid}.*Wait for it"):
            helpers.train.fit(trainer)
        assert not list(Path(folder).glob("checkpoint-*"))  # refused before any step
    finally:
        os.kill(pid, signal.SIGKILL)
        wait(pid)
    assert helpers.train.fit(trainer).global_step == 2
    assert "taking over the lock" in capsys.readouterr().out


def test_a_lock_from_another_machine_expires_once_untouched(tmp_path, capsys):
    lock = tmp_path / "run.lock"
    lock.write_text(json.dumps({"pid": 1, "host": "some-colab-vm", "since": "earlier"}))
    with pytest.raises(RunError, match="some-colab-vm"):
        RunLock(tmp_path).acquire()
    os.utime(lock, (time.time() - 3600, time.time() - 3600))  # a dead runtime stops touching it
    with RunLock(tmp_path):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert "untouched for 60 min" in capsys.readouterr().out and not lock.exists()


# --- item 4: a resumed run replays the steps it lost ------------------------------------------------------------
def test_an_interrupted_and_resumed_run_equals_an_uninterrupted_one(tmp_path, monkeypatch, sft_data):
    from transformers import TrainerCallback

    class Disconnect(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            control.should_training_stop = state.global_step >= 3

    def read_one_epoch(trainer):  # what 03 does before training (section 5): it draws from the global RNG
        for _ in trainer.get_train_dataloader():
            pass

    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "a"))
    whole = build_trainer(sft_data, 6)
    read_one_epoch(whole)
    helpers.train.fit(whole)

    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "b"))
    cut = build_trainer(sft_data, 6)
    read_one_epoch(cut)
    cut.add_callback(Disconnect())
    helpers.train.fit(cut)
    assert cut.state.global_step == 3
    resumed = build_trainer(sft_data, 6)  # a new runtime: nothing read before training
    helpers.train.fit(resumed)
    assert resumed.state.global_step == 6
    for step in (3, 4, 5, 6):  # step 3 (lost: redone after checkpoint-2) to 6
        assert losses(resumed)[step] == pytest.approx(losses(whole)[step], rel=1e-5, abs=1e-6), step
    for name, value in lora_state(whole).items():
        torch.testing.assert_close(lora_state(resumed)[name], value, rtol=1e-5, atol=1e-6)


# --- item 3: adapters per base model; sizes from the caller ----------------------------------------------------
def test_adapters_are_kept_per_base_model(home, capsys):
    sizes = dict(max_steps=1, batch_size=2, grad_accum=1, learning_rate=1e-3, max_length=64)
    smol = helpers.train.ensure_sft_adapter(MODEL_ID, "quick", **sizes)
    stamp = (smol / "adapter_model.safetensors").stat().st_mtime_ns
    pythia = helpers.train.ensure_sft_adapter("EleutherAI/pythia-70m", "quick", **sizes)
    assert smol != pythia and smol == helpers.sft_adapter_dir(MODEL_ID, "quick")
    assert helpers.train.adapter_base_model(smol).startswith(MODEL_ID)
    assert helpers.train.adapter_base_model(pythia).startswith("EleutherAI/pythia-70m")
    capsys.readouterr()
    assert helpers.train.ensure_sft_adapter(MODEL_ID, "quick", **sizes) == smol
    assert "found" in capsys.readouterr().out and (smol / "adapter_model.safetensors").stat().st_mtime_ns == stamp
    assert helpers.sft_adapter_dir(MODEL_ID, "quick") != helpers.sft_adapter_dir(MODEL_ID, "full")


def test_loading_an_adapter_checks_its_base_model(home):
    sizes = dict(max_steps=1, batch_size=2, grad_accum=1, learning_rate=1e-3, max_length=64)
    path = helpers.train.ensure_sft_adapter(MODEL_ID, "quick", **sizes)
    model = helpers.train.load_adapter(helpers.load_model(MODEL_ID, "quick"), path, is_trainable=True)
    assert helpers.count_parameters(model)[0] > 0
    same_shapes = helpers.load_model("HuggingFaceTB/SmolLM2-135M", "quick")  # same stand-in shapes, other model
    with pytest.raises(ValueError, match="was trained on 'HuggingFaceTB/SmolLM2-360M.*only fits the base model"):
        helpers.train.load_adapter(same_shapes, path)
    wider = helpers.load_model(MODEL_ID, "quick")
    config = json.loads((path / "adapter_config.json").read_text())
    wider_cfg = wider.config.to_dict() | {"hidden_size": 96, "intermediate_size": 256}
    import transformers

    wider = transformers.AutoModelForCausalLM.from_config(transformers.LlamaConfig(**{
        k: v for k, v in wider_cfg.items() if k in transformers.LlamaConfig().to_dict()}))
    wider.name_or_path = config["base_model_name_or_path"]  # the same name, another width
    with pytest.raises(ValueError, match="does not fit this model's layers.*force=True"):
        helpers.train.load_adapter(wider, path)


# --- bad inputs ----------------------------------------------------------------------------------------------
PAIR = {"chosen": "\n\nHuman: hi\n\nAssistant: hello", "rejected": "\n\nHuman: hi\n\nAssistant: go away"}


@pytest.mark.parametrize("row, reason", [
    ({**PAIR, "chosen": None}, "chosen: not text but NoneType"),
    ({**PAIR, "rejected": 3}, "rejected: not text but int"),
    ({**PAIR, "rejected": "\n\nHuman: hi\n\nAssistant: no\n\nHuman: why?"}, "rejected: the dialogue ends with a Human turn"),
    ({**PAIR, "rejected": PAIR["chosen"]}, "chosen and rejected answers are identical"),
    ({"chosen": PAIR["chosen"]}, "no 'rejected' column"),
])
def test_bad_pairs_become_reasons_with_row_and_side(row, reason):
    kept, skipped = helpers.parse_rows([PAIR, row], helpers.to_preference_example)
    assert len(kept) == 1 and skipped[0][0] == 1 and skipped[0][1].startswith(reason)


def test_any_per_row_error_is_a_reason_and_nothing_left_is_one_clear_error():
    kept, skipped = helpers.parse_rows([2, 0], lambda r: 1 / r)
    assert kept == [(0, 0.5)] and skipped == [(1, "ZeroDivisionError: division by zero")]
    with pytest.raises(DataFormatError, match="None of the 2 rows could be used: 2 x no 'rejected' column"):
        helpers.parse_rows([{"chosen": PAIR["chosen"]}] * 2, helpers.to_preference_example)


def test_empty_datasets_are_refused_where_they_enter():
    empty = datasets.Dataset.from_dict({"chosen": [], "rejected": []})
    with pytest.raises(DataFormatError, match="dataset is empty"):
        helpers.train.sft_dataset(empty)
    with pytest.raises(DataFormatError, match="dataset is empty"):
        helpers.parse_rows(empty, helpers.to_preference_example)  # 04's pairs


def test_a_dialogue_ending_with_a_human_turn_is_not_an_sft_example():
    with pytest.raises(DataFormatError, match="ends with a Human turn"):
        split_dialogue("\n\nHuman: a\n\nAssistant: b\n\nHuman: c")


def test_cut_and_dropped_examples_are_counted_and_nothing_left_is_refused(home, sft_data, capsys):
    trainer = build_trainer(sft_data, 2, max_length=48)
    counts = helpers.train.preflight(trainer, given=len(sft_data))
    out = capsys.readouterr().out
    assert counts["given"] == len(sft_data) == counts["kept"] + counts["dropped"] and counts["cut"] > 0
    assert f"{counts['cut']:,} cut at max_length (they lose their end and the EOS)" in out
    tiny = build_trainer(sft_data, 2, max_length=4)  # every prompt fills 4 tokens: TRL drops every example
    with pytest.raises(RunError, match=f"all {len(sft_data)} examples were dropped.*Raise MAX_LENGTH"):
        helpers.train.fit(tiny, given=len(sft_data))


def test_dpo_pairs_cut_and_dropped_are_counted(home, capsys):
    from trl import DPOConfig, DPOTrainer

    kept, _ = helpers.parse_rows(helpers.load_preferences("quick", "train", limit=24), helpers.to_preference_example)
    pairs = datasets.Dataset.from_list([p for _, p in kept])
    tokenizer = helpers.load_tokenizer(MODEL_ID, "quick", chat_template="course")
    args = DPOConfig(output_dir=str(home / "dpo"), max_length=40, report_to="none", max_steps=1, activation_checkpointing=False,
                     **helpers.precision().trainer_args)
    trainer = DPOTrainer(model=helpers.load_model(MODEL_ID, "quick"), args=args, processing_class=tokenizer,
                         train_dataset=pairs, peft_config=helpers.train.lora_config(MODEL_ID))
    counts = helpers.train.data_report(trainer, given=len(pairs))
    prompts = [tokenizer.apply_chat_template(p["prompt"], add_generation_prompt=True, tokenize=False) for p in pairs]
    lengths = [len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in prompts]
    assert counts["dropped"] == sum(n >= 40 for n in lengths) and counts["cut"] > 0
    assert "dropped (prompt alone fills max_length=40)" in capsys.readouterr().out


def test_bf16_on_a_gpu_without_native_bf16_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a: (7, 5))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Tesla T4")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # what torch says on a T4
    config = types.SimpleNamespace(bf16=True)  # a TRL config built without the kit's flags: TRL defaults to bf16
    with pytest.raises(PrecisionError, match="Tesla T4 .compute capability 7.5.*no native bf16.*precision"):
        helpers.train.check_precision(config)
    with mock.patch("trl.SFTConfig") as sft:
        sft.side_effect = lambda **kw: type("Args", (), kw)()
        with pytest.raises(PrecisionError):
            helpers.train.sft_config(tmp_path, max_steps=1, batch_size=1, grad_accum=1, learning_rate=1e-3,
                                     max_length=8, checkpointing=False, fp16=False, bf16=True)
        assert helpers.train.sft_config(tmp_path, max_steps=1, batch_size=1, grad_accum=1, learning_rate=1e-3,
                                        max_length=8, checkpointing=False).fp16  # the kit's own choice: fp16


def test_out_of_memory_in_a_step_gives_the_kits_advice(home, sft_data):
    trainer = build_trainer(sft_data, 2)

    def oom(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    trainer.training_step = oom
    with pytest.raises(MemoryError, match=r"Out of GPU memory while training \(step 1\).*lower the batch size"):
        helpers.train.fit(trainer)
    assert not (Path(trainer.args.output_dir) / "run.lock").exists()  # released on the way out


def test_more_tokens_than_embedding_rows_is_a_clear_error_at_generation_and_before_training(home, sft_data):
    model = helpers.load_model(MODEL_ID, "quick")
    tokenizer = helpers.load_tokenizer(MODEL_ID, "quick")
    rows = model.get_input_embeddings().weight.shape[0]
    tokenizer.add_tokens([f"<extra_{i}>" for i in range(rows - len(tokenizer) + 3)])
    with pytest.raises(ValueError, match="embedding rows.*resize_token_embeddings"):
        helpers.generate(model, tokenizer, ["hi"], max_new_tokens=2)
    with pytest.raises(ValueError, match="embedding rows.*resize_token_embeddings"):  # 04's adapter loading
        helpers.train.load_adapter(model, home / "no-adapter-needed", tokenizer=tokenizer)
    trainer = build_trainer(sft_data, 2)
    trainer.processing_class = tokenizer
    with pytest.raises(ValueError, match="embedding rows.*resize_token_embeddings"):
        helpers.train.fit(trainer)


def test_a_read_only_output_folder_is_refused_before_training(home, sft_data, monkeypatch):
    import errno

    trainer = build_trainer(sft_data, 2)
    write_text = Path.write_text

    def read_only(self, *args, **kwargs):  # a read-only mount (chmod does not stop root, so simulate it)
        if self.parent == Path(trainer.args.output_dir):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", read_only)
    with pytest.raises(RunError, match="Cannot write checkpoints to .*Read-only file system.*COURSE_OUTPUT_DIR"):
        helpers.train.fit(trainer)
    assert trainer.state.global_step == 0 and not list(Path(trainer.args.output_dir).glob("checkpoint-*"))


def test_an_output_folder_that_cannot_be_created_names_the_fix(monkeypatch, tmp_path):
    import errno

    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "ro"))

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)
    with pytest.raises(OSError, match="Cannot create the output folder .*Read-only file system.*COURSE_OUTPUT_DIR"):
        helpers.output_dir("03_sft")


def test_full_profile_offline_leads_with_no_network(monkeypatch):
    import socket

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", "/nonexistent-hf-home")

    def no_network(*args, **kwargs):
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(socket, "create_connection", no_network)
    assert helpers.env.hub_offline().startswith("no connection to huggingface.co")
    start = time.perf_counter()
    with pytest.raises(helpers.models.UnknownModelError, match=r"^No network \(no connection"):
        helpers.load_tokenizer("HuggingFaceTB/SmolLM2-1.7B", "full")
    with pytest.raises(ConnectionError, match=r"^No network .*COURSE_PROFILE=quick"):
        helpers.load_preferences("full")
    assert time.perf_counter() - start < 20  # no minute of retries


def test_lora_config_accepts_any_hub_id_load_model_accepts():
    model = helpers.load_model("Qwen/Qwen2.5-0.5B", "quick")  # stands in for a Hub model outside the registry
    config = helpers.train.lora_config("someone/my-qwen-finetune", model=model)
    assert set(config.target_modules) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    with pytest.raises(ValueError, match="No LoRA target names known for 'someone/unknown'.*targets=\\[...\\]"):
        helpers.train.lora_config("someone/unknown", model=torch.nn.Linear(2, 2))
    assert helpers.train.lora_config("someone/unknown", targets=["fc"]).target_modules == {"fc"}


def test_4bit_in_the_quick_profile_on_a_gpu_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(ValueError, match="quick profile.*not quantized.*COURSE_PROFILE=full"):
        helpers.load_model(MODEL_ID, "quick", load_in_4bit=True)


# --- item 6: the progress bar stays, the kit's lines and warning come next to it ------------------------------
def test_progress_bar_kept_next_to_the_kits_progress_lines(home, sft_data):
    from transformers import PrinterCallback, ProgressCallback

    trainer = build_trainer(sft_data, 2)
    names = [type(c).__name__ for c in trainer.callback_handler.callbacks]
    assert not trainer.args.disable_tqdm and "ProgressPrinter" in names and names.count("ProgressPrinter") == 1
    assert any(isinstance(c, ProgressCallback) or type(c).__name__ == "NotebookProgressCallback"
               for c in trainer.callback_handler.callbacks)
    assert not any(type(c) is PrinterCallback for c in trainer.callback_handler.callbacks)


def test_the_notebook_progress_bar_survives_a_run_that_ends_where_its_bar_started():
    """transformers 5.23's notebook bar divides by None at the end of a run whose last step is where the bar started
    (a cut-off or resumed run, seen in the full-profile rehearsal of 03); the kit's bar drops the estimate instead."""
    from types import SimpleNamespace

    from transformers.utils.notebook import NotebookProgressCallback, NotebookTrainingTracker

    def cut_off_run(callback):
        tracker = NotebookTrainingTracker(4)
        tracker.update(2)                        # the bar starts at step 2
        tracker.update(3, force_update=True)     # a rate and a time-left estimate
        callback.training_tracker = tracker
        state = SimpleNamespace(global_step=2, epoch=0.5, num_train_epochs=1)
        callback.on_train_end(None, state, None)

    with pytest.raises(TypeError, match="NoneType"):
        cut_off_run(NotebookProgressCallback())  # the library's bar: the bug is still there
    cut_off_run(helpers.train.progress._safe_notebook_bar())  # the kit's bar: no error


# --- scripts/ci/gpu_check.py: runs cleanly without CUDA; its 05-07 checks rehearsed on the CPU -----------------------
GPU_CHECK = Path(__file__).resolve().parent.parent / "scripts" / "ci" / "gpu_check.py"


def _gpu_check(*args, timeout=600):
    import subprocess
    import sys

    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run([sys.executable, str(GPU_CHECK), *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=GPU_CHECK.parents[2])


def test_gpu_check_on_a_cpu_says_no_cuda_lists_every_check_and_exits_0():
    run = _gpu_check()
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("no CUDA:") and "!python scripts/ci/gpu_check.py" in lines[0]
    skipped = [line.split()[1:3] for line in lines[1:]]
    assert [" ".join(s) for s in skipped] == ["precision no", "fp16 scaler", "sdpa no", "4-bit no", "memory no",
                                             "orpo fp16", "reward fp16", "judge fp16", "ddp nccl"], lines
    assert all(line.startswith("SKIP ") and line.endswith("no CUDA") for line in lines[1:])


def test_gpu_check_05_to_07_checks_run_on_the_cpu():
    """The checks of 05's ORPO step and 06's reward model and judge, rehearsed on the CPU (bf16 for fp16, stand-ins):
    their code has run before a teacher meets it on a T4. The fp16 scaler and NCCL parts only a GPU runs."""
    run = _gpu_check("--cpu-rehearsal")
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    results = [line for line in run.stdout.splitlines() if line[:5] in ("PASS ", "FAIL ", "SKIP ")]
    assert [line.split()[0] + " " + line.split()[1] for line in results] == ["PASS orpo", "PASS reward", "PASS judge"]
    assert "56 adapter tensors moved, fp32" in results[0] and "scores finite" in results[1], results
    assert "{'loss'" not in run.stdout                      # one screen: no raw log dicts


def test_gpu_check_timing_lines_and_model_ids_come_from_the_notebooks():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_check", GPU_CHECK)
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    assert gpu_check._notebook_setting("06_evaluation.ipynb", "JUDGE_ID") == ("Qwen/Qwen2.5-1.5B-Instruct",
                                                                              "Qwen/Qwen2.5-0.5B-Instruct")
    reward = gpu_check._notebook_setting("06_evaluation.ipynb", "REWARD_MODEL_ID")
    assert reward[0] == reward[1] and "Reward" in reward[0]
    gpu_check.MEASURED["tflops"] = 2 * helpers.T4_SUSTAINED_TFLOPS        # a GPU twice the assumed T4
    lines = gpu_check.timing_lines()
    assert "scale by 0.50 here" in lines[0] and len(lines) == 1 + 8, lines
    orpo = next(line for line in lines if "05_orpo" in line)
    column = json.loads((GPU_CHECK.parents[2] / "notebooks" / "05_orpo.ipynb").read_text())["metadata"]["course"]["t4_minutes"]
    minutes = float(__import__("re").search(r"\d+(?:\.\d+)?", column).group())
    assert f"~{minutes / 2:.1f} min at the measured speed" in orpo, orpo
