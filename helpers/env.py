"""Environment, profile, precision, seeding and output folders: every notebook starts with them (taught in 00)."""
from __future__ import annotations

import logging
import os
import platform
import random
import socket
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import torch

__all__ = ["REPO_ROOT", "Profile", "default_device", "environment_report", "get_profile", "output_dir", "precision",
           "quiet_library_notices", "seed_everything"]

PROFILES = ("full", "quick")
PROFILE_ENV = "COURSE_PROFILE"
COURSE_PACKAGES = ("torch", "transformers", "peft", "trl", "datasets", "accelerate", "bitsandbytes")
REPO_ROOT = Path(__file__).resolve().parent.parent   # the repository root (tools/notebook.py: why tools spell it again)


class ProfileError(ValueError):
    """A bad value for COURSE_PROFILE (or for a profile argument)."""


class Profile(str):
    """'full' or 'quick': a str (``profile == "quick"`` works) whose ``pick`` chooses a config value."""

    def __new__(cls, name: str):
        name = str(name).strip().lower()
        if name not in PROFILES:
            raise ProfileError(
                f"{name!r} is not a course profile. Valid profiles: {', '.join(PROFILES)} "
                f"(full = CUDA GPU + Hugging Face Hub; quick = CPU, offline, tiny stand-ins). "
                f"Set it with {PROFILE_ENV}=full or {PROFILE_ENV}=quick."
            )
        return super().__new__(cls, name)

    def pick(self, *, full, quick):
        """The value for this profile: ``MAX_STEPS = profile.pick(full=300, quick=30)``."""
        return full if self == "full" else quick


def get_profile(announce: bool = True) -> Profile:
    """$COURSE_PROFILE if set, else 'full' with a CUDA GPU and 'quick' without; ``announce`` prints which and why."""
    requested = os.environ.get(PROFILE_ENV, "").strip()
    if requested:
        profile, why = Profile(requested), f"from {PROFILE_ENV}={requested}"
    elif torch.cuda.is_available():
        profile, why = Profile("full"), f"CUDA GPU found: {torch.cuda.get_device_name(0)}"
    else:
        profile, why = Profile("quick"), "no CUDA GPU found"
    if announce:
        print(f"Profile: {profile} ({why}). Override with {PROFILE_ENV}=full or {PROFILE_ENV}=quick.")
        if profile == "full" and not torch.cuda.is_available():
            print("WARNING: the full profile without a CUDA GPU will train on the CPU - hours, not minutes. "
                  "On Colab: Runtime > Change runtime type > T4 GPU. On Kaggle: Settings > Accelerator > GPU T4.")
    return profile


def platform_name() -> str:
    """'colab', 'kaggle' or 'local'."""
    if "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ:
        return "colab"
    if "KAGGLE_KERNEL_RUN_TYPE" in os.environ or Path("/kaggle/working").is_dir():
        return "kaggle"
    return "local"


def default_device() -> torch.device:
    """cuda:0 when a GPU is visible, else cpu."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def native_bf16() -> bool:
    """bf16 runs natively (compute capability >= 8: A100, L4, H100...); ``torch.cuda.is_bf16_supported()`` also says
    True on a T4 (7.5), which only emulates it, slowly."""
    return torch.cuda.is_available() and torch.cuda.get_device_capability(0)[0] >= 8


@dataclass(frozen=True)
class Precision:
    """The mixed-precision choice (``precision()``): the autocast dtype (also a good dtype for a frozen base) and the
    trainers' flags, ``**prec.trainer_args``. Trainable weights stay fp32: fp16 loss scaling needs fp32 masters."""

    name: str                   # 'bf16' | 'fp16' | 'fp32'
    compute_dtype: torch.dtype
    fp16: bool = False
    bf16: bool = False
    use_cpu: bool = False       # bf16 autocast on the CPU (COURSE_CPU_BF16=1): the trainers need use_cpu=True for it

    @property
    def trainer_args(self) -> dict:
        return {"fp16": self.fp16, "bf16": self.bf16} | ({"use_cpu": True} if self.use_cpu else {})

    def __str__(self) -> str:
        where = ", on the CPU" if self.use_cpu else ""
        return f"{self.name} (compute {str(self.compute_dtype).replace('torch.', '')}{where}, trainable weights fp32)"


def precision() -> Precision:
    """bf16 where native, fp16 on other GPUs (a T4), fp32 on the CPU - or, with COURSE_CPU_BF16=1, bf16 autocast on
    the CPU, so a CPU run (the full-profile rehearsal) takes the trainers' mixed-precision path (what only a GPU has -
    fp16 loss scaling, SDPA kernels, 4-bit, peak memory - is checked by scripts/ci/gpu_check.py)."""
    if torch.cuda.is_available():
        if native_bf16():
            return Precision("bf16", torch.bfloat16, bf16=True)
        return Precision("fp16", torch.float16, fp16=True)
    if os.environ.get("COURSE_CPU_BF16", "").strip() == "1":
        return Precision("bf16", torch.bfloat16, bf16=True, use_cpu=True)
    return Precision("fp32", torch.float32)


def seed_everything(seed: int = 0) -> None:
    """Seed python, numpy and torch (CPU and CUDA) so the prose matches what you see."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def output_dir(name: str = "") -> Path:
    """A folder for checkpoints and adapters (created) that survives the runtime where possible: $COURSE_OUTPUT_DIR,
    else Drive's llm-course/ on Colab (/content/llm-course-outputs without Drive), /kaggle/working, <repo>/outputs."""
    if os.environ.get("COURSE_OUTPUT_DIR"):
        base = Path(os.environ["COURSE_OUTPUT_DIR"])
    elif platform_name() == "colab":
        drive = Path("/content/drive/MyDrive")
        base = drive / "llm-course" if drive.is_dir() else Path("/content/llm-course-outputs")
    elif platform_name() == "kaggle":
        base = Path("/kaggle/working")
    else:
        base = REPO_ROOT / "outputs"
    path = base / name if name else base
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(err.errno, f"Cannot create the output folder {path}: {err.strerror or err}. Checkpoints and "
                      "adapters go there. Set COURSE_OUTPUT_DIR=/a/folder/you/can/write (on Colab, mount Google "
                      "Drive first).") from None
    return path


def hub_offline() -> str | None:
    """Why the Hub cannot be reached now (HF_HUB_OFFLINE, or no connection within 3 s), or None: asked
    before a download, it turns a minute of silent retries into an immediate "no network" message."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return "HF_HUB_OFFLINE is set"
    host = os.environ.get("HF_ENDPOINT", "").split("://")[-1].split("/")[0] or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=3.0).close()
    except OSError as err:
        return f"no connection to {host}: {err.strerror or err}"
    return None


def quiet_library_notices() -> None:
    """Silence the notices harmless in this course (the setup cell calls it); real warnings stay on. Today one:
    bitsandbytes without a GPU logs "Failed to load CPU gemm_4bit_forward" (the quick profile never quantizes)."""
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def environment_report(profile: str) -> dict:
    """Platform, GPU, memory, bf16, precision, versions, profile: printed, and returned as a dict."""
    gpu = torch.cuda.get_device_properties(0) if torch.cuda.is_available() else None
    facts = {
        "platform": platform_name(),
        "python": platform.python_version(),
        "profile": str(profile),
        "device": str(default_device()),
        "gpu": gpu and gpu.name,
        "gpu_memory_gib": gpu and round(gpu.total_memory / 2**30, 1),
        "compute_capability": gpu and f"{gpu.major}.{gpu.minor}",
        "native_bf16": native_bf16(),
        "precision": precision().name,
        "versions": {p: _version(p) for p in COURSE_PACKAGES},
    }
    if gpu:
        facts["gpu_count"] = torch.cuda.device_count()
    if facts["gpu"]:
        line = (f"{facts['gpu']}, {facts['gpu_memory_gib']:,.1f} GiB, compute capability "
                f"{facts['compute_capability']}, native bf16: {'yes' if facts['native_bf16'] else 'no'}")
    else:
        line = f"none (CPU, {os.cpu_count()} cores)"
    print(f"Platform:  {facts['platform']} | Python {facts['python']} | profile: {facts['profile']}")
    print(f"GPU:       {line}")
    print(f"Precision: {precision()}")
    print("Versions:  " + ", ".join(f"{k} {v}" for k, v in facts["versions"].items()))
    if facts.get("gpu_count", 1) > 1:
        print(f"NOTE: {facts['gpu_count']} GPUs visible; the notebooks use one. Set "
              "CUDA_VISIBLE_DEVICES=0 before importing torch (the first cell does this on Kaggle).")
    return facts
