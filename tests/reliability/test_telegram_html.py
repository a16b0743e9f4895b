"""The checker the fuzzer relies on accepts Telegram HTML and nothing else."""

from __future__ import annotations

import pytest

from tests.reliability.telegram_html import html_problems


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "<b>bold</b> <i>it</i> <u>u</u> <s>s</s> <tg-spoiler>x</tg-spoiler>",
        '<span class="tg-spoiler">x</span> <a href="https://t.me/x?start=a&amp;b">link</a>',
        '<pre><code class="language-python">x &lt; 1</code></pre>',
        "<blockquote expandable>q</blockquote> &lt;b&gt; &amp; &quot; &#128512; &#x1F600;",
        "<b>a <i>b</i></b>",
        "x" * 4096,
    ],
)
def test_telegram_html_passes(text: str):
    assert html_problems(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "<script>x</script>",
        "<b>unclosed",
        "<b><i>crossed</b></i>",
        "a < b",
        "a > b",
        "Tom & Jerry",
        "&nbsp;",
        "<br/>",
        "<span>x</span>",
        '<a onclick="x">x</a>',
        "<code><b>x</b></code>",
        "<!-- c -->",
        "",
        "x" * 4097,
    ],
)
def test_anything_else_fails(text: str):
    assert html_problems(text) != []
