"""A weighting that removes the event is named, with the figure that shows it."""

from __future__ import annotations

from qdistill.physics.sanity import unphysical_weightings


def _summary(**firmware: float | None) -> dict[str, object]:
    names = ["puppi", "teacher", "qdistillnet_firmware"]
    met = {"puppi": 0.16, "teacher": -0.11, "qdistillnet_firmware": firmware.get("met")}
    eff = {"puppi": 0.88, "teacher": 0.78, "qdistillnet_firmware": firmware.get("eff")}
    return {"weightings": names, "met_response_median": met, "jet_matching_efficiency": eff}


def test_a_weighting_that_keeps_the_event_is_not_flagged() -> None:
    # the teacher matches 78 % against PUPPI's 88 %: fewer, but far from half
    assert unphysical_weightings(_summary(met=-0.16, eff=0.755)) == {}
    assert unphysical_weightings(_summary(met=None, eff=None)) == {}


def test_all_weights_near_zero_is_flagged_by_the_met_response() -> None:
    # a scan point (4-bit weights, 90 % pruned) whose MET "resolution" was 0.002: MET ≈ 0 always
    reasons = unphysical_weightings(_summary(met=-0.995, eff=0.0))
    assert list(reasons) == ["qdistillnet_firmware"]
    assert "median MET response -0.99 < -0.5" in reasons["qdistillnet_firmware"]
    assert "matches 0% of generator jets" in reasons["qdistillnet_firmware"]


def test_losing_most_jets_is_flagged_even_with_a_fair_met_response() -> None:
    reasons = unphysical_weightings(_summary(met=-0.40, eff=0.27))
    assert reasons == {
        "qdistillnet_firmware": "matches 27% of generator jets, less than 50% of PUPPI's 88%"
    }
