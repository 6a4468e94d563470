"""Chart geometry for inline SVG, computed on the server (pure: values in, shapes out).

Two shapes: a column chart (one column per value along an axis, e.g. the 24 hours of a day)
and a bar chart (one labelled horizontal bar per row, e.g. areas), each in its own SVG
coordinate space (``view_box``) that the page scales to its width. A value of ``None`` (nothing
to measure) draws no bar and reads "—", which is not the same as 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

NO_VALUE = "—"


def value_text(value: float | None, unit: str = "%", *, decimals: int = 1) -> str:
    if value is None:
        return NO_VALUE
    return f"{value:,.{decimals}f}{unit}"


def nice_maximum(values: Sequence[float | None], *, floor: float = 1.0) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above the largest value (at least ``floor``)."""
    top = max([v for v in values if v is not None] + [floor])
    power = 10.0 ** math.floor(math.log10(top))
    return next(step * power for step in (1.0, 2.0, 2.5, 5.0, 10.0) if step * power >= top)


@dataclass(frozen=True)
class Tick:
    position: float  # y for a column chart, x for a bar chart
    label: str


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    width: float
    height: float
    label: str  # under the axis ("" where labels are thinned out)
    title: str  # the tooltip: label and value
    empty: bool  # no value

    @property
    def label_x(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class ColumnChart:
    width: float
    height: float
    left: float  # the plot area
    top: float
    bottom: float
    right: float
    columns: tuple[Column, ...]
    ticks: tuple[Tick, ...]

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width:g} {self.height:g}"


def column_chart(
    values: Sequence[float | None],
    labels: Sequence[str],
    *,
    maximum: float | None = 100.0,
    unit: str = "%",
    width: float = 400,
    height: float = 190,
    label_every: int = 3,
    ticks: int = 4,
) -> ColumnChart:
    """Columns of equal width side by side; a label under every ``label_every``-th column."""
    if len(values) != len(labels):
        raise ValueError("one label per value")
    top_value = maximum if maximum is not None else nice_maximum(values)
    left, top, right, bottom = 40.0, 8.0, width - 4.0, height - 22.0
    plot_height = bottom - top
    slot = (right - left) / max(len(values), 1)
    gap = min(2.0, slot * 0.15)
    columns = []
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        share = 0.0 if value is None else min(max(value / top_value, 0.0), 1.0)
        bar = plot_height * share
        columns.append(
            Column(
                x=round(left + index * slot + gap / 2, 2),
                y=round(bottom - bar, 2),
                width=round(slot - gap, 2),
                height=round(bar, 2),
                label=label if index % label_every == 0 else "",
                title=f"{label} {value_text(value, unit)}",
                empty=value is None,
            )
        )
    scale = tuple(
        Tick(
            round(bottom - plot_height * k / ticks, 2),
            value_text(top_value * k / ticks, unit, decimals=0),
        )
        for k in range(ticks + 1)
    )
    return ColumnChart(width, height, left, top, bottom, right, tuple(columns), scale)


@dataclass(frozen=True)
class Bar:
    label: str
    value: str  # the value as text, right-aligned above the bar
    text_y: float  # baseline of the label and value
    y: float  # the bar
    width: float
    height: float
    empty: bool


@dataclass(frozen=True)
class BarChart:
    width: float
    height: float
    track: float  # the full length of a bar (the maximum)
    bars: tuple[Bar, ...]

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width:g} {self.height:g}"


def bar_chart(
    rows: Sequence[tuple[str, float | None]],
    *,
    maximum: float | None = 100.0,
    unit: str = "%",
    width: float = 400,
    row_height: float = 34,
) -> BarChart:
    """One row per (label, value): the label and the value on a line, the bar under them.
    Labels never share a line with a bar, so long names fit a narrow screen."""
    top_value = maximum if maximum is not None else nice_maximum([v for _, v in rows])
    bars = []
    for index, (label, value) in enumerate(rows):
        row_top = index * row_height
        share = 0.0 if value is None else min(max(value / top_value, 0.0), 1.0)
        bars.append(
            Bar(
                label=label,
                value=value_text(value, unit),
                text_y=round(row_top + 14, 2),
                y=round(row_top + 18, 2),
                width=round(width * share, 2),
                height=round(row_height - 23, 2),
                empty=value is None,
            )
        )
    return BarChart(width, max(row_height * len(rows), row_height), width, tuple(bars))
