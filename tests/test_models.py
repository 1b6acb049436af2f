"""The model registry (real configs, offline), the stand-ins and the loaders."""
import re

import pytest
import torch
import transformers

import helpers
from helpers.files import DamagedFileError
from helpers.models import FAMILIES, MODELS

# Published total parameter counts (model cards / papers); build_model on the meta device must reproduce them.
PUBLISHED = {
    "EleutherAI/pythia-70m": 70_426_624,
    "EleutherAI/pythia-160m": 162_322_944,
    "EleutherAI/pythia-410m": 405_334_016,
    "EleutherAI/pythia-1.4b": 1_414_647_808,
    "HuggingFaceTB/SmolLM2-135M": 134_515_008,
    "HuggingFaceTB/SmolLM2-360M": 361_821_120,
    "TinyLlama/TinyLlama-1.1B-Chat-v1.0": 1_100_048_384,
    "Qwen/Qwen2.5-0.5B": 494_032_768,
    "openai-community/gpt2": 124_439_808,
}


@pytest.mark.parametrize("model_id", sorted(PUBLISHED))
def test_real_config_parameter_count(model_id):
    model = helpers.build_model(model_id, device="meta")
    _, total = helpers.count_parameters(model)
    assert total == PUBLISHED[model_id] == MODELS[model_id].params
    assert all(p.is_meta for p in model.parameters())  # no memory used


def test_every_registered_model_counts_as_published():
    for model_id, spec in MODELS.items():
        assert helpers.count_parameters(helpers.build_model(model_id))[1] == spec.params, model_id


@pytest.mark.parametrize("instruct, base", [("HuggingFaceTB/SmolLM2-135M-Instruct", "HuggingFaceTB/SmolLM2-135M"),
                                            ("HuggingFaceTB/SmolLM2-360M-Instruct", "HuggingFaceTB/SmolLM2-360M"),
                                            ("Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-0.5B")])
def test_an_instruct_model_has_its_base_models_architecture_and_its_own_tokens(instruct, base):
    """data/models.toml writes the architecture once (``architecture_of``): the two ids get identical configs."""
    ours, theirs = MODELS[instruct], MODELS[base]
    assert (ours.family, ours.params, ours.config) == (theirs.family, theirs.params, theirs.config)
    assert helpers.models.model_config(instruct).to_dict() == helpers.models.model_config(base).to_dict()
    assert (ours.eos_token, theirs.eos_token) == ("<|im_end|>", "<|endoftext|>")      # a turn ends with <|im_end|>
    assert MODELS["Qwen/Qwen2.5-1.5B-Instruct"].eos_token == "<|im_end|>"


def test_aliases():
    assert helpers.model_spec("gpt2").model_id == "openai-community/gpt2"
    assert helpers.model_spec("EleutherAI/pythia-70m-deduped").params == 70_426_624


@pytest.mark.parametrize("model_id", sorted(MODELS))
def test_standin_has_the_real_module_names(model_id):
    real = helpers.build_model(model_id)
    standin = helpers.load_model(model_id, "quick")
    assert type(standin) is type(real)

    def suffixes(m):
        return {n.split(".")[-1] for n, _ in m.named_modules() if n and not n.split(".")[-1].isdigit()}

    assert suffixes(standin) == suffixes(real)
    assert set(helpers.lora_targets(model_id)) <= suffixes(standin)
    assert helpers.count_parameters(standin)[1] < 1_000_000  # tiny: trains in seconds on a CPU
    assert standin.config.tie_word_embeddings == real.config.tie_word_embeddings


def test_standin_is_reproducible_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = helpers.load_model("EleutherAI/pythia-70m", "quick")
    assert torch.equal(before, torch.get_rng_state())
    b = helpers.load_model("EleutherAI/pythia-70m", "quick")
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        assert torch.equal(p, q), n


def test_unknown_model_id_in_quick_profile_names_the_families():
    with pytest.raises(helpers.models.UnknownModelError) as err:
        helpers.load_model("meta-llama/Llama-3-8B", "quick")
    message = str(err.value)
    assert "'meta-llama/Llama-3-8B'" in message
    for family in FAMILIES:
        assert family in message
    with pytest.raises(helpers.models.UnknownModelError):
        helpers.load_tokenizer("not/a-model", "quick")


def test_unknown_model_id_in_full_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(helpers.models.UnknownModelError) as err:
        helpers.load_model("no-such-owner/no-such-model", "full", device="cpu")
    assert "no-such-owner/no-such-model" in str(err.value) and "COURSE_PROFILE=quick" in str(err.value)


def test_4bit_without_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(RuntimeError, match="needs a CUDA GPU"):
        helpers.load_model("HuggingFaceTB/SmolLM2-135M", "quick", load_in_4bit=True)


def test_bad_profile_argument():
    with pytest.raises(helpers.env.ProfileError):
        helpers.load_model("gpt2", "fast")


def test_lora_targets_by_family():
    assert helpers.lora_targets("EleutherAI/pythia-70m") == ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"]
    assert helpers.lora_targets("HuggingFaceTB/SmolLM2-135M", "attention") == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert helpers.lora_targets("gpt2") == ["c_attn", "c_proj", "c_fc"]
    with pytest.raises(ValueError):
        helpers.lora_targets("gpt2", "everything")


@pytest.mark.parametrize("model_id", ["HuggingFaceTB/SmolLM2-135M", "EleutherAI/pythia-70m", "gpt2"])
def test_base_tokenizer_gets_pad_and_course_template(model_id):
    tok = helpers.load_tokenizer(model_id, "quick")
    assert tok.pad_token == tok.eos_token == "<|endoftext|>"
    assert tok.chat_template == helpers.models.COURSE_CHAT_TEMPLATE
    messages = [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello! How can I help?"}]
    text = tok.apply_chat_template(messages, tokenize=False)
    assert text == "\n\nHuman: Hi there\n\nAssistant: Hello! How can I help?<|endoftext|>"
    prompt = tok.apply_chat_template(messages[:1], tokenize=False, add_generation_prompt=True)
    assert prompt == "\n\nHuman: Hi there\n\nAssistant:"
    # the assistant mask covers exactly the answer and its EOS (what TRL's assistant_only_loss trains)
    out = tok.apply_chat_template(messages, return_dict=True, return_assistant_tokens_mask=True)
    trained = [i for i, m in zip(out["input_ids"], out["assistant_masks"]) if m]
    assert tok.decode(trained) == " Hello! How can I help?<|endoftext|>"  # the space belongs to the first answer token


def test_instruct_tokenizer_keeps_chatml():
    tok = helpers.load_tokenizer("HuggingFaceTB/SmolLM2-135M-Instruct", "quick")
    assert tok.eos_token == "<|im_end|>"
    text = tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True)
    assert text == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert ids[0] == tok.convert_tokens_to_ids("<|im_start|>")  # special tokens are single tokens


def test_tokenizer_round_trips_any_text():
    tok = helpers.load_tokenizer("EleutherAI/pythia-70m", "quick")
    text = "Grüße, 東京! Ünïcødé falls back to bytes: ∑ x² ≈ 3.14"
    assert tok.decode(tok(text)["input_ids"]) == text


def test_pythia_standin_has_spare_embedding_rows_like_the_real_one():
    model = helpers.load_model("EleutherAI/pythia-70m", "quick")
    tok = helpers.load_tokenizer("EleutherAI/pythia-70m", "quick")
    rows = model.get_input_embeddings().weight.shape[0]
    assert rows % 128 == 0 and rows > len(tok)
    assert "spare rows" in helpers.vocab_report(model, tok)
    tok.add_tokens([f"<new{i}>" for i in range(rows - len(tok) + 1)])
    with pytest.raises(ValueError, match="resize_token_embeddings"):
        helpers.vocab_report(model, tok)


def test_generate_stops_and_counts_new_tokens_only():
    model = helpers.load_model("HuggingFaceTB/SmolLM2-135M", "quick")
    tok = helpers.load_tokenizer("HuggingFaceTB/SmolLM2-135M", "quick")
    answers = helpers.generate(model, tok, ["What is two plus two?", "Hi"], max_new_tokens=7)
    assert len(answers) == 2
    for a in answers:
        assert len(tok(a, add_special_tokens=False)["input_ids"]) <= 9
    assert tok.padding_side == "right"  # restored after generating with left padding
    assert answers == helpers.generate(model, tok, ["What is two plus two?", "Hi"], max_new_tokens=7)  # greedy


def test_generate_ids_is_what_generate_decodes_and_passes_settings_through():
    model = helpers.load_model("HuggingFaceTB/SmolLM2-135M", "quick")
    tok = helpers.load_tokenizer("HuggingFaceTB/SmolLM2-135M", "quick")
    prompts = ["What is two plus two?", "Name a colour, please."]
    ids = helpers.generate_ids(model, tok, prompts, max_new_tokens=6, do_sample=False)
    assert ids.shape[0] == 2 and ids.shape[1] <= 6
    decoded = [t.strip() for t in tok.batch_decode(ids, skip_special_tokens=True)]
    assert decoded == helpers.generate(model, tok, prompts, max_new_tokens=6)
    # temperature reaches model.generate, and without do_sample it changes nothing
    hot = helpers.generate_ids(model, tok, prompts, max_new_tokens=6, do_sample=False, temperature=1.7)
    assert torch.equal(ids, hot)
    assert tok.padding_side == "right" and not model.training


def test_smollm2_quick_stand_in_is_the_pretrained_micro_model(monkeypatch, tmp_path):
    from helpers import models

    model = helpers.load_model("HuggingFaceTB/SmolLM2-135M", "quick")
    shipped = transformers.LlamaForCausalLM.from_pretrained(models.MICRO_DIR)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), shipped.parameters()))
    monkeypatch.setattr(models, "MICRO_DIR", tmp_path / "micro-llama")   # a checkout without it: say how to get it
    with pytest.raises(FileNotFoundError, match=r"micro-llama is missing.*pretrain_micro\.py"):
        helpers.load_model("HuggingFaceTB/SmolLM2-135M", "quick")
    helpers.load_model("EleutherAI/pythia-70m", "quick")  # the other families never need it


def test_a_missing_or_damaged_trained_judge_says_how_to_restore_it(monkeypatch, tmp_path):
    """06's judge id loads data/micro-judge in the quick profile; without it, never silently a random model."""
    from helpers import models

    monkeypatch.setattr(models, "REPO_ROOT", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"micro-judge.*train_scorers\.py"):
        helpers.load_model("Qwen/Qwen2.5-0.5B-Instruct", "quick")
    (tmp_path / "data" / "micro-judge").mkdir(parents=True)
    (tmp_path / "data" / "micro-judge" / "model.safetensors").write_bytes(b"\x00" * 64)
    restore = r"git checkout -- \S*data/micro-judge/model\.safetensors.*train_scorers\.py"
    with pytest.raises(DamagedFileError, match=restore):
        helpers.load_model("Qwen/Qwen2.5-0.5B-Instruct", "quick")


def test_a_trained_standin_is_a_shipped_folder_and_a_family_standin_a_config():
    """data/models.toml's two stand-in keys mean two things: a model's ``trained_standin`` names a folder of data/ that
    helpers.files.REBUILD knows how to rebuild; a family's ``standin`` is the tiny random config's arguments."""
    from helpers import files, models

    trained = {spec.trained_standin for spec in MODELS.values()} - {None}
    assert trained == {"micro-llama", "micro-judge"} and trained <= set(files.REBUILD)
    assert all((models.REPO_ROOT / "data" / name / "config.json").is_file() for name in trained)
    assert all(isinstance(family.standin, dict) and "vocab_size" not in family.standin for family in FAMILIES.values())


def test_a_standin_and_its_tokenizer_carry_one_name_that_says_what_they_are():
    """Adapters record this name as their base model (06's find_adapters matches it): model and tokenizer agree."""
    model_id = "EleutherAI/pythia-70m"
    name = helpers.load_model(model_id, "quick").name_or_path
    assert name == helpers.load_tokenizer(model_id, "quick").name_or_path == f"{model_id} (quick-profile stand-in)"
    assert helpers.is_standin(name)


def test_is_standin_tells_a_quick_standin_from_a_real_model_by_its_name():
    """05's and 06's figure titles ask helpers.is_standin, not the words of the name: a quick model, its tokenizer and
    the name an adapter records are stand-ins; a Hub id, or a name that merely mentions stand-ins, is not."""
    model_id = "EleutherAI/pythia-70m"
    model, tokenizer = helpers.load_model(model_id, "quick"), helpers.load_tokenizer(model_id, "quick")
    assert helpers.is_standin(model) and helpers.is_standin(tokenizer) and helpers.is_standin(model.name_or_path)
    assert helpers.is_standin(helpers.models.standin_name("HuggingFaceTB/SmolLM2-360M"))
    assert not helpers.is_standin(model_id) and not helpers.is_standin("HuggingFaceTB/SmolLM2-360M")
    assert not helpers.is_standin("someone/stand-in-finder")          # the words alone do not make a stand-in
    model.name_or_path = model_id                                      # what the full profile's model is called
    assert not helpers.is_standin(model)
    with pytest.raises(TypeError, match=r"takes a model, a tokenizer or a name_or_path string, not 3 \(int\)"):
        helpers.is_standin(3)


def test_no_code_asks_the_words_of_a_standins_name():
    """Whether a model is a stand-in is asked of helpers.is_standin, never by looking for words in its name (05 and 06
    once tested `"stand-in" in base.name_or_path`): only helpers/models.py knows how a stand-in's name is spelled."""
    from tools import notebook

    asks = re.compile(r"""["'][^"'\n]*stand-?in[^"'\n]*["']\s+(not\s+)?in\b""", re.I)
    assert asks.search('STAND_IN = "stand-in" in base.name_or_path') and not asks.search('x = "stand-in"  # in 05')
    sources = {f"{path.name} cell {i}": cell.source for path in notebook.lesson_paths()
               for i, cell in enumerate(notebook.read(path).cells) if cell.cell_type == "code"}
    knows = ("helpers/models.py", "tests/test_models.py")    # the spelling, and this test's own example
    sources |= {where: path.read_text(encoding="utf-8")
                for part in ("helpers", "scripts", "tools", "tests") for path in (notebook.ROOT / part).rglob("*.py")
                if (where := path.relative_to(notebook.ROOT).as_posix()) not in knows}
    assert len(sources) > 300
    assert [where for where, source in sources.items() if asks.search(source)] == []
