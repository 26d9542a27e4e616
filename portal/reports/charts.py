"""Bar charts for the PDF reports, drawn by matplotlib as SVG markup.

Text stays text (svg.fonttype "none") so WeasyPrint sets it in the report's own font and
the numbers can be found in the PDF. matplotlib is imported on first use: it costs about
a second, which pages that never draw a chart should not pay.
"""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass

BLUE, GREEN, GREY = "#1f5fa8", "#2e7d32", "#6b7280"
_lock = threading.Lock()  # matplotlib's rcParams are process-wide


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    colour: str = BLUE


def _thin(labels: Sequence[str], most: int = 9) -> list[str]:
    """Every n-th label, so that at most `most` show and none overlap."""
    step = max(1, -(-len(labels) // most))
    return [label if i % step == 0 else "" for i, label in enumerate(labels)]


def _value_label(value: float | None, percent: bool) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.0f} %" if percent else f"{value:g}"


def bars(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    horizontal: bool = False,
    percent: bool = False,
    width_in: float = 6.8,
    height_in: float = 2.6,
    value_labels: bool = False,
) -> str:
    """Grouped bars, one group per label; returns a data: URI of the SVG for an <img>.

    With `value_labels`, each bar carries its value, so a 0 % bar still says something; a
    value of None (nothing to measure) draws no bar and is labelled "–".

    An <img> (not inline <svg>) lets WeasyPrint's SVG renderer read the chart's styles;
    inline, its HTML stylesheet parser would warn about every SVG property."""
    import matplotlib

    matplotlib.use("svg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    settings = {
        "svg.fonttype": "none",
        "svg.hashsalt": "portal-reports",
        "font.family": "DejaVu Sans",
        "font.size": 8,
        "text.parse_math": False,  # labels are people's names: "$" is just a character
        "text.usetex": False,
    }
    with _lock, matplotlib.rc_context(settings):
        figure = Figure(figsize=(width_in, height_in))
        axes = figure.subplots()
        count = max(len(series), 1)
        width = 0.8 / count
        positions = range(len(labels))
        for n, one in enumerate(series):
            offsets = [p - 0.4 + width * (n + 0.5) for p in positions]
            values = [0 if v is None else v for v in one.values]
            if horizontal:
                bars_drawn = axes.barh(
                    offsets, values, height=width, label=one.name, color=one.colour
                )
            else:
                bars_drawn = axes.bar(
                    offsets, values, width=width, label=one.name, color=one.colour
                )
            if value_labels:
                axes.bar_label(
                    bars_drawn,
                    labels=[_value_label(v, percent) for v in one.values],
                    padding=2,
                    fontsize=7,
                    color="#374151",
                )
        value_axis = axes.xaxis if horizontal else axes.yaxis
        if percent:
            value_axis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        else:
            value_axis.set_major_locator(MaxNLocator(integer=True))
        if horizontal:
            axes.set_yticks(list(positions), list(labels))
            axes.invert_yaxis()
        else:
            axes.set_xticks(list(positions), _thin(labels))
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="x" if horizontal else "y", color="#e5e7eb", linewidth=0.6)
        axes.set_axisbelow(True)
        if len(series) > 1:
            axes.legend(frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=len(series))
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    encoded = base64.b64encode(buffer.getvalue().encode("utf-8")).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"
