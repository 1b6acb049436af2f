"""Build the student version of the kit from the solution notebooks: one command, no server.

    python scripts/teachers/build_student.py --repo OWNER/NAME   # -> student/ : a repository to push as github.com/OWNER/NAME
    python scripts/teachers/build_student.py                     # -> student/ , links and clone kept at course.toml's repo
    python scripts/teachers/build_student.py --out DIR           # somewhere else (--branch B: the branch you will push)

What the student repository holds and what it leaves out is listed once, in README.md's section "The student
version: one command" (tests/test_student.py checks that list against ``COPY`` and the build). Each cell
that holds a solution block must say which exercise it is (cell metadata ``course.exercise``; README "Homework
conventions"), or the build stops with a ``BuildError`` naming the cell.
"""
from __future__ import annotations

import argparse
import re
import runpy
import shutil
import sys
import tomllib
from pathlib import Path

import nbformat

try:
    from tools import notebook, sync
except ModuleNotFoundError as err:  # run before the kit was installed: tools/bootstrap.py says how to install it
    runpy.run_path(str(Path(__file__).resolve().parents[2] / "tools" / "bootstrap.py"))["exit_without_kit"](err, __file__)

ROOT = notebook.ROOT
BEGIN, END = notebook.BEGIN, notebook.END
COPY = ["helpers", "data", "requirements.txt", "environment.yml", "scripts/students/install.sh", "scripts/students/ddp_sft.py"]
README_TEMPLATE = ROOT / "scripts" / "teachers" / "student_README.md"
REPO_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")   # GitHub's owner/name
FROM_README = re.compile(r"<!-- from-readme: (.+?) -->")
GITIGNORE = """# what running the notebooks writes (helpers.output_dir() is ./outputs on your own machine)
outputs/
.venv/
**/.ipynb_checkpoints/
__pycache__/
*.pyc
"""


class BuildError(ValueError):
    """A solution notebook the build cannot turn into a student notebook; the message says what to fix."""


def stub_line(indent: str, exercise: str, title: str) -> str:
    number = exercise.split(".", 1)[-1]
    return (f'{indent}raise NotImplementedError("Exercise {number} ({title}): write your code here - '
            f'see the exercise text above")')


def block_exercises(cell, where: str) -> list[tuple[str, str]]:
    """(exercise, title) for each solution block of ``cell``, in order, from its metadata."""
    try:
        return notebook.block_exercises(cell, where)
    except notebook.ConventionError as err:
        raise BuildError(str(err)) from None


def stub_source(source: str, exercises: list[tuple[str, str]], where: str) -> str:
    """``source`` with each solution block's body replaced by its stub line (markers and the rest kept)."""
    try:
        return notebook.replace_solutions(source, lambda k, indent: [stub_line(indent, *exercises[k])], where)
    except notebook.ConventionError as err:
        raise BuildError(str(err)) from None


def student_notebook(nb, name: str):
    """A copy of ``nb`` with every solution body stubbed and every output cleared."""
    nb = nbformat.from_dict(nb)  # a deep copy
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index} (id {cell.get('id')})"
        if cell.cell_type != "code":
            if BEGIN in cell.source and cell.cell_type != "markdown":
                raise BuildError(f"{where}: a solution block outside a code cell")
            continue
        if BEGIN in cell.source or END in cell.source:
            cell.source = stub_source(cell.source, block_exercises(cell, where), where)
        cell.outputs = []
        cell.execution_count = None
    return nb


def student_settings(repo: str | None, branch: str | None) -> dict:
    """course.toml for the student repository: ``repo``/``branch`` when given (published), else the kit's own."""
    cfg = tomllib.loads((ROOT / "course.toml").read_text(encoding="utf-8"))
    if repo is not None:
        if not REPO_NAME.fullmatch(repo) or repo.endswith((".git", "/")):
            raise BuildError(f"--repo must be a GitHub OWNER/NAME such as my-school/llm-course-2027, not {repo!r}")
        cfg.update(repo=repo, published=True)
    if branch is not None:
        if not re.fullmatch(r"[A-Za-z0-9._/-]+", branch) or branch.startswith(("-", "/")):
            raise BuildError(f"--branch must be a git branch name such as main, not {branch!r}")
        cfg["branch"] = branch
    return cfg


def course_toml(cfg: dict) -> str:
    return ("# This repository's address on GitHub. The notebooks' Colab/Kaggle links, the README's table and the setup\n"
            "# cell's `git clone` were generated from it when the course was built; nothing reads it at run time.\n"
            f'repo = "{cfg["repo"]}"\nbranch = "{cfg["branch"]}"\n'
            f'published = {"true" if cfg.get("published", True) else "false"}\n')


def readme_section(title: str, readme: str) -> str:
    """The section ``## title`` of the kit's README (heading included, up to the next ``## ``)."""
    match = re.search(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", readme, re.MULTILINE | re.DOTALL)
    if not match:
        raise BuildError(f"{README_TEMPLATE.name} asks for the README section '## {title}', which README.md lacks")
    return match.group(0).strip()


def student_readme(cfg: dict) -> str:
    """The student README from its template: sections shared with the kit's README are copied from it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    text = README_TEMPLATE.read_text(encoding="utf-8").replace("{{repo}}", cfg["repo"])
    return FROM_README.sub(lambda m: readme_section(m.group(1), readme), text)


def build(out: Path, notebooks: Path = ROOT / "notebooks", repo: str | None = None,
          branch: str | None = None) -> dict[str, int]:
    """Write the student kit to ``out`` (replaced if it exists); returns {notebook: stubs written}.

    ``repo`` ("owner/name"): the repository it will be pushed to; every link and the setup cell's clone point there.
    """
    cfg = student_settings(repo, branch)
    out = out.resolve()
    if out == ROOT or ROOT.is_relative_to(out):
        raise BuildError(f"refusing to replace {out}: it holds the repository")
    if out.exists():
        shutil.rmtree(out)
    (out / "notebooks").mkdir(parents=True)
    caches = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")

    def ignore(folder, names):
        left_out = {n for n in names if (Path(folder) / n).relative_to(ROOT).as_posix() in notebook.MAINTAINER_ONLY}
        return set(caches(folder, names)) | left_out
    for item in COPY:
        src, dst = ROOT / item, out / item
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=ignore)
        else:
            shutil.copy2(src, dst)
    (out / "course.toml").write_text(course_toml(cfg), encoding="utf-8")
    (out / "README.md").write_text(student_readme(cfg), encoding="utf-8")
    (out / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    counts = {}
    for path in notebook.lesson_paths(notebooks):
        student = student_notebook(notebook.read(path), path.name)
        notebook.write(student, out / "notebooks" / path.name, mark_slides=False)
        counts[path.name] = sum(len(re.findall(r"raise NotImplementedError\(\"Exercise ", c.source))
                                for c in student.cells if c.cell_type == "code")
    settings = sync.settings(out)       # links, badges, setup cell and the README's table, for cfg["repo"]
    for path in notebook.lesson_paths(out / "notebooks"):
        sync.sync_notebook(path, settings, out)
    sync.sync_readme(settings, out)
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", metavar="OWNER/NAME",
                        help="the GitHub repository you will push the student folder to: every link and the setup "
                             "cell's clone point there (default: course.toml's repo, the solutions' own)")
    parser.add_argument("--branch", help="the branch you will push (default: course.toml's branch)")
    parser.add_argument("--out", type=Path, default=ROOT / "student", help="output folder (default: student/)")
    args = parser.parse_args(argv)
    try:
        counts = build(args.out, repo=args.repo, branch=args.branch)
    except BuildError as err:
        print(f"build_student: {err}", file=sys.stderr)
        return 1
    for name, n in counts.items():
        print(f"{n:3d} exercise stub(s)  {name}")
    print(f"student kit: {args.out} ({sum(counts.values())} stubs in {len(counts)} notebooks)")
    cfg = student_settings(args.repo, args.branch)
    if args.repo:
        print(f"links and setup-cell clone: github.com/{cfg['repo']} (branch {cfg['branch']}). To publish it:\n"
              f"  cd {args.out} && git init -b {cfg['branch']} && git add -A && git commit -m 'course notebooks' && "
              f"git remote add origin git@github.com:{cfg['repo']}.git && git push -u origin {cfg['branch']}")
    else:
        print(f"note: links and the setup cell's clone point at course.toml's repo ({cfg['repo']}), the solutions' "
              "repository - pass --repo OWNER/NAME to build a repository to hand out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
