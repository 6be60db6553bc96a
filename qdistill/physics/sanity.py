"""Which weightings lose the event: a resolution is only a figure of merit for a weighting that
keeps the hard collision.

A network that learned to give (almost) every particle weight 0 has a tiny missing-pT
"resolution" (the reconstructed MET is always ≈ 0, so the response is always ≈ −1) and a jet
resolution measured on the few jets that survive. Such a weighting must not look like the best
one: :func:`unphysical_weightings` names it and says why, from figures the summary already holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

#: Below this median of (MET − MET_gen)/MET_gen the weighting removes most of the event.
MET_RESPONSE_MEDIAN_MIN: Final[float] = -0.5
#: Below this fraction of PUPPI's jet matching efficiency most generator jets are lost.
JET_MATCHING_FRACTION_OF_PUPPI_MIN: Final[float] = 0.5
REFERENCE: Final[str] = "puppi"


def unphysical_weightings(summary: Mapping[str, Any]) -> dict[str, str]:
    """``{weighting: why}`` for every weighting of an evaluate summary that loses the event.

    ``summary`` needs ``weightings``, ``met_response_median`` and ``jet_matching_efficiency``
    (as written by ``qdistill evaluate``); figures that are null count as missing, not as failed.
    """
    met_median = summary["met_response_median"]
    efficiency = summary["jet_matching_efficiency"]
    reference = efficiency.get(REFERENCE)
    reasons: dict[str, str] = {}
    for name in summary["weightings"]:
        why = []
        median = met_median.get(name)
        if median is not None and median < MET_RESPONSE_MEDIAN_MIN:
            why.append(f"median MET response {median:.2f} < {MET_RESPONSE_MEDIAN_MIN}")
        eff = efficiency.get(name)
        if (
            eff is not None
            and reference
            and name != REFERENCE
            and eff < JET_MATCHING_FRACTION_OF_PUPPI_MIN * reference
        ):
            why.append(
                f"matches {eff:.0%} of generator jets, less than "
                f"{JET_MATCHING_FRACTION_OF_PUPPI_MIN:.0%} of PUPPI's {reference:.0%}"
            )
        if why:
            reasons[name] = "; ".join(why)
    return reasons
