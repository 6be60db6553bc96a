"""The ``qdistill`` command line: a thin typer layer that parses options and calls the library.

Every command's work lives in a library function that tests call directly; here we only parse,
print, and turn :class:`qdistill.errors.QdistillError` into one line on standard error and exit 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from qdistill.devices import DEFAULT_CLOCK_MHZ, DEFAULT_PART
from qdistill.errors import QdistillError, SettingError
from qdistill.firmware import DEFAULT_PROJECT

_PROJECT_HELP = f"Firmware project folder (default: {DEFAULT_PROJECT})."

#: Config fields whose option is not simply ``--field-name``.
_OPTION_OF_SETTING = {"n_blocks": "--blocks"}
#: Config fields that no option sets (an error then names the field itself).
_SETTINGS_WITHOUT_OPTION = frozenset({"edge_layers"})


def setting_message(exc: SettingError) -> str:
    """The error line for a SettingError, naming the option the user typed."""
    if exc.setting in _SETTINGS_WITHOUT_OPTION:
        return f"setting {exc.setting} (no option sets it) {exc.requirement}"
    option = _OPTION_OF_SETTING.get(exc.setting, "--" + exc.setting.replace("_", "-"))
    return f"{option} {exc.requirement}"


class _Group(TyperGroup):
    """Turns QdistillError from any command into one line on standard error and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QdistillError as exc:
            message = setting_message(exc) if isinstance(exc, SettingError) else str(exc)
            typer.echo(f"qdistill: error: {message}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Group,
    name="qdistill",
    help=(
        "Distil an event-level pileup GNN into a quantized per-particle network and verified "
        "FPGA firmware. Stages talk through files: data → teacher → train → convert → csim/rtl "
        "→ synth/report; evaluate and bench measure physics and speed."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(
    help="Generate, import and inspect event files (HDF5).", no_args_is_help=True
)
teacher_app = typer.Typer(
    help="Train the event-level GNN teacher and write soft labels.", no_args_is_help=True
)
app.add_typer(data_app, name="data")
app.add_typer(teacher_app, name="teacher")

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on standard output and nothing else.")
]


def print_json(obj: Any) -> None:
    """Print ``obj`` as one JSON object on standard output."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def fail(message: str) -> None:
    """Print one clear line to standard error and exit 1."""
    typer.echo(f"qdistill: error: {message}", err=True)
    raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------
# data


@data_app.command("generate")
def data_generate(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Event file to write (HDF5, written atomically).")
    ],
    process: Annotated[
        str,
        typer.Option("--process", help="Hard process: wjets (W→ℓν + jets) or ttbar (dileptonic)."),
    ] = "ttbar",
    events: Annotated[int, typer.Option("--events", help="Number of events (≥ 1).")] = 100,
    pileup: Annotated[
        float, typer.Option("--pileup", help="Mean number of pileup collisions (Poisson), ≥ 0.")
    ] = 140.0,
    seed: Annotated[
        int,
        typer.Option("--seed", help="Master seed (≥ 0); same seed → same file for any --workers."),
    ] = 1,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes (≥ 1).")] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Generate events: Pythia 8 hard process + pileup + detector response + PUPPI."""
    from qdistill.data.generate import generate_events

    path = generate_events(process, events, pileup, seed, output, workers, progress=not quiet)
    typer.echo(f"wrote {path}", err=True)


@data_app.command("info")
def data_info_command(
    path: Annotated[Path, typer.Argument(help="Event file (HDF5) to summarise.")],
    json_: JsonOption = False,
) -> None:
    """Summarise an event file: sizes, primary-vertex energy share, PUPPI AUC on neutrals."""
    from qdistill.data.info import data_info

    info = data_info(path)
    if json_:
        print_json(info)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=str(path), show_header=False)
    for key in (
        "events",
        "particles",
        "mean_particles_per_event",
        "max_particles_per_event",
        "truth_available",
        "pv_fraction",
        "puppi_auc_neutral",
        "puppi_auc_neutral_pt_weighted",
        "has_soft_labels",
    ):
        value = info[key]
        table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    Console().print(table)


@data_app.command("import-distillnet")
def data_import_distillnet(
    src: Annotated[Path, typer.Argument(help="DistillNet-layout HDF5 file to convert.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Event file to write (HDF5, written atomically).")
    ],
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Convert the public DistillNet dataset layout; its teacher weight becomes the soft label."""
    from qdistill.data.distillnet import import_distillnet

    path = import_distillnet(src, output, progress=not quiet)
    typer.echo(f"wrote {path}", err=True)


# ---------------------------------------------------------------------------------------------
# teacher


@teacher_app.command("train")
def teacher_train(
    data: Annotated[
        Path, typer.Option("--data", help="Training event file (W+jets), from `qdistill data`.")
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Teacher directory to write (replaced whole).")
    ],
    epochs: Annotated[int, typer.Option(help="Passes over the training events.")] = 10,
    seed: Annotated[int, typer.Option(help="Seed of weights, shuffling and hold-out split.")] = 0,
    k: Annotated[int, typer.Option("--k", help="Neighbours per candidate in (η, φ).")] = 20,
    hidden: Annotated[int, typer.Option(help="Width of every edge and head MLP layer.")] = 64,
    blocks: Annotated[int, typer.Option(help="Edge-convolution blocks (at least 2).")] = 2,
    learning_rate: Annotated[
        float, typer.Option(help="Initial Adam learning rate (cosine decay to 5 %).")
    ] = 2e-3,
    events_per_step: Annotated[
        int, typer.Option(help="Whole events joined into one graph per optimisation step.")
    ] = 1,
    neutral_weight: Annotated[
        float, typer.Option(help="Loss weight of neutral candidates relative to charged ones.")
    ] = 1.0,
    mae_weight: Annotated[
        float,
        typer.Option(
            help="Weight of the absolute-error term (a plain mean over candidates) added to the "
            "cross-entropy; 0 for cross-entropy alone."
        ),
    ] = 1.0,
    pt_weight_power: Annotated[
        float,
        typer.Option(
            help="Weight each candidate's cross-entropy by (pT/GeV)^power: 1 counts momentum, "
            "as missing pT and jets do; 0 counts candidates."
        ),
    ] = 1.0,
    edge_standardisation: Annotated[
        bool,
        typer.Option(
            help="Divide the first block's x_j − x_i by their σ over the training edges, so the "
            "network resolves distances between neighbours (Δη, Δφ ≈ 0.01 of the event σ)."
        ),
    ] = True,
    validation_data: Annotated[
        Path | None,
        typer.Option(help="Event file for the held-out metrics (e.g. tt̄); default: hold out."),
    ] = None,
    validation_fraction: Annotated[
        float, typer.Option(help="Fraction of training events held out without --validation-data.")
    ] = 0.2,
    max_events: Annotated[
        int | None, typer.Option(help="Use at most this many events of --data.")
    ] = None,
    max_validation_events: Annotated[
        int | None, typer.Option(help="Use at most this many held-out events for metrics.")
    ] = None,
    threads: Annotated[int, typer.Option(help="TensorFlow threads (1: times are per core).")] = 1,
    json_out: JsonOption = False,
) -> None:
    """Train the event-level GNN teacher; writes model, teacher.json and metrics.json to -o."""
    from qdistill.teacher.train import TeacherHyperparameters, train_teacher

    hyper = TeacherHyperparameters(
        k=k,
        hidden=hidden,
        n_blocks=blocks,
        epochs=epochs,
        learning_rate=learning_rate,
        events_per_step=events_per_step,
        neutral_weight=neutral_weight,
        mae_weight=mae_weight,
        pt_weight_power=pt_weight_power,
        edge_standardisation=edge_standardisation,
        seed=seed,
    )
    metrics = train_teacher(
        data,
        output,
        hyper,
        validation_data=validation_data,
        validation_fraction=validation_fraction,
        max_events=max_events,
        max_validation_events=max_validation_events,
        threads=threads,
    )
    if json_out:
        print_json(metrics)
        return
    t, p = metrics["teacher"], metrics["puppi"]
    typer.echo(f"teacher written to {output} ({metrics['n_parameters']} parameters)")
    typer.echo(f"held-out: {metrics['n_events']} events of {metrics['data']}")
    for name in ("auc_neutral", "auc_neutral_pt_weighted", "mae_neutral", "auc_all", "mae_all"):
        tv, pv = (f"{v:.4f}" if v is not None else "n/a" for v in (t[name], p[name]))
        typer.echo(f"  {name:24s} teacher {tv}   PUPPI {pv}")
    typer.echo(f"inference: {metrics['inference']['seconds_per_event']:.3f} s/event")


@teacher_app.command("label")
def teacher_label(
    teacher_dir: Annotated[Path, typer.Argument(help="Teacher directory from `teacher train`.")],
    data: Annotated[
        Path, typer.Option("--data", help="Event file to add /particles/soft_label to.")
    ],
    threads: Annotated[int, typer.Option(help="TensorFlow threads.")] = 1,
    json_out: JsonOption = False,
) -> None:
    """Write the teacher's soft label for every candidate into the event file (atomically)."""
    from qdistill.teacher.label import label_dataset

    summary = label_dataset(teacher_dir, data, threads=threads)
    if json_out:
        print_json(summary)
        return
    typer.echo(
        f"{summary['n_candidates']} soft labels ({summary['n_events']} events) written to {data}"
    )


# ---------------------------------------------------------------------------------------------
# train (students)


@app.command("train")
def train_cmd(
    model: Annotated[
        str, typer.Option("--model", help="Student to train: distillnet (float) or qdistillnet.")
    ],
    data: Annotated[
        Path, typer.Option("--data", help="Training event file with soft labels (W+jets).")
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Output directory (written atomically).")
    ],
    hidden: Annotated[
        str | None,
        typer.Option(
            "--hidden",
            help="Hidden sizes, comma-separated (default 128,64 for distillnet, 64,32 for "
            "qdistillnet).",
        ),
    ] = None,
    bits: Annotated[
        int, typer.Option("--bits", help="QDistillNet bits of weights, biases, activations.")
    ] = 8,
    sparsity: Annotated[
        float, typer.Option("--sparsity", help="QDistillNet target sparsity of hidden kernels.")
    ] = 0.75,
    epochs: Annotated[int, typer.Option("--epochs", help="Training epochs.")] = 10,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Particles per batch.")] = 4096,
    seed: Annotated[int, typer.Option("--seed", help="Seed of initialisation and shuffling.")] = 0,
    validation_data: Annotated[
        Path | None,
        typer.Option(
            "--validation-data",
            help="Held-out labelled event file (e.g. ttbar) for metrics.json; without it the "
            "last --holdout-fraction of the training events is held out.",
        ),
    ] = None,
    holdout_fraction: Annotated[
        float | None,
        typer.Option(
            "--holdout-fraction",
            help="Fraction of training events held out (default 0 with --validation-data, "
            "else 0.1).",
        ),
    ] = None,
    max_particles: Annotated[
        int | None,
        typer.Option(
            "--max-particles", help="Train on at most this many particles (whole events)."
        ),
    ] = None,
    loss: Annotated[
        str,
        typer.Option("--loss", help="T(teacher, student) term of eq. 1: mae, mse, bce or kl."),
    ] = "mae",
    truth_loss: Annotated[
        str,
        typer.Option("--truth-loss", help="S(truth, student) term of eq. 1: mae, mse, bce, kl."),
    ] = "mae",
    gamma: Annotated[float, typer.Option("--gamma", help="Weight γ of the teacher term.")] = 1.0,
    beta: Annotated[float, typer.Option("--beta", help="Weight β of the truth term.")] = 0.0,
    temperature: Annotated[
        float, typer.Option("--temperature", help="Temperature τ of the kl terms.")
    ] = 1.0,
    high_target_weight: Annotated[
        str,
        typer.Option(
            "--high-target-weight",
            help="Weight of particles whose target is ≥ 0.95: a number (1 = unweighted) or "
            "'auto' (the reference DistillNet code's ratio of targets in [0, 0.05] or [0.95, 1] to "
            "those in [0.95, 1]; ≈ 1900 on our W+jets): unweighted, the rare primary-vertex "
            "particles of jets get too little weight.",
        ),
    ] = "auto",
    learning_rate: Annotated[
        float, typer.Option("--learning-rate", help="Adam learning rate (cosine-decayed).")
    ] = 3e-3,
    finetune_epochs: Annotated[
        int,
        typer.Option(
            "--finetune-epochs",
            help="QDistillNet: epochs fine-tuning the output layer after folding batch norm.",
        ),
    ] = 1,
    batchnorm: Annotated[
        bool,
        typer.Option(
            "--batchnorm/--no-batchnorm",
            help="Batch norm between the last hidden layer and the output (the paper's); "
            "QDistillNet folds it into the output layer after training.",
        ),
    ] = True,
    threads: Annotated[int, typer.Option("--threads", help="TensorFlow threads.")] = 1,
    json_out: JsonOption = False,
) -> None:
    """Train DistillNet or QDistillNet on the teacher's soft labels (writes DIR/model.h5,
    preprocessing.json, student.json, metrics.json)."""
    from qdistill.keras_backend import import_tensorflow

    import_tensorflow(threads)
    from qdistill.student.losses import LossSettings
    from qdistill.student.models import DEFAULT_HIDDEN, KINDS, ModelSpec, parse_hidden
    from qdistill.student.train import TrainConfig, train_student

    if model not in KINDS:
        raise QdistillError(f"--model {model!r}: choose one of {list(KINDS)}")
    auto_weight = high_target_weight.strip().lower() == "auto"
    try:
        weight = 1.0 if auto_weight else float(high_target_weight)
    except ValueError:
        raise QdistillError(
            f"--high-target-weight {high_target_weight!r}: give a number or 'auto'"
        ) from None
    spec = ModelSpec(
        kind=model,
        hidden=parse_hidden(hidden) if hidden else DEFAULT_HIDDEN[model],
        bits=bits,
        sparsity=sparsity,
        batchnorm=batchnorm,
    )
    config = TrainConfig(
        spec=spec,
        data=data,
        output=output,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        learning_rate=learning_rate,
        validation_data=validation_data,
        holdout_fraction=holdout_fraction,
        max_particles=max_particles,
        finetune_epochs=finetune_epochs,
        loss=LossSettings(
            teacher_term=loss,
            truth_term=truth_loss,
            gamma=gamma,
            beta=beta,
            temperature=temperature,
            high_target_weight=weight,
        ),
        auto_high_target_weight=auto_weight,
    )
    metrics = train_student(config)
    if json_out:
        print_json(metrics)
    else:
        puppi = metrics["puppi"]
        typer.echo(
            f"{model} → {output}: accuracy {metrics['accuracy']:.4f} (PUPPI "
            f"{puppi['accuracy']:.4f}), MAE to teacher {metrics['mae_to_teacher']:.4f}, "
            f"AUC {metrics['roc_auc_truth']:.4f}, {metrics['n_parameters']} parameters, "
            f"hidden sparsity {metrics['sparsity']['hidden_overall']:.3f}",
            err=True,
        )


# ---------------------------------------------------------------------------------------------
# convert, csim (firmware)


@app.command("convert")
def convert_cmd(
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
    ] = "vivado",
    part: Annotated[
        str | None, typer.Option("--part", help=f"FPGA part (default: {DEFAULT_PART}).")
    ] = None,
    clock_mhz: Annotated[
        float | None,
        typer.Option("--clock-mhz", help=f"Target clock in MHz (default: {DEFAULT_CLOCK_MHZ:g})."),
    ] = None,
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
    ] = 4096,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the golden particle sample.")] = 0,
) -> None:
    """Convert a trained QDistillNet with hls4ml into a firmware project with golden vectors."""
    from qdistill.firmware.convert import convert_model

    project = convert_model(
        model_dir,
        output,
        backend=backend,
        part=part or DEFAULT_PART,
        clock_mhz=DEFAULT_CLOCK_MHZ if clock_mhz is None else clock_mhz,
        golden_data=golden_data,
        golden_particles=golden_particles,
        seed=seed,
    )
    typer.echo(
        f"{project.path}: {project.meta['n_golden']} golden particles, {project.part} at "
        f"{project.clock_mhz:g} MHz; check it with `qdistill csim {project.path}`",
        err=True,
    )


@app.command("csim")
def csim_cmd(
    project_path: Annotated[
        Path | None,
        typer.Argument(help=_PROJECT_HELP),
    ] = None,
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

    project = load_project(DEFAULT_PROJECT if project_path is None else project_path)
    report = check_project(project, update_golden=update_golden)
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


# ---------------------------------------------------------------------------------------------
# rtl


@app.command("rtl")
def rtl_cmd(
    project_path: Annotated[
        Path | None,
        typer.Argument(help=_PROJECT_HELP),
    ] = None,
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
    from rich.console import Console

    from qdistill.firmware.rtl import run_rtl

    console = Console(stderr=True)
    with console.status("qdistill rtl") as status:
        result = run_rtl(
            DEFAULT_PROJECT if project_path is None else project_path,
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


# ---------------------------------------------------------------------------------------------
# synth, report


def _print_reports(reports: list[Any], json_output: bool) -> None:
    """One JSON object (--json) or the resource/latency table on standard output."""
    from qdistill.synth.report import reports_to_json
    from qdistill.synth.table import report_table

    if json_output:
        print_json(reports_to_json(reports))
        return
    from rich.console import Console

    Console().print(report_table(reports))


@app.command("synth")
def synth_command(
    project: Annotated[
        Path,
        typer.Argument(help="Firmware project made by qdistill convert (holds project.json)."),
    ] = Path(DEFAULT_PROJECT),
    part: Annotated[
        str | None,
        typer.Option(
            "--part",
            help="FPGA part, e.g. xcvu13p-flga2577-2-e (default: the project's part, else "
            "the default part). Must be a part qdistill knows.",
        ),
    ] = None,
    flow: Annotated[
        str,
        typer.Option(
            "--flow",
            help="auto (vitis_hls, else vivado_hls, else yosys), vivado (Vivado HLS), "
            "vitis (Vitis HLS) or yosys (open-source).",
        ),
    ] = "auto",
    clock_mhz: Annotated[
        float | None,
        typer.Option("--clock-mhz", help="Clock in MHz (default: the project's clock_mhz)."),
    ] = None,
    cosim: Annotated[
        bool, typer.Option("--cosim", help="Also run C/RTL co-simulation (HLS flows).")
    ] = False,
    export: Annotated[
        bool, typer.Option("--export", help="Also export the IP catalog package (HLS flows).")
    ] = False,
    vivado_synth: Annotated[
        bool,
        typer.Option(
            "--vivado-synth",
            help="After HLS, run out-of-context Vivado synthesis of the RTL (needs vivado).",
        ),
    ] = False,
    place_route: Annotated[
        bool,
        typer.Option("--place-route", help="With --vivado-synth: also place and route."),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Run HLS (and optionally Vivado) or the yosys flow on PROJECT and print its reports."""
    from qdistill.synth.runner import run_synthesis

    reports = run_synthesis(
        project,
        part,
        flow,
        cosim,
        clock_mhz=clock_mhz,
        export=export,
        vivado_synth=vivado_synth,
        place_route=place_route,
    )
    _print_reports(reports, json_output)


@app.command("report")
def report_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="A report file (csynth .xml/.rpt, cosim.rpt, Vivado utilization or timing "
            "summary) or a project folder to search for them."
        ),
    ],
    json_output: JsonOption = False,
) -> None:
    """Read Vivado HLS, Vitis HLS and Vivado reports; print a table or one JSON object."""
    from qdistill.synth.report import read_reports

    _print_reports(read_reports(path), json_output)


# ---------------------------------------------------------------------------------------------
# evaluate


@app.command("evaluate")
def evaluate_command(
    data: Annotated[
        Path, typer.Option("--data", help="Event file (HDF5) to evaluate on, e.g. tt̄ at PU 140.")
    ],
    out_dir: Annotated[
        Path, typer.Option("-o", "--out", help="Directory for summary.json, summary.md, plots.")
    ],
    teacher: Annotated[
        Path | None,
        typer.Option(
            "--teacher", help="Teacher model directory (only used if the file has no soft labels)."
        ),
    ] = None,
    distillnet: Annotated[
        Path | None, typer.Option("--distillnet", help="Trained DistillNet model directory.")
    ] = None,
    qdistillnet: Annotated[
        Path | None, typer.Option("--qdistillnet", help="Trained QDistillNet model directory.")
    ] = None,
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            help="Firmware project (qdistill convert) whose C simulation gives the firmware "
            "weights; its own preprocessing.json prepares the inputs.",
        ),
    ] = None,
    max_events: Annotated[
        int | None, typer.Option("--max-events", help="Evaluate only the first N events.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap resampling.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Missing-pT and jet resolution, weight distributions and accuracy of every weighting."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from qdistill.physics.evaluate import evaluate

    console = Console(stderr=True)
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    task: list[Any] = []

    def on_progress(done: int, total: int) -> None:
        if not task:  # started only once the inputs are checked, so errors stand alone
            bar.start()
            task.append(bar.add_task("evaluate: events", total=total))
        bar.update(task[0], completed=done)

    try:
        summary = evaluate(
            data,
            out_dir,
            teacher_dir=teacher,
            distillnet_dir=distillnet,
            qdistillnet_dir=qdistillnet,
            project_dir=project,
            max_events=max_events,
            seed=seed,
            progress=on_progress,
        )
    finally:
        bar.stop()
    for name, why in summary["skipped"].items():
        console.print(f"evaluate: skipped {name}: {why}", highlight=False)
    for warning in summary["warnings"]:
        console.print(f"evaluate: warning: {warning}", highlight=False)
    if as_json:
        print_json(summary)
    else:
        from qdistill.physics.evaluate import summary_markdown

        typer.echo(summary_markdown(summary))
        typer.echo(f"written: {out_dir}/summary.json, summary.md, {len(summary['plots'])} plots")


# ---------------------------------------------------------------------------------------------
# bench


@app.command("bench")
def bench_command(
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="Directory for bench.json, latency.png and latency.pdf."
        ),
    ],
    teacher: Annotated[
        Path | None,
        typer.Option(help="Teacher directory (`qdistill teacher train`); timed one event a call."),
    ] = None,
    distillnet: Annotated[
        Path | None, typer.Option(help="DistillNet directory (`qdistill train`); timed in Keras.")
    ] = None,
    qdistillnet: Annotated[
        Path | None,
        typer.Option(help="QDistillNet directory (`qdistill train`); timed in QKeras."),
    ] = None,
    project: Annotated[
        Path | None,
        typer.Option(
            help="Firmware project (`qdistill convert`); its hls4ml C-simulation library is timed."
        ),
    ] = None,
    batch_sizes: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated batch sizes in particles "
            "(default 1,10,100,1000,9000,90000; with --quick 1,100,9000)."
        ),
    ] = None,
    repeats: Annotated[
        int | None,
        typer.Option(help="Timed calls per point, at most (default 20; with --quick 5)."),
    ] = None,
    warmup: Annotated[
        int | None,
        typer.Option(help="Untimed calls before each point (default 3; with --quick 1)."),
    ] = None,
    budget_seconds: Annotated[
        float | None,
        typer.Option(
            help="Stop repeating a point after this many seconds, once it has 3 repeats "
            "(default 20)."
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Event file (HDF5) whose particles and events are timed; default: synthetic "
            "particles of the same shape."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic particles.")] = 0,
    quick: Annotated[
        bool, typer.Option("--quick", help="Fewer batch sizes, repeats and warm-up calls.")
    ] = False,
    keras_call: Annotated[
        str | None,
        typer.Option(
            help="How the Keras students are called: 'function' (one tf.function for every "
            "batch size, the default) or 'predict_on_batch'."
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Single-thread CPU latency against particle batch size (the paper's figure 5).

    Teacher: one event a call. DistillNet, QDistillNet: Keras. --project: hls4ml C simulation.

    Models not given are skipped; with none, firmware_projects/qdistillnet is timed (QKeras, C sim).
    """
    from qdistill.bench import latency

    options = latency.bench_options(
        batch_sizes=batch_sizes,
        repeats=repeats,
        warmup=warmup,
        budget_s=budget_seconds,
        seed=seed,
        quick=quick,
        keras_call=keras_call,
    )
    paths = latency.ModelPaths(
        teacher=teacher, distillnet=distillnet, qdistillnet=qdistillnet, project=project
    )
    result = latency.benchmark_latency(paths, options, output, data=data)
    if json_output:
        print_json(result)
    else:
        typer.echo(latency.format_table(result))


# ---------------------------------------------------------------------------------------------


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("qdistill: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
