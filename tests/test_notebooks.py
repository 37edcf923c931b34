"""The example notebooks in examples/ run from top to bottom with nbclient, as CI runs them.

Each notebook asserts its own results (the course's accuracies), so a wrong number fails
here as well as an exception. They are committed without outputs.
"""

from __future__ import annotations

import pytest

from conftest import CAT_DIR, REPO

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

EXAMPLES = REPO / "examples"
NOTEBOOKS = sorted(path.name for path in EXAMPLES.glob("*.ipynb"))
NEEDS_CAT = {"cat_application.ipynb"}


def test_the_three_notebooks_are_there():
    assert NOTEBOOKS == ["cat_application.ipynb", "digits_softmax.ipynb", "optimizers_on_moons.ipynb"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_notebook_is_committed_without_outputs(name):
    book = nbformat.read(EXAMPLES / name, as_version=4)
    nbformat.validate(book)
    code = [cell for cell in book.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_notebook_runs_without_error(name, monkeypatch):
    if name in NEEDS_CAT and not (CAT_DIR / "train_catvnoncat.h5").is_file():
        pytest.skip(f"the course's cat data is not at {CAT_DIR} (set DNN_XP_CAT_DIR to its folder)")
    monkeypatch.setenv("DNN_XP_CAT_DIR", str(CAT_DIR))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's own paths, without its migration warning
    monkeypatch.setenv("PYTHONPATH", f"{REPO}")  # the kernel imports this checkout's dnn_xp
    book = nbformat.read(EXAMPLES / name, as_version=4)
    client = nbclient.NotebookClient(book, timeout=900, kernel_name="python3",
                                     resources={"metadata": {"path": str(EXAMPLES)}})
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error
