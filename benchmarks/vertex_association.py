"""PUPPI's inputs per |η| region: how many pileup tracks pass as primary, and what PUPPI keeps.

    python benchmarks/vertex_association.py EVENTS.h5 [EVENTS2.h5 …] [--json]

For each event file and each region of :data:`qdistill.physics.regions.ETA_REGIONS`:

* ``pileup_tracks_as_primary``: the share of pileup tracks (charged candidates with truth
  fraction < 0.5) that PUPPI weighs 1, i.e. that the vertex association calls primary;
* ``neutral_weighted_over_primary_pt``: Σ w·pT / Σ f·pT over the neutral candidates (PUPPI's own
  work; 1 = exactly the primary neutral pT);
* ``weighted_over_primary_pt``: the same over all candidates.

Compare a file generated with ``--vertex-association delphes`` against one with ``cms`` (same
seed): the events are the same, only the association and what PUPPI does with it differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np


def region_table(path: Path) -> dict[str, Any]:
    """The figures above for one event file."""
    from qdistill import features
    from qdistill.data.layout import EventFile
    from qdistill.physics.regions import ETA_REGIONS, region_index

    n = len(ETA_REGIONS)
    sums = {k: np.zeros(n) for k in ("pu_tracks", "pu_as_pv", "nw", "nf", "w", "f")}
    with EventFile(path) as events:
        attrs = dict(events.attrs)
        for event in events.iter_events(0, events.n_events):
            f = event.features
            region = region_index(f[:, features.ETA])
            pt = np.hypot(event.p4[:, 0], event.p4[:, 1]).astype(np.float64)
            w = f[:, features.PUPPI_WEIGHT].astype(np.float64)
            truth = event.truth_fraction.astype(np.float64)
            charged = f[:, features.CHARGE] != 0
            inside = region >= 0
            pileup_track = charged & (truth < 0.5) & inside
            neutral = ~charged & inside

            def add(key: str, mask: np.ndarray, values: np.ndarray, r: np.ndarray = region) -> None:
                sums[key] += np.bincount(r[mask], weights=values[mask], minlength=n)

            add("pu_tracks", pileup_track, np.ones(len(w)))
            add("pu_as_pv", pileup_track, (w == 1).astype(np.float64))
            add("nw", neutral, w * pt)
            add("nf", neutral, truth * pt)
            add("w", inside, w * pt)
            add("f", inside, truth * pt)

    def ratio(top: str, bottom: str, k: int) -> float | None:
        return float(sums[top][k] / sums[bottom][k]) if sums[bottom][k] > 0 else None

    rows = [
        {
            "eta_min": lo,
            "eta_max": hi,
            "pileup_tracks": int(sums["pu_tracks"][k]),
            "pileup_tracks_as_primary": ratio("pu_as_pv", "pu_tracks", k),
            "neutral_weighted_over_primary_pt": ratio("nw", "nf", k),
            "weighted_over_primary_pt": ratio("w", "f", k),
        }
        for k, (lo, hi) in enumerate(ETA_REGIONS)
    ]
    puppi = json.loads(attrs.get("puppi_parameters", "{}"))
    return {
        "data": str(path),
        "vertex_association": puppi.get("vertex_association", "cms (before the option)"),
        "regions": rows,
    }


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _markdown(tables: list[dict[str, Any]]) -> str:
    lines = [
        "| file | association | region | pileup tracks as primary | neutral Σw·pT/Σf·pT "
        "| all Σw·pT/Σf·pT |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for t in tables:
        for r in t["regions"]:
            share = r["pileup_tracks_as_primary"]
            cells = [
                Path(t["data"]).name,
                t["vertex_association"],
                f"{r['eta_min']:g}–{r['eta_max']:g}",
                "no tracks" if share is None else f"{share:.2%}",
                _number(r["neutral_weighted_over_primary_pt"]),
                _number(r["weighted_over_primary_pt"]),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="event files (HDF5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    from qdistill.errors import QdistillError

    try:
        tables = [region_table(p) for p in args.files]
    except QdistillError as exc:
        sys.stderr.write(f"vertex_association: error: {exc}\n")
        return 1
    print(json.dumps(tables, indent=2) if args.json else _markdown(tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())
