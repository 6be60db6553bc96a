"""A fresh command prints only qdistill's own lines: no TensorFlow/absl start-up noise, no
tf-keras warnings, no hls4ml prints (they come back with QDISTILL_VERBOSE=1)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from conftest import REPO

NOISE = re.compile(r"cuda|absl|UserWarning|oneDNN|Recompiling", re.IGNORECASE)


def _csim(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "QDISTILL_VERBOSE"} | extra_env
    return subprocess.run(
        [sys.executable, "-m", "qdistill.cli", "csim", "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_csim_json_stderr_holds_only_qdistill_lines() -> None:
    result = _csim({})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["golden_exact"] == 4096
    noisy = [line for line in result.stderr.splitlines() if NOISE.search(line)]
    assert noisy == []


def test_verbose_brings_back_the_library_lines() -> None:
    result = _csim({"QDISTILL_VERBOSE": "1"})
    assert result.returncode == 0, result.stderr
    assert "Recompiling qdistillnet with tracing" in result.stderr  # hls4ml's own print
    json.loads(result.stdout)  # still one clean JSON object on standard output
