"""The quick profile's trained scorers for notebook 06 (scripts/maintainers/train_scorers.py): the reward model in
data/micro-reward and the judge in data/micro-judge, measured on the held-out pairs they never saw."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest
import torch

import helpers
from helpers.evaluation import paired_difference
from helpers.models import REPO_ROOT

REWARD_DIR, JUDGE_DIR = REPO_ROOT / "data" / "micro-reward", REPO_ROOT / "data" / "micro-judge"


def _scorers_module():
    spec = importlib.util.spec_from_file_location("train_scorers", REPO_ROOT / "scripts" / "maintainers" / "train_scorers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def test_pairs():
    kept, _ = helpers.parse_rows(helpers.load_preferences("quick", "test"), helpers.to_preference_example)
    return [example for _, example in kept]


def test_reward_model_is_small_and_is_what_06_loads_in_quick():
    assert (REWARD_DIR / "model.safetensors").stat().st_size <= 3 * 2**20
    model, tokenizer = helpers.evaluation.load_reward_model("Skywork/Skywork-Reward-V2-Qwen3-0.6B", "quick", device="cpu")
    assert model.config.num_labels == 1 and "trained" in model.name_or_path
    micro = helpers.load_model("HuggingFaceTB/SmolLM2-360M", "quick")
    differs = [not torch.equal(p, micro.state_dict()[n]) for n, p in model.state_dict().items() if n in micro.state_dict()]
    assert any(differs)   # trained, not the micro-model's weights with a random head


def test_reward_model_beats_chance_on_heldout_pairs(test_pairs):
    """Share of held-out pairs whose chosen answer gets the higher reward, with a bootstrap interval."""
    ts = _scorers_module()
    model, tokenizer = helpers.evaluation.load_reward_model("any/reward-model", "quick", device="cpu")
    hits, chance = ts.reward_accuracy(model, tokenizer, test_pairs)
    result = paired_difference(chance, hits, "reward-model accuracy over chance")
    print(f"\nreward model, {len(test_pairs)} held-out pairs: accuracy {hits.mean():.3f}; {result}")
    assert result.low > 0, result
    shipped = json.loads((REWARD_DIR / "scorer.json").read_text())
    assert abs(shipped["heldout_accuracy"] - hits.mean().item()) < 1e-4, shipped   # the recorded number (4 places)


def test_judge_is_what_06_loads_in_quick_and_its_heldout_numbers_are_the_recorded_ones(test_pairs):
    """06's judge id loads the trained judge; its held-out agreement (picks the chosen answer in both orders) and
    swap consistency are measured here, not assumed (scorer.json records them; printed with -s)."""
    ts = _scorers_module()
    judge = helpers.load_model(ts.JUDGE_ID, "quick", device="cpu")
    tokenizer = helpers.load_tokenizer(ts.JUDGE_ID, "quick")
    assert type(judge).__name__ == "Qwen2ForCausalLM"          # the judge id's family, as in the full profile
    agree, consistent = ts.judge_agreement(judge, tokenizer, test_pairs)
    print(f"\njudge, {len(test_pairs)} held-out pairs: picks the chosen answer in both orders on {int(agree.sum())}, "
          f"consistent on {int(consistent.sum())}")
    shipped = json.loads((JUDGE_DIR / "scorer.json").read_text())
    assert abs(shipped["heldout_agreement"] - agree.mean().item()) < 1e-4, shipped
    assert abs(shipped["heldout_consistency"] - consistent.mean().item()) < 1e-4, shipped
    assert agree.sum() >= 1 and consistent.sum() >= 1   # not degenerate: some verdicts survive the swap


@pytest.mark.skipif(os.environ.get("COURSE_SLOW_TESTS") != "1", reason="retrains the scorers (minutes of CPU); set "
                    "COURSE_SLOW_TESTS=1 to run it")
def test_training_reproduces_the_shipped_scorers():
    out = subprocess.run([sys.executable, "scripts/maintainers/train_scorers.py", "--check"], cwd=REPO_ROOT, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
