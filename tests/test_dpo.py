"""04_dpo's from-scratch DPO, run outside the notebook: hand-computed formulas, step 0, and equality with TRL.

The functions come from the notebook itself (tests/nbcode.py), so these tests test what the lesson teaches.
"""
import math

import pytest
import torch
from peft import get_peft_model
from trl import DPOConfig, DPOTrainer
from trl.trainer.dpo_trainer import DataCollatorForPreference

import helpers
from nbcode import adapter_as_if_trained, definitions

from tests.conftest import MODEL_ID  # noqa: E402
BETA = 0.1
PREAMBLE = ("import math\nimport datasets\nimport torch\nimport torch.nn.functional as F\n"
            "from contextlib import contextmanager\nimport helpers\n")
NAMES = ("to_pairs", "fits", "common_prefix", "tokenize_pair", "collate_pairs", "sequence_logps", "dpo_loss", "ipo_loss",
         "reward_stats", "reference_adapter", "scratch_numbers", "METRICS", "select_pairs", "trl_numbers",
         "max_differences", "trl_loss", "trainable_state", "load_trainable_state", "train_from_scratch",
         "sigmoid_norm_loss", "name_eval_logs", "chance_band", "dpo_sft_loss", "dpo_sft_args", "answer_ids", "stops",
         "refusals", "refuses")


@pytest.fixture(scope="module")
def nb():
    return definitions("04_dpo.ipynb", *NAMES, preamble=PREAMBLE)


@pytest.fixture(scope="module")
def tokenizer():
    return helpers.load_tokenizer(MODEL_ID, "quick")


@pytest.fixture(scope="module")
def pairs(nb):
    return nb["to_pairs"](helpers.load_preferences("quick", "train"))


@pytest.fixture(scope="module")
def trainer(nb, pairs, tokenizer, tmp_path_factory):
    """A DPOTrainer on a stand-in whose "default" adapter is non-zero, as after SFT (ref_model=None)."""
    model = adapter_as_if_trained(MODEL_ID, seed=0, std=0.02)
    args = DPOConfig(output_dir=str(tmp_path_factory.mktemp("dpo")), beta=BETA, max_length=256, report_to="none",
                     max_steps=1, activation_checkpointing=False, **helpers.precision().trainer_args)
    trainer = DPOTrainer(model=model, args=args, train_dataset=pairs[0], processing_class=tokenizer)
    trainer.model.eval()
    return trainer


@pytest.fixture(scope="module")
def batch(nb, pairs, tokenizer):
    ids = [nb["tokenize_pair"](tokenizer, pairs[0][i]) for i in range(4)]
    return nb["collate_pairs"](ids, tokenizer.pad_token_id, 256)


# --- formulas against hand-computed values ---------------------------------------------------------------------
def test_dpo_loss_and_rewards_by_hand(nb):
    pc, pr, rc, rr = (torch.tensor(v) for v in ([-10.0, -20.0], [-12.0, -18.0], [-11.0, -19.0], [-11.0, -19.0]))
    losses, chosen, rejected = nb["dpo_loss"](pc, pr, rc, rr, beta=0.1)
    # pair 1: chosen log-ratio +1, rejected -1 -> margin 0.1 * 2 = 0.2; pair 2: margin -0.2
    torch.testing.assert_close(chosen, torch.tensor([0.1, -0.1]))
    torch.testing.assert_close(rejected, torch.tensor([-0.1, 0.1]))
    torch.testing.assert_close(losses, torch.tensor([math.log1p(math.exp(-0.2)), math.log1p(math.exp(0.2))]))
    assert losses[0].item() == pytest.approx(0.598139, abs=1e-6)


def test_label_smoothing_is_conservative_dpo(nb):
    m = torch.tensor([2.0])
    zero = torch.zeros(1)
    smooth, _, _ = nb["dpo_loss"](m / 0.5, zero, zero, zero, beta=0.5, label_smoothing=0.25)  # margin 2
    want = 0.75 * math.log1p(math.exp(-2.0)) + 0.25 * math.log1p(math.exp(2.0))
    assert smooth.item() == pytest.approx(want, abs=1e-6)
    # its minimum is at margin ln((1 - eps) / eps), where it equals the binary entropy of eps
    best = torch.tensor([math.log(3) / 0.5])
    floor, _, _ = nb["dpo_loss"](best, zero, zero, zero, beta=0.5, label_smoothing=0.25)
    assert floor.item() == pytest.approx(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)), abs=1e-6)


def test_ipo_by_hand(nb):
    # per-token log-ratios: chosen +8/4 = 2, rejected -3/3 = -1 -> h = 3; target 1/(2 * 0.25) = 2 -> (3 - 2)^2 = 1
    loss = nb["ipo_loss"](torch.tensor([-2.0]), torch.tensor([-6.0]), torch.tensor([-10.0]), torch.tensor([-3.0]),
                          torch.tensor([4.0]), torch.tensor([3.0]), beta=0.25)
    assert loss.item() == pytest.approx(1.0, abs=1e-6)


def test_sigmoid_norm_by_hand(nb):
    loss = nb["sigmoid_norm_loss"](torch.tensor([-2.0]), torch.tensor([-6.0]), torch.tensor([-10.0]),
                                   torch.tensor([-3.0]), torch.tensor([4.0]), torch.tensor([3.0]), beta=0.5)
    assert loss.item() == pytest.approx(math.log1p(math.exp(-1.5)), abs=1e-6)  # margin 0.5 * (2 - (-1))


def test_reward_stats_count_ties_as_wrong(nb):
    stats = nb["reward_stats"](torch.tensor([0.3, 0.0, -0.1]), torch.tensor([0.1, 0.0, 0.2]))
    assert stats["rewards/accuracies"] == pytest.approx(1 / 3)
    assert stats["rewards/margins"] == pytest.approx((0.2 + 0.0 - 0.3) / 3)


def test_chance_band(nb):
    assert nb["chance_band"](100) == pytest.approx(0.1)
    assert 0.518 < 0.5 + nb["chance_band"](500)  # the report's 0.518 on 500 pairs: inside the band


# --- data and tokenization ---------------------------------------------------------------------------------------
def test_the_three_malformed_training_rows_are_counted(pairs):
    dataset, skipped = pairs
    rows = len(helpers.load_preferences("quick", "train"))     # data/README.md: 3 malformed rows at fixed positions
    assert [row for row, _ in skipped] == [22, 86, 141] and len(dataset) == rows - 3
    assert dataset["row"] == [i for i in range(rows) if i not in (22, 86, 141)]


def test_tokenization_and_batch_equal_trls_for_every_pair(nb, pairs, tokenizer, trainer):
    dataset, _ = pairs
    assert trainer.train_dataset["row"] == dataset["row"]  # nothing filtered at max_length 256
    ours = [nb["tokenize_pair"](tokenizer, p) for p in dataset]
    theirs = [{k: row[k] for k in ("prompt_ids", "chosen_ids", "rejected_ids")} for row in trainer.train_dataset]
    assert ours == theirs
    assert all(t["chosen_ids"][-1] == tokenizer.eos_token_id for t in ours)  # every answer ends with EOS
    for max_length in (256, 64):  # 64 cuts most sequences: truncation must match too
        mine = nb["collate_pairs"](ours[:8], tokenizer.pad_token_id, max_length)
        trl = DataCollatorForPreference(pad_token_id=tokenizer.pad_token_id, max_length=max_length)(theirs[:8])
        for key in mine:
            assert torch.equal(mine[key], trl[key]), (max_length, key)
    assert mine["input_ids"].shape[1] == 64


# --- step 0 and the proof against TRL ------------------------------------------------------------------------------
def test_ref_adapter_is_a_frozen_copy(trainer):
    params = dict(trainer.model.named_parameters())
    refs = [n for n in params if ".ref." in n]
    assert refs and all(torch.equal(params[n], params[n.replace(".ref.", ".default.")]) for n in refs)
    assert not any(params[n].requires_grad for n in refs)


def test_reference_adapter_leaves_the_trained_adapter_trainable(nb, trainer):
    model = trainer.model
    before = {n for n, p in model.named_parameters() if p.requires_grad}
    with nb["reference_adapter"](model):
        assert model.active_adapter == "ref"
        assert not any(p.requires_grad for p in model.parameters())
    assert model.active_adapter == "default"
    assert {n for n, p in model.named_parameters() if p.requires_grad} == before


def test_step0_loss_is_ln2_and_equal_to_trl(nb, trainer, batch):
    ours = nb["scratch_numbers"](trainer.model, batch, BETA)
    assert torch.allclose(ours["loss"], torch.full((4,), math.log(2)), atol=1e-6)
    assert (ours["rewards/chosen"] == 0).all() and (ours["rewards/rejected"] == 0).all()
    assert_equal(nb, ours, nb["trl_numbers"](trainer, batch))


def assert_equal(nb, ours, theirs):
    """Summed log-probabilities (hundreds of nats, float32) within 1e-6 relatively; loss and rewards within 1e-5,
    or within 1e-7 of the largest summed log-probability if that is more: they are differences of such float32
    sums, so their rounding grows with them (the pretrained micro-model gives sums near a thousand nats)."""
    diffs = nb["max_differences"](ours, theirs)
    scale = max(theirs[k].abs().max().item() for k in theirs if k.startswith("logps/"))
    for key, diff in diffs.items():
        limit = 1e-6 * theirs[key].abs().max().item() if key.startswith("logps/") else max(1e-5, 1e-7 * scale)
        assert diff <= limit, (key, diffs, scale)


def test_equal_to_trl_with_nonzero_rewards(nb, trainer, batch):
    model = trainer.model
    start = nb["trainable_state"](model)
    try:
        history = nb["train_from_scratch"](model, nb["select_pairs"](batch, range(2)), beta=BETA, steps=3, lr=5e-3)
        assert history[0]["loss"] == pytest.approx(math.log(2), abs=1e-6)
        assert history[-1]["loss"] < history[0]["loss"] and history[-1]["margin"] > 0.01
        ours, theirs = nb["scratch_numbers"](model, batch, BETA), nb["trl_numbers"](trainer, batch)
        assert (ours["rewards/chosen"] - ours["rewards/rejected"]).abs().min() > 1e-4  # a real test: non-zero
        assert_equal(nb, ours, theirs)

        with torch.no_grad(), nb["reference_adapter"](model):
            ref = nb["sequence_logps"](model, batch)
        tokens = batch["completion_mask"].sum(-1).float()
        with nb["trl_loss"](trainer, "ipo"):
            trl_ipo = nb["trl_numbers"](trainer, batch)["loss"]
        ipo = nb["ipo_loss"](ours["logps/chosen"], ours["logps/rejected"], *ref.chunk(2), *tokens.chunk(2), beta=BETA)
        torch.testing.assert_close(ipo.double(), trl_ipo, rtol=1e-5, atol=1e-5)

        with nb["trl_loss"](trainer, "sigmoid_norm"):
            trl_norm = nb["trl_numbers"](trainer, batch)["loss"]
        norm = nb["sigmoid_norm_loss"](ours["logps/chosen"], ours["logps/rejected"], *ref.chunk(2), *tokens.chunk(2),
                                       beta=BETA)
        torch.testing.assert_close(norm.double(), trl_norm, rtol=1e-5, atol=1e-5)

        # TRL 1.16's sigmoid loss ignores label_smoothing: equal to eps = 0, not to conservative DPO
        with nb["trl_loss"](trainer, "sigmoid", label_smoothing=0.1):
            trl_smoothed = nb["trl_numbers"](trainer, batch)["loss"]
        torch.testing.assert_close(ours["loss"].double(), trl_smoothed, rtol=1e-5, atol=1e-5)
        cdpo, _, _ = nb["dpo_loss"](ours["logps/chosen"], ours["logps/rejected"], *ref.chunk(2), BETA, 0.1)
        assert (cdpo.double() - trl_smoothed).abs().max() > 1e-4
        assert trainer.loss_types == ["sigmoid"] and trainer.label_smoothing == 0.0  # restored
    finally:
        nb["load_trainable_state"](model, start)
    back = nb["scratch_numbers"](model, batch, BETA)
    assert torch.allclose(back["loss"], torch.full((4,), math.log(2)), atol=1e-6)


def test_dpo_sft_loss_by_hand(nb):
    """Mean DPO loss over pairs + weight x NLL per chosen token, pooled over the batch (not a mean of per-pair NLLs)."""
    pc, pr, rc, rr = (torch.tensor(v) for v in ([-10.0, -45.0], [-12.0, -20.0], [-11.0, -44.0], [-12.0, -21.0]))
    tokens = torch.tensor([5.0, 15.0])
    margins = BETA * ((pc - rc) - (pr - rr))
    expected = -torch.nn.functional.logsigmoid(margins).mean() + 0.5 * (55.0 / 20.0)     # NLL: 55 nats / 20 tokens
    got = nb["dpo_sft_loss"](pc, pr, rc, rr, tokens, BETA, 0.5)
    assert got.item() == pytest.approx(expected.item(), abs=1e-6)
    per_pair_mean = -torch.nn.functional.logsigmoid(margins).mean() + 0.5 * (10 / 5 + 45 / 15) / 2
    assert abs(got.item() - per_pair_mean.item()) > 1e-3          # pooling per token is not a mean of per-pair means


def test_dpo_sft_loss_equal_to_trl(nb, trainer, batch):
    """04's from-scratch DPO + SFT equals TRL 1.16's loss_type=["sigmoid", "sft"] with loss_weights, to ~1e-5, pair by
    pair and on the whole batch, with non-zero rewards."""
    model = trainer.model
    start = nb["trainable_state"](model)
    try:
        nb["train_from_scratch"](model, nb["select_pairs"](batch, range(2)), beta=BETA, steps=3, lr=5e-3)
        with torch.no_grad():
            policy = nb["sequence_logps"](model, batch)
            with nb["reference_adapter"](model):
                ref = nb["sequence_logps"](model, batch)
        (pc, pr), (rc, rr) = policy.chunk(2), ref.chunk(2)
        assert ((pc - rc) - (pr - rr)).abs().min() > 1e-3                    # non-zero margins: a real test
        tokens = batch["completion_mask"][:, 1:].sum(-1).chunk(2)[0]
        weight = 0.7
        ours_pairs = torch.stack([nb["dpo_sft_loss"](pc[i:i + 1], pr[i:i + 1], rc[i:i + 1], rr[i:i + 1], tokens[i:i + 1],
                                                     BETA, weight) for i in range(len(pc))])
        ours_batch = nb["dpo_sft_loss"](pc, pr, rc, rr, tokens, BETA, weight)
        with nb["trl_loss"](trainer, ["sigmoid", "sft"], weights=[1.0, weight]):
            trl_pairs = nb["trl_numbers"](trainer, batch)["loss"]
            with torch.no_grad():
                trl_batch = trainer.compute_loss(model, batch).item()
        torch.testing.assert_close(ours_pairs.double(), trl_pairs, rtol=1e-5, atol=1e-5)
        assert ours_batch.item() == pytest.approx(trl_batch, rel=1e-5, abs=1e-5)
        assert abs(ours_batch.item() - ours_pairs.mean().item()) > 1e-4       # the batch pools its chosen tokens
        assert trainer.loss_types == ["sigmoid"] and trainer.loss_weights == [1.0]   # restored
    finally:
        nb["load_trainable_state"](model, start)
        for values in trainer._metrics["eval"].values():
            if isinstance(values, list):
                values.clear()


def test_dpo_sft_args_adds_the_sft_term_and_saves_nothing(nb, tmp_path):
    args = DPOConfig(output_dir=str(tmp_path), beta=BETA, max_steps=2, report_to="none", eval_strategy="steps",
                     activation_checkpointing=False, **helpers.precision().trainer_args,
                     eval_steps=1, save_strategy="steps", save_steps=1)
    fix = nb["dpo_sft_args"](args, 0.3)
    assert fix.loss_type == ["sigmoid", "sft"] and fix.loss_weights == [1.0, 0.3]
    assert fix.eval_strategy == "no" and fix.save_strategy == "no"
    assert args.loss_type == ["sigmoid"] and args.save_strategy == "steps"   # the original is untouched


def _quick_config(notebook):
    """The tagged config cell of `notebook`, run in the quick profile: {name: value}."""
    import nbformat

    from nbcode import NOTEBOOKS

    cell = next(c for c in nbformat.read(NOTEBOOKS / notebook, as_version=4).cells
                if "parameters" in c.metadata.get("tags", []))
    namespace = {"helpers": helpers, "torch": torch, "profile": helpers.env.Profile("quick")}
    exec(cell.source, namespace)
    return namespace


def test_dpo_sft_meets_the_quick_targets(nb, tmp_path):
    """04's section 11 with 04's own config and functions: after DPO + SFT at least 80% of the answers to the held-out
    eval prompts stop with EOS, and more harmful prompts are refused than after SFT (the course's one rule)."""
    from accelerate.utils import extract_model_from_parallel

    c = _quick_config("04_dpo.ipynb")
    built = definitions("04_dpo.ipynb", "args", preamble=PREAMBLE + "from trl import DPOConfig\nprec = helpers.precision()\n"
                        + "".join(f"{k} = {c[k]!r}\n" for k in ("BETA", "MAX_STEPS", "BATCH_PAIRS", "GRAD_ACCUM",
                                                               "LEARNING_RATE", "MAX_LENGTH", "CHECKPOINTING",
                                                               "EVAL_STEPS", "SEED")))
    tokenizer = helpers.load_tokenizer(c["MODEL_ID"], "quick", chat_template="course")
    adapter_dir = helpers.train.ensure_sft_adapter(c["MODEL_ID"], "quick", **c["SFT_RECIPE"], seed=c["SEED"])
    train_pairs, _ = nb["to_pairs"](helpers.train.pick_rows(helpers.load_preferences("quick", "train"), c["TRAIN_ROWS"]))
    model = helpers.train.load_adapter(helpers.load_model(c["MODEL_ID"], "quick", dtype=torch.float32), adapter_dir,
                                       is_trainable=True, tokenizer=tokenizer).eval()
    prompts = helpers.load_eval_prompts()
    questions = prompts["plain"] + prompts["harmful"]
    harmful = range(len(prompts["plain"]), len(questions))

    def measured(model):
        ids = nb["answer_ids"](model, tokenizer, questions, c["MAX_NEW_TOKENS"], c["GEN_BATCH"])
        texts = [tokenizer.decode(a, skip_special_tokens=True).strip() for a in ids]
        return nb["stops"](ids, tokenizer.eos_token_id).mean().item(), int(nb["refusals"](texts, harmful).sum())

    sft_stops, sft_refused = measured(model)
    args = nb["dpo_sft_args"](built["args"], c["SFT_WEIGHT"])
    args.output_dir = str(tmp_path)
    trainer = DPOTrainer(model=model, ref_model=None, args=args, processing_class=tokenizer, train_dataset=train_pairs)
    helpers.train.trainable_to_fp32(model)
    helpers.train.fit(trainer, given=len(train_pairs), resume=False)
    model = extract_model_from_parallel(model, keep_fp32_wrapper=False).eval()
    fix_stops, fix_refused = measured(model)
    report = (f"SFT: {sft_stops:.0%} stop, {sft_refused} of {len(harmful)} refused; DPO + SFT (weight "
              f"{c['SFT_WEIGHT']}): {fix_stops:.0%} stop, {fix_refused} refused")
    print(report)
    assert fix_stops >= 0.8, report
    assert fix_refused > sft_refused, report


def test_trl_numbers_leave_no_trace_in_the_logs(nb, trainer, batch):
    nb["trl_numbers"](trainer, batch)
    assert all(not v for v in trainer._metrics["eval"].values() if isinstance(v, list))


def test_sequence_logps_average_is_sum_over_answer_tokens(nb, trainer, batch):
    with torch.no_grad():
        total = nb["sequence_logps"](trainer.model, batch)
        mean = nb["sequence_logps"](trainer.model, batch, average=True)
    torch.testing.assert_close(total, mean * batch["completion_mask"][:, 1:].sum(-1), rtol=1e-5, atol=1e-4)


# --- plumbing the notebook uses -------------------------------------------------------------------------------------
def test_name_eval_logs():
    ns = definitions("04_dpo.ipynb", "name_eval_logs", preamble=PREAMBLE)
    history = [{"loss": 0.6, "step": 5},
               {"eval_heldout_loss": 0.66, "eval_rewards/accuracies": 0.6, "step": 10},
               {"eval_seen_loss": 0.64, "eval_rewards/accuracies": 0.7, "eval_seen_runtime": 1.0, "step": 10}]
    out = ns["name_eval_logs"](history, ["heldout", "seen"])
    assert out[1] == {"eval_heldout_loss": 0.66, "eval_heldout_rewards/accuracies": 0.6, "step": 10}
    assert out[2] == {"eval_seen_loss": 0.64, "eval_seen_rewards/accuracies": 0.7, "eval_seen_runtime": 1.0, "step": 10}
    assert out[0] == {"loss": 0.6, "step": 5}
    assert ns["name_eval_logs"](out, ["heldout", "seen"]) == out  # idempotent (a resumed run's history)


def test_trainable_to_fp32_undoes_trls_bf16_cast(nb):
    model = get_peft_model(helpers.load_model(MODEL_ID, "quick"), helpers.train.lora_config(MODEL_ID))
    trainable = [p for p in model.parameters() if p.requires_grad]
    for p in trainable:  # what DPOTrainer does to the adapter of a 4-bit model
        p.data = p.data.to(torch.bfloat16)
    assert helpers.train.trainable_to_fp32(model) == len(trainable)
    assert all(p.dtype == torch.float32 for p in trainable)
    assert helpers.train.trainable_to_fp32(model) == 0


def test_progress_line_names_each_eval_set(capsys):
    from transformers import TrainerControl, TrainerState

    printer = helpers.train.progress._progress_callback_class()()
    state = TrainerState()
    state.global_step, state.max_steps = 0, 0          # evaluate() before train()
    printer.on_log(None, state, TrainerControl(), logs={"eval_heldout_loss": 0.6931, "eval_rewards/margins": 0.0})
    state.global_step, state.max_steps = 10, 30
    printer.on_log(None, state, TrainerControl(), logs={"eval_loss": 0.5})
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["step    0 | heldout eval loss 0.6931", "step   10/30 | eval loss 0.5000"]


# --- the notebook's reading of its results, and its T4 estimates -------------------------------------------------
@pytest.fixture(scope="module")
def reading():
    return definitions("04_dpo.ipynb", "length_verdict", "length_stats", "padded_length", "forward_precision",
                       preamble=PREAMBLE)


def test_length_verdict_follows_the_numbers(reading):
    verdict = reading["length_verdict"]
    assert "evidence of more than length" in verdict(0.75, 0.60, 0.70, 0.05)          # clearly above the rule
    assert "learned length, not quality" in verdict(0.62, 0.60, 0.97, 0.05)          # at the rule, always longer
    neither = verdict(0.62, 0.60, 0.65, 0.05)                                          # at the rule, not length-only
    assert "no evidence of more than length, nor of length alone" in neither and "65.0%" in neither
    assert "learned length" not in verdict(0.64, 0.60, 0.80, 0.05)                   # 80% is not "nearly every pair"


def test_length_stats_count_generated_ids(reading):
    eos = 0
    answers = [[5, 6, eos], [7, 8, 9, 10], [eos]]        # stopped after 2 tokens; cut at the limit; stopped at once
    mean, cut = reading["length_stats"](answers, eos)
    assert mean == pytest.approx((2 + 4 + 0) / 3) and cut == pytest.approx(1 / 3)


def test_padded_length_pads_each_batch_to_its_longest_sequence(reading):
    tokenized = {"prompt_ids": [[1] * 3, [1] * 3, [1] * 3, [1] * 3], "chosen_ids": [[2] * 2, [2] * 7, [2] * 1, [2] * 1],
                 "rejected_ids": [[3] * 4, [3] * 1, [3] * 1, [3] * 9]}   # longest per pair: 7, 10, 4, 12
    assert reading["padded_length"](tokenized, 4, 512, 0) == 12                    # one batch: all padded to 12
    assert reading["padded_length"](tokenized, 1, 512, 0) == pytest.approx((7 + 10 + 4 + 12) / 4)  # no padding
    assert reading["padded_length"](tokenized, 4, 8, 0) == 8                       # cut at max_length


def test_forward_precision_sees_accelerates_autocast_wrapper(reading):
    from accelerate.utils import extract_model_from_parallel

    model = get_peft_model(helpers.load_model(MODEL_ID, "quick"), helpers.train.lora_config(MODEL_ID))
    assert reading["forward_precision"](model) == "float32 weights, no autocast"
    model._original_forward = model.forward                    # what accelerate's prepare_model does under fp16/bf16
    model.forward = torch.autocast("cpu", dtype=torch.bfloat16)(model.forward)
    assert "autocast" in reading["forward_precision"](model) and "no autocast" not in reading["forward_precision"](model)
    model = extract_model_from_parallel(model, keep_fp32_wrapper=False)
    assert reading["forward_precision"](model) == "float32 weights, no autocast"


def readme_estimates_04():
    """04's README row from the notebook's own FLOP and memory models on its full-profile config: the upper bound
    (every sequence MAX_LENGTH tokens) and the largest predicted step (TRL's with the 'ref' adapter, or our loop)."""
    names = ("MODEL_ID", "MAX_STEPS", "BATCH_PAIRS", "GRAD_ACCUM", "MAX_LENGTH", "EVAL_STEPS", "TEST_ROWS", "SEEN_PAIRS",
             "PROBE_PAIRS", "CHECKPOINTING", "SCRATCH_PAIRS", "SCRATCH_STEPS", "SWEEP_BETAS", "SWEEP_STEPS",
             "pairs_per_step", "t4_plan", "lora_step_memory")
    c = definitions("04_dpo.ipynb", *names, preamble=PREAMBLE + "profile = helpers.Profile('full')\n")
    n_params = helpers.count_parameters(helpers.build_model(c["MODEL_ID"], device="meta"))[1]
    length = c["MAX_LENGTH"]
    plan = c["t4_plan"](n_params, max_steps=c["MAX_STEPS"], pairs_per_step=c["pairs_per_step"],
                        eval_steps=c["EVAL_STEPS"], n_test=c["TEST_ROWS"], n_seen=c["SEEN_PAIRS"],
                        probe_pairs=c["PROBE_PAIRS"], demo_pairs=c["BATCH_PAIRS"], scratch_pairs=c["SCRATCH_PAIRS"],
                        scratch_steps=c["SCRATCH_STEPS"] + 1 + len(c["SWEEP_BETAS"]) * (c["SWEEP_STEPS"] + 1) + 6,
                        checkpointing=c["CHECKPOINTING"], train_len=length, eval_len=length, demo_len=length)
    trl = c["lora_step_memory"](c["MODEL_ID"], 2 * c["BATCH_PAIRS"], length, c["CHECKPOINTING"], torch.float16)
    ours = c["lora_step_memory"](c["MODEL_ID"], 2 * c["SCRATCH_PAIRS"], length, False, torch.float32)
    memory = max(trl.total + 4 * trl.trainable, ours.total)   # + the frozen fp32 'ref' adapter
    flops = sum(plan.values())
    return (flops, f"\u2264 {math.ceil(helpers.t4_minutes(flops))} (+ a short SFT if 03's adapter is missing)",
            f"~{memory / 2**30:.1f} GiB")


def test_readme_row_comes_from_the_notebooks_own_models():
    import nbformat

    from nbcode import NOTEBOOKS

    flops, minutes, memory = readme_estimates_04()
    meta = nbformat.read(NOTEBOOKS / "04_dpo.ipynb", as_version=4).metadata["course"]
    assert (meta["t4_minutes"], meta["gpu_memory"]) == (minutes, memory), (
        f"set 04_dpo's metadata t4_minutes={minutes!r}, gpu_memory={memory!r} ({flops / 1e15:.2f} PFLOP), then run "
        "python scripts/teachers/sync_notebooks.py")
    assert helpers.t4_minutes(flops) <= 15 * 0.9, "04's full profile must fit a T4's 15 minutes with a margin"


def test_one_tagged_config_cell_holds_every_knob():
    import ast

    import nbformat

    from nbcode import NOTEBOOKS

    nb = nbformat.read(NOTEBOOKS / "04_dpo.ipynb", as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "profile.pick(" in tagged[0].source, "tag 04's config cell with 'parameters'"
    config = {t.id for node in ast.parse(tagged[0].source).body if isinstance(node, ast.Assign) for t in node.targets
              if isinstance(t, ast.Name)}
    assert {"SWEEP_STEPS", "SWEEP_BETAS", "PROBE_PAIRS", "SCRATCH_STEPS", "GEN_BATCH"} <= config
    for cell in nb.cells:
        if cell.cell_type == "code" and cell is not tagged[0]:
            assert "profile.pick(" not in cell.source, "a size chosen by profile outside the config cell"
            for node in ast.parse(cell.source).body:      # no UPPER_CASE knob assigned after the config cell
                if isinstance(node, ast.Assign):
                    names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                    assert not [n for n in names if n.isupper() and n in config], names


# --- 04's recipe is defined once (helpers.train.dpo_recipe) and 04's config cell, which teaches it, agrees ----------
@pytest.mark.parametrize("profile", ["full", "quick"])
def test_04_config_cell_teaches_the_one_dpo_recipe(profile):
    knobs = {"beta": "BETA", "learning_rate": "LEARNING_RATE", "max_steps": "MAX_STEPS", "batch_pairs": "BATCH_PAIRS",
             "grad_accum": "GRAD_ACCUM", "max_length": "MAX_LENGTH", "checkpointing": "CHECKPOINTING"}
    nb = definitions("04_dpo.ipynb", *knobs.values(), preamble=f"import helpers\nprofile = helpers.Profile({profile!r})\n")
    recipe = helpers.train.dpo_recipe(profile)
    assert set(recipe) == set(knobs)
    assert {k: nb[name] for k, name in knobs.items()} == recipe, "04's config cell and helpers.train.DPO_RECIPE differ"
    with pytest.raises(TypeError, match="dpo_recipe has no bta.*beta"):
        helpers.train.dpo_recipe(profile, bta=0.5)
