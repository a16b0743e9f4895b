"""Implementation-rate charts as PNG (matplotlib's Agg canvas, no GUI, no global state).

The same data gives the same bytes (no timestamps in the PNG), so a report that embeds
charts can be rebuilt byte for byte.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from projections.models import MonthlyRate

COLOURS = ("#1b7f3b", "#1f5fa8", "#b35c00", "#7a3fa0")


@dataclass(frozen=True)
class ChartLine:
    label: str
    points: Sequence[tuple[date, float | None]]
    """(day, rate 0…1 or None for no rate)"""
    emphasis: bool = True


def rate_points(
    monthly: Sequence[MonthlyRate], *, weighted: bool = False
) -> list[tuple[date, float | None]]:
    """A monthly series as chart points: the rate, or the progress-weighted rate."""
    return [
        (point.as_of, point.rate.weighted if weighted else point.rate.value) for point in monthly
    ]


def rate_chart_png(
    lines: Sequence[ChartLine],
    *,
    title: str,
    y_label: str,
    width: float = 7.0,
    height: float = 3.6,
    dpi: int = 100,
) -> bytes:
    """A line per region: the implementation rate at each month's end, in percent."""
    # Imported here: matplotlib takes a while to load, and only charts need it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    figure = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for index, line in enumerate(lines):
        xs = [day for day, _value in line.points]
        ys = [float("nan") if value is None else 100.0 * value for _day, value in line.points]
        axes.plot(
            xs,
            ys,
            marker="o",
            markersize=3.5,
            linewidth=2.2 if line.emphasis else 1.4,
            linestyle="-" if line.emphasis else "--",
            color=COLOURS[index % len(COLOURS)],
            label=line.label,
        )
    axes.set_ylim(0, 100)
    axes.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    axes.set_ylabel(y_label)
    axes.set_title(title, fontsize=11)
    axes.grid(True, alpha=0.3)
    if lines:
        axes.legend(loc="upper left", fontsize=8, frameon=False)
    figure.autofmt_xdate()
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
