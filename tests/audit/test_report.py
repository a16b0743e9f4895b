"""Reports: a self-contained HTML page per programme, rebuilt byte for byte, recorded as issued."""

from __future__ import annotations

import base64
import re
from datetime import date
from html.parser import HTMLParser

from audit.report import build_reports, find_issued, issued_reports
from audit.verify import verify_store
from domain.commands import IssueReport
from tests.audit.conftest import Demo

AS_OF = date(2017, 6, 20)


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.external: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img":
            self.images.append(values["src"] or "")
        for name in ("src", "href"):
            value = values.get(name) or ""
            if value and not value.startswith(("data:", "#")):
                self.external.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_a_report_is_one_self_contained_page_per_programme(demo_year: Demo):
    verdict = verify_store(demo_year.service.app)
    [report] = build_reports(
        demo_year.service.app, AS_OF, verdict.head_position, verdict.head, "de"
    )

    page = Page()
    page.feed(report.content.decode("utf-8"))
    text = " ".join(page.text)
    assert report.file_name == "03KF0003-2017-06-20-de.html"
    assert report.title == "RegioTwin: Bericht zum 20.06.2017"
    assert page.external == [], "no external resources: it opens anywhere"
    assert len(page.images) == 1  # only the main pair has measures in the demo
    assert page.images[0].startswith("data:image/png;base64,")
    assert base64.b64decode(page.images[0].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Kreis Steinfurt – Landkreis München" in text
    assert text.count("Wolfhagen") >= 2  # every twinning: overview and section
    assert "Übersicht" in text
    assert "Umsetzungsquote" in text or "Quote jetzt" in text
    assert "Erfahrungsaustausch" in text
    assert verdict.head in text
    assert re.search(r"bis Position \d+", text)


def test_the_same_log_position_and_day_give_the_same_bytes(demo_year: Demo):
    verdict = verify_store(demo_year.service.app)
    args = (demo_year.service.app, AS_OF, verdict.head_position, verdict.head)
    [first] = build_reports(*args, "en")
    [again] = build_reports(*args, "en")
    assert first.content == again.content
    assert first.title == "RegioTwin: report as of Jun 20, 2017"


def test_an_issued_report_can_be_found_and_rebuilt_from_its_record(demo_year: Demo):
    service = demo_year.service
    verdict = verify_store(service.app)
    [report] = build_reports(service.app, AS_OF, verdict.head_position, verdict.head, "de")
    service.handle(
        IssueReport(
            programme=report.code,
            title=report.title,
            as_of=AS_OF,
            content_sha256=report.sha256,
            log_position=verdict.head_position,
            chain_head=verdict.head,
        ),
        actor="system:report",
    )
    # The log goes on...
    from tests import builders

    builders.measure(service, builders.SYSTEM, region="05566", code="KST-99")

    [issued] = find_issued(service.app, report.content)
    assert issued.title == report.title
    assert find_issued(service.app, report.content + b" ") == []
    [record] = issued_reports(service.app)
    [rebuilt] = build_reports(
        service.app, date.fromisoformat(record.as_of), record.log_position, record.chain_head, "de"
    )
    assert rebuilt.sha256 == record.content_sha256
