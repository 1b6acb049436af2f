"""06_evaluation: the reward-model plumbing in helpers.evaluation, and the notebook's own functions (finding the
adapters, the BERTScore encoder, the metrics) on known inputs, loaded from the notebook (tests/nbcode.py)."""
import json
import math
import os
import time
from pathlib import Path

import pytest
import torch

from helpers import evaluation

import nbcode as _nbcode  # tests/ is on sys.path under pytest (as for test_dpo's `from nbcode import ...`)
from tests.conftest import MODEL_ID  # noqa: E402


def fake_adapter(folder: Path, base: str, age_s: float = 0.0):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": base}))
    weights = folder / "adapter_model.safetensors"
    weights.write_bytes(b"\x02" + bytes(7) + b"{}")   # a whole (empty) safetensors file: find_adapters checks it
    stamp = time.time() - age_s
    os.utime(weights, (stamp, stamp))
    return folder


@pytest.fixture(scope="module")
def plumbing():
    """06's find_adapters and bertscore_model, as the notebook defines them."""
    return _nbcode.definitions("06_evaluation.ipynb", "ADAPTER_SOURCES", "find_adapters", "bertscore_model",
                               preamble="import json\nfrom pathlib import Path\nimport transformers\nimport helpers\n")


def test_find_adapters_by_base_model_newest_first(tmp_path, plumbing):
    ours, other = "tiny (quick-profile stand-in)", "someone/else"
    fake_adapter(tmp_path / "03_sft" / "adapter", ours, age_s=100)
    fake_adapter(tmp_path / "03_sft" / "run-b" / "adapter", ours, age_s=10)                  # newer: wins
    fake_adapter(tmp_path / "03_sft" / "adapter.partial-123", ours)                            # half-written: skipped
    dpo = fake_adapter(tmp_path / "04_dpo" / "quick-beta0.1" / "checkpoint-20", ours, age_s=5)
    fake_adapter(dpo / "ref", ours)                                                            # DPO's frozen copy: skipped
    fake_adapter(tmp_path / "05_orpo" / "run" / "checkpoint-4", other)                         # another base model
    fake_adapter(tmp_path / "scratch" / "adapter", ours)                                       # not a course notebook
    fake_adapter(tmp_path / "05_orpo-v2" / "adapter", ours, age_s=50)                          # any 05_ folder is ORPO
    found = plumbing["find_adapters"](ours, root=tmp_path)
    assert set(found) == {"SFT", "SFT->DPO", "ORPO"}
    assert found["SFT"] == tmp_path / "03_sft" / "run-b" / "adapter"
    assert found["SFT->DPO"] == dpo
    assert found["ORPO"] == tmp_path / "05_orpo-v2" / "adapter"
    assert plumbing["find_adapters"]("nobody", root=tmp_path) == {}


def test_reward_scores_one_per_answer_and_independent_of_batching():
    model, tokenizer = evaluation.load_reward_model("any/reward-model", "quick", device="cpu")
    prompts = ["What is 2 + 2?", "Name a colour.", "How do I boil an egg?"]
    answers = ["4.", "Blue is a colour, and so is a very long list of other colours such as red.", "Boil it 6 minutes."]
    together = evaluation.reward_scores(model, tokenizer, prompts, answers, batch_size=3)
    alone = torch.cat([evaluation.reward_scores(model, tokenizer, [p], [a]) for p, a in zip(prompts, answers)])
    assert together.shape == (3,) and together.dtype == torch.float32
    torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-5)     # padding does not change a score
    assert together.unique().numel() == 3                                   # it reads the text, not a constant
    with pytest.raises(ValueError, match="one answer per prompt"):
        evaluation.reward_scores(model, tokenizer, prompts, answers[:2])


@pytest.mark.filterwarnings("ignore:Cannot enable progress bars")   # pytest's conftest sets HF_HUB_DISABLE_PROGRESS_BARS
def test_bertscore_model_is_local_in_quick_and_checked_in_full(tmp_path, plumbing, capfd):
    import transformers

    bertscore_model, bars = plumbing["bertscore_model"], transformers.utils.logging
    was_on = bars.is_progress_bar_enabled()
    bars.enable_progress_bar()                                                  # as in a notebook
    try:
        folder, layers = bertscore_model(MODEL_ID, "quick", folder=tmp_path / "bs")
        assert bars.is_progress_bar_enabled()                                   # switched back on afterwards
    finally:
        if not was_on:
            bars.disable_progress_bar()
    assert (Path(folder) / "config.json").exists() and (Path(folder) / "tokenizer.json").exists() and layers >= 1
    assert "Writing model shards" not in capfd.readouterr().err                 # no progress bar for a tiny save
    assert bertscore_model("distilbert-base-uncased", "full") == ("distilbert-base-uncased", 5)
    with pytest.raises(ValueError, match="no recommended layer"):
        bertscore_model("my/encoder", "full")


@pytest.fixture(scope="module")
def nb():
    return _nbcode.definitions(
        "06_evaluation.ipynb", "wilson_interval", "bootstrap_interval", "swap_outcomes", "line_at_zero",
        "cohen_kappa", "wins", "first_position_rate", "synthetic_verdicts", "spearman", "CONFIDENCE", "BOOTSTRAP",
        "SEED", preamble="import math\nimport torch\nimport helpers\nCONFIDENCE, BOOTSTRAP, SEED = 0.95, 2000, 0\n")


def test_wilson_interval_matches_the_formula(nb):
    lo, hi = nb["wilson_interval"](18, 40)
    assert (round(lo, 4), round(hi, 4)) == (0.3071, 0.6017)                # by hand: centre 0.4544, half-width 0.1473
    lo, hi = nb["wilson_interval"](0, 10)
    assert lo == pytest.approx(0.0, abs=1e-12) and 0.27 < hi < 0.29        # stays inside [0, 1] at a rate of 0
    assert all(math.isnan(v) for v in nb["wilson_interval"](0, 0))


def test_bootstrap_interval_is_reproducible_and_brackets_the_mean(nb):
    values = torch.tensor([1.0] * 30 + [0.0] * 10)
    lo, hi = nb["bootstrap_interval"](values)
    assert lo < 0.75 < hi and (lo, hi) == nb["bootstrap_interval"](values)
    assert nb["bootstrap_interval"](torch.ones(12)) == (1.0, 1.0)


def test_length_control_reads_a_line_at_zero(nb):
    diff = torch.arange(10, dtype=torch.float64)
    rows = torch.stack([0.2 + 0.05 * diff, diff], 1)
    assert nb["line_at_zero"](rows).item() == pytest.approx(0.2)
    assert nb["line_at_zero"](torch.tensor([[1.0, 3.0], [0.0, 3.0]], dtype=torch.float64)).item() == 0.5  # no variation
    assert nb["swap_outcomes"](list("ABAB"), list("BAAB")).tolist() == [1.0, 0.0, 0.5, 0.5]


def test_kappa_wins_and_position_rate(nb):
    assert nb["cohen_kappa"](list("xxyy"), list("xxyy")) == 1.0
    assert nb["cohen_kappa"](["SFT"] * 5 + ["DPO"] * 5, ["SFT"] * 4 + ["DPO", "SFT"] + ["DPO"] * 4) == pytest.approx(0.6)
    assert nb["wins"]([1, 2, 3], [2, 2, 1]).tolist() == [0.0, 0.5, 1.0]
    first, second = nb["synthetic_verdicts"](torch.tensor([0.5, -0.5, 2.0]), bias=1.0)
    assert (first, second) == (["A", "A", "A"], ["A", "A", "B"])
    assert nb["first_position_rate"](first, second) == pytest.approx(5 / 6)
    assert nb["spearman"]([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)


# --- the course's one refusal rule (taught in 04, used by 04, 06 and the tests; tests/test_data.py checks it on the data)
def test_notebooks_use_the_one_refusal_rule():
    """04 and 06 import helpers.evaluation.refuses; neither types a refusal regex of its own."""
    import nbformat

    for name in ("04_dpo.ipynb", "06_evaluation.ipynb"):
        code = "\n".join(c.source for c in nbformat.read(_nbcode.NOTEBOOKS / name, as_version=4).cells
                         if c.cell_type == "code")
        assert "from helpers.evaluation import REFUSAL_RULE, refuses" in code, name
        assert "re.compile" not in code, f"{name} compiles a regex of its own: use helpers.evaluation.refuses"


def test_paired_difference_verdicts_and_interval():
    """The verdict follows the interval of (after - before); mismatched items are refused."""
    from helpers.evaluation import paired_difference
    up = paired_difference([0, 1, 0, 0, 1, 0, 0, 0] * 5, [1, 1, 1, 0, 1, 1, 1, 0] * 5, "hits")
    assert up.verdict == "improved" and up.low > 0 and abs(up.difference - 0.5) < 1e-12
    assert "before 0.250 -> after 0.750, difference +0.500" in str(up)
    assert paired_difference([1] * 10, [0] * 10).verdict == "worse"
    assert paired_difference([0, 1] * 10, [1, 0] * 10).verdict == "not shown"          # same mean, swapped items
    with pytest.raises(ValueError, match="same non-empty list"):
        paired_difference([1, 0], [1])


def test_06s_paired_differences_use_its_interval_settings():
    """06's config cell sets CONFIDENCE, BOOTSTRAP and SEED for every interval: each paired_difference call passes
    them (**PAIRED), so a student who changes a knob changes every interval, not only section 2's."""
    import ast

    import nbformat

    nb = nbformat.read(_nbcode.NOTEBOOKS / "06_evaluation.ipynb", as_version=4)
    calls = [node for cell in nb.cells if cell.cell_type == "code" for node in ast.walk(ast.parse(cell.source))
             if isinstance(node, ast.Call)
             and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) == "paired_difference"]
    assert len(calls) >= 4
    for call in calls:
        assert any(k.arg is None and getattr(k.value, "id", "") == "PAIRED" for k in call.keywords), ast.unparse(call)
    paired = _nbcode.definitions("06_evaluation.ipynb", "PAIRED", preamble="import torch\nBOOTSTRAP, CONFIDENCE, SEED = 7, 0.8, 3\n")
    assert paired["PAIRED"] == {"resamples": 7, "confidence": 0.8, "seed": 3}
