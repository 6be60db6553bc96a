"""Jet cone diagnostics: what each weighting keeps inside the generator jets' cones.

    python benchmarks/jet_cones.py EVENTS.h5 [--max-events N] [--json]

For every generator jet (anti-kt R = 0.4, pT > 15 GeV, from the hard collision's visible
particles) and every weighting stored in the file (PUPPI; the soft labels when present; the truth
fraction), the candidates within ΔR < 0.4 of the jet axis are summed, each with its weight w and
truth fraction f, into

* ``primary_kept``: Σ w·f·pT / Σ f·pT, the share of the primary collision's pT in the cone that
  the weighting keeps (1 = all of it);
* ``pileup_added``: Σ w·(1 − f)·pT / pT_gen, the pileup pT it leaves in, relative to the jet;
* ``cone_response``: Σ w·pT / pT_gen − 1.

Medians over the jets, per |η| region of :mod:`qdistill.physics.regions` and in total. A
weighting whose jets come out low because it drops primary neutrals shows ``primary_kept`` < 1;
one that keeps pileup shows ``pileup_added`` > 0. This is the study that found the lost B- and
D-decay tracks and the over-weighted forward towers (docs/teacher.md, docs/data-format.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np


def cone_table(path: Path, max_events: int | None = None) -> dict[str, Any]:
    """The medians above for one event file."""
    from qdistill import features
    from qdistill.data.layout import EventFile
    from qdistill.kinematics import delta_r
    from qdistill.physics import jets as jetlib
    from qdistill.physics.regions import ETA_REGIONS, region_index

    rows: dict[str, list[tuple[int, float, float, float]]] = {}
    with EventFile(path) as events:
        stop = events.n_events if max_events is None else min(max_events, events.n_events)
        for event in events.iter_events(0, stop):
            gen = jetlib.gen_jets(event.gen_p4, event.gen_pdg_id)
            if len(gen) == 0:
                continue
            f = event.features
            pt = np.hypot(event.p4[:, 0], event.p4[:, 1]).astype(np.float64)
            truth = event.truth_fraction.astype(np.float64)
            weightings = {"puppi": f[:, features.PUPPI_WEIGHT].astype(np.float64), "truth": truth}
            if event.soft_label is not None:
                weightings["teacher"] = event.soft_label.astype(np.float64)
            inside = (
                delta_r(gen.eta, gen.phi, f[:, features.ETA], f[:, features.PHI]) < jetlib.JET_R
            )
            regions = region_index(gen.eta)
            for name, w in weightings.items():
                for j in range(len(gen)):
                    cone = inside[j]
                    primary = float((truth * pt)[cone].sum())
                    kept = float((w * truth * pt)[cone].sum())
                    added = float((w * (1 - truth) * pt)[cone].sum())
                    rows.setdefault(name, []).append(
                        (
                            int(regions[j]),
                            kept / primary if primary > 0 else np.nan,
                            added / gen.pt[j],
                            (kept + added) / gen.pt[j] - 1,
                        )
                    )

    def medians(values: np.ndarray) -> dict[str, Any]:
        finite = values[np.isfinite(values[:, 1])]
        return {
            "jets": len(values),
            "primary_kept": float(np.median(finite[:, 1])) if len(finite) else None,
            "pileup_added": float(np.median(values[:, 2])) if len(values) else None,
            "cone_response": float(np.median(values[:, 3])) if len(values) else None,
        }

    table: dict[str, Any] = {"data": str(path), "weightings": {}}
    for name, values in rows.items():
        v = np.array(values, dtype=np.float64).reshape(-1, 4)
        table["weightings"][name] = {
            "all": medians(v),
            "by_eta_region": [
                {"eta_min": lo, "eta_max": hi, **medians(v[v[:, 0] == k])}
                for k, (lo, hi) in enumerate(ETA_REGIONS)
            ],
        }
    return table


def _markdown(table: dict[str, Any]) -> str:
    lines = [
        f"{table['data']}: medians over generator jets (ΔR < 0.4 cones)",
        "",
        "| weighting | η region | jets | primary kept | pileup added / pT_gen | cone response |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, t in table["weightings"].items():
        for row in [{"eta_min": "all", "eta_max": "", **t["all"]}, *t["by_eta_region"]]:
            span = "all" if row["eta_min"] == "all" else f"{row['eta_min']:g}–{row['eta_max']:g}"
            cells = [name, span, str(row["jets"])]
            cells += [
                "–" if row[k] is None else f"{row[k]:.3f}"
                for k in ("primary_kept", "pileup_added", "cone_response")
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="event file (HDF5)")
    parser.add_argument("--max-events", type=int, default=None, help="the first N events only")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    from qdistill.errors import QdistillError

    try:
        table = cone_table(args.data, args.max_events)
    except QdistillError as exc:
        sys.stderr.write(f"jet_cones: error: {exc}\n")
        return 1
    print(json.dumps(table, indent=2) if args.json else _markdown(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
