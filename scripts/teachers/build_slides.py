"""Lecture slides from the notebooks: one reveal.js deck per notebook, with the outputs of a quick-profile run,
viewable offline (no CDN: reveal.js, MathJax, require.js and jQuery are copied next to the decks).

    python scripts/teachers/build_slides.py                                # every notebook -> slides/NN_name.slides.html
    python scripts/teachers/build_slides.py notebooks/03_sft.ipynb --out /tmp/deck
    python scripts/teachers/build_slides.py --execute                      # re-run notebooks even if they hold outputs
    python scripts/teachers/build_slides.py --mark                         # maintainers: rewrite the slide metadata
    python scripts/teachers/build_slides.py --vendor                       # only install the JavaScript libraries

Notebooks without outputs (the committed ones) are executed first, in the quick profile (COURSE_PROFILE=quick
unless you set it; offline), from notebooks/; a notebook that already holds outputs - a saved full-profile run
on a T4, say - is used as it is, unless --execute. The notebook files themselves are never changed by a build.
Open slides/index.html (or a deck) in a browser straight from the disk: arrow keys move through the deck (right:
next section, down: next step), "s" opens the speaker view, "f" full screen, Esc the overview.

The JavaScript libraries come from npm (pinned in VENDOR below), installed once into .slides-vendor/ (ignored
by git; needs Node.js's `npm`); each build copies the files a deck needs (7 MiB) into <out>/vendor/.

Slide metadata (cell.metadata.slideshow.slide_type) follows one rule, applied by --mark to the committed notebooks
(tools/notebook.py holds it; every write through it applies it) and again, in memory, to every notebook a build reads:
  skip      cell 0 if it holds only links (with the "# " title it is the title slide, the links and notes after
            LINKS_MARK left out at build time), the setup cell, the config cell (tag "parameters"), exercise solutions
            ("### BEGIN SOLUTION"), and long plumbing: a code cell over LONG_CELL non-blank lines that neither
            prints nor draws nor ends in an expression (definitions only: nothing to show)
  slide     the title ("# ") and each section ("## ") - a new column of the deck
  subslide  each "### " heading, and each other markdown cell that follows a code cell: one step of the
            lesson (its text, then its code) per slide, going down the column
  fragment  every kept code cell: it appears, with its output, on the next key press - predict, then print
  -         a markdown cell that follows another markdown cell stays on the same slide
At build time a kept code cell over LONG_CELL non-blank lines shows its output only (its code would not fit).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

try:
    from tools.notebook import (LINKS_MARK, LONG_CELL, NOTEBOOKS, QUICK_ENV, ROOT, code_lines,  # noqa: F401
                                count_slides, course_meta, is_badges_cell, lesson_paths, mark, read, set_run_env,
                                skip_reason, slide_types, write)
except ModuleNotFoundError as err:  # run before the kit was installed: tools/bootstrap.py says how to install it
    runpy.run_path(str(Path(__file__).resolve().parents[2] / "tools" / "bootstrap.py"))["exit_without_kit"](err, __file__)

NOTEBOOK_DIR = NOTEBOOKS
VENDOR_INSTALL = ROOT / ".slides-vendor"          # npm --prefix target (git-ignored)
TEMPLATE_DIR = ROOT / "scripts" / "teachers" / "slides_template"
VENDOR = {"reveal.js": "4.6.1", "mathjax": "2.7.9", "requirejs": "2.3.7", "jquery": "3.7.1"}
# What a deck loads, relative to node_modules/ (copied to <out>/vendor/ keeping these paths).
VENDOR_FILES = [
    "reveal.js/dist/reveal.js", "reveal.js/dist/reveal.css", "reveal.js/dist/theme/white.css",
    "reveal.js/dist/theme/fonts/source-sans-pro", "reveal.js/plugin/notes", "reveal.js/LICENSE",
    "requirejs/require.js", "jquery/dist/jquery.min.js", "jquery/LICENSE.txt",
    # MathJax 2 with the TeX input and CommonHTML output the nbconvert template configures, nothing else
    "mathjax/MathJax.js", "mathjax/config/TeX-AMS_CHTML-full.js", "mathjax/extensions", "mathjax/jax/input/TeX",
    "mathjax/jax/output/CommonHTML", "mathjax/jax/element", "mathjax/fonts/HTML-CSS/TeX/woff",
    "mathjax/localization/en", "mathjax/LICENSE",
]
THEME = "white"                                   # reveal's "simple" (nbconvert's default) imports Google Fonts
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = nbformat.v4.new_output("stream", name="stdout",
                                     text="(an interactive widget here: run the notebook in Jupyter to use it)\n")


# --- vendored JavaScript -------------------------------------------------------------------------------------

def _installed_versions(node_modules: Path) -> dict[str, str | None]:
    found = {}
    for name in VENDOR:
        package = node_modules / name / "package.json"
        found[name] = json.loads(package.read_text())["version"] if package.exists() else None
    return found


def install_vendor(log=print) -> Path:
    """node_modules with the pinned VENDOR packages (installed with npm on first use); returns its path."""
    node_modules = VENDOR_INSTALL / "node_modules"
    if _installed_versions(node_modules) == VENDOR:
        return node_modules
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("build_slides: npm not found - the decks bundle reveal.js and MathJax from npm. Install "
                         "Node.js (Debian/Ubuntu: sudo apt-get install npm; macOS: brew install node; or "
                         "https://nodejs.org) and run again.")
    specs = [f"{name}@{version}" for name, version in VENDOR.items()]
    log(f"installing {' '.join(specs)} into {VENDOR_INSTALL.relative_to(ROOT)}/ (npm, once)")
    done = subprocess.run([npm, "install", "--prefix", str(VENDOR_INSTALL), "--no-save", "--no-package-lock",
                           "--no-audit", "--no-fund", "--loglevel=error", *specs], capture_output=True, text=True)
    if done.returncode != 0 or _installed_versions(node_modules) != VENDOR:
        raise SystemExit(f"build_slides: `npm install {' '.join(specs)}` failed:\n{done.stderr.strip()}\n"
                         "Check the network access to the npm registry (or your npm proxy settings) and run again.")
    return node_modules


def copy_vendor(node_modules: Path, out: Path) -> int:
    """Copy the files the decks load into out/vendor/; returns the bytes copied."""
    target = out / "vendor"
    if target.exists():
        shutil.rmtree(target)
    for rel in VENDOR_FILES:
        src, dst = node_modules / rel, target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.map", "*.esm.js"))
        else:
            shutil.copy2(src, dst)
    return sum(p.stat().st_size for p in target.rglob("*") if p.is_file())


# --- executing and exporting ---------------------------------------------------------------------------------

def has_outputs(nb) -> bool:
    return any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")


def execute(nb, path: Path, timeout: int):
    """Run a notebook as the tests do (tools.notebook.set_run_env: quick unless COURSE_PROFILE says otherwise, offline
    in the quick profile), from notebooks/."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    saved = {key: os.environ.get(key) for key in [*QUICK_ENV, "MPLBACKEND", "COURSE_OUTPUT_DIR"]}
    set_run_env(os.environ)                       # the tests' environment (tools/notebook.py), figures inline
    os.environ.setdefault("COURSE_OUTPUT_DIR", str(ROOT / "outputs" / "slides-run"))
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except CellExecutionError as error:
        raise SystemExit(f"build_slides: {path.name} failed while executing (no deck built):\n{error}\n"
                         f"Run it in Jupyter (or `pytest -q {path}`) to see the failing cell.") from None
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb


def prepare(nb):
    """The copy a deck is made from: marked by the rule, widgets as a note, long code cells as output only."""
    nb = copy.deepcopy(nb)
    mark(nb)
    nb.metadata.pop("widgets", None)              # widget state would load a renderer from a CDN
    if course_meta(nb).get("title"):
        nb.metadata["title"] = course_meta(nb)["title"]   # the page's <title> (else the file name)
    for cell in nb.cells:
        if is_badges_cell(cell) and LINKS_MARK in cell.source:
            cell.source = cell.source.split(LINKS_MARK, 1)[0].rstrip()   # the title slide without the Colab links
        if cell.cell_type != "code":
            continue
        cell.outputs = [WIDGET_NOTE if WIDGET_VIEW in output.get("data", {}) else output
                        for output in cell.get("outputs", [])]   # a static page cannot run a widget
        if code_lines(cell.source) > LONG_CELL:
            cell.metadata["transient"] = {"remove_source": True}   # what nbconvert's TagRemovePreprocessor sets
    return nb


def exporter():
    from nbconvert import SlidesExporter

    return SlidesExporter(
        extra_template_basedirs=[str(TEMPLATE_DIR)], template_name="kit_reveal",
        reveal_url_prefix="vendor/reveal.js", reveal_theme=THEME, reveal_scroll=True, reveal_number="c/t",
        reveal_width="1280", reveal_height="800", exclude_input_prompt=True, exclude_output_prompt=True,
        mathjax_url="vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
        require_js_url="vendor/requirejs/require.js", jquery_url="vendor/jquery/dist/jquery.min.js")


def build(paths: list[Path], out: Path, force_execute: bool = False, timeout: int = 600, keep_executed: bool = False,
          log=print) -> list[dict]:
    """Build one deck per notebook into out/ (plus out/vendor/ and out/index.html); returns one record per deck."""
    node_modules = install_vendor(log)
    out.mkdir(parents=True, exist_ok=True)
    vendor_bytes = copy_vendor(node_modules, out)
    log(f"vendor/: {vendor_bytes / 2**20:.1f} MiB (reveal.js {VENDOR['reveal.js']}, MathJax {VENDOR['mathjax']}, "
        f"require.js {VENDOR['requirejs']}, jQuery {VENDOR['jquery']})")
    slides_exporter, records = exporter(), []
    for path in paths:
        start = time.perf_counter()
        nb = read(path)
        ran = force_execute or not has_outputs(nb)
        if ran:
            log(f"{path.name}: executing ({os.environ.get('COURSE_PROFILE', 'quick')} profile) ...")
            execute(nb, path, timeout)
            if keep_executed:                     # to rebuild later without running it again
                (out / "executed").mkdir(exist_ok=True)
                nbformat.write(nb, out / "executed" / path.name)
        deck_nb = prepare(nb)
        body, _ = slides_exporter.from_notebook_node(deck_nb, resources={"metadata": {"name": path.stem}})
        deck = out / f"{path.stem}.slides.html"
        deck.write_text(body, encoding="utf-8")
        counts = count_slides(deck_nb)
        records.append({"notebook": path.name, "deck": deck.name, "executed": ran, **counts,
                        "seconds": time.perf_counter() - start, "bytes": deck.stat().st_size})
        log(f"{path.name}: {counts['slides']} sections, {counts['slides'] + counts['subslides']} slides -> {deck} "
            f"({deck.stat().st_size / 2**20:.1f} MiB, {records[-1]['seconds']:.0f} s{', executed' if ran else ''})")
    write_index(out)
    return records


def write_index(out: Path):
    """out/index.html: every deck in out/ (this build's and earlier ones'), with its title."""
    from html import escape, unescape

    rows = []
    for deck in sorted(out.glob("*.slides.html")):
        found = re.search(r"<title>(.*?) slides</title>", deck.read_text(encoding="utf-8"), re.S)
        title = unescape(found.group(1).strip()) if found else deck.name
        number = f"{deck.name[:2]} · " if deck.name[:2].isdigit() else ""
        rows.append(f'<li><a href="{escape(deck.name)}">{escape(number + title)}</a></li>')
    rows = "\n".join(rows)
    (out / "index.html").write_text(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Course slides</title></head>\n"
        "<body style=\"font-family: sans-serif; max-width: 50em; margin: 2em auto\">\n<h1>Course slides</h1>\n"
        "<p>Right arrow: next section; down arrow: next step; <b>s</b>: speaker view; <b>f</b>: full screen; "
        "<b>Esc</b>: overview. Works offline.</p>\n<ul>\n" + rows + "\n</ul>\n</body></html>\n", encoding="utf-8")


# --- command line --------------------------------------------------------------------------------------------

def mark_notebooks(paths: list[Path]) -> int:
    changed = 0
    for path in paths:
        nb = read(path)
        rewritten = mark(nb)
        if rewritten:
            write(nb, path)
            changed += 1
        counts = count_slides(nb)
        print(f"{path.name}: {counts['slides']} sections, {counts['slides'] + counts['subslides']} slides"
              f"{' (metadata rewritten)' if rewritten else ''}")
    print(f"{changed} notebook(s) changed")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
    parser.add_argument("--out", type=Path, default=ROOT / "slides", help="where the decks go (default: slides/)")
    parser.add_argument("--execute", action="store_true", help="execute notebooks even if they hold outputs")
    parser.add_argument("--keep-executed", action="store_true",
                        help="also save the executed notebooks in <out>/executed/ (build from them again: no re-run)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell when executing (default 600)")
    parser.add_argument("--mark", action="store_true", help="rewrite the notebooks' slide metadata, build nothing")
    parser.add_argument("--vendor", action="store_true", help="only install the JavaScript libraries")
    args = parser.parse_args(argv)
    paths = args.notebooks or lesson_paths()
    missing = [str(p) for p in paths if not p.is_file() or p.suffix != ".ipynb"]
    if missing:
        parser.error(f"not a notebook file: {', '.join(missing)}")
    if args.mark:
        return mark_notebooks(paths)
    if args.vendor:
        print(f"JavaScript libraries in {install_vendor()}")
        return 0
    start = time.perf_counter()
    records = build([p.resolve() for p in paths], args.out.resolve(), args.execute, args.timeout, args.keep_executed)
    print(f"{len(records)} deck(s) in {args.out}/ in {time.perf_counter() - start:.0f} s; "
          f"open {args.out / 'index.html'} in a browser (no network needed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
