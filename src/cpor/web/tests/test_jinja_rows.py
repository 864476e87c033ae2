"""The row engine's filters print what Django's engine printed."""

import pytest
from django.template.defaultfilters import truncatechars as django_truncatechars
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from cpor.web.jinja2 import truncatechars


@pytest.mark.parametrize("language", ["en", "pt-br"])
@given(
    text=st.one_of(
        st.text(alphabet=st.characters(max_codepoint=127), max_size=40),
        st.uuids().map(str),
        st.text(max_size=20),  # accents, combining marks, characters NFC rewrites
    ),
    length=st.integers(min_value=-2, max_value=40),
)
def test_truncatechars_prints_what_django_prints(language, text, length):
    with translation.override(language):
        assert truncatechars(text, length) == django_truncatechars(text, length)


def test_a_long_subscription_id_is_cut_with_an_ellipsis():
    assert truncatechars("2f9c51d0-5b1e-4c27-9c55-3f1f4ad0e2b1", 13) == "2f9c51d0-5b1…"
