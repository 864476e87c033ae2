"""The usage charts draw the same in every language: numbers inside SVG markup are never
localised (a Portuguese ``y1="192,0"`` is not a coordinate and no bar is drawn), while
the numbers a person reads follow the language."""

import datetime
import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from django.utils import translation

from cpor.usage.charts import usage_chart

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
# Attributes whose value SVG reads as a number (or, for viewBox, numbers).
NUMERIC = ("x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height", "viewBox")
NUMBERS = re.compile(r"-?\d+(\.\d+)?( -?\d+(\.\d+)?)*")
POINT = re.compile(r"-?\d+(\.\d+)?,-?\d+(\.\d+)?")


def chart_in(body: str) -> ET.Element:
    (svg,) = re.findall(r"<svg\b.*?</svg>", body, re.DOTALL)
    return ET.fromstring(svg)  # noqa: S314 - our own page


def assert_drawable(chart: ET.Element) -> None:
    for element in chart.iter():
        for name in NUMERIC:
            value = element.get(name)
            if value is not None and not value.endswith("%"):
                assert NUMBERS.fullmatch(value), f'<{element.tag} {name}="{value}">'
        for point in (element.get("points") or "").split():
            assert POINT.fullmatch(point), f'points "{point}"'
    bars = list(chart.iter(f"{SVG}rect"))
    assert bars, "no bar drawn"
    assert all(float(bar.get("height")) > 0 for bar in bars)


@pytest.mark.parametrize("language", ["en", "pt-pt"])
def test_dashboard_and_unit_charts_draw_in_every_language(client, holdings, language):
    partner = holdings.partner
    partner.language = language
    partner.save(update_fields=["language"])
    client.force_login(partner)
    for url in (reverse("usage:dashboard"), reverse("usage:unit", args=[holdings.teams.pk])):
        response = client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert f'lang="{language}"' in body  # the page really is in that language
        assert_drawable(chart_in(body))


def test_axis_and_bar_labels_group_thousands_the_languages_way():
    months = [datetime.date(2026, month, 1) for month in (1, 2, 3)]
    with translation.override("pt-pt"):
        chart = usage_chart(months=months, licensed=[12000, 15000, 18000], active=[1, 2, 3])
    assert chart.bars[0].label == "12.000"
    assert chart.ticks[-1].label == "20.000"
    with translation.override("en"):
        chart = usage_chart(months=months, licensed=[12000, 15000, 18000], active=[1, 2, 3])
    assert chart.bars[0].label == "12,000"
