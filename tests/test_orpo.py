"""05_orpo's from-scratch ORPO, run outside the notebook: hand-computed formulas, step-0 cases, TRL's tokenization,
and equality with TRL's ORPOTrainer on other data than the notebook's (the held-out split, a non-zero adapter).

The functions come from the notebook itself (tests/nbcode.py), so these tests test what the lesson teaches.
"""
import math
import os

import pytest
import torch
from peft import get_peft_model

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
from trl.experimental.orpo import ORPOConfig, ORPOTrainer  # noqa: E402

import helpers  # noqa: E402
from nbcode import adapter_as_if_trained, definitions  # noqa: E402

from tests.conftest import MODEL_ID  # noqa: E402
LAMBDA = 0.25
MAX_LENGTH = 256
PREAMBLE = ("import math\nimport torch\nimport torch.nn.functional as F\nfrom types import SimpleNamespace\n"
            "import helpers\n")
NAMES = ("orpo_tokenize_pair", "has_room", "tokenize_pair", "collate_pairs", "fits", "to_pairs", "token_logps",
         "mean_answer_logps", "prompt_inclusive_nll", "log1mexp", "log_odds", "odds_ratio_term", "orpo_loss",
         "orpo_numbers", "KnowsNothing", "KEYS", "select_pairs", "trl_numbers", "scratch_per_pair",
         "trainable_state", "load_trainable_state", "train_orpo_from_scratch", "answer_only_nll", "padded_tokens")


@pytest.fixture(scope="module")
def nb():
    return definitions("05_orpo.ipynb", *NAMES, preamble=PREAMBLE)


@pytest.fixture(scope="module")
def tokenizer():
    return helpers.load_tokenizer(MODEL_ID, "quick", chat_template="course")


@pytest.fixture(scope="module")
def pairs(nb):
    """The held-out split: the notebook proves equality on training pairs, we use others."""
    dataset, skipped = nb["to_pairs"](helpers.load_preferences("quick", "test"))
    assert not skipped
    return dataset


@pytest.fixture(scope="module")
def trainer(pairs, tokenizer, tmp_path_factory):
    """An ORPOTrainer whose LoRA adapter is non-zero (as after some training), lambda other than the notebook's."""
    model = adapter_as_if_trained(MODEL_ID, seed=1, std=0.05)
    args = ORPOConfig(output_dir=str(tmp_path_factory.mktemp("orpo")), beta=LAMBDA, max_length=MAX_LENGTH,
                      max_steps=1, report_to="none", activation_checkpointing=False, remove_unused_columns=False,
                      **helpers.precision().trainer_args)
    trainer = ORPOTrainer(model=model, args=args, train_dataset=pairs, processing_class=tokenizer)
    trainer.model.eval()
    return trainer


def batch_of(nb, tokenizer, pairs, idx, max_length=MAX_LENGTH):
    ids = [nb["orpo_tokenize_pair"](tokenizer, pairs[i], max_length) for i in idx]
    return nb["collate_pairs"](ids, tokenizer.pad_token_id, max_length)


# --- formulas against hand-computed values ---------------------------------------------------------------------
def test_log1mexp_is_accurate_where_the_naive_formula_fails(nb):
    x = torch.tensor([-1e-12, -1e-9, -1e-6, -0.1, -0.69, -0.7, -2.0, -30.0], dtype=torch.float32)
    want = torch.tensor([math.log(-math.expm1(v)) for v in x.double().tolist()], dtype=torch.float64)
    torch.testing.assert_close(nb["log1mexp"](x).double(), want, rtol=1e-6, atol=1e-6)
    assert torch.isinf(torch.log(1 - torch.exp(x[1])))  # what the stable form avoids
    # log odds of p = 0.5 is 0; of p = 0.9 is ln 9
    got = nb["log_odds"](torch.tensor([math.log(0.5), math.log(0.9)], dtype=torch.float64))
    torch.testing.assert_close(got, torch.tensor([0.0, math.log(9)], dtype=torch.float64))


def test_odds_ratio_term_by_hand(nb):
    # p_w = 0.75 (odds 3), p_l = 0.25 (odds 1/3): log odds ratio ln 9; loss -log sigmoid(ln 9) = ln(1 + 1/9)
    losses, ratio = nb["odds_ratio_term"](torch.tensor([math.log(0.75)]), torch.tensor([math.log(0.25)]))
    assert ratio.item() == pytest.approx(math.log(9), abs=1e-5)
    assert losses.item() == pytest.approx(math.log1p(1 / 9), abs=1e-6)
    tie, zero = nb["odds_ratio_term"](torch.tensor([-1.3]), torch.tensor([-1.3]))
    assert zero.item() == 0 and tie.item() == pytest.approx(math.log(2), abs=1e-7)


def test_loss_of_a_model_that_knows_nothing_is_ln_v_plus_lambda_ln_2(nb, tokenizer, pairs):
    batch = batch_of(nb, tokenizer, pairs, range(3))
    vocab = 2 * len(tokenizer)  # any vocabulary that holds the ids; here larger than the model's
    numbers = nb["orpo_numbers"](nb["KnowsNothing"](vocab), batch, LAMBDA)
    assert numbers["nll_loss"].item() == pytest.approx(math.log(vocab), abs=1e-5)
    assert numbers["loss"].item() == pytest.approx(math.log(vocab) + LAMBDA * math.log(2), abs=1e-5)
    assert torch.allclose(numbers["logps/chosen"], torch.full((3,), -math.log(vocab)))


def test_nll_counts_prompt_tokens_and_answer_only_does_not(nb):
    token_lp = torch.tensor([[-1.0, -2.0, -3.0], [-4.0, -5.0, -6.0]], dtype=torch.float64)  # 1 chosen, 1 rejected
    batch = {"input_ids": torch.zeros(2, 4, dtype=torch.long), "attention_mask": torch.tensor([[1, 1, 1, 1]] * 2),
             "completion_mask": torch.tensor([[0, 0, 1, 1], [0, 0, 1, 1]])}
    assert nb["prompt_inclusive_nll"](token_lp, batch).item() == pytest.approx(2.0)  # (1 + 2 + 3) / 3
    assert nb["answer_only_nll"](token_lp, batch).item() == pytest.approx(2.5)       # (2 + 3) / 2
    torch.testing.assert_close(nb["mean_answer_logps"](token_lp, batch), torch.tensor([-2.5, -5.5], dtype=torch.float64))


def test_padded_tokens_counts_both_sequences_at_the_batch_width(nb):
    tokenized = [{"prompt_ids": [1] * 3, "chosen_ids": [2] * 5, "rejected_ids": [3] * 2},
                 {"prompt_ids": [1] * 10, "chosen_ids": [2] * 1, "rejected_ids": [3] * 4}]
    assert nb["padded_tokens"](tokenized, 2, 100) == 2 * 2 * 14     # one batch, width 10 + 4
    assert nb["padded_tokens"](tokenized, 2, 12) == 2 * 2 * 12      # capped at max_length
    assert nb["padded_tokens"](tokenized, 1, 100) == 2 * 8 + 2 * 14  # one pair per batch


# --- tokens: ORPOTrainer adds a BOS and never cuts the prompt ----------------------------------------------------
def test_tokens_equal_trls_for_every_pair_with_bos(nb, pairs, tokenizer, trainer):
    ds = trainer.train_dataset
    assert len(ds) == len(pairs)  # ORPOTrainer drops nothing
    for i in range(len(pairs)):
        ours = nb["orpo_tokenize_pair"](tokenizer, pairs[i], MAX_LENGTH)
        assert ours["prompt_ids"][0] == tokenizer.bos_token_id
        assert ours["prompt_ids"][1:] == nb["tokenize_pair"](tokenizer, pairs[i])["prompt_ids"]  # DPO's, minus BOS
        assert ds[i]["prompt_input_ids"] == ours["prompt_ids"]
        for side in ("chosen", "rejected"):
            assert ds[i][f"{side}_input_ids"] == ours["prompt_ids"] + ours[f"{side}_ids"]
            assert ds[i][f"{side}_labels"] == [-100] * len(ours["prompt_ids"]) + ours[f"{side}_ids"]


def test_short_max_length_cuts_answers_like_trl_and_a_full_prompt_gives_nan(nb, pairs, tokenizer, tmp_path):
    short = 40
    full = [i for i in range(len(pairs)) if not nb["has_room"](tokenizer, pairs[i], short)]
    kept = [i for i in range(len(pairs)) if nb["has_room"](tokenizer, pairs[i], short)]
    assert full and kept  # this length cuts some answers to nothing and leaves room in others
    model = get_peft_model(helpers.load_model(MODEL_ID, "quick"), helpers.train.lora_config(MODEL_ID))
    args = ORPOConfig(output_dir=str(tmp_path), beta=LAMBDA, max_length=short, max_steps=1, report_to="none",
                      activation_checkpointing=False, remove_unused_columns=False, **helpers.precision().trainer_args)
    trainer = ORPOTrainer(model=model, args=args, train_dataset=pairs, processing_class=tokenizer)
    trainer.model.eval()
    for i in kept[:8]:
        ours = nb["orpo_tokenize_pair"](tokenizer, pairs[i], short)
        for side in ("chosen", "rejected"):
            assert trainer.train_dataset[i][f"{side}_input_ids"] == ours["prompt_ids"] + ours[f"{side}_ids"]
    with torch.no_grad():  # the trap has_room avoids: TRL trains on an empty answer, and its loss is NaN
        loss = trainer.compute_loss(trainer.model, trainer.data_collator([trainer.train_dataset[full[0]]]))
    assert math.isnan(loss.item())


# --- the proof against TRL, on other pairs than the notebook's ------------------------------------------------
def test_equal_to_trl_per_pair_and_per_batch(nb, pairs, tokenizer, trainer):
    idx = [i for i in range(len(pairs)) if nb["fits"](nb["orpo_tokenize_pair"](tokenizer, pairs[i]), MAX_LENGTH)][:6]
    batch = batch_of(nb, tokenizer, pairs, idx)
    ours = nb["scratch_per_pair"](trainer.model, batch, LAMBDA)
    theirs = nb["trl_numbers"](trainer, [trainer.train_dataset[i] for i in idx])
    for key in nb["KEYS"]:
        torch.testing.assert_close(ours[key], theirs[key], rtol=1e-5, atol=1e-5)
    assert ours["log_odds_chosen"].abs().min() > 1e-4  # a real test: the adapter separates the answers
    assert not trainer._stored_metrics.get("train")    # trl_numbers leaves no trace in the logs
    with torch.no_grad():
        trl_loss = trainer.compute_loss(trainer.model, trainer.data_collator([trainer.train_dataset[i] for i in idx]))
    trainer._stored_metrics.pop("train")
    mine = nb["orpo_numbers"](trainer.model, batch, LAMBDA)["loss"]
    assert trl_loss.item() == pytest.approx(mine.item(), abs=1e-5)  # one token-mean over the batch
    assert abs(trl_loss.item() - ours["loss"].mean().item()) > 1e-6  # ... not the mean of per-pair losses


def test_fresh_adapter_is_the_base_model(nb, pairs, tokenizer):
    model = get_peft_model(helpers.load_model(MODEL_ID, "quick"), helpers.train.lora_config(MODEL_ID)).eval()
    batch = batch_of(nb, tokenizer, pairs, range(2))
    adapted = nb["orpo_numbers"](model, batch, LAMBDA)
    with model.disable_adapter():
        plain = nb["orpo_numbers"](model, batch, LAMBDA)
    assert all(torch.equal(adapted[k], plain[k]) for k in adapted)


def test_scratch_loop_raises_the_log_odds_ratio_and_restores(nb, pairs, tokenizer, trainer):
    model = trainer.model
    start = nb["trainable_state"](model)
    batch = batch_of(nb, tokenizer, pairs, range(2))
    try:
        history = nb["train_orpo_from_scratch"](model, batch, lam=1.0, steps=4, lr=5e-3)
        assert history[-1]["loss"] < history[0]["loss"]
        assert history[-1]["log_odds_ratio"] > history[0]["log_odds_ratio"]
    finally:
        nb["load_trainable_state"](model, start)
    assert all(torch.equal(p, start[n]) for n, p in model.named_parameters() if n in start)


# --- the two-stage recipe 05 compares with is the one 03 and 04 run: 05 reads helpers.train.sft_recipe and
# dpo_recipe (that 03's and 04's config cells teach those recipes is tested once, in test_sft.py and test_dpo.py) ---
@pytest.mark.parametrize("profile", ["full", "quick"])
def test_05_compares_with_the_one_sft_and_dpo_recipe(profile, monkeypatch):
    names = ("SFT", "SFT_STEPS", "SFT_SEQUENCES_PER_STEP", "SFT_CHECKPOINTING", "DPO", "DPO_STEPS",
             "DPO_PAIRS_PER_STEP", "DPO_CHECKPOINTING", "MAX_LENGTH")
    pre = f"import math\nimport helpers\nprofile = helpers.Profile({profile!r})\n"
    for other_sizes in (False, True):      # the recipes as they are, then with other sizes: 05 follows them
        if other_sizes:
            sft, dpo = helpers.train.SFT_RECIPE[profile], helpers.train.DPO_RECIPE[profile]
            sft = {**sft, "max_steps": 7, "batch_size": 3, "grad_accum": 5, "checkpointing": not sft["checkpointing"]}
            dpo = {**dpo, "max_steps": 11, "batch_pairs": 3, "grad_accum": 3, "max_length": 100,
                   "checkpointing": not dpo["checkpointing"]}
            monkeypatch.setitem(helpers.train.SFT_RECIPE, profile, sft)
            monkeypatch.setitem(helpers.train.DPO_RECIPE, profile, dpo)
        orpo = definitions("05_orpo.ipynb", *names, preamble=pre)
        sft, dpo = helpers.train.sft_recipe(profile), helpers.train.dpo_recipe(profile)
        assert (orpo["SFT_STEPS"], orpo["SFT_SEQUENCES_PER_STEP"], orpo["SFT_CHECKPOINTING"]) == (
            sft["max_steps"], sft["batch_size"] * sft["grad_accum"], sft["checkpointing"])
        assert (orpo["DPO_STEPS"], orpo["DPO_PAIRS_PER_STEP"], orpo["DPO_CHECKPOINTING"]) == (
            dpo["max_steps"], dpo["batch_pairs"] * dpo["grad_accum"], dpo["checkpointing"])
        assert orpo["MAX_LENGTH"] == dpo["max_length"]
    assert (orpo["SFT_STEPS"], orpo["DPO_STEPS"], orpo["MAX_LENGTH"]) == (7, 11, 100)
