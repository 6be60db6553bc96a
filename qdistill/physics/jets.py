"""Jets: anti-kt R = 0.4 with FastJet on weighted candidates and on generator particles; matching.

Reconstructed jets are clustered from the candidates with each four-momentum scaled by its
per-particle weight (candidates of weight 0 are dropped: they would be zero-momentum ghosts).
Generator jets are clustered the same way from the visible final-state particles of the hard
collision (neutrinos removed; no pileup, no detector). Both keep jets with pT > 15 GeV.

Two matchings. The reference DistillNet code's (jetclustering_helpers.py ``Jetmatching``): every
pair of a reconstructed and a generator jet with ΔR = √(Δη² + Δφ²) < 0.4 counts, with the energy
response (E − E_gen)/E_gen (:func:`energy_responses_all_pairs`). And one to one on pT: pairs with
ΔR < 0.2, half the jet radius, taken in order of increasing ΔR, each jet used at most once, so
one reconstructed jet never answers for two generator jets (:func:`matched_responses`).

FastJet (Cacciari, Salam, Soyez, Eur. Phys. J. C72 (2012) 1896) is used through the classic
``fastjet.ClusterSequence`` on a list of ``fastjet.PseudoJet``. Its banner, which it prints on
standard output at the first clustering, is switched off because standard output carries the
``--json`` object; the citation is in docs/physics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import fastjet
import fastjet._swig
import numpy as np
import numpy.typing as npt

from qdistill.errors import QdistillError
from qdistill.kinematics import delta_r
from qdistill.physics.met import check_weights, invisible_mask

JET_R: Final[float] = 0.4
JET_PT_MIN_GEV: Final[float] = 15.0
MATCH_DR_MAX: Final[float] = 0.2
#: The reference code's matching distance (its ``dR = 0.4``, the jet radius).
REFERENCE_MATCH_DR_MAX: Final[float] = JET_R

# The classic (SWIG) class carries FastJet's static banner switch; None means "no stream".
fastjet._swig.ClusterSequence.set_fastjet_banner_stream(None)
_JET_DEF: Final = fastjet.JetDefinition(fastjet.antikt_algorithm, JET_R)


@dataclass(frozen=True)
class Jets:
    """Jets of one event, sorted by decreasing pT: ``pt`` GeV, ``eta``, ``phi`` rad, ``energy``
    GeV, shapes (k,)."""

    pt: npt.NDArray[np.float64]
    eta: npt.NDArray[np.float64]
    phi: npt.NDArray[np.float64]
    energy: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.pt)


def cluster(p4: npt.ArrayLike, pt_min_gev: float = JET_PT_MIN_GEV) -> Jets:
    """Anti-kt R = 0.4 jets with pT > ``pt_min_gev`` from four-momenta (n, 4): px, py, pz, E GeV."""
    p = np.asarray(p4, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 4:
        raise QdistillError(f"four-momenta must have shape (n, 4), got {p.shape}")
    particles = [fastjet.PseudoJet(*row) for row in p.tolist()]
    sequence = fastjet.ClusterSequence(particles, _JET_DEF)
    jets = fastjet.sorted_by_pt(sequence.inclusive_jets(pt_min_gev))
    return Jets(
        pt=np.array([j.pt() for j in jets], dtype=np.float64),
        eta=np.array([j.eta() for j in jets], dtype=np.float64),
        phi=np.array([j.phi_std() for j in jets], dtype=np.float64),
        energy=np.array([j.e() for j in jets], dtype=np.float64),
    )


def weighted_jets(
    p4: npt.ArrayLike,
    weights: npt.ArrayLike,
    name: str = "weights",
    pt_min_gev: float = JET_PT_MIN_GEV,
) -> Jets:
    """Jets from candidates (n, 4) GeV whose four-momenta are scaled by ``weights`` (n,)."""
    p = np.asarray(p4, dtype=np.float64)
    w = check_weights(weights, len(p), name)
    keep = w > 0
    return cluster(p[keep] * w[keep, None], pt_min_gev)


def gen_jets(
    gen_p4: npt.ArrayLike, gen_pdg_id: npt.ArrayLike, pt_min_gev: float = JET_PT_MIN_GEV
) -> Jets:
    """Jets from the visible final-state particles (m, 4) GeV of the hard collision."""
    p = np.asarray(gen_p4, dtype=np.float64)
    return cluster(p[~invisible_mask(gen_pdg_id)], pt_min_gev)


def match(
    reco: Jets, gen: Jets, dr_max: float = MATCH_DR_MAX
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """One-to-one matching by increasing ΔR < ``dr_max``: (reco indices, gen indices), (k,)."""
    if len(reco) == 0 or len(gen) == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    dr = delta_r(reco.eta, reco.phi, gen.eta, gen.phi)
    order = np.argsort(dr, axis=None, kind="stable")
    used_reco = np.zeros(len(reco), dtype=bool)
    used_gen = np.zeros(len(gen), dtype=bool)
    pairs: list[tuple[int, int]] = []
    for flat in order:
        i, j = divmod(int(flat), len(gen))
        if dr[i, j] >= dr_max:
            break
        if not used_reco[i] and not used_gen[j]:
            used_reco[i] = used_gen[j] = True
            pairs.append((i, j))
    pairs.sort(key=lambda ij: ij[1])
    idx = np.array(pairs, dtype=np.intp).reshape(-1, 2)
    return idx[:, 0], idx[:, 1]


def jet_response(reco: Jets, gen: Jets, dr_max: float = MATCH_DR_MAX) -> npt.NDArray[np.float64]:
    """Response (pT − pT,gen)/pT,gen of each matched jet, ordered like the generator jets, (k,)."""
    return matched_responses(reco, gen, dr_max)[0]


def energy_responses_all_pairs(
    reco: Jets, gen: Jets, dr_max: float = REFERENCE_MATCH_DR_MAX
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(E − E_gen)/E_gen of every (reco, gen) pair with ΔR < ``dr_max``, and the η of the pair's
    generator jet, both (k,), reco-major order (the reference code's loops)."""
    if len(reco) == 0 or len(gen) == 0:
        empty = np.zeros(0)
        return empty, empty
    i_reco, i_gen = np.nonzero(delta_r(reco.eta, reco.phi, gen.eta, gen.phi) < dr_max)
    return (reco.energy[i_reco] - gen.energy[i_gen]) / gen.energy[i_gen], gen.eta[i_gen]


def matched_responses(
    reco: Jets, gen: Jets, dr_max: float = MATCH_DR_MAX
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(responses, η of their generator jets), both (k,), ordered like the generator jets."""
    i_reco, i_gen = match(reco, gen, dr_max)
    return (reco.pt[i_reco] - gen.pt[i_gen]) / gen.pt[i_gen], gen.eta[i_gen]
