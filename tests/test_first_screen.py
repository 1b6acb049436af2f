"""What a newcomer sees first: notebook 00 opened in JupyterLab, in headless Chromium (as tests/test_slides.py renders
the slides). The lesson's title must be on the first screen, the setup cell's code folded away (one line), and no
image on it broken. The test starts `jupyter lab` on a free localhost port (token off, no browser) serving a copy of
the notebook, drives Chromium over its DevTools protocol (websocket-client, a dependency of jupyter_server), and
leaves the screenshot in pytest's tmp dir (printed with -s)."""
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers.env import REPO_ROOT as ROOT   # the repository root, defined once (helpers/env.py)
NOTEBOOK = ROOT / "notebooks" / "00_setup.ipynb"
WIDTH, HEIGHT = 1280, 800


def jupyterlab():
    """JupyterLab and websocket-client (jupyter_server's dependency): scripts/students/install.sh installs both."""
    try:
        import jupyterlab  # noqa: F401
        import websocket  # noqa: F401
    except ImportError as err:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{err.name} is missing in CI: scripts/students/install.sh installs jupyterlab")
        pytest.skip(f"{err.name} not installed (bash scripts/students/install.sh installs JupyterLab)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, probe, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None):
    """Call ``probe`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace")[-1500:] if log else ""
            pytest.fail(f"{what}: the process exited with {process.returncode}\n{tail}")
        try:
            found = probe()
        except OSError:
            found = None
        if found:
            return found
        time.sleep(0.25)
    pytest.fail(f"{what}: nothing after {timeout:.0f} s")


def stop(process: subprocess.Popen):
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on a free port, serving a copy of notebook 00 (its URL); stopped afterwards."""
    jupyterlab()
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(NOTEBOOK, served / NOTEBOOK.name)
    settings = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)    # no "Would you like to get notified about official Jupyter news?" toast
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws")}
    log = open(tmp_path / "jupyter-lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
         "--ServerApp.jpserver_extensions=jupyter_lsp=False", f"--ServerApp.root_dir={served}",
         "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--ServerApp.port_retries=0", "--allow-root"],   # --allow-root: CI containers run as root
        env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        wait_for("jupyter lab did not answer", lambda: urllib.request.urlopen(f"{base}/api/status", timeout=2).status
                 == 200, 40, server, tmp_path / "jupyter-lab.log")
        print(f"\njupyter lab answered after {time.monotonic() - started:.1f} s")
        yield f"{base}/lab/tree/{NOTEBOOK.name}?reset"
    finally:
        stop(server)
        log.close()


class Page:
    """One Chromium tab, driven over the DevTools protocol."""

    def __init__(self, ws_url: str):
        import websocket

        self.ws, self.next_id = websocket.create_connection(ws_url, timeout=30, suppress_origin=True), 0

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def js(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}...: {result['exceptionDetails']}")
        return result["result"].get("value")


@pytest.fixture
def browser(tmp_path, chromium):
    """A headless Chromium with no network but localhost; yields a Page on about:blank."""
    debug_port = free_port()
    process = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",   # badge images on a CDN would fail here
         f"--window-size={WIDTH},{HEIGHT}", f"--remote-debugging-port={debug_port}", "--remote-allow-origins=*",
         "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def page_socket():
            targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{debug_port}/json/list", timeout=2))
            return next((t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page"), None)

        page = Page(wait_for("chromium's DevTools did not answer", page_socket, 30, process))
        page.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)
        yield page
        page.ws.close()
    finally:
        stop(process)


# The first screen, read from the rendered page: the first cells, where they are, what they show.
FIRST_SCREEN = """(() => {
  const cells = [...document.querySelectorAll('.jp-NotebookPanel .jp-Cell')];
  if (cells.length < 3 || !cells[0].querySelector('.jp-RenderedMarkdown')) return null;   // not rendered yet
  const box = e => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, height: r.height}; };
  const shown = e => !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const h1 = cells[0].querySelector('.jp-RenderedMarkdown h1') || document.createElement('h1');
  const setup = cells[1];
  const editor = setup.querySelector('.jp-InputArea-editor');
  return {
    viewport: window.innerHeight,
    title: h1.textContent, titleBox: box(h1),
    links: [...cells[0].querySelectorAll('a:not(.jp-InternalAnchorLink)')].map(a => a.textContent.trim()),
    images: [...cells[0].querySelectorAll('img')].length,
    setupBox: box(setup),
    setupPlaceholder: shown(setup.querySelector('.jp-InputPlaceholder')),
    setupPlaceholderText: (setup.querySelector('.jp-InputPlaceholder') || {}).textContent || '',
    setupEditorShown: shown(editor),
    setupCodeVisible: [...setup.querySelectorAll('.cm-line')].filter(shown).map(l => l.textContent).join('\\n'),
    lessonTop: box(cells[2]).top,
  };
})()"""


def test_notebook_00_opens_on_its_title_with_the_setup_folded(lab, browser, tmp_path):
    start = time.monotonic()
    browser.call("Page.enable")
    browser.call("Page.navigate", url=lab)
    png = tmp_path / "first-screen.png"
    try:
        state = wait_for("JupyterLab did not render notebook 00", lambda: browser.js(FIRST_SCREEN), 90)
    finally:   # a screenshot also when it fails, to look at
        png.write_bytes(base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"]))
        print(f"\nscreenshot: {png}")
    print(f"notebook rendered {time.monotonic() - start:.1f} s after the browser asked for it")
    time.sleep(1.0)                                                        # let the layout settle
    state = browser.js(FIRST_SCREEN)
    png.write_bytes(base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"]))
    print(f"first screen: {json.dumps(state, indent=1)}")

    title = next(l for l in NOTEBOOK.read_text(encoding="utf-8").split('"# ', 1)[1:]).split("\\n", 1)[0]
    assert state["title"].rstrip("¶").strip() == title, state              # cell 0 opens on the lesson's title ...
    assert 0 <= state["titleBox"]["top"] and state["titleBox"]["bottom"] <= state["viewport"] / 2, state  # ... high up
    assert state["links"][:2] == ["Open in Colab", "Open in Kaggle"] and state["images"] == 0   # text links, no images
    assert state["setupPlaceholder"] and not state["setupEditorShown"], "the setup cell's code is not folded"
    assert "course:setup-cell" not in state["setupCodeVisible"]
    assert state["setupBox"]["height"] < 80, f"the folded setup cell is {state['setupBox']['height']:.0f} px tall"
    assert state["lessonTop"] < state["viewport"], "the lesson's first cell should start on the first screen"

    import matplotlib.image
    import numpy as np

    image = matplotlib.image.imread(png)[..., :3]
    assert image.shape[:2] == (HEIGHT, WIDTH) and image.std() > 0.05, "the screenshot is blank"
    assert len(np.unique(image[::4, ::4].reshape(-1, 3), axis=0)) > 20, "the screenshot is nearly blank"
    print(f"test body took {time.monotonic() - start:.1f} s")
