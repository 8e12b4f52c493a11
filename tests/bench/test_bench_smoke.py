"""The benchmark runs end to end in its smoke mode (tiny counts) and writes every figure (no timing
is asserted here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_smoke_benchmark_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    done = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text()
    for number in range(1, 7):
        assert f"## {number}. " in text
    assert "Python " in text and "mcp 2." in text
