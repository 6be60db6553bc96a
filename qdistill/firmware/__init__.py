"""Firmware: hls4ml conversion, C simulation, golden vectors, open-source RTL."""

from typing import Final

#: The committed reference project: the default of `qdistill csim`, `rtl` and `synth`.
DEFAULT_PROJECT: Final[str] = "firmware_projects/qdistillnet"
