"""Models and tokenizers: the real Hub model (full profile) or a tiny same-family stand-in with the real module names
and the project's BPE (quick profile), and the real-size architecture built offline from data/models.toml."""
from __future__ import annotations

import tomllib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch
import transformers
from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

from .env import REPO_ROOT, Profile, default_device, hub_offline
from .files import REBUILD, DamagedFileError, file_problem, read_json, restore_fix

TOKENIZER_FILE = REPO_ROOT / "data" / "tokenizer.json"
MICRO_DIR = REPO_ROOT / "data" / "micro-llama"   # the pretrained course micro-model (scripts/maintainers/pretrain_micro.py)
REGISTRY_FILE = REPO_ROOT / "data" / "models.toml"


class UnknownModelError(ValueError):
    """A model id the course does not know (quick profile) or the Hub could not serve (full profile)."""


@dataclass(frozen=True)
class ModelSpec:
    """Published facts about one Hub model: architecture numbers, parameter count, tokenizer conventions."""

    model_id: str
    family: str                 # key of FAMILIES
    config: dict                # arguments of the family's config class (real sizes)
    params: int                 # published total parameter count
    eos_token: str = "<|endoftext|>"
    chat_template: str | None = None   # None: the tokenizer ships without one; "chatml": it ships ChatML
    aliases: tuple = ()
    # The published tokenizer's conventions (what scripts/ci/build_standin_hub.py imitates for the rehearsal):
    special_tokens: tuple = ()         # the special tokens with fixed ids, in id order from special_ids_from
    bos_token: str | None = None       # None: no BOS token
    pad_token: str | None = None       # None: ships without a pad token (load_tokenizer then pads with EOS)
    unk_token: str | None = None
    special_ids_from: int = 0          # id of the first special token (SmolLM2: 0; Qwen: 151,643, after the BPE)
    tokenizer_size: int | None = None  # tokenizer entries when fewer than embedding rows (Qwen: 151,665 of 151,936)
    head: str = "causal_lm"            # the checkpoint's head: causal_lm | sequence_classification | masked_lm
    trained_standin: str | None = None  # the quick profile's trained stand-in, a folder of data/ (None: random weights)


@dataclass(frozen=True)
class Family:
    """A model family: its transformers model type, LoRA target names, and the tiny stand-in's config."""

    model_type: str
    attention: tuple            # linear layers in attention
    mlp: tuple                  # linear layers in the MLP
    standin: dict = field(default_factory=dict)   # the tiny random stand-in's config (quick profile)
    vocab_multiple: int = 1     # embedding rows rounded up to this

    @property
    def all_linear(self) -> tuple:
        return self.attention + self.mlp


def _spec(model_id: str, entry: dict, shared: dict) -> ModelSpec:
    """One [models."id"] table of data/models.toml, with the [shared.*] tables it ``use``s merged in."""
    facts, config = {}, {}
    for part in [*(shared[name] for name in entry.get("use", ())), entry]:
        config.update(part.get("config", {}))
        facts.update({k: tuple(v) if isinstance(v, list) else v for k, v in part.items() if k not in ("use", "config")})
    return ModelSpec(model_id, config=config, **facts)


_REGISTRY = tomllib.loads(REGISTRY_FILE.read_text(encoding="utf-8"))
CHAT_TEMPLATES = _REGISTRY["chat_templates"]
COURSE_CHAT_TEMPLATE = CHAT_TEMPLATES["course"]
FAMILIES = {name: Family(name, tuple(f["attention"]), tuple(f["mlp"]), f["standin"], f.get("vocab_multiple", 1))
            for name, f in _REGISTRY["families"].items()}
for entry in _REGISTRY["models"].values():   # `architecture_of`: an Instruct model takes its base model's architecture
    if "architecture_of" in entry:
        base = _REGISTRY["models"][entry.pop("architecture_of")]
        entry.update({key: base[key] for key in ("family", "params", "config") if key not in entry})
MODELS = {model_id: _spec(model_id, entry, _REGISTRY["shared"]) for model_id, entry in _REGISTRY["models"].items()}
_ALIASES = {alias: spec.model_id for spec in MODELS.values() for alias in spec.aliases}


def model_spec(model_id: str) -> ModelSpec:
    """The registry entry for ``model_id`` (aliases such as 'gpt2' accepted); a clear error if unknown."""
    spec = MODELS.get(model_id) or MODELS.get(_ALIASES.get(model_id, ""))
    if spec is None:
        known = "\n".join(f"  {fam:9s} {', '.join(m for m, s in MODELS.items() if s.family == fam)}"
                          for fam in FAMILIES)
        raise UnknownModelError(
            f"Unknown model id {model_id!r}: the course has no offline config or stand-in for it.\n"
            f"Known families and model ids:\n{known}\n"
            "In the quick profile pick one of these (the stand-in has the same module names); in the full "
            "profile any Hub id loads with load_model, but build_model/model_config need one of these.")
    return spec


def lora_targets(model_id: str, which: str = "all") -> list[str]:
    """LoRA ``target_modules`` names of this model's family (they differ by architecture): 'attention'|'mlp'|'all'."""
    family = FAMILIES[model_spec(model_id).family]
    names = {"attention": family.attention, "mlp": family.mlp, "all": family.all_linear}
    if which not in names:
        raise ValueError(f"which={which!r}: choose 'attention', 'mlp' or 'all'")
    return list(dict.fromkeys(names[which]))


def model_config(model_id: str) -> transformers.PretrainedConfig:
    """The real-size config of a registered model, built offline from its published numbers."""
    spec = model_spec(model_id)
    return transformers.AutoConfig.for_model(FAMILIES[spec.family].model_type, **spec.config)


def build_model(model_id: str, device: str | torch.device = "meta", dtype: torch.dtype = torch.float32,
                seed: int = 0) -> transformers.PreTrainedModel:
    """The real-size architecture with no download: on 'meta' (shapes only, no memory - exact parameter
    counts and memory predictions) or with random weights on a device (same speed and memory as the real one)."""
    config = model_config(model_id)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        with torch.device(device):
            model = transformers.AutoModelForCausalLM.from_config(config, dtype=dtype)
    return model.eval()


STANDIN_MARK = " (quick-profile stand-in)"   # ends every stand-in's name: standin_name writes it, is_standin reads it


def standin_name(model_id: str) -> str:
    """A quick-profile stand-in's ``name_or_path`` (model and tokenizer); an adapter records it as its base model."""
    return model_id + STANDIN_MARK


def is_standin(model_or_name) -> bool:
    """True for a quick-profile stand-in: a model or tokenizer from ``load_model``/``load_tokenizer(..., "quick")``, or
    its ``name_or_path`` (as an adapter records it); False for a real Hub model or its name."""
    name = model_or_name if isinstance(model_or_name, str) else getattr(model_or_name, "name_or_path", None)
    if not isinstance(name, str):
        raise TypeError(f"is_standin takes a model, a tokenizer or a name_or_path string, not {model_or_name!r} "
                        f"({type(model_or_name).__name__})")
    return name.endswith(STANDIN_MARK)


def uses_micro_model(model_id: str) -> bool:
    """True for the ids whose quick stand-in is the pretrained course micro-model (the SmolLM2 ids)."""
    return model_spec(model_id).trained_standin == "micro-llama"


@contextmanager
def no_loading_bar():
    """transformers' own progress bars off inside (no "Loading weights" bar for a few MB of local files), as before
    after; the Hub's download bars stay as they were, so a first download still shows its progress."""
    bars, downloads = transformers.utils.logging.is_progress_bar_enabled(), not are_progress_bars_disabled()
    transformers.utils.logging.disable_progress_bar()          # switches the Hub's bars off too: back on if they were
    if downloads:
        enable_progress_bars()
    try:
        yield
    finally:
        if bars:
            transformers.utils.logging.enable_progress_bar()   # switches the Hub's bars on too: off if they were
        if not downloads:
            disable_progress_bars()


def _load_trained(folder: Path, dtype: torch.dtype, cls=transformers.AutoModelForCausalLM):
    """A trained model the kit ships in data/ (``ModelSpec.trained_standin``, 06's reward model: a few MB of local
    files) as ``cls``, or a one-line error saying how to restore it."""
    weights = folder / "model.safetensors"
    if not weights.exists():
        missing = weights if folder.is_dir() else folder          # a lost folder is restored whole
        raise FileNotFoundError(f"{missing} is missing. {restore_fix(missing)}")
    if problem := file_problem(weights):
        raise DamagedFileError(weights, problem, restore_fix(weights))
    with no_loading_bar():
        return cls.from_pretrained(folder, dtype=dtype)


def _load_micro(spec: ModelSpec, dtype: torch.dtype) -> transformers.PreTrainedModel:
    """data/micro-llama as fp32 (or ``dtype``), with the EOS/pad ids of ``spec``'s quick tokenizer."""
    rebuild = REBUILD["micro-llama"]
    model = _load_trained(MICRO_DIR, dtype)
    tokenizer = _project_tokenizer(spec)
    if len(tokenizer) != model.config.vocab_size:
        raise ValueError(f"data/micro-llama has {model.config.vocab_size:,} embedding rows but data/tokenizer.json "
                         f"{len(tokenizer):,} tokens: the tokenizer was rebuilt after pretraining. Rerun {rebuild}")
    for cfg in (model.config, model.generation_config):
        cfg.eos_token_id, cfg.bos_token_id = tokenizer.eos_token_id, tokenizer.bos_token_id
        cfg.pad_token_id = tokenizer.pad_token_id
    return model


def _project_tokenizer(spec: ModelSpec) -> transformers.PreTrainedTokenizerFast:
    if not TOKENIZER_FILE.exists():
        raise FileNotFoundError(f"{TOKENIZER_FILE} is missing. {restore_fix(TOKENIZER_FILE)}")
    read_json(TOKENIZER_FILE, restore_fix(TOKENIZER_FILE), keys=("model",))  # damaged: one line, not a Rust error
    eos = spec.eos_token if spec.eos_token in ("<|endoftext|>", "<|im_end|>", "</s>") else "<|endoftext|>"
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_file=str(TOKENIZER_FILE), eos_token=eos, bos_token="<|endoftext|>" if eos != "</s>" else "<s>",
        unk_token=None, model_max_length=1024, clean_up_tokenization_spaces=False)
    tok.name_or_path = standin_name(spec.model_id)
    if spec.chat_template:
        tok.chat_template = CHAT_TEMPLATES[spec.chat_template]
    if spec.family == "qwen2":  # Qwen ships a pad token; the others don't
        tok.pad_token = "<|endoftext|>"
    return tok


def load_tokenizer(model_id: str, profile: str, chat_template: str | None = None):
    """The tokenizer for ``model_id`` (real, or the project's BPE in the quick profile), padding on the right for
    training (``generate`` pads left itself), with EOS if it has no pad token (padding is masked by the attention mask,
    so never mask labels by pad id) and the course's chat template if it has none (``chat_template`` forces one)."""
    profile = Profile(profile)
    if profile == "quick":
        tok = _project_tokenizer(model_spec(model_id))
    else:
        offline = hub_offline()
        try:
            tok = transformers.AutoTokenizer.from_pretrained(model_id, local_files_only=bool(offline))
        except OSError as err:
            raise UnknownModelError(_hub_error(model_id, err, offline)) from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if chat_template is not None:
        tok.chat_template = CHAT_TEMPLATES.get(chat_template, chat_template)
    elif not tok.chat_template:
        tok.chat_template = COURSE_CHAT_TEMPLATE
    tok.padding_side = "right"
    return tok


def _hub_error(model_id: str, err: Exception, offline: str | None = None) -> str:
    if offline:
        return (f"No network ({offline}): {model_id!r} cannot be downloaded, and it is not in this machine's "
                "Hugging Face cache. Connect the runtime to the internet and run the cell again; or work offline "
                "with COURSE_PROFILE=quick (local stand-ins).")
    return (f"Could not load {model_id!r} from the Hugging Face Hub: {str(err).splitlines()[0]}\n"
            "Check the spelling (it is 'owner/name', e.g. 'HuggingFaceTB/SmolLM2-135M'), that the runtime has "
            "internet, and for gated models that you accepted the licence and are logged in. "
            "Working offline? Use COURSE_PROFILE=quick for the local stand-ins.")


def load_model(model_id: str, profile: str, *, dtype: torch.dtype | None = None, device=None,
               load_in_4bit: bool = False, seed: int = 0) -> transformers.PreTrainedModel:
    """The model for ``model_id`` in fp32 (or ``dtype``) on cuda when available (or ``device``); ``load_in_4bit``: an
    NF4 base for QLoRA. The quick profile never touches the network: the SmolLM2 ids load the pretrained micro-model,
    06's judge id the trained judge (``ModelSpec.trained_standin``), the others random but reproducible (``seed``) weights."""
    profile = Profile(profile)
    spec = model_spec(model_id) if profile == "quick" else None   # unknown id in quick -> clear error
    device = torch.device(device) if device is not None else default_device()
    dtype = dtype or torch.float32
    if load_in_4bit and not torch.cuda.is_available():
        raise RuntimeError("load_in_4bit=True needs a CUDA GPU (bitsandbytes NF4 kernels). On Colab/Kaggle choose "
                           "a T4 runtime; without a GPU load the model with load_in_4bit=False.")
    if load_in_4bit and profile == "quick":
        raise ValueError("load_in_4bit=True in the quick profile: its stand-in is a tiny fp32 model and is not "
                         "quantized, so you would silently get fp32. Use COURSE_PROFILE=full for a 4-bit (QLoRA) "
                         "base, or set load_in_4bit=False (LOAD_IN_4BIT = False in the config cell).")
    if profile == "quick":
        if uses_micro_model(model_id):
            model = _load_micro(spec, dtype)
        elif spec.trained_standin:                  # 06's judge: data/micro-judge
            model = _load_trained(REPO_ROOT / "data" / spec.trained_standin, dtype)
        else:   # a tiny config of the family (same classes and module names, a few layers) for the project's BPE
            family, tokenizer = FAMILIES[spec.family], _project_tokenizer(spec)
            rows = -(-len(tokenizer) // family.vocab_multiple) * family.vocab_multiple
            config = transformers.AutoConfig.for_model(
                family.model_type, **family.standin, vocab_size=rows,
                tie_word_embeddings=spec.config.get("tie_word_embeddings", True), eos_token_id=tokenizer.eos_token_id,
                bos_token_id=tokenizer.bos_token_id, pad_token_id=tokenizer.pad_token_id)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = transformers.AutoModelForCausalLM.from_config(config, dtype=dtype)
        model.name_or_path = standin_name(model_id)
        pad = model.config.pad_token_id
        model.generation_config.pad_token_id = pad if pad is not None else model.config.eos_token_id
        return model.to(device).eval()

    kwargs = {"dtype": dtype}
    if load_in_4bit:
        kwargs["quantization_config"] = transformers.BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16 if dtype == torch.bfloat16 else torch.float16)
        kwargs["device_map"] = {"": 0}
    offline = hub_offline()
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(model_id, local_files_only=bool(offline), **kwargs)
        if not load_in_4bit:
            model = model.to(device)
    except OSError as err:
        raise UnknownModelError(_hub_error(model_id, err, offline)) from None
    except torch.OutOfMemoryError:
        raise MemoryError(out_of_memory_advice(f"loading {model_id}")) from None
    return model.eval()


def out_of_memory_advice(what: str) -> str:
    """The message the notebooks show when the GPU runs out of memory."""
    return (f"Out of GPU memory while {what}. In order of effect: lower the batch size (raise "
            "gradient_accumulation_steps to keep the effective batch), shorten max_length, turn on activation "
            "checkpointing, use LoRA instead of full fine-tuning, or load the base in 4-bit (QLoRA). Then restart "
            "the runtime - memory from the failed attempt is not always returned.")


def vocab_report(model, tokenizer) -> str:
    """Embedding rows against tokenizer entries: spare rows are harmless padding (Pythia: 50,304 for 50,277 tokens);
    more tokens than rows is the 'index out of range' bug: ``model.resize_token_embeddings(len(tokenizer))`` fixes it."""
    rows, entries = model.get_input_embeddings().weight.shape[0], len(tokenizer)
    if entries > rows:
        raise ValueError(f"The tokenizer has {entries:,} tokens but the model only {rows:,} embedding rows: token "
                         f"ids >= {rows:,} would crash with 'index out of range'. "
                         "Call model.resize_token_embeddings(len(tokenizer)) after adding tokens.")
    spare = rows - entries
    return (f"{entries:,} tokenizer entries, {rows:,} embedding rows"
            + (f" ({spare:,} spare rows: padding for speed, never produced by the tokenizer)" if spare else ""))
