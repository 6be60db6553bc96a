"""``qdistill data import-delphes``: Delphes ROOT files (read with uproot) to our event files.

Candidates are Delphes' particle-flow inputs: ``EFlowTrack`` (charged; d0, dz from its leaves),
``EFlowPhoton`` and ``EFlowNeutralHadron`` (calorimeter towers). Invalid entries (Delphes writes
tracks with PT = 0 and η = 999.9) are dropped and counted. What the file lacks is said, never
invented; every missing piece is listed in the output's ``missing`` attribute (``data info``):

- truth (the hard-collision share of each candidate) from, in this order, a
  ``HardEnergyFraction`` leaf, an ``IsPU`` leaf, or the links to ``Particle`` (a track's
  ``Particle`` TRef, a tower's ``Particles`` TRefArray, energy-weighted), whose references are
  the low 24 bits of ``Particle.fUniqueID``; ``Particle.IsPU`` tells pileup from the hard
  collision. Without any of them ``truth_fraction`` is -1 and ``truth_available`` false;
- generator particles (``X_gen``): ``Particle`` with Status 1 and IsPU 0;
- pileup count and primary-vertex z from ``Vertex`` (its first entry is the primary vertex);
- the PUPPI weight from the leaf ``puppi_leaf`` of every candidate collection when one is named,
  else computed by qdistill's PUPPI (:mod:`qdistill.data.puppi`), tracks associated to the primary
  vertex by their truth (all of them when the file has no truth).

A card that writes only ``ParticleFlowCandidate`` is read from that collection instead: charged
candidates as tracks, neutral ones as photons (PDG 22) or neutral hadrons.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from qdistill import features
from qdistill.atomic import atomic_path
from qdistill.data.layout import NO_TRUTH, Event, EventWriter
from qdistill.data.puppi import puppi_weights
from qdistill.errors import QdistillError
from qdistill.kinematics import wrap_phi

TREE: Final[str] = "Delphes"
TRACKS: Final[str] = "EFlowTrack"
PHOTONS: Final[str] = "EFlowPhoton"
NEUTRAL_HADRONS: Final[str] = "EFlowNeutralHadron"
TOWERS: Final[tuple[str, ...]] = (PHOTONS, NEUTRAL_HADRONS)
EFLOW: Final[tuple[str, ...]] = (TRACKS, *TOWERS)
PF_CANDIDATES: Final[str] = "ParticleFlowCandidate"
GEN: Final[str] = "Particle"
VERTEX: Final[str] = "Vertex"
TRACK_LEAVES: Final[tuple[str, ...]] = (
    "PT",
    "Eta",
    "Phi",
    "Charge",
    "PID",
    "P",
    "Mass",
    "D0",
    "DZ",
)
TOWER_LEAVES: Final[tuple[str, ...]] = ("ET", "E", "Eta", "Phi")
PF_LEAVES: Final[tuple[str, ...]] = ("PT", "Eta", "Phi", "E", "Charge", "PID", "D0", "DZ")
#: PDG id of a neutral particle-flow candidate that is a photon (the others: neutral hadrons).
PHOTON_PDG: Final[int] = 22
GEN_LEAVES: Final[tuple[str, ...]] = ("PID", "Status", "Px", "Py", "Pz", "E", "PT", "fUniqueID")
#: |η| above this is Delphes' marker of an invalid entry (it writes ±999.9).
INVALID_ETA: Final[float] = 100.0
#: A TRef's reference is the referenced object's fUniqueID without its process-ID byte.
UNIQUE_ID_MASK: Final[int] = 0xFFFFFF
#: Our PID classes of charged tracks by |PDG id| and sign of the charge (hadrons otherwise).
_LEPTON_CLASS: Final[dict[tuple[int, int], int]] = {
    (11, -1): 11,
    (11, 1): -11,
    (13, -1): 13,
    (13, 1): -13,
}
_TOWER_CLASS: Final[dict[str, int]] = {PHOTONS: 2, NEUTRAL_HADRONS: 1}
DEFAULT_STEP_SIZE: Final[str] = "100 MB"  # uproot.iterate's step: bounded memory

F64 = npt.NDArray[np.float64]


@dataclass
class DelphesImport:
    """What an import read, wrote, dropped and could not find."""

    output: str
    files: list[str]
    events: int = 0
    candidates: int = 0
    dropped_invalid: dict[str, int] = field(default_factory=dict)
    truth_source: str | None = None
    puppi_source: str = ""
    gen_available: bool = False
    vertices_available: bool = False
    missing: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Plan:
    """Which branches the files have, so what is read and how truth is found."""

    branches: tuple[str, ...]
    candidates: tuple[str, ...]  # EFLOW, or (PF_CANDIDATES,)
    truth: str | None  # "HardEnergyFraction", "IsPU", "Particle links" or None
    gen: bool
    gen_is_pu: bool
    vertices: bool
    puppi_leaf: str | None


def _open_tree(path: Path, tree: str) -> Any:
    import uproot

    if not path.is_file():
        raise QdistillError(f"{path}: no such file")
    try:
        root = uproot.open(path)
    except Exception as exc:  # uproot raises ValueError/OSError/… for a file that is not ROOT
        why = " ".join(str(exc).split())  # uproot's messages span lines
        raise QdistillError(f"{path}: not a ROOT file uproot can read ({why})") from None
    try:
        obj = root[tree]
    except KeyError:
        keys = ", ".join(sorted({k.split(";")[0] for k in root.keys(recursive=False)})) or "none"
        raise QdistillError(
            f"{path}: no tree {tree!r} (keys in the file: {keys}); pass the tree with --tree"
        ) from None
    if not hasattr(obj, "num_entries"):
        raise QdistillError(f"{path}: {tree!r} is a {type(obj).__name__}, not a TTree")
    return obj


def _required(collections: tuple[str, ...], puppi_leaf: str | None) -> list[str]:
    """The branches every file needs for the candidate ``collections``."""
    required = [f"{c}_size" for c in collections]
    for c in collections:
        leaves = {TRACKS: TRACK_LEAVES, PF_CANDIDATES: PF_LEAVES}.get(c, TOWER_LEAVES)
        required += [f"{c}.{leaf}" for leaf in leaves]
        required += [f"{c}.{puppi_leaf}"] if puppi_leaf is not None else []
    return required


def _plan(path: Path, tree: Any, puppi_leaf: str | None) -> _Plan:
    names = set(tree.keys(recursive=True, full_paths=False))
    candidates = EFLOW
    required = _required(EFLOW, puppi_leaf)
    if any(b not in names for b in required) and f"{PF_CANDIDATES}_size" in names:
        candidates = (PF_CANDIDATES,)  # a card that writes the particle-flow candidates only
        required = _required(candidates, puppi_leaf)
    missing = [b for b in required if b not in names]
    if missing:
        shown = ", ".join(missing[:6]) + (" …" if len(missing) > 6 else "")
        raise QdistillError(
            f"{path}: tree {tree.name!r} lacks the branches {shown}; a Delphes file with "
            "EFlowTrack, EFlowPhoton and EFlowNeutralHadron (or ParticleFlowCandidate) is needed"
        )
    gen = all(f"{GEN}.{leaf}" in names for leaf in GEN_LEAVES)
    gen_is_pu = gen and f"{GEN}.IsPU" in names
    links = [f"{c}.Particle" if c == TRACKS else f"{c}.Particles" for c in candidates]
    truth: str | None = None
    for leaf in ("HardEnergyFraction", "IsPU"):
        if all(f"{c}.{leaf}" in names for c in candidates):
            truth = leaf
            break
    else:
        if gen_is_pu and all(b in names for b in links):
            truth = "Particle links"
    branches = list(required)
    if truth in ("HardEnergyFraction", "IsPU"):
        branches += [f"{c}.{truth}" for c in candidates]
    elif truth == "Particle links":
        branches += links
    if gen:
        branches += [f"{GEN}.{leaf}" for leaf in GEN_LEAVES] + [f"{GEN}_size"]
        branches += [f"{GEN}.IsPU"] if gen_is_pu else []
    vertices = f"{VERTEX}.Z" in names and f"{VERTEX}_size" in names
    if vertices:
        branches += [f"{VERTEX}.Z", f"{VERTEX}_size"]
    return _Plan(
        tuple(dict.fromkeys(branches)), candidates, truth, gen, gen_is_pu, vertices, puppi_leaf
    )


def import_delphes(
    sources: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    tree: str = TREE,
    puppi_leaf: str | None = None,
    step_size: str | int = DEFAULT_STEP_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> DelphesImport:
    """Convert the Delphes files ``sources`` (in order) into the event file ``output``.

    Every file is opened and checked (the tree, the branches, the same layout in all) before
    anything is written; events are streamed with ``uproot.iterate`` in steps of ``step_size``
    and written to a temporary file renamed at the end. ``progress(done, total)`` counts events.
    """
    paths = [Path(s) for s in sources]
    if not paths:
        raise QdistillError("give at least one Delphes ROOT file")
    trees = []
    try:
        for path in paths:
            trees.append(_open_tree(path, tree))
        plans = [_plan(path, t, puppi_leaf) for path, t in zip(paths, trees, strict=True)]
        if any(p != plans[0] for p in plans[1:]):
            raise QdistillError(
                "the Delphes files differ in which branches they hold (truth, Particle, Vertex); "
                "import them separately"
            )
        return _convert(trees, plans[0], paths, output, tree, step_size, progress)
    finally:
        for t in trees:
            t.file.close()


def _convert(
    trees: list[Any],
    plan: _Plan,
    paths: list[Path],
    output: str | os.PathLike[str],
    tree: str,
    step_size: str | int,
    progress: Callable[[int, int], None] | None,
) -> DelphesImport:
    total = sum(int(t.num_entries) for t in trees)
    result = _describe(plan, output, paths)
    dropped = dict.fromkeys(plan.candidates, 0)
    attrs = {
        "source": ";".join(str(p) for p in paths),
        "source_layout": "delphes",
        "delphes_tree": tree,
        "truth_available": plan.truth is not None,
        "truth_source": plan.truth or "none",
        "gen_available": plan.gen,
        "puppi_source": result.puppi_source,
        "missing": result.missing,
    }
    if progress is not None:
        progress(0, total)
    with atomic_path(Path(output)) as tmp, EventWriter(tmp, attrs=attrs) as writer:
        for t in trees:
            for chunk in t.iterate(list(plan.branches), step_size=step_size, library="ak"):
                events = [_event(chunk, k, plan, dropped) for k in range(len(chunk))]
                writer.write(events)
                result.events += len(events)
                result.candidates += sum(e.n_particles for e in events)
                if progress is not None:
                    progress(result.events, total)
        writer.set_attrs({f"dropped_invalid_{c}": n for c, n in dropped.items()})
    result.dropped_invalid = dropped
    return result


def _describe(plan: _Plan, output: str | os.PathLike[str], paths: list[Path]) -> DelphesImport:
    missing = []
    if plan.truth is None:
        missing.append(
            "truth: no HardEnergyFraction or IsPU leaf and no Particle links with Particle.IsPU; "
            "truth_fraction is -1"
        )
    if not plan.gen:
        missing.append("generator particles: no Particle branch; no X_gen, MET or jet truth")
    if not plan.vertices:
        missing.append("vertices: no Vertex branch; n_pileup 0 and primary vertex z 0 mm")
    if plan.puppi_leaf is None:
        puppi = "computed by qdistill's PUPPI at import (the file's candidates carry no weight)"
        missing.append(f"PUPPI weights: {puppi}")
    else:
        puppi = f"the file's leaf {plan.puppi_leaf}"
    return DelphesImport(
        output=str(output),
        files=[str(p) for p in paths],
        truth_source=plan.truth,
        puppi_source=puppi,
        gen_available=plan.gen,
        vertices_available=plan.vertices,
        missing=missing,
    )


def _leaf(chunk: Any, collection: str, leaf: str, k: int, dtype: Any = np.float64) -> Any:
    return np.asarray(chunk[f"{collection}.{leaf}"][k], dtype=dtype)


def _event(chunk: Any, k: int, plan: _Plan, dropped: dict[str, int]) -> Event:
    """Event ``k`` of an uproot chunk (awkward arrays keyed by branch name)."""
    gen_rows = _gen_rows(chunk, k) if plan.gen else None
    if plan.candidates == EFLOW:
        parts = [_tracks(chunk, k, plan, dropped, gen_rows)]
        parts += [_towers(chunk, k, c, plan, dropped, gen_rows) for c in TOWERS]
    else:
        parts = [_pf_candidates(chunk, k, plan, dropped, gen_rows)]
    pt, eta, phi, energy, charge, pid, d0, dz, truth, puppi = (
        np.concatenate([p[i] for p in parts]) for i in range(10)
    )
    n_vertices = 1
    pv_z_mm = 0.0
    if plan.vertices:
        z = _leaf(chunk, VERTEX, "Z", k)
        n_vertices = max(1, len(z))
        pv_z_mm = float(z[0]) if len(z) else 0.0
    if plan.puppi_leaf is None:
        charged = charge != 0
        from_pv = truth >= 0.5 if plan.truth is not None else np.ones(len(pt), bool)
        leptons = np.isin(np.abs(pid), (11, 13))
        puppi = puppi_weights(eta, phi, pt, charged, from_pv, n_vertices, leptons=leptons)
    feats = np.zeros((len(pt), features.N_FEATURES), dtype=np.float32)
    feats[:, features.ETA] = eta
    feats[:, features.PHI] = wrap_phi(phi)
    feats[:, features.LOG_PT] = np.log(pt)
    feats[:, features.LOG_E] = np.log(energy)
    feats[:, features.CHARGE] = charge
    feats[:, features.PUPPI_WEIGHT] = puppi
    feats[:, features.PID_SLICE] = features.pid_one_hot(pid)
    feats[:, features.D0] = d0
    feats[:, features.DZ] = dz
    p4 = np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), energy], axis=1)
    gen_p4, gen_pdg = _gen_particles(chunk, k, plan)
    return Event(
        features=feats,
        p4=p4.astype(np.float32),
        truth_fraction=truth.astype(np.float32),
        gen_p4=gen_p4,
        gen_pdg_id=gen_pdg,
        n_pileup=n_vertices - 1,
        pv_z_mm=pv_z_mm,
    )


def _gen_rows(chunk: Any, k: int) -> tuple[npt.NDArray[np.int64], F64, F64]:
    """The event's Particle unique IDs (low 24 bits, ascending), energies and pileup flags."""
    uid = _leaf(chunk, GEN, "fUniqueID", k, np.int64) & UNIQUE_ID_MASK
    energy = _leaf(chunk, GEN, "E", k)
    is_pu = _leaf(chunk, GEN, "IsPU", k) if f"{GEN}.IsPU" in chunk.fields else np.zeros(len(uid))
    return uid, energy, is_pu


def _resolve(uid: npt.NDArray[np.int64], refs: npt.ArrayLike, what: str) -> npt.NDArray[np.int64]:
    """Rows of ``Particle`` that TRef references point to; QdistillError for a dangling one."""
    r = np.asarray(refs, dtype=np.int64) & UNIQUE_ID_MASK
    if len(r) == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(uid, kind="stable")
    pos = np.minimum(np.searchsorted(uid[order], r), max(len(uid) - 1, 0))
    rows = order[pos] if len(uid) else np.full(len(r), -1)
    dangling = (rows < 0) | (uid[np.maximum(rows, 0)] != r) if len(uid) else rows < 0
    if dangling.any():
        raise QdistillError(
            f"{what}: {int(dangling.sum())} references to Particle entries that are not in the "
            "event; the file's Particle branch does not match its candidates"
        )
    return rows


def _truth(chunk: Any, k: int, collection: str, plan: _Plan, gen_rows: Any, n: int) -> F64:
    """Hard-collision share of each of the ``n`` entries of ``collection`` (-1: no truth)."""
    where = f"{collection} (entry {k} of a step)"
    if plan.truth == "HardEnergyFraction":
        return _leaf(chunk, collection, "HardEnergyFraction", k)
    if plan.truth == "IsPU":
        return 1.0 - _leaf(chunk, collection, "IsPU", k)
    if plan.truth == "Particle links":
        if collection == TRACKS:  # one TRef a track
            uid, _, is_pu = gen_rows
            refs = np.asarray(chunk[f"{TRACKS}.Particle"][k]["ref"], dtype=np.int64)
            return 1.0 - is_pu[_resolve(uid, refs, where)]
        return _tower_truth(chunk[f"{collection}.Particles"][k]["refs"], gen_rows, where)
    return np.full(n, NO_TRUTH)


def _charged_classes(pdg_id: npt.NDArray[np.int64], sign: npt.NDArray[np.int64]) -> Any:
    """Our PID class of charged candidates: electron or muon by |PDG id|, else a hadron."""
    abs_pid = np.abs(pdg_id)
    pid = np.where(sign < 0, -211, 211)
    for (code, s), cls in _LEPTON_CLASS.items():
        pid = np.where((abs_pid == code) & (sign == s), cls, pid)
    return pid


def _tracks(
    chunk: Any, k: int, plan: _Plan, dropped: dict[str, int], gen_rows: Any
) -> list[np.ndarray]:
    pt, eta, phi = (_leaf(chunk, TRACKS, leaf, k) for leaf in ("PT", "Eta", "Phi"))
    charge = _leaf(chunk, TRACKS, "Charge", k, np.int64)
    keep = (pt > 0) & (np.abs(eta) < INVALID_ETA) & (charge != 0)
    dropped[TRACKS] += int((~keep).sum())
    p, mass = _leaf(chunk, TRACKS, "P", k), _leaf(chunk, TRACKS, "Mass", k)
    energy = np.sqrt(p**2 + mass**2)
    sign = np.sign(charge)
    pid = _charged_classes(_leaf(chunk, TRACKS, "PID", k, np.int64), sign)
    truth = _truth(chunk, k, TRACKS, plan, gen_rows, len(pt))
    puppi = _puppi_leaf(chunk, TRACKS, k, plan, len(pt))
    d0, dz = _leaf(chunk, TRACKS, "D0", k), _leaf(chunk, TRACKS, "DZ", k)
    columns = [pt, eta, phi, energy, sign.astype(np.float64), pid, d0, dz, truth, puppi]
    return [c[keep] for c in columns]


def _towers(
    chunk: Any, k: int, collection: str, plan: _Plan, dropped: dict[str, int], gen_rows: Any
) -> list[np.ndarray]:
    et, energy, eta, phi = (_leaf(chunk, collection, leaf, k) for leaf in TOWER_LEAVES)
    keep = (et > 0) & (energy > 0) & (np.abs(eta) < INVALID_ETA)
    dropped[collection] += int((~keep).sum())
    n = len(et)
    truth = _truth(chunk, k, collection, plan, gen_rows, n)
    zeros = np.zeros(n)
    pid = np.full(n, _TOWER_CLASS[collection])
    puppi = _puppi_leaf(chunk, collection, k, plan, n)
    columns = [et, eta, phi, energy, zeros, pid, zeros, zeros, truth, puppi]
    return [c[keep] for c in columns]


def _pf_candidates(
    chunk: Any, k: int, plan: _Plan, dropped: dict[str, int], gen_rows: Any
) -> list[np.ndarray]:
    """``ParticleFlowCandidate``: charged ones as tracks, neutral ones as photons (PDG 22) or
    neutral hadrons, with d0 = dz = 0 for the neutral ones."""
    c = PF_CANDIDATES
    pt, eta, phi, energy = (_leaf(chunk, c, leaf, k) for leaf in ("PT", "Eta", "Phi", "E"))
    keep = (pt > 0) & (energy > 0) & (np.abs(eta) < INVALID_ETA)
    dropped[c] += int((~keep).sum())
    sign = np.sign(_leaf(chunk, c, "Charge", k, np.int64))
    pdg_id = _leaf(chunk, c, "PID", k, np.int64)
    neutral_class = np.where(np.abs(pdg_id) == PHOTON_PDG, 2, 1)
    pid = np.where(sign != 0, _charged_classes(pdg_id, sign), neutral_class)
    charged = sign != 0
    d0 = np.where(charged, _leaf(chunk, c, "D0", k), 0.0)
    dz = np.where(charged, _leaf(chunk, c, "DZ", k), 0.0)
    truth = _truth(chunk, k, c, plan, gen_rows, len(pt))
    puppi = _puppi_leaf(chunk, c, k, plan, len(pt))
    columns = [pt, eta, phi, energy, sign.astype(np.float64), pid, d0, dz, truth, puppi]
    return [col[keep] for col in columns]


def _tower_truth(refs: Any, gen_rows: Any, what: str) -> F64:
    """Energy-weighted hard-collision share of each tower's linked generator particles (-1 for
    a tower linked to none)."""
    import awkward as ak

    uid, energy, is_pu = gen_rows
    counts = np.asarray(ak.num(refs), dtype=np.int64)
    rows = _resolve(uid, np.asarray(ak.flatten(refs), dtype=np.int64), what)
    tower = np.repeat(np.arange(len(counts)), counts)
    total = np.bincount(tower, weights=energy[rows], minlength=len(counts))
    hard = np.bincount(tower, weights=energy[rows] * (1.0 - is_pu[rows]), minlength=len(counts))
    return np.where(total > 0, hard / np.where(total > 0, total, 1.0), NO_TRUTH)


def _puppi_leaf(chunk: Any, collection: str, k: int, plan: _Plan, n: int) -> F64:
    if plan.puppi_leaf is None:
        return np.zeros(n)  # computed for the whole event once all candidates are known
    return _leaf(chunk, collection, plan.puppi_leaf, k)


def _gen_particles(
    chunk: Any, k: int, plan: _Plan
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int32]]:
    if not plan.gen:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.int32)
    status = _leaf(chunk, GEN, "Status", k, np.int64)
    keep = (status == 1) & (_leaf(chunk, GEN, "PT", k) > 0)
    if plan.gen_is_pu:
        keep &= _leaf(chunk, GEN, "IsPU", k, np.int64) == 0
    p4 = np.stack([_leaf(chunk, GEN, leaf, k) for leaf in ("Px", "Py", "Pz", "E")], axis=1)
    return p4[keep].astype(np.float32), _leaf(chunk, GEN, "PID", k, np.int32)[keep]
