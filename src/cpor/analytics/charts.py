"""Horizontal bar charts drawn on the server, from a report's table.

Horizontal bars keep long labels (engagement names, outcomes) readable at phone width:
each row's label sits above its bars, which span the container. Geometry stays numeric
(the template draws it with localisation off); the value labels, which people read, are
formatted here in the active language.
"""

from dataclasses import dataclass

from django.utils.formats import number_format

from cpor.analytics.selectors import Table

WIDTH = 640
LABEL_HEIGHT = 16
BAR_HEIGHT = 14
GAP = 10
VALUE_ROOM = 70  # right of the longest bar, for its value
# One colour per series, distinguishable without colour vision (the legend and the
# table view carry the same data).
COLOURS = ("#0a58ca", "#fd7e14", "#198754", "#6f42c1")


@dataclass(frozen=True)
class Bar:
    y: float
    width: float
    colour: str
    value_label: str


@dataclass(frozen=True)
class Row:
    label: str
    label_y: float
    bars: list[Bar]


@dataclass(frozen=True)
class Series:
    label: str
    colour: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    rows: list[Row]
    series: list[Series]
    value_x_room: int


def _label(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "percent":
        return f"{number_format(value, 1)} %"
    if kind == "float":
        return number_format(value, 1)
    return number_format(value, force_grouping=True)


def bar_chart(table: Table) -> BarChart:
    columns = [c for c in table.columns if c.key in table.chart_columns]
    indexes = [table.columns.index(c) for c in columns]
    values = [row[i] or 0 for row in table.rows for i in indexes]
    top = max([*values, 1])
    scale = 100.0 if all(c.kind == "percent" for c in columns) else top
    plot = WIDTH - VALUE_ROOM
    rows, y = [], 0.0
    for row in table.rows:
        label_y = y + LABEL_HEIGHT - 4
        y += LABEL_HEIGHT
        bars = []
        for column, index, colour in zip(columns, indexes, COLOURS, strict=False):
            value = row[index] or 0
            bars.append(
                Bar(
                    round(y, 1),
                    round(plot * value / scale, 1),
                    colour,
                    _label(row[index], column.kind),
                )
            )
            y += BAR_HEIGHT + 2
        y += GAP
        rows.append(Row(str(row[0]), round(label_y, 1), bars))
    return BarChart(
        width=WIDTH,
        height=max(int(y), LABEL_HEIGHT),
        rows=rows,
        series=[Series(c.label, colour) for c, colour in zip(columns, COLOURS, strict=False)],
        value_x_room=VALUE_ROOM,
    )
