"""Lecture slides (scripts/teachers/build_slides.py): the slide rule, the committed metadata, and a real deck of notebook 00
(executed in the quick profile) that builds, has the slides its metadata promises, loads nothing from a CDN, and
renders in a headless browser with no network (screenshots land in pytest's tmp dir, not in git)."""
import copy
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import nbclient
import nbformat
import numpy as np
import pytest

from scripts.teachers import build_slides, grade
from tools import notebook

from helpers.env import REPO_ROOT as ROOT   # the repository root, defined once (helpers/env.py)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SETUP = ROOT / "notebooks" / "00_setup.ipynb"


def md(text):
    return nbformat.v4.new_markdown_cell(text)


def code(text, tags=()):
    cell = nbformat.v4.new_code_cell(text)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def test_the_rule_on_known_cells():
    definitions = "\n".join(f"def f{i}(x):\n    return x + {i}" for i in range(11))   # 22 lines, shows nothing
    printing = "\n".join(f"x{i} = {i}" for i in range(21)) + "\nprint(x0)"              # 22 lines, prints
    cells = [md("<!-- course:badges -->\n[Colab](x)"), code("# course:setup-cell - run me first\nprint(1)"),
             md("# 00 · Title\n\n**Goal.** ..."), md("## 1. Where are we?"), code("import torch"),
             md("Read the line."), md("More text right after text."), code("x = 1\nx"), md("### 1.1 A subsection"),
             code("N = 3", tags=["parameters"]),
             code("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
             code(definitions), code(printing), md("## Summary")]
    want = ["skip", "skip", "slide", "slide", "fragment", "subslide", "-", "fragment", "subslide",
            "skip", "skip", "skip", "fragment", "slide"]
    assert build_slides.slide_types(cells) == want
    nb = nbformat.v4.new_notebook(cells=cells)
    assert build_slides.mark(nb) is True
    assert [c.metadata.slideshow.slide_type for c in nb.cells] == want
    assert build_slides.mark(nb) is False                           # idempotent
    assert build_slides.count_slides(nb) == {"slides": 3, "subslides": 2}
    assert build_slides.skip_reason(cells[11]) == "long plumbing" and build_slides.skip_reason(cells[12]) is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_carry_the_slide_metadata(path):
    nb = nbformat.read(path, as_version=4)
    marked = copy.deepcopy(nb)
    assert not build_slides.mark(marked), (
        f"{path.name}: its slide metadata is not the rule's - run `python scripts/teachers/build_slides.py --mark` "
        "(scripts/maintainers/nbtool.py does it on every to-nb) and commit the notebook")
    kinds = [c.metadata.slideshow.slide_type for c in nb.cells]
    assert kinds[:2] == ["slide", "skip"], "the deck opens on cell 0, the title (links left out); setup is plumbing"
    assert "\n# " in nb.cells[0].source, "cell 0 carries the title"
    counts = build_slides.count_slides(nb)
    assert counts["slides"] >= 5 and counts["subslides"] >= 5, counts


def test_nbtool_round_trip_keeps_the_slide_metadata(tmp_path):
    from scripts.maintainers.nbtool import to_nb, to_py, write_nb

    path = NOTEBOOKS[1]
    write_nb(to_nb(to_py(nbformat.read(path, as_version=4))), tmp_path / path.name)
    assert (tmp_path / path.name).read_bytes() == path.read_bytes()


class Deck(HTMLParser):
    """Sections (with their nesting depth) and the URLs of <script src> and <link href> in a deck."""

    def __init__(self):
        super().__init__()
        self.depth, self.sections, self.urls = 0, [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append({"depth": self.depth, "children": 0})
            for parent in reversed(self.sections[:-1]):
                if parent["depth"] == self.depth - 1:
                    parent["children"] += 1
                    break
            self.depth += 1
        elif tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "section":
            self.depth -= 1


FORMULAS = "Inline $W_0 + \\Delta W$, then displayed:\n\n$$h = W_0 x + \\frac{\\alpha}{r} B A x$$"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """00's deck (executed here, quick profile) and the deck of a small notebook with formulas and stored outputs."""
    out = tmp_path_factory.mktemp("slides")
    math = nbformat.v4.new_notebook(cells=[md("# Formulas"), md("## 1. Two formulas\n\n" + FORMULAS),
                                           code("print('shown')"), md("Too long for a slide:"),
                                           code("\n".join(f"long_{i} = {i}" for i in range(25)) + "\nprint(long_0)")])
    math.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="shown\n")]
    math.cells[4].outputs = [nbformat.v4.new_output("stream", name="stdout", text="output of a long cell\n")]
    math.cells[2].outputs.append(nbformat.v4.new_output(                # an ipywidget, as Jupyter stores it
        "display_data", data={build_slides.WIDGET_VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0},
                              "text/plain": "VBox(children=(IntSlider(value=3),))"}))
    nbformat.write(math, out / "formulas.ipynb")
    records = build_slides.build([SETUP, out / "formulas.ipynb"], out, log=lambda *_: None)
    return out, records[0], records[1]


def parse(deck: Path) -> Deck:
    parser = Deck()
    parser.feed(deck.read_text(encoding="utf-8"))
    return parser


def test_deck_builds_with_the_slides_its_metadata_promises(built):
    out, record, _ = built
    deck = out / record["deck"]
    assert deck.name == "00_setup.slides.html" and record["executed"]
    want = build_slides.count_slides(nbformat.read(SETUP, as_version=4))
    assert (record["slides"], record["subslides"]) == (want["slides"], want["subslides"])
    sections = parse(deck).sections
    columns = [s for s in sections if s["depth"] == 0]
    leaves = [s for s in sections if s["children"] == 0]
    assert len(columns) == want["slides"]                            # one column per "## " section (and the title)
    assert len(leaves) == want["slides"] + want["subslides"]         # what the presenter steps through
    html = deck.read_text(encoding="utf-8")
    assert "Course files:" not in html and "course kit" not in html  # the setup cell's output: skipped
    assert "Open in Colab" not in html and "Not published" not in html  # cell 0's links: left out
    assert "### BEGIN SOLUTION" not in html                          # exercise solutions: skipped
    assert "<pre>" in html or 'class="jp-OutputArea' in html         # outputs of the executed run are there
    assert (out / "index.html").read_text().count(".slides.html") == 2


def test_long_code_cells_show_their_output_only(built):
    out, _, record = built
    html = (out / record["deck"]).read_text(encoding="utf-8")
    assert "shown" in html and "print" in html                       # a short cell: code and output
    assert "output of a long cell" in html and "long_24" not in html  # a long one: output only
    assert "VBox(children" not in html and "an interactive widget here" in html


def test_deck_loads_nothing_from_the_network(built):
    out, record, _ = built
    urls = parse(out / record["deck"]).urls
    assert len(urls) >= 5, urls                                      # reveal css/js, theme, require, jquery, MathJax
    remote = [u for u in urls if re.match(r"(https?:)?//", u)]
    assert not remote, f"CDN URLs left in <script>/<link> tags: {remote}"
    for url in urls:
        assert (out / url.split("?")[0]).is_file(), f"{url} is not bundled next to the deck"
    size = sum(p.stat().st_size for p in (out / "vendor").rglob("*") if p.is_file())
    assert size < 20 * 2**20, f"vendor/ is {size / 2**20:.1f} MiB: more than the decks load"


def browse(chromium: str, url: str, profile: Path, *action: str) -> str:
    """Run headless chromium on a URL with a fresh profile and no network; returns what it printed."""
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               "--host-resolver-rules=MAP * ~NOTFOUND",                     # no network, even if the machine has it
               "--window-size=1280,800", "--virtual-time-budget=8000", *action, url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_a_headless_browser_renders_the_first_slides(built, tmp_path, chromium):
    import matplotlib.image

    out, record, _ = built
    url = (out / record["deck"]).as_uri()
    dom = browse(chromium, url, tmp_path / "profile-dom", "--dump-dom")
    assert re.search(r'class="reveal slide[^"]*\bready\b', dom), "reveal.js did not start (a library not loaded?)"
    assert "MathJax_Main" in dom, "MathJax did not load"
    title = next(l for l in nbformat.read(SETUP, as_version=4).cells[0].source.splitlines() if l.startswith("# "))[2:]
    assert title in dom, f"the title slide's text {title!r} is not in the page"
    shots = []
    for i, where in enumerate(["", "#/1"]):                            # the title slide, then the first section
        png = tmp_path / f"slide-{i}.png"
        browse(chromium, url + where, tmp_path / f"profile-{i}", f"--screenshot={png}")
        image = matplotlib.image.imread(png)[..., :3]
        assert image.shape[:2] == (800, 1280)
        assert image.std() > 0.05, f"{png} is blank"
        assert len(np.unique(image.reshape(-1, 3), axis=0)) > 20, f"{png} is nearly blank"
        shots.append(image)
    assert not np.array_equal(shots[0], shots[1]), "the first two slides rendered the same picture"
    print(f"screenshots: {tmp_path}")


def test_formulas_render_once_offline(built, tmp_path, chromium):
    out, _, record = built
    assert not record["executed"]                                    # a notebook with outputs is used as it is
    dom = browse(chromium, (out / record["deck"]).as_uri() + "#/1", tmp_path / "profile", "--dump-dom")
    assert dom.count('class="mjx-math"') >= 2, "the formulas were not typeset"
    ids = re.findall(r' id="([^"]+)"', dom)
    twice = sorted({i for i in ids if ids.count(i) > 1})
    assert not twice, f"formulas typeset twice (their element ids repeat: {twice[:3]})"
    assert "shown" in dom


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_a_notebook_runs_in_the_tests_environment_and_the_callers_comes_back(monkeypatch, profile):
    """build_slides.execute runs a lesson in the environment conftest.py gives the tests (tools/notebook.py's
    set_run_env: QUICK_ENV's quiet defaults, offline only in the quick profile, inline figures even over an inherited
    Agg), its own output folder, and restores the caller's environment afterwards."""
    seen = {}

    class Client:
        def __init__(self, *args, **kwargs):
            pass

        def execute(self):
            seen.update(os.environ)

    monkeypatch.setattr(nbclient, "NotebookClient", Client)
    for key in [*notebook.QUICK_ENV, "COURSE_OUTPUT_DIR"]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("COURSE_PROFILE", profile)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    before = dict(os.environ)
    build_slides.execute(None, ROOT / "notebooks" / "00_setup.ipynb", 1)
    assert dict(os.environ) == before
    assert seen["MPLBACKEND"] == notebook.INLINE_FIGURES and seen["COURSE_PROFILE"] == profile
    assert seen["COURSE_OUTPUT_DIR"] == str(ROOT / "outputs" / "slides-run")
    offline = {key: seen.get(key) for key in notebook.OFFLINE}
    assert offline == ({key: "1" for key in notebook.OFFLINE} if profile == "quick" else dict.fromkeys(notebook.OFFLINE))
    for key, value in notebook.QUICK_ENV.items():
        if key not in notebook.OFFLINE and key != "COURSE_PROFILE":
            assert seen[key] == value, key
    assert notebook.QUICK_ENV.items() <= grade.SANDBOX_ENV.items()          # the grader's sandbox: the same, quick
    assert grade.SANDBOX_ENV["MPLBACKEND"] == "Agg"                          # ... with figures off-screen
