"""The demo's chat: staff of München and Steinfurt, a coordinator and an auditor use the
real dispatcher in-process, and the terminal shows it as a transcript."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from bot.app import BotServices, build_dispatcher
from bot.gateway import DomainGateway
from bot.handled_updates import HandledUpdates
from bot.read_models import ReadModels
from bot.transcript import BotHarness, Person, Reply
from demo.seed import KST, LKM, OFFICE, SeedReport
from domain.clock import ManualClock
from domain.service import RegioTwin
from projections.host import ProjectionHost

TAGS = {
    "b": "bold",
    "i": "italic",
    "u": "underline",
    "code": "cyan",
    "pre": "cyan",
}
TAG = re.compile(r"<(/?)(\w+)[^>]*>")

QUESTION = "Wie haben Sie die Ladepunkte an Ihren Kreisliegenschaften ausgeschrieben?"
ADVICE = (
    "Gemeinsam mit den Stadtwerken, in einem Los für alle Liegenschaften – "
    "das hat die Kosten je Ladepunkt fast halbiert. (illustrativ)"
)


def rich_markup(telegram_html: str) -> str:
    """Telegram's HTML as rich markup: tags become styles, text stays literal."""
    parts: list[str] = []
    position = 0
    for match in TAG.finditer(telegram_html):
        parts.append(escape(html.unescape(telegram_html[position : match.start()])))
        style = TAGS.get(match.group(2))
        if style is not None:
            parts.append(f"[/{style}]" if match.group(1) else f"[{style}]")
        position = match.end()
    parts.append(escape(html.unescape(telegram_html[position:])))
    return "".join(parts)


class Transcript:
    def __init__(self, harness: BotHarness, clock: ManualClock, console: Console) -> None:
        self.harness = harness
        self.clock = clock
        self.console = console

    async def say(self, person: Person, text: str) -> list[Reply]:
        self.clock.advance(timedelta(minutes=2))
        self.console.print(f"[green]» {escape(person.first_name)}:[/] {escape(text)}")
        return self._show(await self.harness.send(person, text))

    async def press(self, person: Person, reply: Reply, button: str) -> list[Reply]:
        self.clock.advance(timedelta(minutes=1))
        self.console.print(f"[green]» {escape(person.first_name)} tippt[/] [reverse] {button} [/]")
        return self._show(await self.harness.press(person, reply, button))

    def _show(self, replies: list[Reply]) -> list[Reply]:
        for reply in replies:
            if not reply.text:
                continue
            verb = "ändert die Nachricht" if reply.method == "EditMessageText" else "antwortet"
            self.console.print(f"[blue]« RegioTwin {verb}:[/]")
            self.console.print("  " + rich_markup(reply.text).replace("\n", "\n  "))
            if reply.buttons:
                self.console.print(
                    "  " + " ".join(f"[reverse] {escape(text)} [/]" for text, _ in reply.buttons)
                )
        return replies


def _person(report: SeedReport, side: str, role: str) -> Person:
    member = report.member(side, role)
    return Person(id=member.telegram_user_id, first_name=member.name, language_code="de")


def _with_button(replies: list[Reply], button: str, containing: str = "") -> Reply:
    for reply in reversed(replies):
        if button in dict(reply.buttons) and containing in reply.text:
            return reply
    raise LookupError(f"no reply offers {button!r}")


async def play_conversation(
    folder: Path, service: RegioTwin, clock: ManualClock, report: SeedReport, console: Console
) -> None:
    """München asks, Steinfurt advises, München adopts it and reports progress; the
    auditor checks the record."""
    env = service.app.env
    projections = ProjectionHost(env, folder / "read_models.sqlite")
    projections.start()
    gateway = DomainGateway(service)
    handled = await HandledUpdates.open(folder / "bot_state.sqlite")
    try:
        assert projections.wait_until_current(30.0)
        dispatcher = build_dispatcher(
            BotServices(
                gateway=gateway,
                handled_updates=handled,
                clock=clock,
                admins=frozenset(),
                read_models=ReadModels(folder / "read_models.sqlite", projections, gateway),
            )
        )
        chat = Transcript(BotHarness(dispatcher), clock, console)
        anna = _person(report, LKM, "coordinator")
        lukas = _person(report, LKM, "staff")
        jan = _person(report, KST, "coordinator")
        petra = _person(report, OFFICE, "auditor")
        clock.set(clock.now() + timedelta(days=4))

        console.rule("[bold]Im Chat mit dem Bot (die echte Bot-Logik, ohne Telegram)")
        await chat.say(lukas, "/status")
        topics = await chat.say(anna, "/ratfragen")
        replies = await chat.press(anna, _with_button(topics, "E-Mobilität"), "E-Mobilität")
        await chat.press(
            anna,
            _with_button(replies, "Keine bestimmte Maßnahme"),
            "Keine bestimmte Maßnahme",
        )
        await chat.say(anna, QUESTION)
        questions = await chat.say(jan, "/raten")
        await chat.press(jan, _with_button(questions, "Frage 1 beantworten"), "Frage 1 beantworten")
        await chat.say(jan, ADVICE)
        advice = await chat.say(anna, "/rat")
        replies = await chat.press(
            anna, _with_button(advice, "Übernehmen", "Stadtwerken"), "Übernehmen"
        )
        await chat.press(anna, _with_button(replies, "Neue Maßnahme"), "Neue Maßnahme")
        await chat.say(anna, "LKM-20")
        await chat.say(anna, "Ladepunkte an Kreisliegenschaften gemeinsam ausschreiben")
        await chat.say(anna, "Fachbereich Liegenschaften")
        await chat.say(
            lukas, "/fortschritt LKM-20 30 Ausschreibung mit den Stadtwerken vorbereitet"
        )
        await chat.say(lukas, "/setstatus LKM-20 geplant")
        await chat.say(petra, "/historie LKM-20")
        await chat.say(lukas, "/status")
    finally:
        await handled.close()
        gateway.close()
        projections.stop()
