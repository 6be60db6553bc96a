"""The scan's Pareto plot: jet and missing-pT resolution against da4ml's LUT estimate."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.style
import mplhep
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from qdistill.physics.plots import label_axes, save_figure

_PANELS = (
    ("jet_resolution", "Jet resolution (firmware)"),
    ("met_resolution", "Missing-$p_T$ resolution (firmware)"),
)


def plot_pareto(rows: Sequence[dict[str, Any]], out_dir: Path) -> list[Path]:
    """``pareto.png``/``.pdf``: one panel per resolution, every point with its bootstrap error,
    the Pareto front as a line and PUPPI's resolution on the same events as a dashed line; points
    whose firmware loses the event (:mod:`qdistill.physics.sanity`) are grey crosses."""
    with matplotlib.style.context(mplhep.style.CMS):
        fig = Figure(figsize=(16, 7))
        axes = fig.subplots(1, 2)
        for ax, (key, ylabel) in zip(axes, _PANELS, strict=True):
            points = [r for r in rows if r[key] is not None and not r.get("unphysical")]
            lost = [r for r in rows if r[key] is not None and r.get("unphysical")]
            if lost:
                ax.plot(
                    [r["luts_da4ml"] for r in lost],
                    [r[key] for r in lost],
                    "x",
                    color="#7a7a7a",
                    label="loses the event",
                )
            ax.errorbar(
                [r["luts_da4ml"] for r in points],
                [r[key] for r in points],
                yerr=[r[f"{key}_uncertainty"] or 0.0 for r in points],
                fmt="o",
                color="#964a8b",
                label="scan points",
            )
            front = sorted((r for r in points if r[f"pareto_{key}"]), key=lambda r: r["luts_da4ml"])
            ax.plot(
                [r["luts_da4ml"] for r in front],
                [r[key] for r in front],
                "-",
                color="#e42536",
                label="Pareto front",
            )
            puppi = next((r[f"puppi_{key}"] for r in points if r[f"puppi_{key}"] is not None), None)
            if puppi is not None:
                ax.axhline(puppi, ls="--", color="#5790fc", label="PUPPI")
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # 2×10³, 3×10³ … would overlap
            ax.set_xlabel("LUT (da4ml estimate)")
            ax.set_ylabel(ylabel)
            ax.legend(fontsize="small")
            label_axes(ax, "design-space scan", fontsize="small")
        return save_figure(fig, out_dir, "pareto")
