"""Where the test suite's committed fixtures live (inside the repository, never beside it)."""

from pathlib import Path

#: Real Vivado HLS / Vitis HLS / Vivado reports, each folder's figures listed in MANIFEST.md.
REPORT_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reports"
