"""Stand-in for vitis_hls, vivado_hls and vivado in the synth runner tests.

Run as ``python fake_xilinx.py TOOL ARGS...`` by a small wrapper script named after the tool that a
test puts first on PATH. It checks the command line the way the real tool would receive it
(script, -tclargs, every key=value) against the expectations in the JSON file named by
$QDISTILL_FAKE_EXPECT, exits 2 with an ERROR line if anything is wrong, and otherwise copies real
fixture reports to where the real tool writes them. With "fail": true it fails like a tool whose
C++ does not compile.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

APP_FILES = {"vitis_hls": "hls.app", "vivado_hls": "vivado_hls.app"}


def die(message: str, code: int = 2) -> None:
    print(f"ERROR: [fake] {message}", flush=True)
    sys.exit(code)


def parse(argv: list[str], before: list[str], script_name: str) -> dict[str, str]:
    """Check ``argv`` = before + [script] + ['-tclargs', key=value...]; return the key/values."""
    if argv[: len(before)] != before:
        die(f"expected {before} first, got {argv[: len(before)]}")
    script = Path(argv[len(before)])
    if script.name != script_name or not script.is_file():
        die(f"expected an existing {script_name}, got {script}")
    if argv[len(before) + 1] != "-tclargs":
        die(f"expected -tclargs after the script, got {argv[len(before) + 1 :]}")
    values = {}
    for word in argv[len(before) + 2 :]:
        key, sep, value = word.partition("=")
        if not sep:
            die(f"argument {word!r} is not key=value")
        values[key] = value
    return values


def check(values: dict[str, str], expected: dict[str, str]) -> None:
    if set(values) != set(expected):
        die(f"argument names {sorted(values)} != {sorted(expected)}")
    for key, value in expected.items():
        if values[key] != value:
            die(f"{key}={values[key]!r}, expected {value!r}")


def main() -> None:
    tool, argv = sys.argv[1], sys.argv[2:]
    spec = json.loads(Path(os.environ["QDISTILL_FAKE_EXPECT"]).read_text())
    print(f"****** {tool} (qdistill test stand-in)", flush=True)
    if tool in APP_FILES:
        values = parse(argv, ["-f"], f"{tool}_build.tcl")
        check(values, spec["hls_args"])
    else:
        values = parse(
            argv, ["-mode", "batch", "-nojournal", "-nolog", "-source"], "vivado_synth.tcl"
        )
        check(values, spec["vivado_args"])
    if Path.cwd().resolve() != Path(values["project_dir"]).resolve():
        die(f"run in {Path.cwd()}, expected the project folder {values['project_dir']}")
    if spec.get("fail"):
        print("INFO: [HLS 200-10] Analyzing design file 'firmware/myproject.cpp' ...")
        print("ERROR: [HLS 207-812] 'nnet_utils/nnet_dense.h' file not found")
        print("ERROR: [HLS 200-1715] Encountered problem during source synthesis")
        print("INFO: [HLS 200-112] Total CPU user time: 1.2 seconds.")
        sys.exit(1)

    project = Path(values["project_dir"])
    fixtures = Path(spec["fixtures"])
    name = values["project_name"]
    if tool in APP_FILES:
        prj = project / f"{name}_prj"
        report_dir = prj / "solution1" / "syn" / "report"
        report_dir.mkdir(parents=True, exist_ok=True)
        (prj / APP_FILES[tool]).write_text(
            f'<AutoPilot:project xmlns:AutoPilot="com.autoesl.autopilot.project" '
            f'name="{name}_prj" top="{name}"><solutions><solution name="solution1" status=""/>'
            "</solutions></AutoPilot:project>\n"
        )
        for step in ("C SIMULATION", "C SYNTHESIS"):
            print(f"***** {step} *****", flush=True)
        if spec.get("csynth"):  # None: exit 0 without a report, as a tool that crashed quietly
            shutil.copy(fixtures / spec["csynth"], report_dir / f"{name}_csynth.xml")
        if values.get("cosim") == "1":
            print("***** C/RTL CO-SIMULATION *****", flush=True)
            sim_dir = prj / "solution1" / "sim" / "report"
            sim_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy(fixtures / spec["cosim"], sim_dir / f"{name}_cosim.rpt")
    else:
        print("***** SYNTHESIS *****", flush=True)
        out = project / "vivado_reports"
        out.mkdir(exist_ok=True)
        shutil.copy(fixtures / spec["utilization"], out / "synth_utilization.rpt")
        shutil.copy(fixtures / spec["timing"], out / "synth_timing.rpt")
    print("INFO: [HLS 200-112] Total elapsed time: 0.1 seconds; peak allocated memory: 1 MB.")


if __name__ == "__main__":
    main()
