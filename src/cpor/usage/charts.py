"""Server-drawn SVG charts: geometry here, markup in ``usage/_chart.html``.

No chart library and no CDN: bars for what is licensed, a line for the active users, a
dashed line for the baseline. Every chart also has a ``<title>``, a ``<desc>`` and a
data table beside it for screen readers.

The geometry stays numeric: the template draws it with localisation off, because a
coordinate written the Portuguese way (``192,0``) is not SVG. Labels, which people
read, are formatted here in the active language.
"""

import datetime
from dataclasses import dataclass

from django.utils.formats import date_format, number_format

WIDTH = 640
HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 62, 8, 10, 30


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    line: str  # SVG polyline points
    dots: list[tuple[float, float, str]]
    baseline_y: float | None
    marker_x: float | None  # where the association became official
    ticks: list[Tick]
    # x-axis month labels: (x, label, minor); minor ones are left out on a phone, where
    # the chart is narrow and its labels larger (web/static/web/shell.css)
    labels: list[tuple[float, str, bool]]
    plot_left: int
    plot_right: int
    plot_bottom: int


def _label(value: int) -> str:
    return number_format(value, force_grouping=True)


def _nice_ceiling(value: float) -> int:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return int(step * magnitude)
    return int(10 * magnitude)


def usage_chart(
    *,
    months: list[datetime.date],
    licensed: list[int | None],
    active: list[int | None],
    baseline: int | None = None,
    started: datetime.date | None = None,
) -> Chart:
    values = [v for v in licensed + active if v is not None] + [baseline or 0]
    top = _nice_ceiling(max(values, default=0))
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(months), 1)

    def y(value: float) -> float:
        return round(TOP + plot_height * (1 - value / top), 1)

    bars, points, dots, labels = [], [], [], []
    marker_x = None
    for index, month in enumerate(months):
        x = LEFT + slot * index
        centre = round(x + slot / 2, 1)
        if licensed[index] is not None:
            bar_y = y(licensed[index])
            bars.append(
                Bar(
                    round(x + slot * 0.15, 1),
                    bar_y,
                    round(slot * 0.7, 1),
                    round(TOP + plot_height - bar_y, 1),
                    _label(licensed[index]),
                )
            )
        if active[index] is not None:
            points.append(f"{centre},{y(active[index])}")
            dots.append((centre, y(active[index]), _label(active[index])))
        every = 1 if len(months) <= 6 else 2 if len(months) <= 12 else 3
        if index % every == 0:
            # "Mar 2026", "mar 2026": the language's month names, never "2026-03".
            minor = (index // every) % 2 == 1
            labels.append((centre, date_format(month, "M Y"), minor))
        if started is not None and month == started:
            marker_x = round(x, 1)
    ticks = [Tick(y(top * step / 4), _label(int(top * step / 4))) for step in range(5)]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        line=" ".join(points),
        dots=dots,
        baseline_y=y(baseline) if baseline is not None else None,
        marker_x=marker_x,
        ticks=ticks,
        labels=labels,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_bottom=TOP + plot_height,
    )
