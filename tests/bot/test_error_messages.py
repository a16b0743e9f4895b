"""Every refusal of the domain is told as a sentence in the user's language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.error_messages import MESSAGES, render_error
from bot.i18n import build_i18n
from domain.errors import RuleViolated

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
CODE = re.compile(r'"((?:[a-z_]+)\.(?:[a-z_]+))"')
NOT_CODES = {"domain.error"}


def codes_raised_by_the_domain() -> set[str]:
    found: set[str] = set()
    for path in DOMAIN.rglob("*.py"):
        source = path.read_text()
        for match in CODE.finditer(source):
            value = match.group(1)
            prefix = value.split(".")[0]
            if prefix in {"eventsourcing", "domain", "system", "regiotwin"}:
                continue
            found.add(value)
    return found - NOT_CODES


def test_every_error_code_of_the_domain_has_a_message():
    missing = sorted(code for code in codes_raised_by_the_domain() if code not in MESSAGES)
    assert missing == []


@pytest.mark.parametrize(
    ("locale", "words"),
    [("de", ("geplant", "umgesetzt")), ("en", ("planned", "implemented"))],
)
def test_statuses_in_an_error_are_told_in_the_users_language(locale, words):
    i18n = build_i18n()
    error = RuleViolated(
        "measure.illegal_transition", from_status="planned", to_status="implemented"
    )
    with i18n.context(), i18n.use_locale(locale):
        text = render_error(error)
    assert all(word in text for word in words)
