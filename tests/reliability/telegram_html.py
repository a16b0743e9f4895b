"""What Telegram accepts as a message in its HTML parse mode, checked strictly.

Telegram's rules (Bot API, "HTML style"): only the tags b, strong, i, em, u, ins, s, strike,
del, span class="tg-spoiler", tg-spoiler, a href, tg-emoji emoji-id, code (class="language-…"
inside pre), pre and blockquote (optionally expandable); tags properly nested; every <, > and &
that is not part of a tag or an entity escaped; the named entities &lt; &gt; &amp; &quot; and
numeric ones. Text is at most 4096 characters (1024 for a caption, 200 for a button's answer).

The tags are tokenised by :class:`html.parser.HTMLParser`; a strict scan of the raw text
first makes sure that no stray ``<``, ``>`` or ``&`` is left for the parser to forgive.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
ALERT_LIMIT = 200

TAGS = {
    "b": set(),
    "strong": set(),
    "i": set(),
    "em": set(),
    "u": set(),
    "ins": set(),
    "s": set(),
    "strike": set(),
    "del": set(),
    "span": {"class"},
    "tg-spoiler": set(),
    "a": {"href"},
    "tg-emoji": {"emoji-id"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
}
TAG = re.compile(r"</?[a-z][a-z-]*(?:\s+[a-z-]+(?:=\"[^\"<>]*\")?)*\s*/?>")
ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


class _Nesting(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            self.problems.append(f"tag <{tag}> is not Telegram HTML")
            return
        for name, value in attrs:
            if name not in TAGS[tag]:
                self.problems.append(f"attribute {name} not allowed on <{tag}>")
            if tag == "span" and (name, value) != ("class", "tg-spoiler"):
                self.problems.append('<span> needs class="tg-spoiler"')
            if tag == "code" and name == "class" and not (value or "").startswith("language-"):
                self.problems.append("<code class> must name a language-")
        if tag == "span" and not attrs:
            self.problems.append('<span> needs class="tg-spoiler"')
        if tag == "a" and not dict(attrs).get("href"):
            self.problems.append("<a> needs an href")
        if (
            self.stack
            and self.stack[-1] in ("code", "pre")
            and (tag, self.stack[-1])
            != (
                "code",
                "pre",
            )
        ):
            self.problems.append(f"<{tag}> inside <{self.stack[-1]}>")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing <{tag}/> is not Telegram HTML")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            return
        self.stack.pop()

    def handle_decl(self, decl: str) -> None:
        self.problems.append("a declaration")

    def handle_comment(self, data: str) -> None:
        self.problems.append("a comment")

    def handle_pi(self, data: str) -> None:
        self.problems.append("a processing instruction")

    def unknown_decl(self, data: str) -> None:
        self.problems.append("an unknown declaration")


def _stray_characters(text: str) -> list[str]:
    """Every <, > and & must belong to a tag or an entity."""
    problems = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "<":
            match = TAG.match(text, index)
            if match is None:
                problems.append(f"unescaped < at {index}: {text[index : index + 20]!r}")
                index += 1
                continue
            index = match.end()
            continue
        if char == "&":
            match = ENTITY.match(text, index)
            if match is None:
                problems.append(f"unescaped & at {index}: {text[index : index + 12]!r}")
            index = match.end() if match else index + 1
            continue
        if char == ">":
            problems.append(f"unescaped > at {index}")
        index += 1
    return problems


def html_problems(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Why Telegram would refuse this message (empty: it would take it)."""
    problems = []
    if len(text) > limit:
        problems.append(f"{len(text)} characters, more than {limit}")
    if not text.strip():
        problems.append("an empty message")
    problems += _stray_characters(text)
    nesting = _Nesting()
    nesting.feed(text)
    nesting.close()
    problems += nesting.problems
    if nesting.stack:
        problems.append(f"unclosed {nesting.stack}")
    return problems
