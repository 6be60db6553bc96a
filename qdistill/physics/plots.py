"""The evaluation's figures, in mplhep's CMS style, each saved as PNG and PDF.

- ``met_response`` / ``jet_response``: response distributions of missing pT and of matched jet pT
  for every weighting (the paper's figure 2);
- ``weights``: per-particle weight distributions, primary-collision and pileup particles apart
  (figure 3);
- ``pt_ratio_eta_phi``: per η–φ cell, the weighted pT divided by the pT from the primary
  collision, summed over events (figure 4);
- ``by_eta_region``: a panel per |η| region with that ratio and the jet resolution.

The label says "qdistill Simulation": these are our simulated events, not a CMS result. Figures are
built with :class:`matplotlib.figure.Figure` (no pyplot, no global backend switch) and written
through :func:`qdistill.atomic.atomic_path`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import hist
import matplotlib
import matplotlib.style
import mplhep
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from qdistill.atomic import atomic_path

#: Display name and colour of each weighting, the same in every figure.
STYLE: Final[dict[str, tuple[str, str]]] = {
    "puppi": ("PUPPI", "#5790fc"),
    "teacher": ("Teacher GNN", "#e42536"),
    "distillnet": ("DistillNet", "#f89c20"),
    "qdistillnet": ("QDistillNet (QKeras)", "#964a8b"),
    "qdistillnet_firmware": ("QDistillNet (firmware)", "#7a21dd"),
    "truth": ("Truth fraction", "#9c9ca1"),
}
FORMATS: Final[tuple[str, ...]] = ("png", "pdf")
MET_RESPONSE_AXIS: Final = hist.axis.Regular(60, -1.0, 2.0, name="response")
JET_RESPONSE_AXIS: Final = hist.axis.Regular(60, -1.0, 1.0, name="response")


def _style(name: str) -> tuple[str, str]:
    return STYLE.get(name, (name, "#3f90da"))


def label_axes(ax: Axes, rlabel: str, fontsize: str | None = None) -> None:
    # scilocator_adjust=False: mplhep 1.3.3 then measures the axis offset text on pyplot's
    # current axes (not ``ax``), which would open a stray pyplot figure.
    mplhep.label.exp_label(
        exp="qdistill",
        data=False,
        com=None,
        rlabel=rlabel,
        fontsize=fontsize,
        scilocator_adjust=False,
        ax=ax,
    )


def save_figure(fig: Figure, out_dir: Path, stem: str) -> list[Path]:
    paths = []
    for fmt in FORMATS:
        target = out_dir / f"{stem}.{fmt}"
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=fmt, bbox_inches="tight")
        paths.append(target)
    return paths


def plot_responses(
    responses: Mapping[str, npt.ArrayLike],
    resolutions: Mapping[str, float],
    out_dir: Path,
    *,
    observable: str,
    rlabel: str,
) -> list[Path]:
    """Normalised response distributions, one line a weighting; ``observable`` is ``"met"`` or
    ``"jet"``. The legend gives each resolution. Returns the files written."""
    axis = MET_RESPONSE_AXIS if observable == "met" else JET_RESPONSE_AXIS
    xlabel = (
        r"$(p_T^{miss} - p_{T,gen}^{miss})\,/\,p_{T,gen}^{miss}$"
        if observable == "met"
        else r"$(E^{jet} - E_{gen}^{jet})\,/\,E_{gen}^{jet}$ (all pairs, $\Delta R < 0.4$)"
    )
    with matplotlib.style.context(mplhep.style.CMS):
        fig = Figure(figsize=(10, 8))
        ax = fig.subplots()
        for name, values in responses.items():
            h = hist.Hist(axis).fill(np.asarray(values, dtype=np.float64))
            if h.sum(flow=True) == 0:
                continue
            title, colour = _style(name)
            mplhep.histplot(
                h,
                density=True,
                yerr=False,
                ax=ax,
                color=colour,
                label=f"{title}: σ = {resolutions.get(name, math.nan):.3f}",
                flow="none",
            )
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(
                fontsize="x-small", title="resolution (q75 − q25)/2", title_fontsize="x-small"
            )
        else:
            ax.text(0.5, 0.5, "no responses", transform=ax.transAxes, ha="center")
        label_axes(ax, rlabel)
        return save_figure(fig, out_dir, f"{observable}_response")


def plot_weight_distributions(
    counts_pv: Mapping[str, npt.ArrayLike],
    counts_pu: Mapping[str, npt.ArrayLike],
    bins: npt.ArrayLike,
    out_dir: Path,
    *,
    rlabel: str,
) -> list[Path]:
    """Per-particle weight histograms (counts per bin of ``bins``) of every weighting, for
    primary-collision particles (left) and pileup particles (right), log scale."""
    with matplotlib.style.context(mplhep.style.CMS):
        fig = Figure(figsize=(18, 8))
        axes = fig.subplots(1, 2)
        for ax, counts, title in (
            (axes[0], counts_pv, "primary-collision particles"),
            (axes[1], counts_pu, "pileup particles"),
        ):
            for name, c in counts.items():
                label, colour = _style(name)
                mplhep.histplot(np.asarray(c), bins, ax=ax, color=colour, label=label)
            ax.set_yscale("log")
            top = max((float(np.max(c)) for c in counts.values() if np.size(c)), default=1.0)
            ax.set_ylim(0.5, 30 * max(top, 1.0))  # room above the highest bin for the labels
            ax.set_xlabel("per-particle weight")
            ax.set_title(title, fontsize="small", loc="right", pad=40)
            label_axes(ax, rlabel)
        axes[0].set_ylabel("particles")
        axes[1].set_ylabel("particles")
        axes[0].legend(fontsize="x-small", loc="upper center")
        return save_figure(fig, out_dir, "weights")


#: Axis text of the primary collision's pT per candidate truth (the ratios' usual denominator).
TRUTH_PT_LABEL: Final[str] = r"\sum f_{PV}\,p_T"


def plot_pt_ratio_maps(
    weighted_pt: Mapping[str, hist.Hist],
    primary_pt: hist.Hist,
    out_dir: Path,
    *,
    rlabel: str,
    denominator_label: str = TRUTH_PT_LABEL,
) -> list[Path]:
    """η–φ maps of Σ w·pT / Σ f·pT per cell (f: truth fraction, the primary collision's share;
    or, with ``denominator_label``, another measure of the primary collision's pT, such as the
    event reconstructed without pileup), one panel a weighting; 1 means the weighting removes
    exactly the pileup in that cell."""
    names = list(weighted_pt)
    ncol = min(3, len(names))
    nrow = math.ceil(len(names) / ncol)
    denominator = primary_pt.values()
    # cells without primary-collision pT have no ratio: grey, distinct from a ratio of 1 (white)
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#c8c8c8")
    with matplotlib.style.context(mplhep.style.CMS):
        fig = Figure(figsize=(11 * ncol, 8 * nrow))
        axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False)).ravel()
        for ax, name in zip(axes, names, strict=False):
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(denominator > 0, weighted_pt[name].values() / denominator, np.nan)
            eta_edges = primary_pt.axes[0].edges
            phi_edges = primary_pt.axes[1].edges
            mesh = ax.pcolormesh(eta_edges, phi_edges, ratio.T, cmap=cmap, vmin=0, vmax=2)
            fig.colorbar(mesh, ax=ax, label=rf"$\sum w\,p_T \;/\; {denominator_label}$")
            ax.set_xlabel(r"$\eta$")
            ax.set_ylabel(r"$\phi$ [rad]")
            ax.text(
                0.03,
                0.97,
                _style(name)[0],
                transform=ax.transAxes,
                ha="left",
                va="top",
                fontsize="small",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8},
            )
            label_axes(ax, rlabel, fontsize="small")
        for ax in axes[len(names) :]:
            ax.set_visible(False)
        return save_figure(fig, out_dir, "pt_ratio_eta_phi")


def plot_by_region(
    rows: Sequence[Mapping[str, Any]],
    out_dir: Path,
    *,
    rlabel: str,
    denominator_label: str = TRUTH_PT_LABEL,
) -> list[Path]:
    """One panel per |η| region (``summary["by_eta_region"]``): each weighting's
    Σ w·pT / Σ f·pT (bars, 1 = exactly the primary pT; ``denominator_label`` names another
    measure of the primary pT) and its jet resolution (markers with bootstrap errors, right
    axis)."""
    with matplotlib.style.context(mplhep.style.CMS):
        fig = Figure(figsize=(7 * len(rows), 7))
        axes = np.atleast_1d(fig.subplots(1, len(rows), sharey=True))
        top = max(
            [1.0]
            + [v for r in rows for v in r["weighted_over_primary_pt"].values() if v is not None]
        )
        for ax, row in zip(axes, rows, strict=True):
            ratios = row["weighted_over_primary_pt"]
            res = row["jet_resolution"]
            err = row["jet_resolution_uncertainty"]
            names = list(ratios)
            x = np.arange(len(names))
            colours = [_style(n)[1] for n in names]
            values = [np.nan if ratios[n] is None else ratios[n] for n in names]
            ax.bar(x, values, color=colours, alpha=0.6)
            ax.axhline(1.0, color="black", lw=1, ls="--")
            ax.set_xticks(x, [_style(n)[0] for n in names], rotation=60, ha="right")
            ax.text(
                0.5,
                0.95,
                f"{row['eta_min']:g} < |η| < {row['eta_max']:g}",
                transform=ax.transAxes,
                ha="center",
                va="top",
                fontsize="small",
            )
            ax.set_ylim(0, 1.35 * top)
            twin = ax.twinx()
            for k, n in enumerate(names):
                if res.get(n) is not None:
                    twin.errorbar(k, res[n], yerr=err.get(n) or 0, fmt="o", color="black")
            twin.set_ylim(0, 0.3)
            if ax is axes[-1]:
                twin.set_ylabel("jet resolution (markers)")
            else:
                twin.set_yticklabels([])
        axes[0].set_ylabel(rf"$\sum w\,p_T \;/\; {denominator_label}$ (bars)")
        label_axes(axes[0], "", fontsize="x-small")
        axes[-1].set_title(rlabel, fontsize="x-small", loc="right")
        return save_figure(fig, out_dir, "by_eta_region")
