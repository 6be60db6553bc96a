"""Run a scan's points on Dask, then collect them into ``scan.json``, ``scan.csv`` and the Pareto
front of physics against FPGA resources.

By default a :class:`distributed.LocalCluster` of ``workers`` processes with one thread each (and
``threads`` TensorFlow threads per task) runs on this machine; ``scheduler`` connects to an
existing cluster instead (e.g. one started with dask-jobqueue on HTCondor or Slurm). Every point is
one task that reads files and writes its own folder, so a failed point is retried alone
(``retries``) and a rerun skips the points whose result exists.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from qdistill import manifest
from qdistill.atomic import atomic_path
from qdistill.cluster import close_client, local_client
from qdistill.errors import QdistillError
from qdistill.scan.grid import ScanGrid, ScanPoint
from qdistill.scan.point import (
    PointSettings,
    read_result,
    read_yosys,
    result_path,
    run_point,
    synthesise_point,
    yosys_path,
)

SCAN_KIND: Final[str] = "scan"
SCAN_VERSION: Final[int] = 2  # 2 adds `unphysical` and the response medians
SCAN_JSON: Final[str] = "scan.json"
SCAN_CSV: Final[str] = "scan.csv"
#: The figures of merit: minimise the cost and each resolution (all from the point's result).
COST: Final[str] = "luts_da4ml"
OBJECTIVES: Final[tuple[str, ...]] = ("jet_resolution", "met_resolution")
CONNECT_TIMEOUT_S: Final[float] = 10.0
#: What a point's yosys.json adds to its row (None where it was not synthesised).
YOSYS_COLUMNS: Final[tuple[str, ...]] = (
    "luts_yosys",
    "ff_yosys",
    "rtl_golden_exact_verilator",
    "rtl_golden_particles",
)
#: progress(stage, done, total): stage "points" (train … evaluate), then "yosys".
Progress = Callable[[str, int, int], None]


@dataclass
class ScanOutcome:
    """What a scan did: points computed now, points already done, points that failed."""

    directory: Path
    computed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    synthesised: list[str] = field(default_factory=list)  # Yosys run now (--yosys-pareto)
    rows: list[dict[str, Any]] = field(default_factory=list)


def run_scan(
    grid: ScanGrid,
    settings: PointSettings,
    out_dir: str | os.PathLike[str],
    *,
    workers: int = 2,
    scheduler: str | None = None,
    retries: int = 1,
    yosys_pareto: bool = False,
    progress: Progress | None = None,
) -> ScanOutcome:
    """Run every point of ``grid`` not yet done in ``out_dir``; write the scan's tables.

    ``yosys_pareto``: then run ``qdistill rtl`` and the Yosys flow on every Pareto point that
    has no Yosys estimate yet (minutes each, so only there). ``progress(stage, done, total)``
    is called with stage "points" and then "yosys".
    """
    points = grid.points()  # every point checked before anything starts
    _check_inputs(settings, workers)
    if yosys_pareto:
        _check_synthesis_tools()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise QdistillError(f"{out}: exists and is not a directory; choose another -o")
    outcome = ScanOutcome(out)
    todo = [p for p in points if not result_path(out, p).is_file()]
    outcome.reused = [p.name for p in points if p not in todo]
    _check_reused(out, [p for p in points if p not in todo], settings)
    client = None
    try:
        if todo:
            client = _client(workers, scheduler, settings.threads)  # an unreachable one fails here
            out.mkdir(parents=True, exist_ok=True)
            _compute(client, todo, settings, out, retries, outcome, progress)
        elif progress is not None:
            progress("points", len(points), len(points))
        outcome.rows = [
            scan_row(read_result(result_path(out, p)))
            for p in points
            if p.name not in outcome.failed
        ]
        mark_pareto(outcome.rows)
        # the front is known only once every point is done
        pending = [
            r["point"]
            for r in outcome.rows
            if yosys_pareto and on_front(r) and not _has_yosys(out, r)
        ]
        if pending:
            client = client or _client(workers, scheduler, settings.threads)
            _synthesise(client, pending, settings, out, retries, outcome, progress)
    finally:
        if client is not None:
            close_client(client)
    attach_yosys(outcome.rows, out)
    write_tables(outcome, grid, settings)
    return outcome


#: Settings that do not change a point's result: a finished point is reused whatever they are.
_RESULT_NEUTRAL_SETTINGS: Final[tuple[str, ...]] = ("threads",)


def _check_reused(out: Path, reused: Sequence[ScanPoint], settings: PointSettings) -> None:
    """Refuse to mix, in one scan folder, points computed with other settings than these."""
    wanted = {k: v for k, v in settings.to_json().items() if k not in _RESULT_NEUTRAL_SETTINGS}
    for point in reused:
        stored = read_result(result_path(out, point)).get("settings", {})
        differ = [k for k, v in wanted.items() if k in stored and stored[k] != v]
        if differ:
            what = ", ".join(f"{k} {stored[k]!r} there, {wanted[k]!r} now" for k in differ)
            raise QdistillError(
                f"{out}: point {point.name} was computed with other settings ({what}); "
                "choose another -o or give the same settings"
            )


def on_front(row: dict[str, Any]) -> bool:
    """Whether the row is on the Pareto front of any objective (after :func:`mark_pareto`)."""
    return any(row[f"pareto_{objective}"] for objective in OBJECTIVES)


def _has_yosys(out: Path, row: dict[str, Any]) -> bool:
    return yosys_path(out, row["point"]).is_file()


def _check_synthesis_tools() -> None:
    """--yosys-pareto needs Verilator (with make, perl, g++) and Yosys: fail before training."""
    from qdistill.firmware.rtl_verilator import check_build_tools, find_verilator
    from qdistill.synth.yosys import find_yosys

    try:
        find_verilator()
        check_build_tools()
        find_yosys()
    except QdistillError as exc:
        raise QdistillError(f"--yosys-pareto: {exc}") from None


def _check_inputs(settings: PointSettings, workers: int) -> None:
    from qdistill.data.layout import EventFile

    if workers < 1:
        raise QdistillError(f"--workers {workers}: give at least 1")
    for path, flag in ((settings.data, "--data"), (settings.validation_data, "--validation-data")):
        with EventFile(path) as events:
            if not events.has_soft_labels:
                raise QdistillError(
                    f"{flag} {path}: no soft labels; run `qdistill teacher label` on it first"
                )


def _client(workers: int, scheduler: str | None, threads: int) -> Any:
    """A Dask client: of the cluster at ``scheduler``, else of a new LocalCluster."""
    from distributed import Client

    if scheduler is not None:
        try:
            return Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise QdistillError(
                f"--scheduler {scheduler}: no Dask scheduler answered within "
                f"{CONNECT_TIMEOUT_S:.0f} s ({exc}); start one or drop --scheduler"
            ) from None
    return local_client(workers, threads)


def _compute(
    client: Any,
    todo: Sequence[ScanPoint],
    settings: PointSettings,
    out: Path,
    retries: int,
    outcome: ScanOutcome,
    progress: Progress | None,
) -> None:
    tasks = {p.name: (run_point, (p, settings, str(out))) for p in todo}
    outcome.computed += _run_tasks(client, tasks, "points", retries, outcome, progress)


def _synthesise(
    client: Any,
    names: Sequence[str],
    settings: PointSettings,
    out: Path,
    retries: int,
    outcome: ScanOutcome,
    progress: Progress | None,
) -> None:
    tasks = {n: (synthesise_point, (n, str(out), settings.part)) for n in names}
    outcome.synthesised += _run_tasks(client, tasks, "yosys", retries, outcome, progress)


def _run_tasks(
    client: Any,
    tasks: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]],
    stage: str,
    retries: int,
    outcome: ScanOutcome,
    progress: Progress | None,
) -> list[str]:
    """Submit one Dask task a point (key qdistill-STAGE-NAME) and wait for them all; the names
    that finished (failures go to ``outcome.failed``)."""
    futures = {
        client.submit(fn, *args, key=f"qdistill-{stage}-{name}", retries=retries): name
        for name, (fn, args) in tasks.items()
    }
    already = len(outcome.reused) if stage == "points" else 0
    return _gather(futures, stage, already, outcome, progress)


def _gather(
    futures: dict[Any, str],
    stage: str,
    already: int,
    outcome: ScanOutcome,
    progress: Progress | None,
) -> list[str]:
    """Wait for the tasks; the names that finished (failures go to ``outcome.failed``)."""
    from distributed import as_completed

    total, done, finished = len(futures) + already, already, []
    if progress is not None:
        progress(stage, done, total)
    for future in as_completed(futures):
        name = futures[future]
        if future.status == "finished":
            finished.append(name)
        else:
            error = future.exception()
            key = name if stage == "points" else f"{name} ({stage})"
            outcome.failed[key] = f"{type(error).__name__}: {error}"
        done += 1
        if progress is not None:
            progress(stage, done, total)
    return finished


def attach_yosys(rows: list[dict[str, Any]], out: Path) -> None:
    """Add the Yosys columns to every row: the point's estimate where it was synthesised."""
    for row in rows:
        path = yosys_path(out, row["point"])
        found = read_yosys(path) if path.is_file() else {}
        for key in YOSYS_COLUMNS:
            row[key] = found.get(key)


def scan_row(result: dict[str, Any]) -> dict[str, Any]:
    """One CSV row: the point, then every figure under a name that says its tool."""
    point, fw, physics = result["point"], result["firmware"], result["physics"]
    return {
        "point": point["name"],
        "weight_bits": point["weight_bits"],
        "activation_bits": point["activation_bits"],
        "input_bits": point["input_bits"],
        "sparsity": point["sparsity"],
        "hidden": "-".join(map(str, point["hidden"])),
        "luts_da4ml": fw["luts_da4ml"],
        "register_bits_da4ml": fw["register_bits_da4ml"],
        "latency_cycles_da4ml": fw["latency_cycles_da4ml"],
        "latency_ns_da4ml": fw["latency_ns_da4ml"],
        "golden_exact_emulator_vs_csim": fw["golden_exact_emulator_vs_csim"],
        "golden_particles": fw["golden_particles"],
        "jet_resolution": physics["jet_resolution"],
        "jet_resolution_uncertainty": physics["jet_resolution_uncertainty"],
        "jet_matching_efficiency": physics["jet_matching_efficiency"],
        "met_resolution": physics["met_resolution"],
        "met_resolution_uncertainty": physics["met_resolution_uncertainty"],
        "met_response_median": physics["met_response_median"],
        "accuracy": physics["accuracy"],
        "puppi_jet_resolution": physics["puppi_jet_resolution"],
        "puppi_met_resolution": physics["puppi_met_resolution"],
        "unphysical": physics["unphysical"] or "",
        "seconds": result["seconds"]["total"],
    }


def pareto_front(rows: Sequence[dict[str, Any]], objective: str) -> list[int]:
    """Indices of the rows that no other row beats on both cost and ``objective`` (lower better).

    Rows whose objective is missing (None) or that lose the event (``unphysical``, see
    :mod:`qdistill.physics.sanity`) are never on the front.
    """
    valid = [i for i, r in enumerate(rows) if r[objective] is not None and not r.get("unphysical")]
    front = []
    for i in valid:
        ci, oi = rows[i][COST], rows[i][objective]
        dominated = any(
            rows[j][COST] <= ci
            and rows[j][objective] <= oi
            and (rows[j][COST] < ci or rows[j][objective] < oi)
            for j in valid
        )
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: rows[i][COST])


def mark_pareto(rows: list[dict[str, Any]]) -> None:
    """Add ``pareto_<objective>`` (bool) to every row."""
    for objective in OBJECTIVES:
        front = set(pareto_front(rows, objective))
        for i, row in enumerate(rows):
            row[f"pareto_{objective}"] = i in front


def csv_text(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_tables(outcome: ScanOutcome, grid: ScanGrid, settings: PointSettings) -> None:
    """``scan.json`` (every row, the grid, the settings, failures), ``scan.csv``, the plot."""
    from qdistill.scan.plots import plot_pareto

    out = outcome.directory
    out.mkdir(parents=True, exist_ok=True)
    plots = plot_pareto(outcome.rows, out) if outcome.rows else []
    scan = manifest.tagged(
        SCAN_KIND,
        SCAN_VERSION,
        {
            "grid": {
                "weight_bits": list(grid.weight_bits),
                "activation_bits": list(grid.activation_bits),
                "input_bits": list(grid.input_bits),
                "sparsity": list(grid.sparsity),
                "hidden": [list(h) for h in grid.hidden],
            },
            "settings": settings.to_json(),
            "tools": {
                "luts_da4ml": "da4ml's LUT estimate of its pipelined Verilog (no synthesis)",
                "latency_cycles_da4ml": "da4ml pipeline stages + input register",
                "golden_exact_emulator_vs_csim": "qdistill emulator vs hls4ml C simulation",
                "jet_resolution": "qdistill evaluate, firmware weights by the emulator",
                "unphysical": "qdistill evaluate: why the point's firmware loses the event",
                "luts_yosys": "Yosys synth_xilinx of da4ml's Verilog (an estimate, not Vivado)",
                "rtl_golden_exact_verilator": "Verilator simulation of the Verilog vs golden",
            },
            "points": outcome.rows,
            "failed": outcome.failed,
            "plots": [p.name for p in plots],
        },
    )
    for name, text in ((SCAN_JSON, manifest.dumps(scan)), (SCAN_CSV, csv_text(outcome.rows))):
        with atomic_path(out / name) as tmp:
            tmp.write_text(text)


def table_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The scan as a Markdown table, cheapest first, with the jet and MET Pareto points marked;
    a point that loses the event says so instead."""
    lines = [
        "| point | LUT (da4ml) | LUT (Yosys) | latency (da4ml) | jet resolution "
        "| MET resolution | Pareto |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in sorted(rows, key=lambda r: r[COST]):
        stars = " ".join(
            label
            for label, key in (("jet", "pareto_jet_resolution"), ("MET", "pareto_met_resolution"))
            if r.get(key)
        )
        if r.get("unphysical"):
            stars = f"loses the event: {r['unphysical']}"
        lines.append(
            f"| {r['point']} | {r[COST]:,.0f} | {_count(r.get('luts_yosys'))} | "
            f"{r['latency_cycles_da4ml']} cycles | "
            f"{_pm(r['jet_resolution'], r['jet_resolution_uncertainty'])} | "
            f"{_pm(r['met_resolution'], r['met_resolution_uncertainty'])} | {stars} |"
        )
    return "\n".join(lines)


def _count(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _pm(value: float | None, error: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.4f} ± {error:.4f}" if error is not None else f"{value:.4f}"
