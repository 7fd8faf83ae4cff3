"""The README's examples run as written (the ecosystem section is run by test_dask.py, against
its test cluster), and the quick start names exactly two commands."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
ECOSYSTEM = "## Use with scikit-learn, ONNX, PyTorch and Dask"


def _sections():
    text = README.read_text(encoding="utf-8")
    start = text.index(ECOSYSTEM)
    end = text.index("\n## ", start + len(ECOSYSTEM))
    return text[:start] + text[end:]


def test_quick_start_is_two_commands():
    text = README.read_text(encoding="utf-8")
    quick = text[text.index("## Quick start"):]
    block = re.search(r"```bash\n(.*?)```", quick, re.DOTALL).group(1)
    commands = [line for line in block.splitlines() if line.strip()]
    assert len(commands) == 2
    assert "chainrule train" in commands[0]
    assert "pytest" in commands[1]


def test_readme_python_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", _sections(), re.DOTALL)
    assert blocks
    namespace = {"__name__": "readme"}
    import chainrule as cr

    cr.manual_seed(0)  # the same draws whatever ran before in this process
    for i, code in enumerate(blocks):
        exec(compile(code, f"README.md[python block {i}]", "exec"), namespace)
    assert namespace["a"].grad.item() == 11.0
    assert namespace["history"].history["accuracy"][-1] > 0.9
