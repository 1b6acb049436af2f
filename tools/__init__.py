"""Tools the kit's scripts and tests share (teachers and maintainers; not shipped to students, not used by the
notebooks): ``tools.notebook`` knows the notebook conventions, ``tools.sync`` generates each notebook's first cells
and the README's table from course.toml. Importable once the kit is installed (``scripts/students/install.sh`` runs
``pip install -e .``; the tests get the repository root from pytest.ini's ``pythonpath``)."""
