"""FPGA parts qdistill targets and their resources (the one place these numbers live)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from qdistill.errors import QdistillError

RESOURCE_KINDS: Final[tuple[str, ...]] = ("LUT", "FF", "DSP", "BRAM_18K", "URAM")


@dataclass(frozen=True)
class Device:
    """An FPGA part and its resource totals (BRAM counted in 18 Kb halves, as HLS reports do)."""

    part: str
    family: str
    luts: int
    ffs: int
    dsps: int
    bram_18k: int
    urams: int

    def available(self) -> dict[str, int]:
        """Resource totals keyed by :data:`RESOURCE_KINDS`."""
        return {
            "LUT": self.luts,
            "FF": self.ffs,
            "DSP": self.dsps,
            "BRAM_18K": self.bram_18k,
            "URAM": self.urams,
        }


DEVICES: Final[dict[str, Device]] = {
    d.part: d
    for d in (
        Device("xcvu13p-flga2577-2-e", "virtexuplus", 1_728_000, 3_456_000, 12_288, 5_376, 1_280),
        Device("xcvu9p-flga2104-2L-e", "virtexuplus", 1_182_240, 2_364_480, 6_840, 4_320, 960),
        Device("xcu250-figd2104-2L-e", "virtexuplus", 1_728_000, 3_456_000, 12_288, 5_376, 1_280),
        Device("xcku115-flva1517-2-e", "kintexu", 663_360, 1_326_720, 5_520, 4_320, 0),
    )
}
DEFAULT_PART: Final[str] = "xcvu13p-flga2577-2-e"
DEFAULT_CLOCK_MHZ: Final[float] = 240.0

# A part name as vendor tools accept it: letters, digits and dashes only. Checked before a name
# reaches any Tcl or shell command.
_PART_PATTERN: Final[re.Pattern[str]] = re.compile(r"^xc[a-z0-9]+(-[a-zA-Z0-9]+){1,3}$")


def get_device(part: str) -> Device:
    """Return the :class:`Device` for ``part`` or raise QdistillError listing the known parts."""
    if part in DEVICES:
        return DEVICES[part]
    known = ", ".join(sorted(DEVICES))
    raise QdistillError(f"unknown FPGA part {part!r}; known parts: {known}")


def check_part_name(part: str) -> str:
    """Return ``part`` if it looks like a Xilinx part name, else raise QdistillError."""
    if not _PART_PATTERN.match(part):
        raise QdistillError(f"{part!r} is not a valid Xilinx part name (e.g. {DEFAULT_PART})")
    return part


def clock_period_ns(clock_mhz: float) -> float:
    """Clock period in ns for a clock in MHz; refuses clocks no UltraScale+ fabric can run."""
    if not (1.0 <= clock_mhz <= 1000.0):
        raise QdistillError(
            f"clock {clock_mhz} MHz is outside 1–1000 MHz; use e.g. --clock-mhz 240"
        )
    return 1000.0 / clock_mhz
