"""QDistillNet with its own weight, activation and input widths: trained, converted by hls4ml,
and reproduced bit for bit by the emulator (the building block of a design-space scan)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qdistill.errors import QdistillError
from qdistill.keras_backend import import_tensorflow
from qdistill.physics.synthetic import write_synthetic_file
from qdistill.student.config import ModelSpec
from qdistill.student.preprocessing import (
    INPUT_BITS,
    Preprocessing,
    fit_preprocessing,
    fpga_input_type,
)

import_tensorflow(1)


def test_input_width_sets_the_step_not_the_range() -> None:
    narrow = fpga_input_type(10)
    assert narrow["ap_type"] == "ap_fixed<10,5>"
    assert (narrow["min"], narrow["max"], narrow["step"]) == (-16.0, 16.0 - 2.0**-5, 2.0**-5)
    assert fpga_input_type()["ap_type"] == f"ap_fixed<{INPUT_BITS},5>"
    for bits in (5, 17):
        with pytest.raises(QdistillError, match=f"--input-bits {bits} must be between 6 and 16"):
            ModelSpec("qdistillnet", (8,), input_bits=bits)
    features = np.random.default_rng(0).normal(size=(100, 16))
    saved = fit_preprocessing(features, input_bits=9).to_json()
    assert saved["input_bits"] == 9 and saved["fpga_input_type"]["ap_type"] == "ap_fixed<9,5>"
    assert Preprocessing.from_json(json.loads(json.dumps(saved))).input_bits == 9


@pytest.mark.slow
def test_narrow_qdistillnet_converts_and_emulates_bit_for_bit(tmp_path: Path) -> None:
    from qdistill.firmware.convert import convert_model
    from qdistill.firmware.emulate import ProjectEmulator, check_golden
    from qdistill.firmware.project import compiler_available, load_project
    from qdistill.student.config import TrainConfig
    from qdistill.student.train import train_student

    if not compiler_available():
        pytest.skip("no g++ for hls4ml's C simulation")
    data = tmp_path / "events.h5"
    write_synthetic_file(data, n_events=8, seed=21)
    spec = ModelSpec(
        "qdistillnet", (16, 8), weight_bits=4, activation_bits=6, input_bits=10, sparsity=0.5
    )
    model_dir = tmp_path / "student"
    config = TrainConfig(
        spec=spec, data=data, output=model_dir, epochs=1, batch_size=256, progress=False
    )
    train_student(config)
    info = json.loads((model_dir / "student.json").read_text())
    assert info["fpga_input_type"]["ap_type"] == "ap_fixed<10,5>"
    project_dir = tmp_path / "project"
    convert_model(model_dir, project_dir, golden_data=data, golden_particles=512)
    emulator = ProjectEmulator.load(load_project(project_dir))
    spec_types = emulator.emulator.spec
    assert (spec_types.input_type.width, spec_types.input_type.integer) == (10, 5)
    check = check_golden(emulator)
    assert (check.golden_exact, check.particles) == (512, 512)
    # the firmware inputs lie on the 2**-5 grid of ap_fixed<10,5>, and use its last bit
    inputs = load_project(project_dir).golden_inputs()
    assert np.all(inputs * 32 == np.round(inputs * 32))
    assert np.any(inputs * 16 != np.round(inputs * 16))
