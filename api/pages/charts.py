"""Charts drawn on the server as SVG: shapes computed here, drawn by
``templates/charts.html``. No chart library, no script: a chart is an image with a title
and a table of the same figures beside it for whoever cannot see it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 220
LEFT = 44
"""Room for the value axis' labels."""
BOTTOM = 28
"""Room for the category labels."""
SERIES_COLOURS = ("#0b5cd5", "#1a7f37", "#b42318", "#8250df")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    width: float
    """The bar's length in percent of the longest (0 to 100)."""


def bars(rows: Sequence[tuple[str, float]]) -> list[Bar]:
    """Horizontal bars, each a share of the longest."""
    top = max((value for _, value in rows), default=0) or 1
    return [Bar(label, value, round(100 * value / top, 1)) for label, value in rows]


@dataclass(frozen=True)
class Line:
    name: str
    colour: str
    points: str
    """The polyline's ``x,y`` pairs."""
    dots: list[tuple[float, float, float]]
    """Each point and its value, for the markers and their titles."""


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    lines: list[Line]
    ticks: list[tuple[float, str]]
    """Value axis: the y of each gridline and its label."""
    labels: list[tuple[float, str]]
    """Category axis: the x of each label shown and the label."""
    left: int = LEFT
    bottom: float = HEIGHT - BOTTOM


def line_chart(categories: Sequence[str], series: dict[str, Sequence[float]]) -> LineChart:
    """One line per series over the categories (days, weeks, months), on a common scale
    from zero, with a handful of gridlines and at most eight category labels."""
    top = max((max(values, default=0) for values in series.values()), default=0)
    step = nice_step(top)
    ceiling = step * max(1, -(-top // step)) if top else 1
    inner_w, inner_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - 8
    count = max(1, len(categories) - 1)

    def x(i: int) -> float:
        return round(LEFT + inner_w * (i / count if len(categories) > 1 else 0.5), 1)

    def y(value: float) -> float:
        return round(8 + inner_h * (1 - value / ceiling), 1)

    lines = []
    for (name, values), colour in zip(series.items(), SERIES_COLOURS, strict=False):
        dots = [(x(i), y(v), v) for i, v in enumerate(values)]
        lines.append(Line(name, colour, " ".join(f"{a},{b}" for a, b, _ in dots), dots))
    ticks = []
    value = 0.0
    while value <= ceiling:
        ticks.append((y(value), f"{value:g}"))
        value += step
    every = max(1, -(-len(categories) // 8))
    labels = [(x(i), c) for i, c in enumerate(categories) if i % every == 0]
    return LineChart(WIDTH, HEIGHT, lines, ticks, labels)


def nice_step(top: float) -> float:
    """A gridline step of 1, 2 or 5 times a power of ten giving about four lines."""
    if top <= 0:
        return 1
    raw = top / 4
    power = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)
