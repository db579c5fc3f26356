"""docs/embedded.md cannot rot: its example project (an operator, a deploy script and their
tests) is written out file by file and run with pytest, as its user would run it."""

from __future__ import annotations

import re
from pathlib import Path

from tests.testing.suite import REPO, run_pytest

DOC = REPO / "docs" / "embedded.md"
# a fenced Python block whose first line names its file: "# deploy.py"
FILE_BLOCK = re.compile(r"```python\n# (?P<name>[\w.]+\.py)\n(?P<body>.*?)```", re.DOTALL)


def example_files() -> dict[str, str]:
    return {m["name"]: m["body"] for m in FILE_BLOCK.finditer(DOC.read_text())}


def test_the_doc_names_its_example_files() -> None:
    assert sorted(example_files()) == ["deploy.py", "test_website.py", "website_operator.py"]


def test_the_docs_example_project_passes_its_own_tests(tmp_path: Path) -> None:
    for name, body in example_files().items():
        (tmp_path / name).write_text(body)
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "2 passed" in result.stdout
