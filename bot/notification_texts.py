"""What a notification says, rendered when it is sent, in the recipient's language.

The outbox stores a template name and the facts (names, codes, texts as they were at
the event); here they become Telegram HTML: every fact escaped, one button to open the
item. Messages are English msgids, translated with the bot's gettext catalogues.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import DEFAULT_LOCALE, N_, SUPPORTED
from bot.labels import exchange_kind_label, status_label, topic_label
from bot.rendering import TELEGRAM_MESSAGE_LIMIT, esc
from bot.rendering import day as format_day
from bot.rendering import percent as format_percent

try:  # the buttons of the measure and status screens (bot/buttons.py)
    from bot.buttons import MeasureOpen, StatusOpen
except ImportError:  # pragma: no cover - only while those screens are being built
    MeasureOpen = StatusOpen = None  # type: ignore[assignment,misc]


@dataclass(frozen=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None


def render(i18n: I18n, template: str, payload: dict[str, Any], language: str | None) -> Rendered:
    """The message for one notification, in ``language`` (German if unknown)."""
    locale = language if language in SUPPORTED else DEFAULT_LOCALE
    with i18n.context(), i18n.use_locale(locale):
        renderer = TEMPLATES.get(template)
        if renderer is None:
            raise KeyError(f"no notification template {template!r}")
        text, button = renderer(payload, locale)
        markup = None
        if button is not None:
            markup = InlineKeyboardMarkup(inline_keyboard=[[button]])
        return Rendered(_fit(text), markup)


def _fit(text: str) -> str:
    if len(text) <= TELEGRAM_MESSAGE_LIMIT:
        return text
    return text[: TELEGRAM_MESSAGE_LIMIT - 1].rsplit("\n", 1)[0] + "\n…"


# --- pieces ---------------------------------------------------------------------------


def who(payload: dict[str, Any]) -> str:
    """Who did it: "Jan Brinkmann (Kreis Steinfurt)"; the office; or RegioTwin itself."""
    name = payload.get("actor")
    if not name:  # a member's name is blank once their personal data is erased
        return _("A former member") if payload.get("actor_id") else "RegioTwin"
    region = payload.get("actor_region")
    if region and region in name:  # "Jan Brinkmann (Kreis Steinfurt)" says it already
        return f"<b>{esc(name)}</b>"
    if region:
        return f"<b>{esc(name)}</b> ({esc(region)})"
    return _("<b>{name}</b> (programme office)").format(name=esc(name))


def topic(value: str | None) -> str:
    try:
        return esc(topic_label(value or ""))
    except ValueError:
        return esc(value or "")


def status(value: str | None) -> str:
    try:
        return esc(status_label(value or ""))
    except ValueError:
        return esc(value or "")


def exchange_kind(value: str | None) -> str:
    try:
        return esc(exchange_kind_label(value or ""))
    except ValueError:
        return esc(value or "")


def when(value: str | None, locale: str) -> str:
    if not value:
        return "–"
    return esc(format_day(date.fromisoformat(value[:10]), locale))


def measure_button(measure_id: str | None) -> InlineKeyboardButton | None:
    if not measure_id or MeasureOpen is None:
        return None
    return InlineKeyboardButton(
        text=_("To the measure"), callback_data=MeasureOpen(measure=UUID(measure_id)).pack()
    )


def twinning_button(twinning_id: str | None) -> InlineKeyboardButton | None:
    if not twinning_id or StatusOpen is None:
        return None
    return InlineKeyboardButton(
        text=_("To the twinning"), callback_data=StatusOpen(twinning=UUID(twinning_id)).pack()
    )


Output = tuple[str, InlineKeyboardButton | None]
Template = Callable[[dict[str, Any], str], Output]
TEMPLATES: dict[str, Template] = {}


def template(name: str) -> Callable[[Template], Template]:
    def register(function: Template) -> Template:
        TEMPLATES[name] = function
        return function

    return register


# --- events ---------------------------------------------------------------------------


@template("exchange_recorded")
def _exchange_recorded(p: dict[str, Any], locale: str) -> Output:
    text = _("🤝 {who} recorded an exchange: {kind} on {date} in {place}.").format(
        who=who(p),
        kind=exchange_kind(p.get("exchange_kind")),
        date=when(p.get("held_on"), locale),
        place=esc(p.get("place", "")),
    )
    if p.get("summary"):
        text += f"\n<i>{esc(p['summary'])}</i>"
    return text, twinning_button(p.get("twinning_id"))


@template("follow_up_agreed")
def _follow_up_agreed(p: dict[str, Any], locale: str) -> Output:
    text = _("📌 {who} agreed a follow-up for you, due {date}:\n{text}").format(
        who=who(p), date=when(p.get("due_on"), locale), text=esc(p.get("text", ""))
    )
    return text, twinning_button(p.get("twinning_id"))


@template("advice_requested")
def _advice_requested(p: dict[str, Any], locale: str) -> Output:
    text = _("❓ {who} asks your region for advice on {topic}:\n<i>{question}</i>").format(
        who=who(p), topic=topic(p.get("topic")), question=esc(p.get("question", ""))
    )
    return text + "\n" + _("/advise answers it."), twinning_button(p.get("twinning_id"))


@template("advice_given")
def _advice_given(p: dict[str, Any], locale: str) -> Output:
    message = (
        N_("💡 {who} answered your question on {topic}:\n<i>{text}</i>")
        if p.get("answers_question")
        else N_("💡 {who} gave your region advice on {topic}:\n<i>{text}</i>")
    )
    text = _(message).format(who=who(p), topic=topic(p.get("topic")), text=esc(p.get("text", "")))
    hint = _("/advice to acknowledge, adopt or decline it.")
    return f"{text}\n{hint}", twinning_button(p.get("twinning_id"))


@template("advice_adopted")
def _advice_adopted(p: dict[str, Any], locale: str) -> Output:
    text = _('✅ {who} adopted your advice on {topic} as measure {code} "{title}".').format(
        who=who(p),
        topic=topic(p.get("topic")),
        code=esc(p.get("code") or "–"),
        title=esc(p.get("title") or ""),
    )
    return text, measure_button(p.get("measure_id"))


@template("advice_declined")
def _advice_declined(p: dict[str, Any], locale: str) -> Output:
    text = _("{who} declined your advice on {topic}:\n<i>{reason}</i>").format(
        who=who(p), topic=topic(p.get("topic")), reason=esc(p.get("reason", ""))
    )
    return text, twinning_button(p.get("twinning_id"))


@template("measure_implemented")
def _measure_implemented(p: dict[str, Any], locale: str) -> Output:
    text = _('🎉 {who} reports measure {code} "{title}" of {region} implemented.').format(
        who=who(p),
        code=esc(p.get("code", "")),
        title=esc(p.get("title", "")),
        region=esc(p.get("region") or ""),
    )
    return text, measure_button(p.get("measure_id"))


@template("measure_status_changed")
def _measure_status_changed(p: dict[str, Any], locale: str) -> Output:
    text = _('{who} moved measure {code} "{title}" from {old} to {new}.').format(
        who=who(p),
        code=esc(p.get("code", "")),
        title=esc(p.get("title", "")),
        old=status(p.get("old_status")),
        new=status(p.get("new_status")),
    )
    return text, measure_button(p.get("measure_id"))


@template("twinning_started")
def _twinning_started(p: dict[str, Any], locale: str) -> Output:
    text = _("🚀 {who} started the twinning {twinning}.").format(
        who=who(p), twinning=esc(p.get("twinning", ""))
    )
    return text, twinning_button(p.get("twinning_id"))


@template("twinning_completed")
def _twinning_completed(p: dict[str, Any], locale: str) -> Output:
    text = _("🏁 {who} completed the twinning {twinning}.").format(
        who=who(p), twinning=esc(p.get("twinning", ""))
    )
    return text, twinning_button(p.get("twinning_id"))


# --- reminders ------------------------------------------------------------------------

REMINDER_TITLES = {
    "follow_up_due": N_("⏰ Reminder: due tomorrow"),
    "follow_up_overdue": N_("⏰ Reminder: overdue follow-ups"),
    "advice_unanswered": N_("⏰ Reminder: unanswered for a week or more"),
    "measure_stale": N_("⏰ Reminder: no progress report for 30 days or more"),
    "goal_due": N_("⏰ Reminder: target year reached, goal not marked achieved"),
}
REMINDER_HINTS = {
    "follow_up_due": N_("/followups lists them; /done marks one as done."),
    "follow_up_overdue": N_("/followups lists them; /done marks one as done."),
    "advice_unanswered": N_("/advice shows what is open."),
    "measure_stale": N_("/progress CODE PERCENT reports progress."),
    "goal_due": N_("/goals shows your goals."),
}


def _reminder_line(kind: str, item: dict[str, Any], locale: str) -> str:
    if kind in ("follow_up_due", "follow_up_overdue"):
        return _("{text} (due {date}; {twinning})").format(
            text=esc(item.get("text", "")),
            date=when(item.get("due_on"), locale),
            twinning=esc(item.get("twinning", "")),
        )
    if kind == "advice_unanswered":
        message = (
            N_("question on {topic} from {region}, asked {date}")
            if item.get("what") == "question"
            else N_("advice on {topic} from {region}, given {date}")
        )
        return _(message).format(
            topic=topic(item.get("topic")),
            region=esc(item.get("region") or ""),
            date=when(item.get("since"), locale),
        )
    if kind == "measure_stale":
        return _('{code} "{title}", last progress {date}').format(
            code=esc(item.get("code", "")),
            title=esc(item.get("title", "")),
            date=when(item.get("last"), locale),
        )
    if kind == "goal_due":
        return _("{metric}: {value} {unit} by {year}").format(
            metric=esc(item.get("metric", "")),
            value=esc(item.get("value", "")),
            unit=esc(item.get("unit", "")),
            year=esc(item.get("year", "")),
        )
    return esc(str(item))


@template("reminder")
def _reminder(p: dict[str, Any], locale: str) -> Output:
    kind = p.get("reminder", "")
    items = p.get("items", [])
    lines = [f"<b>{_(REMINDER_TITLES.get(kind, kind))}</b>"]
    lines += [f"• {_reminder_line(kind, item, locale)}" for item in items]
    if kind in REMINDER_HINTS:
        lines.append(_(REMINDER_HINTS[kind]))
    button = None
    if len(items) == 1:
        button = measure_button(items[0].get("measure_id")) or twinning_button(
            items[0].get("twinning_id")
        )
    return "\n".join(lines), button


# --- weekly summary and digests ---------------------------------------------------------

ACTIVITY = {
    "exchanges": N_("exchanges recorded: {n}"),
    "questions": N_("questions asked: {n}"),
    "advice_given": N_("advice given: {n}"),
    "advice_decided": N_("advice adopted or declined: {n}"),
    "follow_ups_done": N_("follow-ups done: {n}"),
    "implemented": N_("measures implemented: {n}"),
    "progress": N_("progress reports: {n}"),
}


def _rate(figures: list[int] | None, locale: str) -> str:
    if not figures or not figures[1]:
        return "–"
    return esc(format_percent(figures[0] / figures[1], locale))


@template("weekly_summary")
def _weekly_summary(p: dict[str, Any], locale: str) -> Output:
    lines = [
        "<b>"
        + _("📊 Week {week}: {twinning}").format(
            week=esc(p.get("week", "")), twinning=esc(p.get("twinning", ""))
        )
        + "</b>",
        _("{start} to {end}").format(
            start=when(p.get("from"), locale), end=when(p.get("to"), locale)
        ),
    ]
    for side in p.get("sides", []):
        lines.append("")
        lines.append(f"<b>{esc(side.get('region', ''))}</b>")
        did = side.get("did", {})
        done = [_(ACTIVITY[key]).format(n=did[key]) for key in ACTIVITY if did.get(key)]
        lines.append(", ".join(done) if done else _("nothing recorded this week"))
        lines.append(
            _("Implementation rate: {then} a week ago, {now} now").format(
                then=_rate(side.get("rate_then"), locale), now=_rate(side.get("rate_now"), locale)
            )
        )
    due = p.get("due", {})
    lines.append("")
    lines.append(
        _(
            "Due: {soon} follow-ups in the next 7 days, {overdue} overdue; "
            "{questions} questions unanswered, {advice} advice not yet decided."
        ).format(
            soon=due.get("follow_ups_soon", 0),
            overdue=due.get("follow_ups_overdue", 0),
            questions=due.get("questions_unanswered", 0),
            advice=due.get("advice_undecided", 0),
        )
    )
    return "\n".join(lines), twinning_button(p.get("twinning_id"))


@template("digest")
def _digest(p: dict[str, Any], locale: str) -> Output:
    items = p.get("items", [])
    header = _("🗞 Your digest: {count} notifications").format(count=len(items))
    parts = [f"<b>{header}</b>"]
    length = len(parts[0])
    for index, item in enumerate(items):
        renderer = TEMPLATES.get(item.get("template", ""))
        if renderer is None:
            continue
        text, _button = renderer(item.get("payload", {}), locale)
        piece = f"{when(item.get('created_at'), locale)} – {text}"
        if length + len(piece) + 2 > TELEGRAM_MESSAGE_LIMIT - 100:
            parts.append(_("… and {count} more.").format(count=len(items) - index))
            break
        parts.append(piece)
        length += len(piece) + 2
    return "\n\n".join(parts), None
