"""scripts/students/install.sh's torch index probe: an index that does not answer costs one short probe and one warning line,
then torch comes from the default index - no pip retry storm. pip itself is stubbed (nothing is downloaded): a
fake virtual environment whose python records `-m pip ...` calls and runs everything else with this Python."""
import http.server
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers.env import REPO_ROOT as ROOT   # the repository root, defined once (helpers/env.py)


def fake_venv(tmp_path: Path) -> tuple[Path, Path]:
    venv, log = tmp_path / "venv", tmp_path / "pip-calls.log"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(f"""#!/usr/bin/env bash
if [ "$1" = -m ] && [ "$2" = pip ]; then echo "$*" >> {log}; exit 0; fi       # pip: recorded, not run
if [ "$1" = scripts/teachers/build_slides.py ]; then exit 0; fi                         # npm: not run either
exec {sys.executable} "$@"
""")
    python.chmod(0o755)
    return venv, log


def install(tmp_path: Path, index: str) -> tuple[subprocess.CompletedProcess, list[str], float]:
    venv, log = fake_venv(tmp_path)
    env = {**os.environ, "COURSE_VENV": str(venv), "COURSE_PYTHON": sys.executable, "COURSE_TORCH": "cpu",
           "TORCH_INDEX_URL": index, "TORCH_SPEC": "torch", "COURSE_NO_LAUNCH": "1", "COURSE_PROBE_TIMEOUT": "5"}
    start = time.perf_counter()
    done = subprocess.run(["bash", str(ROOT / "scripts" / "students" / "install.sh")], env=env, capture_output=True, text=True,
                          timeout=120)
    took = time.perf_counter() - start
    return done, (log.read_text().splitlines() if log.exists() else []), took


def test_an_index_that_does_not_resolve_costs_one_warning_line(tmp_path):
    done, pip_calls, took = install(tmp_path, "https://torch-index.invalid/whl/cpu")   # .invalid never resolves
    assert done.returncode == 0, done.stdout + done.stderr
    output = (done.stdout + done.stderr).splitlines()
    warnings = [line for line in output if "WARNING" in line or "Retrying" in line]
    assert len(warnings) == 1, output
    assert "torch-index.invalid" in warnings[0] and "does not answer" in warnings[0] and "default index" in warnings[0]
    torch_call = next(c for c in pip_calls if c.split()[-1] == "torch")
    assert "--index-url" not in torch_call                       # straight to the default index
    assert not any("torch-index.invalid" in c for c in pip_calls)
    assert took < 60, f"the fallback took {took:.0f} s"
    assert output[-1].startswith(">>> open the course:")         # it finished


def test_an_index_that_answers_is_used(tmp_path):
    handler = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/whl/cpu"   # 404 for this path: an answer all the same
        done, pip_calls, _ = install(tmp_path, url)
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING" not in done.stdout + done.stderr
    assert f"--index-url {url} torch" in next(c for c in pip_calls if c.split()[-1] == "torch")


@pytest.mark.parametrize("index", ["pypi"])
def test_the_default_index_is_not_probed(tmp_path, index):
    done, pip_calls, _ = install(tmp_path, index)
    assert done.returncode == 0 and "WARNING" not in done.stdout + done.stderr
    assert "--index-url" not in " ".join(pip_calls)
