"""The latency plot: time per batch against batch size, log–log, one line per model (figure 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from qdistill.atomic import atomic_path

PLOT_STEM: Final[str] = "latency"
_STYLE: Final[dict[str, tuple[str, str]]] = {
    # name: (colour, marker)
    "teacher": ("#e42536", "s"),
    "distillnet": ("#5790fc", "o"),
    "qdistillnet": ("#f89c20", "^"),
    "qdistillnet_csim": ("#964a8b", "D"),
}


def plot_latency(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """Draw ``result["rows"]`` into ``out_dir/latency.png`` and ``.pdf``; return both paths.

    Lines join the medians; bands span the 16th to 84th percentiles of the repeats.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    rows = result["rows"]
    labels = {name: info["label"] for name, info in result["models"].items()}
    with plt.style.context(mplhep.style.CMS):
        fig, ax = plt.subplots(figsize=(10, 8))
        for name in result["models"]:
            own = sorted(
                (r for r in rows if r["model"] == name), key=lambda r: r["batch_particles"]
            )
            if not own:
                continue
            colour, marker = _STYLE.get(name, (None, "o"))
            x = [r["batch_particles"] for r in own]
            y = [r["seconds_per_batch"] for r in own]
            lo = [r["spread"]["p16_s"] for r in own]
            hi = [r["spread"]["p84_s"] for r in own]
            (line,) = ax.plot(x, y, marker=marker, color=colour, label=labels.get(name, name))
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.25, linewidth=0)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("Batch size [particles]")
        ax.set_ylabel("Latency per batch [s]")
        host = result.get("host", {})
        ax.set_title(f"one thread, {host.get('cpu', 'CPU')}", fontsize=14, loc="right")
        ax.legend(loc="upper left", fontsize=16)
        ax.grid(True, which="major", alpha=0.3)
        fig.tight_layout()
        written = []
        for fmt in ("png", "pdf"):
            target = out_dir / f"{PLOT_STEM}.{fmt}"
            with atomic_path(target) as tmp:
                fig.savefig(tmp, format=fmt, dpi=150)
            written.append(target)
        plt.close(fig)
    return written
