"""Every Python snippet of the documentation's front page and user guide runs as written."""

import re
import textwrap
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

DOC = Path(__file__).resolve().parents[1] / "doc"
# Pages whose snippets a new user copies first; add a page here to test its snippets too.
PAGES = ["index.rst", "user_guide.rst", "deployment.rst"]
_CODE_BLOCK = re.compile(r"^\.\. code-block:: python[ \t]*\n((?:[ \t]*\n|[ \t]+\S.*\n|[ \t]+\n)+)", re.MULTILINE)


def python_snippets(text):
    """The ``.. code-block:: python`` snippets of a reStructuredText page, dedented.

    A block's body is every following line that is indented or blank (its
    options, such as ``:caption:``, are dropped).
    """
    snippets = []
    for match in _CODE_BLOCK.finditer(text):
        body = textwrap.dedent(match.group(1)).strip("\n")
        lines = [line for line in body.splitlines() if not re.match(r"^:\w[\w-]*:", line)]
        snippets.append("\n".join(lines).strip("\n") + "\n")
    return snippets


def _cases():
    for page in PAGES:
        for number, snippet in enumerate(python_snippets((DOC / page).read_text(encoding="utf-8")), start=1):
            yield pytest.param(snippet, id=f"{page}-{number}")


def test_snippet_extraction():
    page = """Intro.

.. code-block:: python
    :caption: two lines

    x = 1

    y = x + 1

Text again.

.. code-block:: bash

    pip install skkan

::

    not_python
"""
    assert python_snippets(page) == ["x = 1\n\ny = x + 1\n"]
    for page in PAGES:
        assert python_snippets((DOC / page).read_text(encoding="utf-8")), f"{page} has no Python snippet"


@pytest.mark.parametrize("snippet", _cases())
def test_snippet_runs_as_written(snippet):
    if "matplotlib" in snippet or ".plot" in snippet:
        matplotlib = pytest.importorskip("matplotlib")
        matplotlib.use("Agg")
    with warnings.catch_warnings():
        # Snippets keep max_iter small to stay fast; a ConvergenceWarning is expected then.
        warnings.simplefilter("ignore", ConvergenceWarning)
        exec(compile(snippet, "<doc snippet>", "exec"), {"__name__": "__doc_snippet__"})
