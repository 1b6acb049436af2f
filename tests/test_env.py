"""Profiles, precision, output folders: the environment helpers every notebook starts with."""
import pytest
import torch

import helpers
from helpers.env import ProfileError


def test_bad_profile_name_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    with pytest.raises(ProfileError) as err:
        helpers.get_profile(announce=False)
    message = str(err.value)
    assert "'fast'" in message and "full" in message and "quick" in message and "COURSE_PROFILE" in message


@pytest.mark.parametrize("value", ["quick", "QUICK", " full "])
def test_profile_from_environment(monkeypatch, value):
    monkeypatch.setenv("COURSE_PROFILE", value)
    assert helpers.get_profile(announce=False) == value.strip().lower()


def test_default_profile_follows_cuda(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    profile = helpers.get_profile()
    assert profile == ("full" if torch.cuda.is_available() else "quick")
    line = capsys.readouterr().out
    assert f"Profile: {profile}" in line and "COURSE_PROFILE=full" in line  # says how to override


def test_pick_chooses_the_profile_value():
    assert helpers.Profile("full").pick(full=300, quick=30) == 300
    assert helpers.Profile("quick").pick(full=300, quick=30) == 30


def test_precision_on_this_machine():
    prec = helpers.precision()
    if not torch.cuda.is_available():
        assert (prec.name, prec.compute_dtype, prec.trainer_args) == ("fp32", torch.float32, {"fp16": False, "bf16": False})
    assert not (prec.fp16 and prec.bf16)


def test_precision_on_a_t4(monkeypatch):
    # a T4: CUDA present, compute capability 7.5 -> fp16, even though torch calls bf16 "supported" there
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a: (7, 5))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert helpers.precision().trainer_args == {"fp16": True, "bf16": False}
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a: (8, 0))
    assert helpers.precision().trainer_args == {"fp16": False, "bf16": True}


def test_environment_report_facts(capsys):
    facts = helpers.environment_report("quick")
    out = capsys.readouterr().out
    assert facts["profile"] == "quick" and facts["platform"] in ("colab", "kaggle", "local")
    assert facts["versions"]["transformers"] == "5.25.0" and facts["versions"]["trl"] == "1.16.0"
    assert "Precision:" in out and "transformers 5.25.0" in out


def test_output_dir_locally(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_OUTPUT_DIR", raising=False)
    path = helpers.output_dir("sub")
    assert path.is_dir() and path == helpers.env.REPO_ROOT / "outputs" / "sub"
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path))
    assert helpers.output_dir("x") == tmp_path / "x"


def test_output_dir_on_kaggle(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_OUTPUT_DIR", raising=False)
    monkeypatch.setattr(helpers.env, "platform_name", lambda: "kaggle")
    monkeypatch.setattr(helpers.env, "Path", lambda p: tmp_path / p.strip("/"))
    assert helpers.output_dir("run") == tmp_path / "kaggle/working" / "run"


def test_seed_everything_repeats():
    helpers.seed_everything(3)
    a = torch.rand(3)
    helpers.seed_everything(3)
    assert torch.equal(a, torch.rand(3))


def test_import_has_no_side_effects():
    import subprocess
    import sys

    code = ("import torch; s = torch.initial_seed(); import helpers; "
            "assert torch.initial_seed() == s; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=helpers.env.REPO_ROOT)
    assert out.stdout == "ok\n", out.stderr  # importing prints nothing and seeds nothing
