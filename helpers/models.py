"""Models and tokenizers: one loader for both profiles, real architecture configs offline.

- ``load_model(model_id, profile)``: the real Hub model in the full profile; in the quick profile a tiny
  stand-in of the same family, with exactly the real module names (``q_proj``, ``query_key_value``...),
  so ``target_modules``, chat templates and every notebook cell run unchanged. For the SmolLM2 ids the
  stand-in is the course micro-model (data/micro-llama/, pretrained by scripts/maintainers/pretrain_micro.py): a
  0.7M-parameter Llama with learned weights, so quick-profile fine-tuning has real effects. The other
  families' stand-ins (Pythia, GPT-2, Qwen2, TinyLlama) have random weights.
- ``load_tokenizer(model_id, profile)``: the real tokenizer, or the project's small byte-level BPE
  (data/tokenizer.json, rebuilt by scripts/maintainers/build_tokenizer.py), with a pad token and a chat template.
- ``build_model(model_id, device="meta")``: the *real-size* architecture from published config numbers,
  no download: on the meta device for exact parameter counts and memory predictions, or with random
  weights on a GPU for speed and memory measurements (same shapes, so same cost as the real thing).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import transformers

from .env import REPO_ROOT, Profile, default_device, hub_offline

TOKENIZER_FILE = REPO_ROOT / "data" / "tokenizer.json"
MICRO_DIR = REPO_ROOT / "data" / "micro-llama"   # the pretrained course micro-model (scripts/maintainers/pretrain_micro.py)
# Quick-profile stand-ins that are TRAINED scorers (scripts/maintainers/train_scorers.py): notebook 06's judge id loads the
# course micro-model fine-tuned to answer 06's judge prompt with "A" or "B" (as a Qwen2ForCausalLM, its family).
TRAINED_STANDINS = {"Qwen/Qwen2.5-0.5B-Instruct": REPO_ROOT / "data" / "micro-judge"}


class UnknownModelError(ValueError):
    """A model id the course does not know (quick profile) or the Hub could not serve (full profile)."""


# --- chat templates -----------------------------------------------------------------------------------------
# The course template writes a conversation exactly as Anthropic's HH-RLHF does ("\n\nHuman: ...\n\nAssistant:
# ...") and ends every assistant turn with the EOS token, so a fine-tuned model learns to stop. The
# {% generation %} markers let TRL (assistant_only_loss) and transformers (return_assistant_tokens_mask) find
# the trained tokens. Used for base models that ship without a template (Pythia, GPT-2, SmolLM2 base).
COURSE_CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'system' -%}{{ message['content'] }}"
    "{%- elif message['role'] == 'user' -%}{{ '\n\nHuman: ' + message['content'] }}"
    "{%- elif message['role'] == 'assistant' -%}{{ '\n\nAssistant: ' }}"
    "{%- generation -%}{{ message['content'] + eos_token }}{%- endgeneration -%}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '\n\nAssistant:' }}{%- endif -%}"
)
# ChatML, as SmolLM2-Instruct and Qwen2.5 write it (their stand-ins use it too).
CHATML_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{%- if message['role'] == 'assistant' -%}{%- generation -%}{{ message['content'] + '<|im_end|>' }}"
    "{%- endgeneration -%}{%- else -%}{{ message['content'] + '<|im_end|>' }}{%- endif -%}{{ '\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\n' }}{%- endif -%}"
)
CHAT_TEMPLATES = {"course": COURSE_CHAT_TEMPLATE, "chatml": CHATML_TEMPLATE}


# --- the registry -------------------------------------------------------------------------------------------
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
    special_tokens: tuple = ()         # the special tokens with fixed ids, in id order from id 0
    bos_token: str | None = None       # None: no BOS token
    pad_token: str | None = None       # None: ships without a pad token (load_tokenizer then pads with EOS)
    unk_token: str | None = None
    special_ids_from: int = 0          # id of the first special token (SmolLM2: 0; Qwen: 151,643, after the BPE)
    tokenizer_size: int | None = None  # tokenizer entries when fewer than embedding rows (Qwen: 151,665 of 151,936)
    head: str = "causal_lm"            # the checkpoint's head: causal_lm | sequence_classification | masked_lm


@dataclass(frozen=True)
class Family:
    """A model family: its transformers classes, LoRA target names, and the tiny stand-in's config."""

    model_type: str
    attention: tuple            # linear layers in attention
    mlp: tuple                  # linear layers in the MLP
    standin: dict = field(default_factory=dict)
    vocab_multiple: int = 1     # embedding rows rounded up to this (Pythia: 50,277 tokens -> 50,304 rows)

    @property
    def all_linear(self) -> tuple:
        return self.attention + self.mlp


FAMILIES = {
    "llama": Family(
        "llama",
        attention=("q_proj", "k_proj", "v_proj", "o_proj"),
        mlp=("gate_proj", "up_proj", "down_proj"),
        standin=dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                     intermediate_size=192, max_position_embeddings=1024, rope_theta=100000.0),
    ),
    "qwen2": Family(
        "qwen2",
        attention=("q_proj", "k_proj", "v_proj", "o_proj"),
        mlp=("gate_proj", "up_proj", "down_proj"),
        standin=dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                     intermediate_size=192, max_position_embeddings=1024),
    ),
    "gpt_neox": Family(
        "gpt_neox",
        attention=("query_key_value", "dense"),
        mlp=("dense_h_to_4h", "dense_4h_to_h"),
        standin=dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256,
                     rotary_pct=0.25, max_position_embeddings=1024),
        vocab_multiple=128,
    ),
    "gpt2": Family(
        "gpt2",
        attention=("c_attn", "c_proj"),       # note: GPT-2 uses Conv1D, not nn.Linear, and c_proj is in both
        mlp=("c_fc", "c_proj"),
        standin=dict(n_embd=64, n_layer=2, n_head=4, n_positions=1024),
    ),
}

_PYTHIA = dict(rotary_pct=0.25, tie_word_embeddings=False, max_position_embeddings=2048, vocab_size=50304,
               use_parallel_residual=True)
_SMOL = dict(vocab_size=49152, tie_word_embeddings=True, max_position_embeddings=8192, rope_theta=100000.0)
# SmolLM2's tokenizer (all sizes, base and Instruct): 49,152 entries, these 17 special tokens at ids 0-16. The base
# models use <|endoftext|> as BOS, EOS and UNK and have no pad token; the Instruct models end a turn with <|im_end|>
# (EOS and pad) and start one with <|im_start|> (BOS).
_SMOL_SPECIAL = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<repo_name>", "<reponame>", "<file_sep>", "<filename>",
                 "<gh_stars>", "<issue_start>", "<issue_comment>", "<issue_closed>", "<jupyter_start>", "<jupyter_text>",
                 "<jupyter_code>", "<jupyter_output>", "<jupyter_script>", "<empty_output>")
_SMOL_BASE_TOK = dict(special_tokens=_SMOL_SPECIAL, bos_token="<|endoftext|>", unk_token="<|endoftext|>")
_SMOL_CHAT_TOK = dict(special_tokens=_SMOL_SPECIAL, eos_token="<|im_end|>", bos_token="<|im_start|>",
                      pad_token="<|im_end|>", unk_token="<|endoftext|>", chat_template="chatml")
# Qwen2.5's tokenizer (all sizes): 151,643 byte-level BPE entries, then these 22 special tokens at ids 151,643-151,664
# (151,665 entries; the embedding has 151,936 rows). No BOS; pad <|endoftext|>; the Instruct models end a turn with
# <|im_end|> (EOS). (Qwen3 adds four more: scripts/ci/build_standin_hub.py's _scorers.)
_QWEN_SPECIAL = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
                 "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
                 "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>",
                 "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>")
_QWEN_CHAT_TOK = dict(special_tokens=_QWEN_SPECIAL, special_ids_from=151_643, tokenizer_size=151_665,
                      eos_token="<|im_end|>", pad_token="<|endoftext|>", chat_template="chatml")

MODELS = {s.model_id: s for s in [
    ModelSpec("EleutherAI/pythia-70m", "gpt_neox", dict(_PYTHIA, hidden_size=512, num_hidden_layers=6,
              num_attention_heads=8, intermediate_size=2048), 70_426_624, aliases=("EleutherAI/pythia-70m-deduped",)),
    ModelSpec("EleutherAI/pythia-160m", "gpt_neox", dict(_PYTHIA, hidden_size=768, num_hidden_layers=12,
              num_attention_heads=12, intermediate_size=3072), 162_322_944, aliases=("EleutherAI/pythia-160m-deduped",)),
    ModelSpec("EleutherAI/pythia-410m", "gpt_neox", dict(_PYTHIA, hidden_size=1024, num_hidden_layers=24,
              num_attention_heads=16, intermediate_size=4096), 405_334_016, aliases=("EleutherAI/pythia-410m-deduped",)),
    ModelSpec("EleutherAI/pythia-1.4b", "gpt_neox", dict(_PYTHIA, hidden_size=2048, num_hidden_layers=24,
              num_attention_heads=16, intermediate_size=8192), 1_414_647_808, aliases=("EleutherAI/pythia-1.4b-deduped",)),
    ModelSpec("HuggingFaceTB/SmolLM2-135M", "llama", dict(_SMOL, hidden_size=576, num_hidden_layers=30,
              num_attention_heads=9, num_key_value_heads=3, intermediate_size=1536), 134_515_008, **_SMOL_BASE_TOK),
    ModelSpec("HuggingFaceTB/SmolLM2-135M-Instruct", "llama", dict(_SMOL, hidden_size=576, num_hidden_layers=30,
              num_attention_heads=9, num_key_value_heads=3, intermediate_size=1536), 134_515_008, **_SMOL_CHAT_TOK),
    ModelSpec("HuggingFaceTB/SmolLM2-360M", "llama", dict(_SMOL, hidden_size=960, num_hidden_layers=32,
              num_attention_heads=15, num_key_value_heads=5, intermediate_size=2560), 361_821_120, **_SMOL_BASE_TOK),
    ModelSpec("HuggingFaceTB/SmolLM2-360M-Instruct", "llama", dict(_SMOL, hidden_size=960, num_hidden_layers=32,
              num_attention_heads=15, num_key_value_heads=5, intermediate_size=2560), 361_821_120, **_SMOL_CHAT_TOK),
    ModelSpec("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "llama", dict(vocab_size=32000, hidden_size=2048,
              num_hidden_layers=22, num_attention_heads=32, num_key_value_heads=4, intermediate_size=5632,
              tie_word_embeddings=False, max_position_embeddings=2048), 1_100_048_384, eos_token="</s>",
              aliases=("TinyLlama/TinyLlama_v1.1", "TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T")),
    ModelSpec("Qwen/Qwen2.5-0.5B", "qwen2", dict(vocab_size=151936, hidden_size=896, num_hidden_layers=24,
              num_attention_heads=14, num_key_value_heads=2, intermediate_size=4864, tie_word_embeddings=True,
              max_position_embeddings=32768, rope_theta=1000000.0), 494_032_768, chat_template="chatml"),
    ModelSpec("Qwen/Qwen2.5-0.5B-Instruct", "qwen2", dict(vocab_size=151936, hidden_size=896, num_hidden_layers=24,
              num_attention_heads=14, num_key_value_heads=2, intermediate_size=4864, tie_word_embeddings=True,
              max_position_embeddings=32768, rope_theta=1000000.0), 494_032_768, eos_token="<|im_end|>",
              chat_template="chatml"),
    ModelSpec("Qwen/Qwen2.5-1.5B-Instruct", "qwen2", dict(vocab_size=151936, hidden_size=1536, num_hidden_layers=28,
              num_attention_heads=12, num_key_value_heads=2, intermediate_size=8960, tie_word_embeddings=True,
              max_position_embeddings=32768, rope_theta=1000000.0), 1_543_714_304, **_QWEN_CHAT_TOK),  # 06's judge
    ModelSpec("openai-community/gpt2", "gpt2", dict(vocab_size=50257, n_embd=768, n_layer=12, n_head=12,
              n_positions=1024, tie_word_embeddings=True), 124_439_808, aliases=("gpt2",)),
]}
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
    """LoRA ``target_modules`` names for this model's family: which = 'attention' | 'mlp' | 'all'.

    The names differ by architecture: Llama/Qwen ``q_proj``...``down_proj``, GPT-NeoX/Pythia
    ``query_key_value``, ``dense``, ``dense_h_to_4h``, ``dense_4h_to_h``, GPT-2 ``c_attn``/``c_proj``/``c_fc``.
    """
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


# --- stand-ins ----------------------------------------------------------------------------------------------
def standin_config(model_id: str, vocab_size: int) -> transformers.PretrainedConfig:
    """A tiny config of the same family as ``model_id``: same classes and module names, a few layers."""
    spec = model_spec(model_id)
    family = FAMILIES[spec.family]
    rows = -(-vocab_size // family.vocab_multiple) * family.vocab_multiple
    tokenizer = _project_tokenizer(spec)
    kwargs = dict(family.standin, vocab_size=rows,
                  tie_word_embeddings=spec.config.get("tie_word_embeddings", True),
                  eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id,
                  pad_token_id=tokenizer.pad_token_id)
    return transformers.AutoConfig.for_model(family.model_type, **kwargs)


def uses_micro_model(model_id: str) -> bool:
    """True for the ids whose quick-profile stand-in is the pretrained course micro-model: the SmolLM2 models
    (Llama-style, tied embeddings, the course's EOS). TinyLlama (untied, ``</s>``) keeps a random stand-in."""
    spec = model_spec(model_id)
    return spec.family == "llama" and spec.config.get("tie_word_embeddings", False)


def _load_micro(spec: ModelSpec, dtype: torch.dtype) -> transformers.PreTrainedModel:
    """data/micro-llama as fp32 (or ``dtype``), with the EOS/pad ids of ``spec``'s quick tokenizer."""
    if not (MICRO_DIR / "model.safetensors").exists():
        raise FileNotFoundError(f"{MICRO_DIR / 'model.safetensors'} is missing; it ships with the course kit "
                                "(git checkout data/micro-llama) or rebuild it with: python scripts/maintainers/pretrain_micro.py")
    from .files import DamagedFileError, safetensors_problem

    if problem := safetensors_problem(MICRO_DIR / "model.safetensors"):
        raise DamagedFileError(MICRO_DIR / "model.safetensors", problem, "It ships with the course kit: restore it "
                               "with `git checkout -- data/micro-llama` or rebuild it: python scripts/maintainers/pretrain_micro.py")
    bars = transformers.utils.logging.is_progress_bar_enabled()
    transformers.utils.logging.disable_progress_bar()   # no "Loading weights" bar for a 3 MB local file
    try:
        model = transformers.LlamaForCausalLM.from_pretrained(MICRO_DIR, dtype=dtype)
    finally:
        if bars:
            transformers.utils.logging.enable_progress_bar()
    tokenizer = _project_tokenizer(spec)
    if len(tokenizer) != model.config.vocab_size:
        raise ValueError(f"data/micro-llama has {model.config.vocab_size:,} embedding rows but data/tokenizer.json "
                         f"{len(tokenizer):,} tokens: the tokenizer was rebuilt after pretraining. Rerun "
                         "python scripts/maintainers/pretrain_micro.py")
    for cfg in (model.config, model.generation_config):
        cfg.eos_token_id, cfg.bos_token_id = tokenizer.eos_token_id, tokenizer.bos_token_id
        cfg.pad_token_id = tokenizer.pad_token_id
    return model


def _project_tokenizer(spec: ModelSpec) -> transformers.PreTrainedTokenizerFast:
    if not TOKENIZER_FILE.exists():
        raise FileNotFoundError(f"{TOKENIZER_FILE} is missing; rebuild it with: python scripts/maintainers/build_tokenizer.py")
    from .data import restore_fix
    from .files import read_json

    read_json(TOKENIZER_FILE, restore_fix(TOKENIZER_FILE), keys=("model",))  # damaged: one line, not a Rust error
    eos = spec.eos_token if spec.eos_token in ("<|endoftext|>", "<|im_end|>", "</s>") else "<|endoftext|>"
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_file=str(TOKENIZER_FILE), eos_token=eos, bos_token="<|endoftext|>" if eos != "</s>" else "<s>",
        unk_token=None, model_max_length=1024, clean_up_tokenization_spaces=False)
    tok.name_or_path = f"{spec.model_id} (quick-profile stand-in)"
    if spec.chat_template:
        tok.chat_template = CHAT_TEMPLATES[spec.chat_template]
    if spec.family == "qwen2":  # Qwen ships a pad token; the others don't
        tok.pad_token = "<|endoftext|>"
    return tok


def load_tokenizer(model_id: str, profile: str, chat_template: str | None = None):
    """The tokenizer for ``model_id``: real (full profile) or the project's BPE (quick profile).

    Either way it comes back ready for the course:
    - a pad token: if the model has none (Pythia, GPT-2, SmolLM2, Llama), pad = EOS. Padding is masked by
      the attention mask, so EOS inside a response is still trained - never mask labels by pad id.
    - a chat template: the model's own if it ships one, else the course template (HH-RLHF layout + EOS).
      ``chat_template="course"`` or ``"chatml"`` forces one.
    - padding on the right for training; ``generate`` in helpers switches to left padding itself.
    """
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
    """The model for ``model_id``: from the Hub in the full profile, a tiny stand-in in the quick profile.

    dtype:        weights' dtype (default fp32). On a T4 a frozen LoRA base may be fp16; trainable weights fp32.
    device:       default cuda when available, else cpu.
    load_in_4bit: NF4 4-bit base through bitsandbytes (QLoRA); needs a CUDA GPU.
    The quick profile never touches the network. For the SmolLM2 ids it loads the pretrained course
    micro-model (``uses_micro_model``); notebook 06's judge id loads the trained judge (``TRAINED_STANDINS``,
    when data/micro-judge ships); the other stand-ins have random but reproducible weights (``seed``).
    """
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
            config = model.config
        elif model_id in TRAINED_STANDINS and (TRAINED_STANDINS[model_id] / "model.safetensors").exists():
            model = transformers.AutoModelForCausalLM.from_pretrained(TRAINED_STANDINS[model_id], dtype=dtype)
            config = model.config
        else:
            vocab = len(_project_tokenizer(spec))
            config = standin_config(model_id, vocab)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = transformers.AutoModelForCausalLM.from_config(config, dtype=dtype)
        model.name_or_path = f"{model_id} (quick-profile stand-in)"
        model.generation_config.pad_token_id = config.pad_token_id if config.pad_token_id is not None else config.eos_token_id
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
    """Embedding rows against tokenizer entries - the cause of 'index out of range' after adding tokens.

    Pythia has 50,304 embedding rows for 50,277 tokens (rows are padded to a multiple of 128 for speed):
    harmless. More tokens than rows is the bug; ``model.resize_token_embeddings(len(tokenizer))`` fixes it.
    """
    rows, entries = model.get_input_embeddings().weight.shape[0], len(tokenizer)
    if entries > rows:
        raise ValueError(f"The tokenizer has {entries:,} tokens but the model only {rows:,} embedding rows: token "
                         f"ids >= {rows:,} would crash with 'index out of range'. "
                         "Call model.resize_token_embeddings(len(tokenizer)) after adding tokens.")
    spare = rows - entries
    return (f"{entries:,} tokenizer entries, {rows:,} embedding rows"
            + (f" ({spare:,} spare rows: padding for speed, never produced by the tokenizer)" if spare else ""))
