"""Sphinx configuration of the skkan documentation.

Build with ``python -m sphinx -W --keep-going -b html doc doc/_build/html``.
Set ``SKKAN_DOC_FAST=1`` to execute only the quick gallery examples (the
others are shown without their output).
"""

import os
import shutil
import sys
from pathlib import Path

DOC_DIR = Path(__file__).resolve().parent
ROOT = DOC_DIR.parent
sys.path.insert(0, str(ROOT))

import skkan

project = "skkan"
author = "skkan developers"
copyright = "skkan developers"
version = release = skkan.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_generated", "sg_execution_times.rst", "**.ipynb_checkpoints"]
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
myst_heading_anchors = 2

try:
    import pydata_sphinx_theme  # noqa: F401

    html_theme = "pydata_sphinx_theme"
    html_theme_options = {"navigation_with_keys": False}
except ImportError:
    html_theme = "alabaster"
html_title = f"skkan {release}"
html_static_path = []
templates_path = ["_templates"]

# -- sphinx-gallery -----------------------------------------------------------
# SKKAN_DOC_FAST=1 runs only the examples meant to finish in seconds.
_FAST = os.environ.get("SKKAN_DOC_FAST", "").lower() not in ("", "0", "false", "no")
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_benchmark_quick\.py" if _FAST else r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "within_subsection_order": "FileNameSortKey",
    "default_thumb_file": None,
}


# -- benchmark results ----------------------------------------------------------
# The benchmark page includes result files that may or may not exist (the full
# run is committed under benchmarks/results/; other pages such as a speed
# benchmark appear later). Each optional file gets a small generated page
# fragment: an include of the file when present, a short note otherwise.
RESULTS = ROOT / "benchmarks" / "results"
GENERATED = DOC_DIR / "_generated"


def _write_if_changed(path, text):
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _fragment(name, source, missing_note, offset=2, drop_title=False):
    """Copy a markdown result file with its headings ``offset`` levels down, or a note."""
    if source.exists():
        lines = source.read_text().splitlines()
        if drop_title and lines and lines[0].startswith("# "):
            lines = lines[1:]
            offset -= 1
        text = "\n".join("#" * offset + line if line.startswith("#") else line for line in lines) + "\n"
    else:
        text = missing_note + "\n"
    _write_if_changed(GENERATED / name, text)


def _rst_table_fragment(name, source, missing_note):
    """A markdown result file (paragraphs and one pipe table, title dropped) as reStructuredText, for .rst pages."""
    if not source.exists():
        _write_if_changed(GENERATED / name, missing_note + "\n")
        return
    lines = [line for line in source.read_text().splitlines() if not line.startswith("# ")]
    rows = [line.strip().strip("|").split(" | ") for line in lines if line.startswith("|") and "---" not in line]
    text = [line.replace("`", "``") for line in lines if not line.startswith("|")]
    if rows:
        text += ["", ".. list-table::", "   :header-rows: 1", ""]
        for row in rows:
            cells = [cell.strip().replace("`", "``") or "\\" for cell in row]
            first = cells[0] if cells[0].startswith("``") or row is rows[0] else f"``{cells[0]}``"
            text += ["   * - " + first, *("     - " + cell for cell in cells[1:])]
    _write_if_changed(GENERATED / name, "\n".join(text) + "\n")


def _generate_benchmark_fragments():
    GENERATED.mkdir(exist_ok=True)
    _fragment(
        "benchmark_summary.md",
        RESULTS / "summary.md",
        "*No results yet: run* `python -m skkan.benchmark --output-dir benchmarks/results`.",
        drop_title=True,
    )
    _fragment("speed.md", RESULTS / "speed.md", "*No speed benchmark results are shipped with this build.*")
    _fragment(
        "additive_summary.md",
        RESULTS / "additive" / "summary.md",
        "*No results yet: run* `python benchmarks/bench_additive.py`.",
        drop_title=True,
    )
    _fragment(
        "monotone.md",
        RESULTS / "monotone.md",
        "*No results yet: run* `python benchmarks/bench_monotone.py`.",
        drop_title=True,
    )
    _fragment(
        "losses.md",
        RESULTS / "losses.md",
        "*No results yet: run* `python benchmarks/bench_losses.py --output benchmarks/results/losses.md`.",
    )
    for suffix, option in (("", ""), ("_noise", " --noise 0.01")):
        _rst_table_fragment(
            f"symbolic_regressor{suffix}.rst",
            RESULTS / f"symbolic_regressor{suffix}.md",
            f"*No results yet: run* ``python benchmarks/bench_symbolic_regressor.py{option}``.",
        )
        figure = RESULTS / f"symbolic_regressor{suffix}.png"
        if figure.exists():
            shutil.copyfile(figure, GENERATED / figure.name)
    plots = []
    for png in [*sorted(RESULTS.glob("*_score_vs_*.png")), *sorted(RESULTS.glob("win_rates.png"))]:
        shutil.copyfile(png, GENERATED / png.name)
        title = png.stem.replace("_", " ").replace("score vs", "score vs.").capitalize()
        # Paths are relative to benchmark.md, the page that includes this.
        plots.append(f"![{title}](_generated/{png.name})\n")
    _write_if_changed(GENERATED / "benchmark_plots.md", "\n".join(plots) if plots else "*No plots yet.*\n")


_generate_benchmark_fragments()
