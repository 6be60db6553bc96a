"""``qdistill csim``: compile a project's C simulation and check it bit for bit.

Two checks on the project's golden inputs:

(a) the C simulation against the stored golden outputs — every output must be bit-identical;
(b) the C simulation against QKeras: the logits (the last dense layer's output) must be
    identical, and the outputs are compared with QKeras' logits passed through an exact emulation
    of hls4ml's sigmoid table (:mod:`qdistill.firmware.reference`).
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from qdistill.errors import QdistillError
from qdistill.features import N_FEATURES
from qdistill.firmware import golden
from qdistill.firmware.fixed import lsb, quantize
from qdistill.firmware.hls4ml_compat import hls4ml_session, trace_compiled
from qdistill.firmware.project import GOLDEN_OUTPUTS, TB_OUTPUTS, FirmwareProject
from qdistill.firmware.reference import hls_sigmoid, qkeras_logits, qkeras_outputs


@dataclass
class CsimReport:
    """Result of :func:`check_project`; ``to_json()`` is what ``qdistill csim --json`` prints.

    Differences are in units of the output type's last bit (LSB); times in seconds.
    """

    project: str
    particles: int
    golden_exact: int  # outputs bit-identical to the stored golden outputs
    golden_match: bool  # all of them are
    golden_updated: bool  # the golden outputs were rewritten by this run
    qkeras_exact: int  # outputs bit-identical to the QKeras reference (logits + emulated table)
    qkeras_exact_fraction: float
    max_abs_diff_lsb: float  # largest |C simulation - QKeras reference|
    qkeras_logit_exact_fraction: float  # last dense layer's output identical to QKeras'
    float_sigmoid_max_abs_diff_lsb: float  # largest |C simulation - QKeras with float sigmoid|
    input_type: str
    logit_type: str
    output_type: str
    sigmoid_table_size: int
    convert_seconds: float  # hls4ml ModelGraph from model.h5 + hls4ml_config.json
    compile_seconds: float  # write the project and compile it with g++
    simulate_seconds: float  # run the compiled C simulation on all golden inputs
    particles_per_second: float

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def run_csim(project: FirmwareProject, inputs: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Outputs of the project's compiled C simulation for firmware ``inputs`` (n, 16) → (n,).

    ``inputs`` must already be firmware input values (preprocessed and quantized, like
    ``project.golden_inputs()``); other values are converted as the firmware's input type would.
    The project is compiled on first use and the library reused for later calls.
    """
    x = np.ascontiguousarray(np.asarray(inputs, dtype=np.float64))
    if x.ndim != 2 or x.shape[1] != N_FEATURES:
        raise QdistillError(f"C simulation inputs must have shape (n, {N_FEATURES}), got {x.shape}")
    hm = project.compiled_hls_model()
    with hls4ml_session():
        y = hm.predict(x)
    return np.asarray(y, dtype=np.float64).reshape(len(x))


def check_project(project: FirmwareProject, *, update_golden: bool = False) -> CsimReport:
    """Compile ``project``'s C simulation, run its golden inputs, compare; see the module doc.

    With ``update_golden`` the C simulation's outputs replace the stored golden outputs (and the
    testbench copy in ``hls4ml_prj/tb_data``), announced on standard error.
    """
    inputs = project.golden_inputs()
    n = len(inputs)
    structure = project.structure()

    t0 = time.perf_counter()
    hm = project.build_hls_model(trace=True)
    t1 = time.perf_counter()
    project.compile_hls_model(hm)
    t2 = time.perf_counter()
    with hls4ml_session():
        outputs = np.asarray(hm.predict(np.ascontiguousarray(inputs)), dtype=np.float64)
    t3 = time.perf_counter()
    outputs = outputs.reshape(n)
    with hls4ml_session():
        traced_outputs, trace = trace_compiled(hm, np.ascontiguousarray(inputs))
    if not np.array_equal(np.asarray(traced_outputs, dtype=np.float64).reshape(n), outputs):
        raise QdistillError(f"{project.path}: traced and plain C simulation outputs differ")
    csim_logits = np.asarray(trace[structure.logit_layer], dtype=np.float64).reshape(n)

    sigmoid = hm.graph[structure.sigmoid_layer]
    table_size = int(sigmoid.get_attr("table_size"))
    table_t = sigmoid.get_attr("table_t").precision
    result_t = sigmoid.get_attr("result_t").precision
    logit_t = hm.graph[structure.logit_layer].get_output_variable().type.precision
    input_t = hm.graph[structure.input_layer].get_output_variable().type.precision
    if not np.array_equal(quantize(inputs, input_t), inputs):
        raise QdistillError(
            f"{project.path}: golden inputs are not values of the input type {input_t}; "
            "rerun `qdistill convert`"
        )

    model = project.keras_model()
    logits = qkeras_logits(model, structure, inputs)
    reference = hls_sigmoid(logits, table_size, table_t, result_t)
    output_lsb = lsb(result_t)
    diff_lsb = np.abs(outputs - reference) / output_lsb
    float_diff_lsb = np.abs(outputs - qkeras_outputs(model, inputs)) / output_lsb

    if update_golden:
        golden.write_dat(project.path / GOLDEN_OUTPUTS, outputs)
        if project.hls_dir.is_dir():
            shutil.copyfile(project.path / GOLDEN_OUTPUTS, project.hls_dir / TB_OUTPUTS)
        sys.stderr.write(
            f"qdistill csim: WARNING: rewrote the golden outputs of {project.path} "
            f"({project.path / GOLDEN_OUTPUTS}, {n} particles) from this C simulation; "
            "commit them only if the firmware was meant to change\n"
        )
    expected = project.golden_outputs()
    exact = int(np.sum(expected == outputs)) if len(expected) == n else 0

    simulate_seconds = t3 - t2
    return CsimReport(
        project=str(project.path),
        particles=n,
        golden_exact=exact,
        golden_match=len(expected) == n and exact == n,
        golden_updated=update_golden,
        qkeras_exact=int(np.sum(diff_lsb == 0)),
        qkeras_exact_fraction=float(np.mean(diff_lsb == 0)),
        max_abs_diff_lsb=float(diff_lsb.max()),
        qkeras_logit_exact_fraction=float(np.mean(csim_logits == logits)),
        float_sigmoid_max_abs_diff_lsb=float(float_diff_lsb.max()),
        input_type=str(input_t),
        logit_type=str(logit_t),
        output_type=str(result_t),
        sigmoid_table_size=table_size,
        convert_seconds=round(t1 - t0, 3),
        compile_seconds=round(t2 - t1, 3),
        simulate_seconds=round(simulate_seconds, 4),
        particles_per_second=round(n / simulate_seconds, 1) if simulate_seconds > 0 else 0.0,
    )
