"""Issue 22, item 4: a file that exists but cannot be read - cut off by a copy or a Drive sync (half of it, or 0
bytes) or holding other bytes altogether - gives ONE line naming the file, what is wrong and the fix, through
load_adapter, fit's resume (checkpoints, run.lock, finished.json), 06's find_adapters, ensure_sft_adapter and the data
loaders; never a bare SafetensorError / JSONDecodeError from inside a library. Quick profile, CPU.

Each file is damaged the way a cut-off copy damages it: ``half`` keeps the first half of its bytes, ``empty``
leaves 0 bytes, ``garbage`` replaces it with as many random bytes (seeded)."""
import json
import os
import random
import shutil
import time
from pathlib import Path

import datasets
import pytest
import torch

import helpers
from helpers.files import DamagedFileError
from helpers.train import RunError, RunLock
from nbcode import definitions   # 06's find_adapters, as the notebook defines it

pytestmark = pytest.mark.usefixtures("one_thread")   # tests/conftest.py

from tests.conftest import MODEL_ID  # noqa: E402


def half(path: Path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def empty(path: Path):
    path.write_bytes(b"")


def garbage(path: Path):
    size = max(path.stat().st_size, 64)
    rng = random.Random(size)
    path.write_bytes(bytes(rng.getrandbits(8) for _ in range(size)))


DAMAGES = {"half": half, "empty": empty, "garbage": garbage}
# what each damage must be called in the message (the file's kind decides the words for garbage)
SAID = {"half": ("cut off", "its end is missing", "not a complete PyTorch file"), "empty": ("empty",),
        "garbage": ("not a safetensors file", "not text", "not a complete PyTorch file")}


def one_line(message: str, path: Path, damage: str, *fix: str):
    """The kit's message: one line, the file named, what is wrong in words, the fix."""
    assert "\n" not in message, message
    assert str(path) in message or path.name in message, message
    assert any(words in message for words in SAID[damage]), message
    for words in fix:
        assert words in message, message
    for bare in ("SafetensorError", "JSONDecodeError", "Traceback", "UnicodeDecodeError", "BadZipFile"):
        assert bare not in message, message


def save_adapter(folder: Path) -> Path:
    """A real LoRA adapter on the quick stand-in, saved by PEFT (as 03 saves it)."""
    from peft import get_peft_model

    model = get_peft_model(helpers.load_model(MODEL_ID, "quick"), helpers.train.lora_config(MODEL_ID))
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def adapter(tmp_path_factory) -> Path:
    return save_adapter(tmp_path_factory.mktemp("saved") / "03_sft" / "adapters" / "smollm2-360m-quick")


# --- load_adapter --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("name", ["adapter_model.safetensors", "adapter_config.json"])
def test_load_adapter_names_a_damaged_adapter_file_and_the_fix(home, adapter, name, damage):
    folder = home / "03_sft" / "adapters" / adapter.name
    shutil.copytree(adapter, folder)
    base = helpers.load_model(MODEL_ID, "quick")
    assert helpers.train.load_adapter(base, folder) is not None          # whole: loads
    DAMAGES[damage](folder / name)
    with pytest.raises(DamagedFileError) as err:
        helpers.train.load_adapter(helpers.load_model(MODEL_ID, "quick"), folder)
    one_line(str(err.value), folder / name, damage, f"Delete the folder {folder}", "rerun 03_sft",
             "ensure_sft_adapter")


def test_adapter_fix_names_the_notebook_whose_output_folder_holds_the_adapter(home, tmp_path_factory):
    sft, dpo = home / "03_sft" / "adapters" / "a", home / "04_dpo" / "adapters" / "b"
    assert helpers.train.adapter_fix(sft) == (f"Delete the folder {sft} and rerun 03_sft, which saves it (or "
                                              "helpers.train.ensure_sft_adapter(MODEL_ID, profile, ...), which "
                                              "trains it again).")
    assert helpers.train.adapter_fix(dpo) == f"Delete the folder {dpo} and rerun 04_dpo, which saves it."
    for elsewhere in (home / "adapters" / "c", tmp_path_factory.mktemp("elsewhere") / "03_sft" / "d"):
        assert helpers.train.adapter_fix(elsewhere) == (f"Delete the folder {elsewhere} and save it again with the "
                                                        "notebook that made it.")


def test_notebook_folder_is_the_first_folder_under_the_outputs_named_like_a_notebook(home, tmp_path_factory):
    """One rule for adapter_fix and 06's find_adapters: root/NN_name/... was written by notebook NN."""
    from helpers.files import notebook_folder

    assert notebook_folder(home / "04_dpo" / "run" / "checkpoint-20") == ("04", "04_dpo")
    assert notebook_folder(home / "05_orpo-v2" / "adapter").number == "05"
    assert notebook_folder(home / "03_sft") == ("03", "03_sft")
    for nowhere in (home, home / "scratch" / "03_sft", home / "03" / "a", tmp_path_factory.mktemp("x") / "03_sft"):
        assert notebook_folder(nowhere) is None, nowhere
    other = tmp_path_factory.mktemp("other")
    assert notebook_folder(other / "06_evaluation" / "a", root=other) == ("06", "06_evaluation")

def test_without_the_check_peft_gives_the_bare_error_the_issue_reports(home, adapter):
    """The yardstick: what a student saw before - PEFT's own error, naming no file and no fix."""
    from peft import PeftModel

    folder = home / "copy"
    shutil.copytree(adapter, folder)
    half(folder / "adapter_model.safetensors")
    with pytest.raises(Exception) as err:
        PeftModel.from_pretrained(helpers.load_model(MODEL_ID, "quick"), folder)
    assert type(err.value).__name__ == "SafetensorError" and str(folder) not in str(err.value)


def test_ensure_sft_adapter_trains_a_damaged_adapter_again(home, adapter, capsys):
    path = helpers.train.sft_adapter_dir(MODEL_ID, "quick")
    shutil.copytree(adapter, path)
    half(path / "adapter_model.safetensors")
    datasets.disable_progress_bars()
    got = helpers.train.ensure_sft_adapter(MODEL_ID, "quick", max_steps=1, batch_size=2, grad_accum=1,
                                           learning_rate=1e-3, max_length=64)
    out = capsys.readouterr().out
    assert "the one there is damaged: adapter_model.safetensors is cut off" in out, out
    assert helpers.files.adapter_problem(got) is None
    assert helpers.train.load_adapter(helpers.load_model(MODEL_ID, "quick"), got) is not None


# --- find_adapters ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("name", ["adapter_model.safetensors", "adapter_config.json"])
def test_find_adapters_skips_a_damaged_adapter_with_one_line(home, adapter, capsys, name, damage):
    base = helpers.load_model(MODEL_ID, "quick").name_or_path
    older = home / "03_sft" / "adapters" / "older"
    shutil.copytree(adapter, older)
    newer = home / "03_sft" / "runs" / "r" / "checkpoint-4"
    shutil.copytree(adapter, newer)
    stamp = time.time() - 100
    for weights in older.glob("adapter_model.*"):
        os.utime(weights, (stamp, stamp))
    find_adapters = definitions("06_evaluation.ipynb", "ADAPTER_SOURCES", "find_adapters",
                                preamble="import json\nfrom pathlib import Path\nimport helpers\n")["find_adapters"]
    assert find_adapters(base)["SFT"] == newer  # both whole: the newest
    DAMAGES[damage](newer / name)
    found = find_adapters(base)
    assert found["SFT"] == older                                   # the damaged one is passed over
    lines = [l for l in capsys.readouterr().out.splitlines() if "damaged" in l]
    assert len(lines) == 1, lines
    one_line(lines[0], newer / name, damage, f"Delete the folder {newer}", "rerun 03_sft")


# --- fit's resume: checkpoints, finished.json, config.json ---------------------------------------------------
SIZES = dict(batch_size=2, grad_accum=1, learning_rate=2e-3, max_length=96, checkpointing=False, logging_steps=1,
             save_steps=2, seed=0)


def build_trainer(data):
    from trl import SFTTrainer

    datasets.disable_progress_bars()
    args = helpers.train.sft_config(helpers.output_dir("03_sft"), max_steps=4, **SIZES)
    helpers.train.use_run_dir(args, "03_sft", model_id=MODEL_ID, profile="quick", data=helpers.train.fingerprint(data))
    trainer = SFTTrainer(model=helpers.load_model(MODEL_ID, "quick"), args=args, train_dataset=data,
                         processing_class=helpers.load_tokenizer(MODEL_ID, "quick", chat_template="course"),
                         peft_config=helpers.train.lora_config(MODEL_ID))
    return helpers.train.show_progress(trainer)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A real 4-step run (checkpoints at steps 2 and 4, finished.json), made once; each test gets a copy."""
    home = tmp_path_factory.mktemp("run-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_OUTPUT_DIR", str(home))
        pairs = helpers.train.pick_rows(helpers.load_preferences("quick", "train"), 16, seed=0)
        data = helpers.train.sft_dataset(pairs)[0]
        trainer = build_trainer(data)
        helpers.train.fit(trainer, given=len(data))
    return home, Path(trainer.args.output_dir).relative_to(home), data


@pytest.fixture()
def run(finished_run, home):
    source, relative, data = finished_run
    shutil.copytree(source / "03_sft", home / "03_sft")
    folder = home / relative
    assert {p.name for p in folder.glob("checkpoint-*")} == {"checkpoint-2", "checkpoint-4"}
    return folder, data


CHECKPOINT_FILES = ["trainer_state.json", "adapter_model.safetensors", "optimizer.pt", "scheduler.pt", "rng_state.pth"]


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("name", CHECKPOINT_FILES)
def test_a_damaged_checkpoint_file_is_named_and_the_one_before_is_used(run, capsys, name, damage):
    folder, _ = run
    DAMAGES[damage](folder / "checkpoint-4" / name)
    assert Path(helpers.latest_checkpoint(folder)).name == "checkpoint-2"
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"skipping checkpoint-4: {name} is "), line
    one_line(line, folder / "checkpoint-4" / name, damage)


def test_fit_resumes_from_the_checkpoint_before_a_damaged_one_and_finishes(run, capsys):
    folder, data = run
    (folder / "finished.json").unlink()                  # the copy stopped inside the last checkpoint
    half(folder / "checkpoint-4" / "optimizer.pt")
    result = helpers.train.fit(build_trainer(data), given=len(data))
    out = capsys.readouterr().out
    assert "skipping checkpoint-4: optimizer.pt is not a complete PyTorch file" in out and "removed it" in out
    assert "resuming from checkpoint-2 (step 2 of 4)" in out, out
    assert result.global_step == 4 and helpers.train.run_status(folder)["finished"]["global_step"] == 4


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_finished_json_is_named_and_the_run_is_still_found_finished(run, capsys, damage):
    folder, data = run
    DAMAGES[damage](folder / "finished.json")
    status = helpers.train.run_status(folder)                # reading only: reported, kept
    line = capsys.readouterr().out.strip()
    assert status["finished"] is None and (folder / "finished.json").exists()
    one_line(line, folder / "finished.json", damage, "delete it")
    result = helpers.train.fit(build_trainer(data), given=len(data))   # under the lock: reported and deleted
    out = capsys.readouterr().out
    assert f"ignoring {folder / 'finished.json'}" in out and "deleted it" in out
    assert "finished earlier" in out and "no new steps" in out and result.global_step == 4


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_config_json_is_written_again(run, capsys, damage):
    folder, data = run
    saved = (folder / "config.json").read_text()
    DAMAGES[damage](folder / "config.json")
    build_trainer(data)                                      # use_run_dir -> run_dir finds the same folder
    line = [l for l in capsys.readouterr().out.splitlines() if "config.json" in l][0]
    one_line(line, folder / "config.json", damage, "wrote it again")
    assert (folder / "config.json").read_text() == saved


# --- the run lock ------------------------------------------------------------------------------------------------
def a_lock(folder: Path) -> Path:
    lock = folder / "run.lock"
    lock.write_text(json.dumps({"pid": 12345, "host": "colab-runtime-1", "since": "2026-01-01 10:00:00"}))
    return lock


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_fresh_lock_is_refused_in_one_line_with_the_fix(tmp_path, damage):
    lock = a_lock(tmp_path)
    DAMAGES[damage](lock)
    with pytest.raises(RunError) as err:
        RunLock(tmp_path).acquire()
    one_line(str(err.value), lock, damage, f"delete {lock}")
    assert lock.exists()                                     # nothing deleted behind the user's back


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_lock_untouched_for_long_is_taken_over_with_a_line(tmp_path, capsys, damage):
    lock = a_lock(tmp_path)
    DAMAGES[damage](lock)
    old = time.time() - 3600
    os.utime(lock, (old, old))
    with RunLock(tmp_path, stale_after=600):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"taking over the lock {lock}:") and "untouched for 60 min" in line
    one_line(line, lock, damage)


def test_a_lock_that_is_json_but_not_a_lock_is_refused(tmp_path):
    lock = tmp_path / "run.lock"
    lock.write_text('{"pid": "abc", "host": "h"}')
    with pytest.raises(RunError, match="not a process number"):
        RunLock(tmp_path).acquire()


# --- the data loaders --------------------------------------------------------------------------------------------
@pytest.fixture()
def data_copy(tmp_path, monkeypatch):
    copy = tmp_path / "data"
    shutil.copytree(helpers.data.DATA_DIR, copy, ignore=shutil.ignore_patterns("micro-llama"))
    monkeypatch.setattr(helpers.data, "DATA_DIR", copy)
    return copy


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("split", ["train", "test"])
def test_a_damaged_preference_file_is_named_with_its_line_and_the_fix(data_copy, split, damage):
    path = data_copy / "hh_pref" / f"{split}.jsonl"
    DAMAGES[damage](path)
    with pytest.raises(DamagedFileError) as err:
        helpers.load_preferences("quick", split)
    one_line(str(err.value), path, damage, "git checkout --", "scripts/maintainers/make_data.py")
    if damage == "half":
        assert "line " in str(err.value) and "cut off in the middle of it" in str(err.value)


def test_a_preference_file_of_other_json_is_named(data_copy):
    path = data_copy / "hh_pref" / "train.jsonl"
    path.write_text('{"chosen": "a", "rejected": "b"}\n["not", "a", "pair"]\n')
    with pytest.raises(DamagedFileError, match=r"line 2 is a JSON list, not the object"):
        helpers.load_preferences("quick", "train")


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_eval_prompts_are_named_with_the_fix(data_copy, damage):
    path = data_copy / "eval_prompts.json"
    DAMAGES[damage](path)
    with pytest.raises(DamagedFileError) as err:
        helpers.load_eval_prompts()
    one_line(str(err.value), path, damage, "git checkout --", "scripts/maintainers/make_data.py")


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_tokenizer_file_is_named_with_the_fix(tmp_path, monkeypatch, damage):
    path = tmp_path / "tokenizer.json"
    shutil.copy(helpers.models.TOKENIZER_FILE, path)
    monkeypatch.setattr(helpers.models, "TOKENIZER_FILE", path)
    DAMAGES[damage](path)
    with pytest.raises(DamagedFileError) as err:
        helpers.load_tokenizer(MODEL_ID, "quick")
    one_line(str(err.value), path, damage, "scripts/maintainers/build_tokenizer.py")


def test_restore_fix_names_the_file_and_the_script_that_rebuilds_it(monkeypatch, tmp_path):
    """One rule for every file the kit ships in data/: git checkout, or the script that makes it (helpers.files);
    in the student repository, which has no maintainer scripts, git checkout only."""
    from helpers import files

    data = helpers.env.REPO_ROOT / "data"
    cases = [(data / "micro-llama" / "model.safetensors", "pretrain_micro.py"),
             (data / "micro-judge" / "model.safetensors", "train_scorers.py --only judge"),
             (data / "micro-reward" / "scorer.json", "train_scorers.py --only reward"),
             (data / "micro-reward", "train_scorers.py --only reward"),
             (data / "tokenizer.json", "build_tokenizer.py"), (data / "eval_prompts.json", "make_data.py"),
             (data / "hh_pref" / "test.jsonl", "make_data.py")]
    for path, script in cases:
        name = path.relative_to(helpers.env.REPO_ROOT).as_posix()
        assert files.restore_fix(path) == (f"It ships with the course kit: restore it with `git checkout -- {name}` "
                                           "(or download the kit again), or rebuild it with "
                                           f"`python scripts/maintainers/{script}`.")
    monkeypatch.setattr(files, "REPO_ROOT", tmp_path)          # a student repository: data/, no scripts/maintainers
    assert files.restore_fix(tmp_path / "data" / "tokenizer.json") == (
        "It ships with the course kit: restore it with `git checkout -- data/tokenizer.json` (or download the kit "
        "again).")


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_missing_or_damaged_reward_model_says_how_to_restore_it(monkeypatch, tmp_path, damage):
    """06's quick reward model (data/micro-reward): missing, or its weights damaged, is one line naming what to restore."""
    from helpers import evaluation

    monkeypatch.setattr(evaluation, "REPO_ROOT", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"data/micro-reward is missing.*--only reward"):
        evaluation.load_reward_model("any/reward-model", "quick", device="cpu")
    folder = tmp_path / "data" / "micro-reward"
    shutil.copytree(helpers.env.REPO_ROOT / "data" / "micro-reward", folder)
    DAMAGES[damage](folder / "model.safetensors")
    with pytest.raises(DamagedFileError) as err:
        evaluation.load_reward_model("any/reward-model", "quick", device="cpu")
    one_line(str(err.value), folder / "model.safetensors", damage, "git checkout --", "--only reward")
