"""Follow every link a persona can see, as a curious user would: no page may answer with a 500.

A breadth-first walk from the programme list over the demo programme, bounded per persona. It
catches the pages no other test opens with that role (a filter, a page number, a site of
another region, an export) failing on the way.
"""

from __future__ import annotations

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

MAX_PAGES = 150
SKIP_PREFIXES = ("/logout", "/admin/", "/static/", "/api/docs")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _links(base: str, html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    out = []
    for href in parser.hrefs:
        url = urldefrag(urljoin(base, href)).url
        parts = urlsplit(url)
        if parts.scheme in ("", "http") and parts.netloc in ("", "testserver"):
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path.startswith("/") and not path.startswith(SKIP_PREFIXES):
                out.append(path)
    return out


@pytest.mark.parametrize("persona", ["lead", "site_a", "patient", "facilitator"])
def test_no_link_a_persona_can_follow_answers_with_a_server_error(persona, client_for):
    client = client_for(persona)
    seen = {"/"}
    queue = deque(["/"])
    visited = 0
    failures = []
    while queue and visited < MAX_PAGES:
        path = queue.popleft()
        response = client.get(path)
        visited += 1
        if response.status_code >= 500:
            failures.append((path, response.status_code))
            continue
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            for link in _links(path, response.content.decode()):
                if link not in seen:
                    seen.add(link)
                    queue.append(link)
    assert visited > 30, f"the walk found only {visited} pages"
    assert not failures, failures
