"""``qdistill convert``, ``csim``, ``rtl`` and ``emulate``: the hls4ml project, its bit-exact
checks and its fast emulation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qdistill.cli._common import PROJECT_HELP, JsonOption, default, fail, print_json
from qdistill.devices import DEFAULT_CLOCK_MHZ, DEFAULT_PART
from qdistill.firmware import DEFAULT_PROJECT
from qdistill.firmware.convert import convert_model

ProjectArgument = Annotated[Path, typer.Argument(help=PROJECT_HELP)]


def convert(
    model_dir: Annotated[
        Path, typer.Argument(help="Trained QDistillNet folder (written by `qdistill train`).")
    ],
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="Firmware project folder, e.g. firmware_projects/NAME."
        ),
    ],
    backend: Annotated[
        str, typer.Option("--backend", help="hls4ml backend: vivado (Vivado HLS) or vitis.")
    ] = default(convert_model, "backend"),
    part: Annotated[str, typer.Option("--part", help="FPGA part.")] = DEFAULT_PART,
    clock_mhz: Annotated[
        float, typer.Option("--clock-mhz", help="Target clock in MHz.")
    ] = DEFAULT_CLOCK_MHZ,
    golden_data: Annotated[
        Path | None,
        typer.Option(
            "--golden-data",
            help="Event file (e.g. tt̄) whose particles become the golden inputs; without it, "
            "seeded uniform vectors over the input type's range.",
        ),
    ] = None,
    golden_particles: Annotated[
        int, typer.Option("--golden-particles", help="Number of golden particles.")
    ] = default(convert_model, "golden_particles"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the golden particle sample.")] = (
        default(convert_model, "seed")
    ),
) -> None:
    """Convert a trained QDistillNet with hls4ml into a firmware project with golden vectors."""
    project = convert_model(
        model_dir,
        output,
        backend=backend,
        part=part,
        clock_mhz=clock_mhz,
        golden_data=golden_data,
        golden_particles=golden_particles,
        seed=seed,
    )
    typer.echo(
        f"{project.path}: {project.meta.n_golden} golden particles, {project.part} at "
        f"{project.clock_mhz:g} MHz; check it with `qdistill csim {project.path}`",
        err=True,
    )


def csim(
    project_path: ProjectArgument = Path(DEFAULT_PROJECT),
    json_output: JsonOption = False,
    update_golden: Annotated[
        bool,
        typer.Option(
            "--update-golden",
            help="Rewrite the golden outputs from this C simulation (only when the firmware "
            "is meant to change).",
        ),
    ] = False,
) -> None:
    """Compile the C simulation (g++) and check it against the golden outputs and QKeras."""
    from qdistill.firmware.csim import check_project
    from qdistill.firmware.project import load_project

    report = check_project(load_project(project_path), update_golden=update_golden)
    if json_output:
        print_json(report.to_json())
    else:
        typer.echo(
            f"{report.project}: {report.golden_exact}/{report.particles} outputs match the golden "
            f"outputs bit for bit; QKeras logits identical for "
            f"{100 * report.qkeras_logit_exact_fraction:.2f} %; outputs identical to the QKeras "
            f"reference for {100 * report.qkeras_exact_fraction:.2f} % "
            f"(max {report.max_abs_diff_lsb:g} LSB of {report.output_type}); "
            f"{report.particles_per_second:.0f} particles/s"
        )
    if not report.golden_match:
        fail(
            f"{report.project}: C simulation differs from the golden outputs for "
            f"{report.particles - report.golden_exact} of {report.particles} particles"
        )


def rtl(
    project_path: ProjectArgument = Path(DEFAULT_PROJECT),
    json_output: JsonOption = False,
    latency_cutoff: Annotated[
        float | None,
        typer.Option(
            "--latency-cutoff",
            help="Adder levels per pipeline stage in da4ml (default: from the project's clock, "
            "about one adder level a nanosecond: 4 at 240 MHz).",
        ),
    ] = None,
) -> None:
    """Write da4ml Verilog under PROJECT/rtl, simulate it with Verilator on the golden inputs."""
    from qdistill.firmware.rtl import run_rtl
    from qdistill.progress import stderr_console

    with stderr_console().status("qdistill rtl") as status:
        result = run_rtl(
            project_path,
            latency_cutoff=latency_cutoff,
            status=lambda message: status.update(f"qdistill rtl: {message}"),
        )
    if json_output:
        print_json(result.to_json())
    else:
        typer.echo(
            f"{result.project}: {result.csim_exact}/{result.particles} RTL outputs identical to "
            f"the C simulation; latency {result.latency_cycles} cycles = {result.latency_ns:g} ns "
            f"at {result.clock_mhz:g} MHz, II {result.ii}; {result.simulator['name']} "
            f"{result.simulator['version']}; Verilog in {result.rtl_dir}"
        )
    if not result.all_exact:
        first = result.mismatches[0] if result.mismatches else None
        detail = f" (first: particle {first.index}: RTL {first.rtl:g}, C sim {first.csim:g})"
        fail(
            f"{result.project}: RTL differs from the C simulation for "
            f"{result.particles - result.csim_exact} of {result.particles} particles"
            + (detail if first else "")
        )


def emulate(
    project_path: ProjectArgument = Path(DEFAULT_PROJECT),
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Event file whose every particle goes through the emulated firmware; without "
            "it, only the golden inputs are checked.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="HDF5 file for the per-particle firmware weights (with --data)."
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Bit-exact NumPy emulation of the firmware: golden check, and weights for an event file."""
    from qdistill.firmware.emulate import ProjectEmulator, check_golden, emulate_file
    from qdistill.firmware.project import load_project

    if output is not None and data is None:
        fail("-o needs --data: the golden check writes no weights")
    if data is not None:
        from qdistill.data.layout import EventFile

        EventFile(data).close()  # a wrong layout fails before the hls4ml conversion
    emulator = ProjectEmulator.load(load_project(project_path))
    check = check_golden(emulator)
    result = {"project": check.project, **check.to_json(), "golden_particles": check.particles}
    if not check.golden_match:
        if json_output:
            print_json(result)
        first = check.mismatches[0]
        fail(
            f"{check.project}: the emulator differs from the golden outputs for "
            f"{check.particles - check.golden_exact} of {check.particles} particles (first: "
            f"particle {first['index']}: emulator {first['emulator']:g}, golden "
            f"{first['golden']:g}); no weights written"
        )
    if data is not None:
        run = emulate_file(emulator, data, output, progress=not json_output)
        result.update(run.to_json())
    if json_output:
        print_json(result)
        return
    typer.echo(
        f"{check.project}: {check.golden_exact}/{check.particles} golden outputs reproduced bit "
        f"for bit; {check.particles_per_second:.0f} particles/s"
    )
    if data is not None:
        typer.echo(
            f"{data}: {result['particles']} particles of {result['events']} events; emulator "
            f"{result['particles_per_second']:.0f} particles/s, "
            f"{result['end_to_end_particles_per_second']:.0f} particles/s with reading, "
            "preprocessing and the input quantizer"
            + (f"; weights in {output}" if output is not None else "")
        )
