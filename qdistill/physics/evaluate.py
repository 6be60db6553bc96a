"""``qdistill evaluate``: missing-pT and jet resolution, weight distributions and accuracy of every
available weighting on one event file, written as ``summary.json``, ``summary.md`` and figures.

The file is read block by block; per-particle quantities are only histogrammed, so memory does
not grow with the number of events (only one MET response and a few jet responses per event are
kept). ``summary.json`` is written last: its presence means the evaluation completed.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import hist
import numpy as np
import numpy.typing as npt

from qdistill import manifest
from qdistill.atomic import write_text_atomic
from qdistill.data.detector import CALO_ETA_MAX
from qdistill.data.layout import Event, EventFile
from qdistill.errors import QdistillError
from qdistill.features import ETA, PHI
from qdistill.kinematics import pt_eta_phi
from qdistill.metrics import WEIGHT_BINS, accuracy_from_counts, edge_bin_ratios, weight_histogram
from qdistill.physics import jets as jetlib
from qdistill.physics import plots
from qdistill.physics import regions as eta_regions
from qdistill.physics.met import GEN_MET_MIN_GEV, check_weights, gen_met, met
from qdistill.physics.resolution import (
    DEFAULT_BOOTSTRAP_SEED,
    N_BOOTSTRAP,
    Responses,
    bootstrap_resolutions,
)
from qdistill.physics.sanity import (
    JET_MATCHING_FRACTION_OF_PUPPI_MIN,
    MET_RESPONSE_MEDIAN_MIN,
    unphysical_weightings,
)
from qdistill.physics.weightings import (
    DEFAULT_FIRMWARE_ENGINE,
    FIRMWARE_WEIGHTING,
    WEIGHTING_NAMES,
    Weighting,
    build_weightings,
    check_firmware_engine,
)

PathLike = str | os.PathLike[str]
#: A candidate counts as from the primary collision (figure 3) when its truth fraction exceeds this.
PV_TRUTH_THRESHOLD: Final[float] = 0.5
BLOCK_EVENTS: Final[int] = 32
ETA_PHI_AXES: Final = (
    hist.axis.Regular(50, -5.0, 5.0, name="eta", label="η"),
    hist.axis.Regular(36, -math.pi, math.pi, name="phi", label="φ"),
)
#: summary.json is a manifest (qdistill.manifest) of this kind.
SUMMARY_KIND: Final[str] = "physics_summary"
SUMMARY_VERSION: Final[int] = 1
ACCURACY_REFERENCE: Final[str] = "teacher"


@dataclass(frozen=True)
class PrimaryReference:
    """What the weighted pT is divided by (``primary_reference`` in summary.json)."""

    name: str
    text: str  # in summary.md
    tex: str  # on the figures' axes


#: f·pT of every candidate, f its truth fraction (generated files).
TRUTH_REFERENCE: Final = PrimaryReference("truth_fraction", "Σ f·pT", plots.TRUTH_PT_LABEL)
#: the pT of the event reconstructed without pileup (imported DistillNet files' data_nopu).
NOPU_REFERENCE: Final = PrimaryReference(
    "nopu", "Σ pT of the event without pileup", r"\sum p_T^{\mathrm{no\ PU}}"
)


@dataclass
class _Accumulator:
    """Everything kept while streaming through the events."""

    names: Sequence[str]
    #: what the weighted pT is compared with; None: nothing (no truth, no event without pileup)
    primary_reference: PrimaryReference | None = TRUTH_REFERENCE
    n_events: int = 0
    met_gen: list[float] = field(default_factory=list)
    met: dict[str, list[float]] = field(default_factory=dict)
    met_event: list[int] = field(default_factory=list)
    jet_resp: dict[str, list[float]] = field(default_factory=dict)
    jet_event: dict[str, list[int]] = field(default_factory=dict)
    n_gen_jets: int = 0
    counts_pv: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)
    counts_pu: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)
    pt_maps: dict[str, hist.Hist] = field(default_factory=dict)
    primary_pt: hist.Hist = field(default_factory=lambda: hist.Hist(*ETA_PHI_AXES))
    n_pileup_sum: int = 0
    met_tracker: dict[str, list[float]] = field(default_factory=dict)
    jet_region: dict[str, list[int]] = field(default_factory=dict)
    jet_resp_pt: dict[str, list[float]] = field(default_factory=dict)  # pT, one to one
    jet_event_pt: dict[str, list[int]] = field(default_factory=dict)
    region_primary_pt: npt.NDArray[np.float64] = field(
        default_factory=lambda: np.zeros(len(eta_regions.ETA_REGIONS))
    )
    region_weighted_pt: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        zeros = np.zeros(len(WEIGHT_BINS) - 1, dtype=np.int64)
        for name in self.names:
            self.met[name] = []
            self.jet_resp[name] = []
            self.jet_event[name] = []
            self.counts_pv[name] = zeros.copy()
            self.counts_pu[name] = zeros.copy()
            self.pt_maps[name] = hist.Hist(*ETA_PHI_AXES)
            self.met_tracker[name] = []
            self.jet_region[name] = []
            self.jet_resp_pt[name] = []
            self.jet_event_pt[name] = []
            self.region_weighted_pt[name] = np.zeros(len(eta_regions.ETA_REGIONS))

    def add(self, event: Event, weights: Mapping[str, npt.NDArray[np.float64]]) -> None:
        i = self.n_events
        self.n_events += 1
        self.n_pileup_sum += event.n_pileup
        pt = np.hypot(event.p4[:, 0], event.p4[:, 1]).astype(np.float64)
        eta = event.features[:, ETA]
        phi = event.features[:, PHI]
        is_pv = event.truth_fraction > PV_TRUTH_THRESHOLD
        region = eta_regions.region_index(eta)
        n_regions = len(eta_regions.ETA_REGIONS)
        inside = region >= 0
        reference = self._primary(event, pt, eta, phi)
        if reference is not None:
            ref_pt, ref_eta, ref_phi = reference
            self.primary_pt.fill(ref_eta, ref_phi, weight=ref_pt)
            ref_region = eta_regions.region_index(ref_eta)
            self.region_primary_pt += np.bincount(
                ref_region[ref_region >= 0],
                weights=ref_pt[ref_region >= 0],
                minlength=n_regions,
            )
        tracker = np.abs(eta) < eta_regions.TRACKER_MET_ETA_MAX

        met_gen = gen_met(event.gen_p4, event.gen_pdg_id)
        if met_gen > GEN_MET_MIN_GEV:
            self.met_gen.append(met_gen)
            self.met_event.append(i)
        gen_jets = jetlib.gen_jets(event.gen_p4, event.gen_pdg_id)
        self.n_gen_jets += int((np.abs(gen_jets.eta) < CALO_ETA_MAX).sum())

        for name, w in weights.items():
            self.counts_pv[name] += weight_histogram(w[is_pv])
            self.counts_pu[name] += weight_histogram(w[~is_pv])
            self.pt_maps[name].fill(eta, phi, weight=w * pt)
            self.region_weighted_pt[name] += np.bincount(
                region[inside], weights=(w * pt)[inside], minlength=n_regions
            )
            if met_gen > GEN_MET_MIN_GEV:
                self.met[name].append(met(event.p4, w, name))
                self.met_tracker[name].append(met(event.p4[tracker], w[tracker], name))
            reco_jets = jetlib.weighted_jets(event.p4, w, name)
            resp, gen_eta = jetlib.energy_responses_all_pairs(reco_jets, gen_jets)
            self.jet_resp[name].extend(resp.tolist())
            self.jet_event[name].extend([i] * len(resp))
            self.jet_region[name].extend(eta_regions.region_index(gen_eta).tolist())
            resp_pt, _ = jetlib.matched_responses(reco_jets, gen_jets)
            self.jet_resp_pt[name].extend(resp_pt.tolist())
            self.jet_event_pt[name].extend([i] * len(resp_pt))

    def _primary(
        self,
        event: Event,
        pt: npt.NDArray[np.float64],
        eta: npt.NDArray[np.floating],
        phi: npt.NDArray[np.floating],
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
        """pT (GeV), η, φ of the primary collision's share of the event, per the reference."""
        if self.primary_reference is TRUTH_REFERENCE:
            return event.truth_fraction * pt, np.asarray(eta, np.float64), np.asarray(phi)
        if self.primary_reference is NOPU_REFERENCE and event.nopu_p4 is not None:
            ref_pt, ref_eta, ref_phi = pt_eta_phi(event.nopu_p4.astype(np.float64))
            return ref_pt, ref_eta, ref_phi
        return None


def _primary_reference(events: EventFile) -> PrimaryReference | None:
    """The truth where the file has it, else the event without pileup where the file has it (the
    reference code's η–φ maps), else None (no weighted/primary pT ratios)."""
    if events.truth_available:
        return TRUTH_REFERENCE
    return NOPU_REFERENCE if events.has_nopu else None


def _finite(x: float) -> float | None:
    """JSON has no NaN: undefined numbers become null."""
    return None if x is None or not math.isfinite(x) else float(x)


def _by_name(values: Mapping[str, float], names: Sequence[str]) -> dict[str, float | None]:
    return {n: _finite(values[n]) for n in names if n in values}


def _iter_blocks(events: EventFile, stop: int, block: int = BLOCK_EVENTS) -> Iterator[list[Event]]:
    batch: list[Event] = []
    for event in events.iter_events(0, stop, block=block):
        batch.append(event)
        if len(batch) == block:
            yield batch
            batch = []
    if batch:
        yield batch


def evaluate(
    data_path: PathLike,
    out_dir: PathLike,
    *,
    teacher_dir: PathLike | None = None,
    distillnet_dir: PathLike | None = None,
    qdistillnet_dir: PathLike | None = None,
    project_dir: PathLike | None = None,
    firmware_engine: str = DEFAULT_FIRMWARE_ENGINE,
    max_events: int | None = None,
    seed: int = DEFAULT_BOOTSTRAP_SEED,
    n_bootstrap: int = N_BOOTSTRAP,
    extra_weightings: Mapping[str, Weighting] | None = None,
    progress: Callable[[int, int], None] | None = None,
    make_plots: bool = True,
) -> dict[str, Any]:
    """Evaluate every available weighting on the events of ``data_path``; write ``out_dir``.

    The firmware weighting (``project_dir``) is computed by ``firmware_engine``: "emulator"
    (bit-exact, default) or "csim" (the hls4ml C simulation). Weightings whose model is not
    given are skipped (``summary["skipped"]`` says why);
    ``extra_weightings`` adds weightings under new names (a function from a block of events to one
    weight array per event). ``seed`` seeds the bootstrap of ``n_bootstrap`` resamples.
    ``progress(done, total)`` is called once the inputs are checked and after every block.
    ``make_plots=False`` writes the summary and table only (the figures take seconds).
    Returns the summary that is also written to ``out_dir/summary.json``.
    """
    if max_events is not None and max_events <= 0:
        raise QdistillError(f"--max-events must be positive, got {max_events}")
    check_firmware_engine(firmware_engine)
    if n_bootstrap < 2:
        raise QdistillError(f"the bootstrap needs at least 2 resamples, got {n_bootstrap}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise QdistillError(f"{out}: exists and is not a directory; choose another -o")
    with EventFile(data_path) as events:
        total = events.n_events if max_events is None else min(max_events, events.n_events)
        if total == 0:
            raise QdistillError(f"{data_path}: has no events to evaluate")
        chosen, skipped = build_weightings(
            has_soft_labels=events.has_soft_labels,
            has_truth=events.truth_available,
            teacher_dir=teacher_dir,
            distillnet_dir=distillnet_dir,
            qdistillnet_dir=qdistillnet_dir,
            project_dir=project_dir,
            firmware_engine=firmware_engine,
        )
        for name, fn in (extra_weightings or {}).items():
            if name in chosen:
                raise QdistillError(f"weighting {name!r} is already built in")
            chosen[name] = fn
        acc = _accumulate(events, total, chosen, progress)
        attrs = events.attrs
    summary = manifest.tagged(
        SUMMARY_KIND,
        SUMMARY_VERSION,
        {
            **_summarise(acc, list(chosen), skipped, Path(data_path), seed, n_bootstrap),
            "firmware_engine": firmware_engine if FIRMWARE_WEIGHTING in chosen else None,
        },
    )
    process = attrs.get("process")
    rlabel = f"{process + ', ' if isinstance(process, str) else ''}"
    rlabel += rf"$\langle\mu\rangle$ = {acc.n_pileup_sum / acc.n_events:.0f}"
    _write_outputs(out, acc, summary, rlabel, make_plots)
    return summary


def _accumulate(
    events: EventFile,
    total: int,
    chosen: Mapping[str, Weighting],
    progress: Callable[[int, int], None] | None,
) -> _Accumulator:
    """Weigh the first ``total`` events block by block with every weighting; the sums."""
    names = list(chosen)
    acc = _Accumulator(names, primary_reference=_primary_reference(events))
    if progress is not None:
        progress(0, total)
    for block in _iter_blocks(events, total):
        per_name = {name: fn(block) for name, fn in chosen.items()}
        for name, ws in per_name.items():
            if len(ws) != len(block):
                raise QdistillError(
                    f"weighting {name!r} gave weights for {len(ws)} events, not {len(block)}"
                )
        for k, event in enumerate(block):
            weights = {
                name: check_weights(per_name[name][k], event.n_particles, name) for name in names
            }
            acc.add(event, weights)
        if progress is not None:
            progress(acc.n_events, total)
    return acc


def _write_outputs(
    out: Path, acc: _Accumulator, summary: dict[str, Any], rlabel: str, make_plots: bool
) -> None:
    """Figures, summary.md and summary.json (last) into ``out``, each moved into place whole."""
    out.mkdir(parents=True, exist_ok=True)
    # Everything is made in a hidden sibling first and moved into place at the end, summary.json
    # last: a failed run leaves the previous run's files as they were, consistent with each other.
    staging = Path(tempfile.mkdtemp(prefix=".evaluate.", dir=out))
    try:
        written = _plot(acc, summary, staging, rlabel) if make_plots else []
        summary["plots"] = sorted(p.name for p in written)
        write_text_atomic(staging / "summary.md", summary_markdown(summary))
        write_text_atomic(
            staging / "summary.json",
            manifest.dumps(summary),
        )
        for name in [*summary["plots"], "summary.md", "summary.json"]:
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _summarise(
    acc: _Accumulator,
    names: Sequence[str],
    skipped: Mapping[str, str],
    data_path: Path,
    seed: int,
    n_bootstrap: int,
) -> dict[str, Any]:
    met_gen = np.asarray(acc.met_gen)
    met_resp = {
        n: Responses(
            (np.asarray(acc.met[n]) - met_gen) / met_gen, np.asarray(acc.met_event, np.int64)
        )
        for n in names
    }
    jet_resp = {n: Responses.from_lists(acc.jet_resp[n], acc.jet_event[n]) for n in names}
    jet_pt = {n: Responses.from_lists(acc.jet_resp_pt[n], acc.jet_event_pt[n]) for n in names}
    # MET and jets use different resamples (seeds differ) so that their uncertainties are
    # independent estimates; each is paired across weightings.
    met_res = bootstrap_resolutions(met_resp, acc.n_events, n_resamples=n_bootstrap, seed=seed)
    jet_res = bootstrap_resolutions(jet_resp, acc.n_events, n_resamples=n_bootstrap, seed=seed + 1)
    pt_res = bootstrap_resolutions(jet_pt, acc.n_events, n_resamples=n_bootstrap, seed=seed + 1)
    accuracy, first_bin, last_bin = _accuracies(acc, names)
    warnings = _gen_warnings(acc)
    summary = {
        "data": str(data_path),
        "events": acc.n_events,
        "events_with_gen_met": len(acc.met_gen),
        "gen_jets": acc.n_gen_jets,
        "gen_jet_eta_max": CALO_ETA_MAX,
        "weightings": list(names),
        "primary_reference": None if acc.primary_reference is None else acc.primary_reference.name,
        "skipped": {n: skipped[n] for n in WEIGHTING_NAMES if n in skipped},
        "warnings": warnings,
        "met_resolution": _by_name(met_res.resolution, names),
        "met_resolution_uncertainty": _by_name(met_res.uncertainty, names),
        "met_improvement_over_puppi": _by_name(met_res.improvement, names),
        "met_improvement_over_puppi_uncertainty": _by_name(met_res.improvement_uncertainty, names),
        "met_response_median": _by_name(met_res.median, names),
        "jet_resolution": _by_name(jet_res.resolution, names),
        "jet_resolution_uncertainty": _by_name(jet_res.uncertainty, names),
        "jet_improvement_over_puppi": _by_name(jet_res.improvement, names),
        "jet_improvement_over_puppi_uncertainty": _by_name(jet_res.improvement_uncertainty, names),
        "jet_response_median": _by_name(jet_res.median, names),
        **_tracker_met(acc, names, n_bootstrap, seed),
        "by_eta_region": _by_region(acc, names, n_bootstrap, seed),
        "jet_pairs": dict(jet_res.count),
        "jet_resolution_pt_one_to_one": _by_name(pt_res.resolution, names),
        "jet_resolution_pt_one_to_one_uncertainty": _by_name(pt_res.uncertainty, names),
        "jet_pt_one_to_one_improvement_over_puppi": _by_name(pt_res.improvement, names),
        "jet_pt_one_to_one_improvement_over_puppi_uncertainty": _by_name(
            pt_res.improvement_uncertainty, names
        ),
        "jet_pt_one_to_one_response_median": _by_name(pt_res.median, names),
        "jets_matched": dict(pt_res.count),
        "jet_matching_efficiency": {
            n: _finite(pt_res.count[n] / acc.n_gen_jets if acc.n_gen_jets else math.nan)
            for n in names
        },
        "accuracy_first_bin_ratio": first_bin,
        "accuracy_last_bin_ratio": last_bin,
        "accuracy": accuracy,
        "accuracy_reference": ACCURACY_REFERENCE if accuracy else None,
        "bootstrap": {"resamples": n_bootstrap, "seed": seed, "unit": "events"},
        "definitions": _definitions(),
    }
    summary["unphysical"] = unphysical_weightings(summary)
    summary["warnings"].extend(
        f"{n} loses the event ({why})" for n, why in summary["unphysical"].items()
    )
    return summary


def _accuracies(
    acc: _Accumulator, names: Sequence[str]
) -> tuple[dict[str, float | None], dict[str, float | None], dict[str, float | None]]:
    """Against the teacher's weight histogram: the bin average, first- and last-bin ratios."""
    accuracy: dict[str, float | None] = {}
    first_bin: dict[str, float | None] = {}
    last_bin: dict[str, float | None] = {}
    if ACCURACY_REFERENCE in names:
        ref = acc.counts_pv[ACCURACY_REFERENCE] + acc.counts_pu[ACCURACY_REFERENCE]
        for n in names:
            counts = acc.counts_pv[n] + acc.counts_pu[n]
            accuracy[n] = _finite(accuracy_from_counts(counts, ref))
            first, last = edge_bin_ratios(counts, ref)
            first_bin[n], last_bin[n] = _finite(first), _finite(last)
    return accuracy, first_bin, last_bin


def _gen_warnings(acc: _Accumulator) -> list[str]:
    """Why a resolution is null: no generator MET or no generator jet in the file."""
    warnings = []
    if not acc.met_gen:
        warnings.append(
            f"no event has generator missing pT above {GEN_MET_MIN_GEV * 1e3:g} MeV: the "
            "missing-pT resolution is undefined (null)"
        )
    if acc.n_gen_jets == 0:
        warnings.append(
            "no event has a generator jet (the file may hold no generator particles): the jet "
            "resolution is undefined (null)"
        )
    return warnings


def _tracker_met(
    acc: _Accumulator, names: Sequence[str], n_bootstrap: int, seed: int
) -> dict[str, Any]:
    """Resolution of the missing pT of the candidates within the tracker acceptance (the MET
    resamples: same seed as the full MET, so the two are paired)."""
    met_gen = np.asarray(acc.met_gen)
    responses = {
        n: Responses(
            (np.asarray(acc.met_tracker[n]) - met_gen) / met_gen,
            np.asarray(acc.met_event, np.int64),
        )
        for n in names
    }
    res = bootstrap_resolutions(responses, acc.n_events, n_resamples=n_bootstrap, seed=seed)
    return {
        "met_resolution_tracker": _by_name(res.resolution, names),
        "met_resolution_tracker_uncertainty": _by_name(res.uncertainty, names),
        "met_tracker_improvement_over_puppi": _by_name(res.improvement, names),
        "met_tracker_improvement_over_puppi_uncertainty": _by_name(
            res.improvement_uncertainty, names
        ),
    }


def _by_region(
    acc: _Accumulator, names: Sequence[str], n_bootstrap: int, seed: int
) -> list[dict[str, Any]]:
    """Per |η| region: each weighting's Σ w·pT / Σ f·pT over the candidates of the region, and
    the response median and resolution of the jets whose generator jet lies in it."""
    rows = []
    for k, (lo, hi) in enumerate(eta_regions.ETA_REGIONS):
        jets = {}
        for n in names:
            region = np.asarray(acc.jet_region[n], dtype=np.int64)
            keep = region == k
            jets[n] = Responses(
                np.asarray(acc.jet_resp[n], dtype=np.float64)[keep],
                np.asarray(acc.jet_event[n], dtype=np.int64)[keep],
            )
        res = bootstrap_resolutions(jets, acc.n_events, n_resamples=n_bootstrap, seed=seed + 2 + k)
        primary = float(acc.region_primary_pt[k])
        rows.append(
            {
                "eta_min": lo,
                "eta_max": hi,
                "primary_pt_gev": primary,
                "weighted_over_primary_pt": {
                    n: _finite(acc.region_weighted_pt[n][k] / primary if primary > 0 else math.nan)
                    for n in names
                },
                "jets_matched": dict(res.count),
                "jet_response_median": _by_name(res.median, names),
                "jet_resolution": _by_name(res.resolution, names),
                "jet_resolution_uncertainty": _by_name(res.uncertainty, names),
                "jet_improvement_over_puppi": _by_name(res.improvement, names),
                "jet_improvement_over_puppi_uncertainty": _by_name(
                    res.improvement_uncertainty, names
                ),
            }
        )
    return rows


def _definitions() -> dict[str, str]:
    """How every figure of the summary is defined (written into summary.json)."""
    return {
        "response": "(X - X_gen) / X_gen",
        "resolution": "(q75 - q25) / 2 of the response",
        "improvement_over_puppi": "(res_puppi - res) / res_puppi",
        "met_gen": (
            "|sum pT| of the hard collision's visible final-state particles (all but |PDG id| "
            "12, 14, 16), as the reference code's Metcalc_gen"
        ),
        "jets": (
            f"anti-kt R = {jetlib.JET_R}, pT > {jetlib.JET_PT_MIN_GEV} GeV for reconstructed and "
            "generator jets, candidates scaled by their weight; generator jets from the hard "
            "collision's visible particles"
        ),
        "jet_resolution": (
            "the reference code's: energy response (E - E_gen) / E_gen of every jet pair with "
            f"dR < {jetlib.REFERENCE_MATCH_DR_MAX} (a jet may be in several pairs)"
        ),
        "jet_resolution_pt_one_to_one": (
            f"pT response of jets matched one to one by increasing dR < {jetlib.MATCH_DR_MAX}"
        ),
        "jet_matching_efficiency": (
            f"jets matched one to one / generator jets with |eta| < {CALO_ETA_MAX}"
        ),
        "accuracy_first_bin_ratio": (
            "the reference code's: N / N_teacher in the first of 20 weight bins, [0, 0.05]"
        ),
        "accuracy_last_bin_ratio": (
            "the reference code's: N / N_teacher in the last of 20 weight bins, [0.95, 1]"
        ),
        "accuracy": (
            "mean over the 20 weight bins of min(N, N_teacher) / max(N, N_teacher) (the paper's "
            "histogram accuracy as qdistill computes it)"
        ),
        "met_resolution_tracker": (
            f"missing pT of the candidates with |eta| < {eta_regions.TRACKER_MET_ETA_MAX} only, "
            "against the same generator missing pT"
        ),
        "by_eta_region": (
            "weighted_over_primary_pt: sum w pT of the region's candidates / the primary "
            "collision's pT in it: sum f pT (f: truth fraction; primary_reference "
            "'truth_fraction') or the pT of the event reconstructed without pileup "
            "('nopu', the public DistillNet files' data_nopu); jets: those whose generator jet "
            "lies in the region"
        ),
        "unphysical": (
            f"median MET response < {MET_RESPONSE_MEDIAN_MIN}, or jet matching efficiency < "
            f"{JET_MATCHING_FRACTION_OF_PUPPI_MIN} x PUPPI's: its resolutions are not figures "
            "of merit"
        ),
    }


def _plot(acc: _Accumulator, summary: Mapping[str, Any], out: Path, rlabel: str) -> list[Path]:
    denominator = (acc.primary_reference or TRUTH_REFERENCE).tex
    met_gen = np.asarray(acc.met_gen)
    met_resp = {n: (np.asarray(acc.met[n]) - met_gen) / met_gen for n in acc.names}
    jet_resp = {n: np.asarray(acc.jet_resp[n]) for n in acc.names}
    nan = math.nan
    met_sigma = {n: v if v is not None else nan for n, v in summary["met_resolution"].items()}
    jet_sigma = {n: v if v is not None else nan for n, v in summary["jet_resolution"].items()}
    return [
        *plots.plot_responses(met_resp, met_sigma, out, observable="met", rlabel=rlabel),
        *plots.plot_responses(jet_resp, jet_sigma, out, observable="jet", rlabel=rlabel),
        *plots.plot_by_region(
            summary["by_eta_region"], out, rlabel=rlabel, denominator_label=denominator
        ),
        # without truth every candidate would fall in "pileup": no split by origin to draw
        *(
            plots.plot_weight_distributions(
                acc.counts_pv, acc.counts_pu, WEIGHT_BINS, out, rlabel=rlabel
            )
            if acc.primary_reference is TRUTH_REFERENCE
            else []
        ),
        *(
            plots.plot_pt_ratio_maps(
                acc.pt_maps,
                acc.primary_pt,
                out,
                rlabel=rlabel,
                denominator_label=denominator,
            )
            if acc.primary_reference is not None
            else []
        ),
    ]


def _fmt(value: float | None, unc: float | None = None, percent: bool = False) -> str:
    if value is None:
        return "–"
    scale, unit = (100.0, " %") if percent else (1.0, "")
    text = f"{value * scale:.1f}" if percent else f"{value:.4f}"
    if unc is not None:
        text += f" ± {unc * scale:.1f}" if percent else f" ± {unc:.4f}"
    return text + unit


def _region_markdown(summary: Mapping[str, Any]) -> list[str]:
    """The tracker-only MET line and the per-|η|-region table of :func:`summary_markdown`."""
    names = summary["weightings"]
    references = {r.name: r.text for r in (TRUTH_REFERENCE, NOPU_REFERENCE)}
    denominator = references.get(
        summary.get("primary_reference") or "", "(no primary-collision reference)"
    )
    tracker, tracker_unc = (
        summary["met_resolution_tracker"],
        summary["met_resolution_tracker_uncertainty"],
    )
    lines = [
        "",
        f"Tracker-only missing pT resolution (|η| < {eta_regions.TRACKER_MET_ETA_MAX}): "
        + ", ".join(f"{n} {_fmt(tracker[n], tracker_unc[n])}" for n in names)
        + ".",
        "",
        f"Per |η| region: Σ w·pT of the candidates / {denominator}, then the jet resolution of "
        "the jets whose generator jet lies in the region.",
        "",
        "| region | " + " | ".join(names) + " |",
        "| --- |" + " --- |" * len(names),
    ]
    for row in summary["by_eta_region"]:
        cells = [
            f"{_fmt(row['weighted_over_primary_pt'][n])}; "
            f"{_fmt(row['jet_resolution'][n], row['jet_resolution_uncertainty'][n])}"
            for n in names
        ]
        lines.append(f"| {row['eta_min']:g}–{row['eta_max']:g} | " + " | ".join(cells) + " |")
    return lines


def summary_markdown(summary: Mapping[str, Any]) -> str:
    """The summary as a markdown table, one row a weighting."""
    lines = [
        f"# qdistill evaluate: {summary['data']}",
        "",
        f"{summary['events']} events ({summary['events_with_gen_met']} with generator missing pT "
        f"> 0), {summary['gen_jets']} generator jets within |η| < {summary['gen_jet_eta_max']}. "
        "Uncertainties: bootstrap over events, "
        f"{summary['bootstrap']['resamples']} resamples, seed {summary['bootstrap']['seed']}. "
        "Improvement = (σ_PUPPI − σ)/σ_PUPPI.",
        "",
        "Jets: energy response of all pairs with ΔR < 0.4 (the reference code's); pT one to "
        "one in the second column. Accuracy vs the teacher: first- and last-bin ratios (the "
        "reference code's), then the bin average.",
        "",
        "| weighting | MET resolution | MET vs PUPPI | jet resolution | jets vs PUPPI "
        "| jet pT, one to one | jets matched | accuracy: first, last bin; average |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n in summary["weightings"]:
        eff = summary["jet_matching_efficiency"].get(n)
        lines.append(
            "| "
            + " | ".join(
                [
                    n,
                    _fmt(summary["met_resolution"][n], summary["met_resolution_uncertainty"][n]),
                    _fmt(
                        summary["met_improvement_over_puppi"].get(n),
                        summary["met_improvement_over_puppi_uncertainty"].get(n),
                        percent=True,
                    ),
                    _fmt(summary["jet_resolution"][n], summary["jet_resolution_uncertainty"][n]),
                    _fmt(
                        summary["jet_improvement_over_puppi"].get(n),
                        summary["jet_improvement_over_puppi_uncertainty"].get(n),
                        percent=True,
                    ),
                    _fmt(
                        summary["jet_resolution_pt_one_to_one"][n],
                        summary["jet_resolution_pt_one_to_one_uncertainty"][n],
                    ),
                    f"{summary['jets_matched'][n]}" + (f" ({eff:.0%})" if eff is not None else ""),
                    "; ".join(
                        _fmt(summary[k].get(n), percent=True)
                        for k in ("accuracy_first_bin_ratio", "accuracy_last_bin_ratio", "accuracy")
                    ),
                ]
            )
            + " |"
        )
    lines += _region_markdown(summary)
    if summary["warnings"]:
        lines += ["", *(f"**Warning:** {w}." for w in summary["warnings"])]
    if summary["skipped"]:
        lines += ["", "Not evaluated:", ""]
        lines += [f"- {n}: {why}" for n, why in summary["skipped"].items()]
    return "\n".join(lines) + "\n"
