"""helpers.tracker(): the one switch (COURSE_TRACKER), and what TensorBoard and trackio really store.

A short quick-profile training runs through helpers.train.fit with each tracker; the scalars are read back from
the tracker's own files (TensorBoard's event files via its EventAccumulator, trackio's local SQLite database) and
compared with the Trainer's ``state.log_history``. A run cut off and resumed appends to the same tracker run.
W&B runs offline (WANDB_MODE=offline) when its package is installed.
"""
import math
import sys

import pytest

import helpers
from helpers import track

from tests.conftest import MODEL_ID  # noqa: E402
STEPS, CUT_AT, SAVE, LOG = 4, 3, 2, 2  # 4 steps, the runtime 'dies' at step 3, a checkpoint and a log every 2


# --- the switch --------------------------------------------------------------------------------------------------
def test_default_is_none_and_changes_nothing(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_TRACKER", raising=False)
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path))
    tracker = helpers.tracker()
    assert not tracker and tracker.name == "none" and tracker.how_to_open() == []
    args = helpers.train.sft_config(tmp_path, max_steps=1, batch_size=1, grad_accum=1, learning_rate=1e-3,
                                    max_length=64, checkpointing=False)
    plain = helpers.train.use_run_dir(args, "03_sft", model_id=MODEL_ID, profile="quick")
    assert args.report_to in ([], "none", ["none"])
    before = args.to_dict()
    tracker.configure(args, "03_sft", plain)
    assert args.to_dict() == before                       # no report_to, run name, project or Space set


@pytest.mark.parametrize("value", ["", "none", " NONE "])
def test_none_spellings(monkeypatch, value):
    monkeypatch.setenv("COURSE_TRACKER", value)
    assert helpers.tracker().name == "none"


def test_a_bad_value_names_the_valid_ones(monkeypatch):
    monkeypatch.setenv("COURSE_TRACKER", "tensorbaord")
    with pytest.raises(helpers.track.TrackerError) as err:
        helpers.tracker()
    message = str(err.value)
    assert "'tensorbaord'" in message and "\n" not in message
    assert all(name in message for name in ("none", "tensorboard", "trackio", "wandb"))


def test_a_tracker_not_installed_gives_the_install_line(monkeypatch, capsys):
    monkeypatch.setattr(track, "_installed", lambda name: False)
    for name in ("tensorboard", "trackio", "wandb"):
        assert helpers.tracker(name).name == "none"
        out = capsys.readouterr().out.strip()
        assert out.count("\n") == 0 and f"`pip install {name}`" in out


def test_the_tracker_does_not_change_the_run_folder(monkeypatch, tmp_path):
    """The run's key is what is trained: with or without a tracker, the same folder (so it resumes)."""
    pytest.importorskip("tensorboard")
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path))
    folders = []
    for name in ("none", "tensorboard"):
        args = helpers.train.sft_config(tmp_path, max_steps=1, batch_size=1, grad_accum=1, learning_rate=1e-3,
                                        max_length=64, checkpointing=False)
        folders.append(helpers.train.use_run_dir(args, "03_sft", model_id=MODEL_ID, profile="quick",
                                                 tracker=helpers.tracker(name)))
    assert folders[0] == folders[1]
    assert args.report_to == ["tensorboard"] and args.run_name == f"03_sft-sft-{folders[0].name}"
    assert args.run_name.endswith(folders[0].name.split("-")[-1])  # the config hash of runs/<model>-<hash>/


def test_wandb_is_offline_unless_logged_in(monkeypatch, tmp_path):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    assert track.wandb_mode() == "offline"
    monkeypatch.setattr(track, "_installed", lambda name: True)
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path))
    tracker = helpers.tracker("wandb")
    lines = tracker.how_to_open()
    assert tracker.name == "wandb" and any(line.strip().startswith("wandb sync ") for line in lines)
    (tmp_path / "netrc").write_text("machine api.wandb.ai\n  login user\n  password x\n")
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
    assert track.wandb_mode() == "online"
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert track.wandb_mode() == "offline"


# --- a real run, read back from the tracker's files ----------------------------------------------------------------
class Disconnect:
    """Stop at step CUT_AT, like a runtime that dies (no save on the way out)."""

    def __new__(cls, at_step):
        from transformers import TrainerCallback

        class _Disconnect(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                if state.global_step >= at_step:
                    control.should_training_stop = True

        return _Disconnect()


def sft_trainer(tracker, seed):
    from trl import SFTTrainer

    import datasets
    datasets.disable_progress_bars()
    rows = helpers.train.pick_rows(helpers.load_preferences("quick", "train"), 16, seed=seed)
    data, _ = helpers.train.sft_dataset(rows)
    args = helpers.train.sft_config(helpers.output_dir("03_sft"), max_steps=STEPS, batch_size=2, grad_accum=1,
                                    learning_rate=2e-3, max_length=128, checkpointing=False, logging_steps=LOG,
                                    save_steps=SAVE, seed=seed, disable_tqdm=True)
    folder = helpers.train.use_run_dir(args, "03_sft", model_id=MODEL_ID, profile="quick", tracker=tracker,
                                       data=helpers.train.fingerprint(data))
    trainer = SFTTrainer(model=helpers.load_model(MODEL_ID, "quick"), args=args, train_dataset=data,
                         processing_class=helpers.load_tokenizer(MODEL_ID, "quick"),
                         peft_config=helpers.train.lora_config(MODEL_ID))
    return trainer, folder, len(data)


def dpo_trainer(tracker, seed):
    from trl import DPOConfig, DPOTrainer
    from nbcode import adapter_as_if_trained

    rows = helpers.train.pick_rows(helpers.load_preferences("quick", "train"), 8, seed=seed)
    pairs = rows.map(lambda r: {"prompt": r["chosen"][:r["chosen"].rfind("\n\nAssistant:") + 12],
                                "chosen": r["chosen"][r["chosen"].rfind("\n\nAssistant:") + 12:],
                                "rejected": r["rejected"][r["rejected"].rfind("\n\nAssistant:") + 12:]},
                     remove_columns=rows.column_names)
    args = DPOConfig(output_dir=str(helpers.output_dir("04_dpo")), beta=0.1, max_length=128, max_steps=2,
                     per_device_train_batch_size=2, logging_steps=1, save_strategy="no", report_to="none",
                     activation_checkpointing=False, disable_tqdm=True, seed=seed, dataloader_pin_memory=False,
                     **helpers.precision().trainer_args)
    folder = helpers.train.use_run_dir(args, "04_dpo", model_id=MODEL_ID, profile="quick", tracker=tracker,
                                       data=helpers.train.fingerprint(pairs))
    trainer = DPOTrainer(model=adapter_as_if_trained(MODEL_ID, seed=seed, std=0.02), args=args, train_dataset=pairs,
                         processing_class=helpers.load_tokenizer(MODEL_ID, "quick"))
    return trainer, folder, len(pairs)


def trainer_scalars(history) -> dict:
    """{tag: {step: value}} as the trackers name them (transformers' rewrite_logs: loss -> train/loss)."""
    skip = {"train_runtime", "train_samples_per_second", "train_steps_per_second", "train_loss", "total_flos"}
    out = {}
    for row in history:
        for key, value in row.items():
            if key in ("step", "epoch") or key in skip or not isinstance(value, (int, float)):
                continue
            tag = "eval/" + key[5:] if key.startswith("eval_") else "train/" + key
            out.setdefault(tag, {})[row["step"]] = float(value)
    return out


def tensorboard_scalars(folder) -> dict:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    events.Reload()
    out = {}
    for tag in events.Tags()["scalars"]:
        for event in events.Scalars(tag):  # a step written twice (lost, then replayed): the replay is kept
            out.setdefault(tag, {})[event.step] = event.value
    return out


def trackio_scalars(run_name) -> dict:
    from trackio.sqlite_storage import SQLiteStorage

    out = {}
    for row in SQLiteStorage.get_logs(track.PROJECT, run_name):
        step = int(row["train/global_step"])
        for key, value in row.items():
            if "/" in key and key != "train/global_step" and isinstance(value, (int, float)):
                out.setdefault(key, {})[step] = float(value)
    return out


def assert_same(logged: dict, history: list, keys):
    want = trainer_scalars(history)
    for key in keys:
        assert key in want, f"the Trainer logged no {key}"
        assert logged.get(key, {}).keys() == want[key].keys(), key
        for step, value in want[key].items():
            assert math.isclose(logged[key][step], value, rel_tol=1e-6, abs_tol=1e-7), (key, step)


def train_cut_then_resume(tracker, seed):
    trainer, folder, given = sft_trainer(tracker, seed)
    trainer.add_callback(Disconnect(CUT_AT))
    helpers.train.fit(trainer, given=given)
    assert trainer.state.global_step == CUT_AT
    trainer, folder_again, _ = sft_trainer(tracker, seed)  # a new runtime builds everything again
    assert folder_again == folder
    helpers.train.fit(trainer, given=given)  # resumes from checkpoint-2
    assert trainer.state.global_step == STEPS
    return trainer


@pytest.fixture()
def outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path))
    return tmp_path


def test_tensorboard_holds_what_the_trainer_logged_and_a_resume_continues_it(outputs):
    pytest.importorskip("tensorboard")
    tracker = helpers.tracker("tensorboard")
    trainer = train_cut_then_resume(tracker, seed=1)
    runs = [p for p in (outputs / "tensorboard").iterdir() if p.is_dir()]
    assert [p.name for p in runs] == [trainer.args.run_name]  # one run, not one per session
    assert len(list(runs[0].glob("events.out.tfevents.*"))) == 2  # the cut-off session's file and the resumed one's
    logged = tensorboard_scalars(runs[0])
    # the dead runtime's last log (step 3: TRL's entropy and token accuracy, logged as it stopped) is not in the
    # resumed run's history: TensorBoard hides it (purge_step), so the curves are exactly the history's
    assert_same(logged, trainer.state.log_history, ["train/loss", "train/learning_rate", "train/grad_norm",
                                                    "train/entropy", "train/mean_token_accuracy"])
    assert sorted(logged["train/loss"]) == list(range(LOG, STEPS + 1, LOG))


def test_tensorboard_holds_the_dpo_rewards_and_margins(outputs):
    pytest.importorskip("tensorboard")
    trainer, folder, given = dpo_trainer(helpers.tracker("tensorboard"), seed=2)
    helpers.train.fit(trainer, given=given)
    logged = tensorboard_scalars(outputs / "tensorboard" / trainer.args.run_name)
    assert_same(logged, trainer.state.log_history,
                ["train/loss", "train/rewards/chosen", "train/rewards/rejected", "train/rewards/margins"])
    assert trainer.args.run_name == f"04_dpo-dpo-{folder.name}"


@pytest.fixture()
def trackio_home(outputs):
    if "trackio" not in sys.modules and not track._installed("trackio"):
        pytest.skip("trackio is not installed (pip install trackio)")
    tracker = helpers.tracker("trackio")  # before trackio's first import: it reads TRACKIO_DIR then, once
    assert tracker.folder == track.trackio_dir()
    return tracker


def test_trackio_holds_what_the_trainer_logged_and_a_resume_continues_it(trackio_home, capsys):
    from trackio.sqlite_storage import SQLiteStorage

    trainer = train_cut_then_resume(trackio_home, seed=3)
    name = trainer.args.run_name
    assert SQLiteStorage.get_runs(track.PROJECT).count(name) == 1  # resumed by name, not a second run
    logged = trackio_scalars(name)
    assert_same(logged, trainer.state.log_history, ["train/loss", "train/learning_rate", "train/grad_norm"])
    # trackio cannot hide points: the dead runtime's last log (step 3, TRL's entropy as it stopped) stays; every
    # point of the history is there with its value, and nothing else but that lost step
    history = trainer_scalars(trainer.state.log_history)["train/entropy"]
    assert {s: logged["train/entropy"][s] for s in history} == pytest.approx(history)
    assert set(logged["train/entropy"]) - set(history) <= {CUT_AT}
    assert "Trackio" not in capsys.readouterr().out  # its banner lines stay out of the notebook
    assert (track.trackio_dir() / f"{track.PROJECT}.db").is_file()


def test_trackio_holds_the_dpo_rewards_and_margins(trackio_home):
    trainer, _, given = dpo_trainer(trackio_home, seed=4)
    helpers.train.fit(trainer, given=given)
    assert_same(trackio_scalars(trainer.args.run_name), trainer.state.log_history,
                ["train/loss", "train/rewards/chosen", "train/rewards/rejected", "train/rewards/margins"])


SWEEP = {0.1: [{"step": 1, "loss": 0.69, "margin": 0.0}, {"step": 2, "loss": 0.5, "margin": 0.4}],
         1.0: [{"step": 1, "loss": 0.69, "margin": 0.0}, {"step": 2, "loss": 0.3, "margin": 1.2}]}


@pytest.mark.parametrize("name", ["tensorboard", "trackio"])
def test_log_run_gives_each_sweep_setting_its_own_run(outputs, name):
    if not track._installed(name):
        pytest.skip(f"{name} is not installed (pip install {name})")
    tracker = helpers.tracker(name)
    for beta, history in SWEEP.items():
        tracker.log_run(f"test-sweep-{name}-beta-{beta:g}", history, config={"beta": beta})
        tracker.log_run(f"test-sweep-{name}-beta-{beta:g}", history)  # again: replaces, does not double
    for beta, history in SWEEP.items():
        run = f"test-sweep-{name}-beta-{beta:g}"
        logged = (tensorboard_scalars(tracker.folder / run) if name == "tensorboard" else trackio_scalars(run))
        assert logged["train/margin"] == pytest.approx({row["step"]: row["margin"] for row in history})  # float32
        assert logged["train/loss"] == pytest.approx({row["step"]: row["loss"] for row in history})


def test_wandb_offline_run(outputs, monkeypatch):
    """W&B without an account: offline files under output_dir()/wandb, one run per run name."""
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    trainer, folder, given = dpo_trainer(helpers.tracker("wandb"), seed=5)
    assert trainer.args.report_to == ["wandb"]
    helpers.train.fit(trainer, given=given)
    import wandb

    assert wandb.run is None  # finished after fit: the next trainer gets its own run
    runs = list((outputs / "wandb").glob(f"offline-run-*-{track.wandb_run_id(trainer.args.run_name)}"))
    assert len(runs) == 1 and list(runs[0].glob("*.wandb"))
