"""The full-profile rehearsal's pieces: the offline stand-in Hub, the override mechanism, CPU bf16, the drift guard.

The rehearsal itself (scripts/ci/rehearse.py, minutes) runs in CI after pytest; these tests are fast and make sure a
break in the Hub layout, the config-cell tags or the warning guard is caught by plain `pytest` too.
"""
import importlib.util
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import nbformat
import pytest
import torch

import helpers
from tools import notebook

from helpers.env import REPO_ROOT as ROOT   # the repository root, defined once (helpers/env.py)
MODEL_ID = "HuggingFaceTB/SmolLM2-135M"


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "ci" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_hub(tmp_path_factory):
    """One model (1 block, real vocabulary) and a small HH-RLHF, built the way the rehearsal builds them."""
    out = tmp_path_factory.mktemp("hub")
    built = _script("build_standin_hub").build(out, [MODEL_ID], layers=1, scale=0.002)
    return out, built


def _offline_full_profile(hub: Path, code: str) -> str:
    """Run ``code`` in a fresh Python with the full profile pointed at ``hub`` (HF reads HF_HOME at import)."""
    env = dict(os.environ, COURSE_PROFILE="full", HF_HOME=str(hub), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               PYTHONPATH=str(ROOT))
    env.pop("HF_DATASETS_CACHE", None)
    env.pop("HF_HUB_CACHE", None)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_standin_hub_loads_offline_through_the_helpers(tiny_hub):
    hub, built = tiny_hub
    spec = helpers.model_spec(MODEL_ID)
    assert (hub / "hub" / "models--HuggingFaceTB--SmolLM2-135M" / "refs" / "main").read_text() in built["models"][MODEL_ID]["snapshot"]
    out = _offline_full_profile(hub, f"""
        import helpers
        model = helpers.load_model("{MODEL_ID}", "full")
        tok = helpers.load_tokenizer("{MODEL_ID}", "full")
        train, test = helpers.load_preferences("full", "train"), helpers.load_preferences("full", "test")
        names = sorted({{n.split(".")[-1] for n, m in model.named_modules() if type(m).__name__ == "Linear"}})
        print(model.config.num_hidden_layers, model.config.hidden_size, model.get_input_embeddings().weight.shape[0])
        print(len(tok), tok.eos_token, tok.eos_token_id, tok.bos_token, tok.convert_tokens_to_ids("<|im_end|>"))
        print(len(train), len(test), sorted(train.column_names))
        print(",".join(names))
    """).splitlines()
    assert out[0].split() == ["1", str(spec.config["hidden_size"]), str(spec.config["vocab_size"])]  # depth shrunk only
    assert out[1].split() == [str(spec.config["vocab_size"]), spec.eos_token, "0", spec.bos_token, "2"]
    assert out[2].split()[:2] == [str(built["rows"]["train"]), str(built["rows"]["test"])]
    assert out[2].endswith("['chosen', 'rejected']")
    assert set(helpers.lora_targets(MODEL_ID)) <= set(out[3].split(","))   # real module names


def test_standin_rows_have_hh_rlhf_layout_with_long_and_malformed_rows():
    hub = _script("build_standin_hub")
    rows = hub.dataset_rows(scale=0.01)
    assert list(rows["train"]) == ["harmless-base", "helpful-base", "helpful-online", "helpful-rejection-sampled"]
    train = [r for part in rows["train"].values() for r in part]
    assert len(train) == sum(round(n * 0.01) for n, _ in hub.SUBSETS.values()) == 1_607   # real 160,800 x 1%
    parsed, skipped = helpers.parse_rows(train, lambda r: helpers.to_preference_example(r))
    assert skipped and len(skipped) < 0.02 * len(train)                   # a few malformed rows, as in the real data
    assert sum(r["chosen"].count("\n\nHuman:") >= 5 for r in train) > 0.05 * len(train)   # long multi-turn ones


def test_every_notebook_has_one_tagged_config_cell_and_the_overrides_apply():
    rehearse = _script("rehearse")
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert "profile.pick(" in notebook.config_cell(nb, path.name).source.lower(), path.name   # 07: RUN_PROFILE.pick
        assert (path.stem in rehearse.OVERRIDES) != (path.stem in rehearse.NOT_REHEARSED), \
            f"{path.stem}: give it rehearsal overrides or a reason in NOT_REHEARSED"
        overrides = rehearse.OVERRIDES.get(path.stem, {})
        missing = notebook.override_config(nb, overrides, rehearse.MARK, path.name)     # what prepare() applies
        assert not missing, (path.name, missing)                             # a knob renamed away is noticed
        for name in overrides:
            assert f"{name} = {overrides[name]}  {rehearse.MARK}" in notebook.config_cell(nb).source


def test_override_lands_right_after_its_own_line_so_derived_values_follow():
    """The mechanism lives in tools/notebook.py (the student test's quick run uses it too); the rehearsal's mark."""
    source = "A = profile.pick(full=300, quick=3)  # steps\nB, C = 1, (2,\n    3)\nD = A * B\n"
    rehearse = _script("rehearse")
    new, missing = notebook.override_source(source, {"A": "4", "C": "5", "Z": "0"}, rehearse.MARK)
    assert notebook.override_source("X = {}\nX['k'] = 1\n", {"X": "{}"}, "#")[0] == "X = {}\nX = {}  #\nX['k'] = 1\n"
    assert new.splitlines()[1] == f"A = 4  {rehearse.MARK}" and new.splitlines()[4] == f"C = 5  {rehearse.MARK}"
    namespace = {"profile": helpers.Profile("full")}
    exec(new, namespace)
    assert (namespace["A"], namespace["C"], namespace["D"], missing) == (4, 5, 4, ["Z"])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source, metadata={"tags": ["parameters"]})])
    assert notebook.override_config(nb, {"B": "7"}, "# mine") == [] and "\nB = 7  # mine\n" in nb.cells[0].source


def test_cpu_bf16_switch_gives_the_trainers_mixed_precision_path(monkeypatch):
    if torch.cuda.is_available():
        pytest.skip("the switch only applies without a GPU")
    monkeypatch.setenv("COURSE_CPU_BF16", "1")
    prec = helpers.precision()
    assert (prec.name, prec.compute_dtype) == ("bf16", torch.bfloat16)
    assert prec.trainer_args == {"fp16": False, "bf16": True, "use_cpu": True}
    from transformers import TrainingArguments
    args = TrainingArguments(output_dir="unused", report_to="none", **prec.trainer_args)   # accepted on a CPU
    assert args.bf16 and args.use_cpu
    monkeypatch.setenv("COURSE_CPU_BF16", "0")
    assert helpers.precision().trainer_args == {"fp16": False, "bf16": False}


# --- the drift guard ----------------------------------------------------------------------------------------
@pytest.fixture
def fake_library(tmp_path, monkeypatch):
    """A module outside the kit: ``old()`` is deprecated; ``deep()`` reaches it through four library calls."""
    (tmp_path / "fakelib.py").write_text(textwrap.dedent("""
        import warnings
        def old():
            warnings.warn("old() is deprecated, use new()", FutureWarning)
        def a(): old()
        def b(): a()
        def c(): b()
        def deep(): c()
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    import fakelib
    yield fakelib
    sys.modules.pop("fakelib", None)


def test_guard_fails_the_kits_own_deprecated_call(fake_library):
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        with pytest.raises(FutureWarning, match="old\\(\\) is deprecated") as err:
            fake_library.old()
    assert "test_rehearsal.py" in "".join(err.value.__notes__)            # the note names the kit's line


def test_guard_leaves_library_internal_deprecations_alone(fake_library):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fake_library.deep()
    assert [str(w.message) for w in seen] == ["old() is deprecated, use new()"]


def test_guard_catches_a_trl_config_built_with_the_deprecated_checkpointing_name(tmp_path):
    from trl import DPOConfig
    with pytest.raises(FutureWarning, match="activation_checkpointing"):
        DPOConfig(output_dir=str(tmp_path), report_to="none", **helpers.precision().trainer_args)   # TRL's default
    DPOConfig(output_dir=str(tmp_path), report_to="none", activation_checkpointing=False,
              **helpers.precision().trainer_args)                          # the kit's way: no warning, no error


def test_guard_runs_inside_the_notebook_kernels_too(tmp_path):
    """nbval's kernels get the guard from conftest (IPython startup file): a cell's deprecated call fails its cell."""
    folder = ROOT / "outputs" / "test-run" / "guard"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "guard_check.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('import warnings\nwarnings.warn("old() is deprecated", FutureWarning)')]
    nbformat.write(nb, path)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o",
                           "addopts=--nbval-lax --nbval-current-env", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "drift guard" in proc.stdout, proc.stdout[-2000:]


# --- 05-07 in the rehearsal: every notebook, every model a config cell names -------------------------------
def test_every_notebook_is_rehearsed_and_06_also_in_a_fresh_runtime():
    rehearse = _script("rehearse")
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert rehearse.NOT_REHEARSED == {} and sorted(rehearse.OVERRIDES) == notebooks
    assert "06_evaluation" in rehearse.FRESH_RUNTIME
    assert rehearse.OVERRIDES["07_two-gpus"]["RUN_PROFILE"] == "profile"   # the full profile's runs, on 2 CPUs


def test_the_hub_gets_every_model_05_to_07_name_with_its_head_and_tokenizer_facts():
    hub = _script("build_standin_hub")
    ids = hub.config_cell_model_ids()
    for model_id in ("HuggingFaceTB/SmolLM2-360M", "Skywork/Skywork-Reward-V2-Qwen3-0.6B", "Qwen/Qwen2.5-1.5B-Instruct",
                     "distilbert-base-uncased"):
        assert model_id in ids
    heads = {m: hub.registered_spec(m).head for m in ids}
    assert heads["Skywork/Skywork-Reward-V2-Qwen3-0.6B"] == "sequence_classification"
    assert heads["distilbert-base-uncased"] == "masked_lm" and heads["Qwen/Qwen2.5-1.5B-Instruct"] == "causal_lm"
    assert hub._full_profile_ids('JUDGE_ID = profile.pick(full="a/b", quick="c/d")\nX_MODEL = "e"\nN = "f/g"\n') == \
        ["a/b", "e"]


@pytest.mark.parametrize("model_id", ["Skywork/Skywork-Reward-V2-Qwen3-0.6B", "distilbert-base-uncased",
                                      "Qwen/Qwen2.5-1.5B-Instruct"])
def test_scorer_and_judge_configs_count_as_published(model_id):
    hub = _script("build_standin_hub")
    registered_config, registered_model_class, registered_spec = \
        hub.registered_config, hub.registered_model_class, hub.registered_spec
    with torch.device("meta"):
        model = registered_model_class(model_id).from_config(registered_config(model_id))
    assert sum(p.numel() for p in model.parameters()) == registered_spec(model_id).params
    shallow = registered_config(model_id, **{"n_layers" if "distil" in model_id else "num_hidden_layers": 2})
    assert getattr(shallow, "n_layers", None) == 2 or shallow.num_hidden_layers == 2   # depth changes, widths don't


def test_qwen_special_tokens_follow_the_bpe_at_their_real_offset():
    import dataclasses

    from transformers import PreTrainedTokenizerFast

    hub = _script("build_standin_hub")
    real = hub.registered_spec("Qwen/Qwen2.5-1.5B-Instruct")
    assert (real.special_ids_from, real.tokenizer_size, real.eos_token, real.pad_token) == \
        (151_643, 151_665, "<|im_end|>", "<|endoftext|>")
    small = dataclasses.replace(real, special_ids_from=3_000, tokenizer_size=3_022)   # same rule, fewer merges
    corpus = [r["chosen"] for part in hub.dataset_rows(0.002)["train"].values() for r in part]
    tok = PreTrainedTokenizerFast(tokenizer_object=__import__("tokenizers").Tokenizer.from_str(
        hub.build_tokenizer_json(small, corpus, 3_022)))
    assert len(tok) == 3_022
    assert [tok.convert_tokens_to_ids(t) for t in real.special_tokens] == list(range(3_000, 3_022))
    text = "<|im_start|>user\nHow do I bake bread?<|im_end|>"
    ids = tok(text)["input_ids"]
    assert tok.decode(ids) == text and ids[0] == 3_001 and ids[-1] == 3_002


def test_bertscore_encoder_gets_bert_s_wordpiece_layout(tmp_path):
    import transformers

    hub = _script("build_standin_hub")
    spec = hub.registered_spec("distilbert-base-uncased")
    corpus = [r["chosen"] for part in hub.dataset_rows(0.002)["train"].values() for r in part]
    hub.save_tokenizer(spec, tmp_path, hub.build_wordpiece_vocab(corpus, spec.config["vocab_size"]))
    tok = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert type(tok).__name__ == "DistilBertTokenizer" and len(tok) == 30_522 and tok.model_max_length == 512
    assert (tok.pad_token_id, tok.unk_token_id, tok.cls_token_id, tok.sep_token_id, tok.mask_token_id) == \
        (0, 100, 101, 102, 103)
    ids = tok("How do I BAKE bread?")["input_ids"]
    assert ids[0] == 101 and ids[-1] == 102 and tok.decode(ids[1:-1]) == "how do i bake bread?"
