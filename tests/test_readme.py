"""The README's Python example runs as written (in a scratch directory)."""

import os
import re
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"


@pytest.mark.slow
def test_readme_python_example_runs(tmp_path, monkeypatch):
    block = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own docs
    assert namespace["emb"]["train"].shape == (8000, 128)
    assert (
        namespace["metrics"]["embedding"]["linear_acc"] > namespace["metrics"]["raw"]["linear_acc"]
    )
    assert namespace["codes"].shape == (2000,) and namespace["codes"].max() < 32
    assert os.path.exists(tmp_path / "runs" / "g" / "tokens.npz")
    few = namespace["few"]
    assert few["settings"]["labelled"] == 80 and 0 < few["test_acc"]["self_training"] <= 1
