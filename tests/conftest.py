"""Fixtures and constants shared by the test files (the repository's conftest.py sets up the environment for the whole
run). Constants are imported by name: ``from tests.conftest import MODEL_ID`` (pytest.ini's pythonpath)."""
import os
import shutil

import pytest
import torch

# The course model the unit tests name: its quick stand-in is the micro-model (data/micro-llama/), as in 03-07.
MODEL_ID = "HuggingFaceTB/SmolLM2-360M"


@pytest.fixture(scope="session")
def model_id() -> str:
    return MODEL_ID


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """A fresh output folder (COURSE_OUTPUT_DIR) for one test."""
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models on a shared CPU: one thread is many times faster than two fighting over busy cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The headless browser's path; a failure in CI (where .ci/run installs it), a skip elsewhere."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is missing in CI: .ci/run installs it (apt-get install -y chromium)")
    pytest.skip("chromium not installed here (Debian/Ubuntu: sudo apt-get install -y chromium); CI runs this test")
