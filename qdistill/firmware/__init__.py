"""Firmware: hls4ml conversion, C simulation, golden vectors, open-source RTL."""

from typing import Final

#: The committed reference project: the default of `qdistill csim`, `rtl` and `synth`.
DEFAULT_PROJECT: Final[str] = "firmware_projects/qdistillnet"
#: The cheap QDistillNet chosen from the design-space scan's Pareto front (issue 14).
LITE_PROJECT: Final[str] = "firmware_projects/qdistillnet_lite"
#: Every committed reference project: CI checks each against its golden outputs.
REFERENCE_PROJECTS: Final[tuple[str, ...]] = (DEFAULT_PROJECT, LITE_PROJECT)
