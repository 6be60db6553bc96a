"""Input preprocessing of the students: standardise the continuous features, clip outliers.

The same transform is saved with every trained student (``preprocessing.json``) and applied by
every later stage (firmware golden vectors, physics evaluation), so it lives in one place.

Continuous features (η, φ, log pT, log E, d0, dz) become ``(x − mean) / std`` clipped to
``±clip_sigma``; the bounded ones (charge, the PUPPI weight, the PID one-hot) pass unchanged, so
a rare PID class never becomes a huge standardised number. Every model input therefore lies in
``[−clip_sigma, clip_sigma]``, which is what makes a fixed-point input type with
:data:`INPUT_INTEGER_BITS` integer bits overflow-free on the FPGA.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from qdistill import manifest
from qdistill.errors import QdistillError
from qdistill.features import CHARGE, D0, DZ, ETA, FEATURE_NAMES, LOG_E, LOG_PT, N_FEATURES, PHI

#: Features that are standardised (the others are already O(1) and bounded).
STANDARDISED: Final[tuple[int, ...]] = (ETA, PHI, LOG_PT, LOG_E, D0, DZ)
#: Standardised features are clipped to ±this many standard deviations.
DEFAULT_CLIP_SIGMA: Final[float] = 8.0
#: Fixed-point type of the 16 model inputs on the FPGA: ap_fixed<16, 5> (1 sign bit, 4 more
#: integer bits, 11 fractional bits): range [−16, 16), step 2⁻¹¹. QDistillNet's first layer is a
#: QActivation(quantized_bits(INPUT_BITS, INPUT_INTEGER_BITS, alpha=1)) with exactly this type.
INPUT_BITS: Final[int] = 16
INPUT_INTEGER_BITS: Final[int] = 4  # QKeras convention: integer bits not counting the sign
#: The narrowest input type a model may choose (``--input-bits``): sign, 4 integer bits, 1 fraction.
MIN_INPUT_BITS: Final[int] = INPUT_INTEGER_BITS + 2
PREPROCESSING_FILE: Final[str] = "preprocessing.json"
#: preprocessing.json is a manifest (qdistill.manifest) of this kind; ``method`` names the formula.
PREPROCESSING_KIND: Final[str] = "preprocessing"
PREPROCESSING_VERSION: Final[int] = 1
_METHOD: Final[str] = "standardise-clip"


@dataclass(frozen=True)
class Preprocessing:
    """Per-feature affine transform and clip: ``clip((x − offset) / scale, −clip, clip)``.

    ``offset`` and ``scale`` have shape (16,); unstandardised features have offset 0, scale 1.
    """

    offset: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]
    clip: float = DEFAULT_CLIP_SIGMA
    #: width of the FPGA input type (its range, set by INPUT_INTEGER_BITS, is the same for all)
    input_bits: int = INPUT_BITS

    def __call__(self, features: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Transform raw features, shape (n, 16), into model inputs, shape (n, 16) float32."""
        x = np.asarray(features, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != N_FEATURES:
            raise QdistillError(f"features must have shape (n, {N_FEATURES}), got {x.shape}")
        out = (x - self.offset.astype(np.float32)) / self.scale.astype(np.float32)
        np.clip(out, -self.clip, self.clip, out=out)
        return out

    def to_json(self) -> dict[str, Any]:
        return manifest.tagged(
            PREPROCESSING_KIND,
            PREPROCESSING_VERSION,
            {
                "method": _METHOD,
                "formula": "clip((x - offset) / scale, -clip, clip)",
                "feature_names": list(FEATURE_NAMES),
                "offset": [float(v) for v in self.offset],
                "scale": [float(v) for v in self.scale],
                "clip": self.clip,
                "input_bits": self.input_bits,
                "fpga_input_type": fpga_input_type(self.input_bits),
            },
        )

    @classmethod
    def from_json(cls, obj: dict[str, Any], source: str = PREPROCESSING_FILE) -> Preprocessing:
        manifest.check_tag(obj, PREPROCESSING_KIND, PREPROCESSING_VERSION, source)
        if obj.get("method") != _METHOD or list(obj.get("feature_names", [])) != list(
            FEATURE_NAMES
        ):
            raise QdistillError(
                "preprocessing.json is from another preprocessing or feature list; "
                "retrain the student with `qdistill train`"
            )
        return cls(
            offset=np.asarray(obj["offset"], dtype=np.float64),
            scale=np.asarray(obj["scale"], dtype=np.float64),
            clip=float(obj["clip"]),
            input_bits=int(obj.get("input_bits", INPUT_BITS)),  # files before --input-bits: 16
        )

    def save(self, directory: str | os.PathLike[str]) -> None:
        (Path(directory) / PREPROCESSING_FILE).write_text(manifest.dumps(self.to_json()))

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> Preprocessing:
        path = Path(directory) / PREPROCESSING_FILE
        if not path.is_file():
            raise QdistillError(f"{path}: missing; is {directory} a `qdistill train` output?")
        return cls.from_json(manifest.read_json(path), str(path))


def check_input_bits(bits: int) -> None:
    """Refuse an input width outside [MIN_INPUT_BITS, INPUT_BITS]."""
    if not MIN_INPUT_BITS <= bits <= INPUT_BITS:
        raise QdistillError(
            f"--input-bits {bits} must be between {MIN_INPUT_BITS} and {INPUT_BITS} (the inputs "
            f"keep their range ±{2**INPUT_INTEGER_BITS}; fewer bits mean a coarser step)"
        )


def fpga_input_type(bits: int = INPUT_BITS) -> dict[str, Any]:
    """The fixed-point type in which the FPGA receives each of the 16 preprocessed inputs."""
    check_input_bits(bits)
    width = bits
    integer = INPUT_INTEGER_BITS + 1  # ap_fixed counts the sign bit as an integer bit
    step = 2.0 ** -(width - integer)
    return {
        "ap_type": f"ap_fixed<{width},{integer}>",
        "qkeras_quantizer": f"quantized_bits({bits},{INPUT_INTEGER_BITS},alpha=1)",
        "min": -(2.0 ** (integer - 1)),
        "max": 2.0 ** (integer - 1) - step,
        "step": step,
    }


def fit_preprocessing(
    features: npt.ArrayLike, clip: float = DEFAULT_CLIP_SIGMA, input_bits: int = INPUT_BITS
) -> Preprocessing:
    """Fit mean and standard deviation of the continuous features on ``features`` (n, 16)."""
    check_input_bits(input_bits)
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != N_FEATURES or len(x) < 2:
        raise QdistillError(f"need at least 2 particles of {N_FEATURES} features to standardise")
    if not 0 < clip < 2.0**INPUT_INTEGER_BITS:
        raise QdistillError(
            f"clip {clip} must be in (0, {2**INPUT_INTEGER_BITS}) so the inputs fit "
            f"{fpga_input_type(input_bits)['ap_type']}"
        )
    offset = np.zeros(N_FEATURES)
    scale = np.ones(N_FEATURES)
    idx = list(STANDARDISED)
    offset[idx] = x[:, idx].mean(axis=0)
    std = x[:, idx].std(axis=0)
    scale[idx] = np.where(std > 0, std, 1.0)
    # charge is in {−1, 0, 1}, the PUPPI weight and the one-hot in [0, 1]: left as they are.
    assert CHARGE not in idx
    return Preprocessing(offset=offset, scale=scale, clip=clip, input_bits=input_bits)
