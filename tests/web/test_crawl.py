"""Follow every link a persona can see, as a curious user would: no page may answer with a 500,
and no aria-describedby / aria-labelledby on a page may point at an id that is not there.

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
    """Links, element ids, and the ids that aria-describedby / aria-labelledby point at."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.references: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"] or "")
        if a.get("id"):
            self.ids.add(a["id"] or "")
        for name in ("aria-describedby", "aria-labelledby"):
            self.references.update((a.get(name) or "").split())


def _links(base: str, html: str, dangling: list[str] | None = None) -> list[str]:
    parser = _Links()
    parser.feed(html)
    if dangling is not None:
        dangling.extend(sorted(parser.references - parser.ids))
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
def test_pages_a_persona_can_reach_answer_and_their_aria_references_resolve(persona, client_for):
    client = client_for(persona)
    seen = {"/"}
    queue = deque(["/"])
    visited = 0
    failures = []
    dangling: dict[str, list[str]] = {}
    while queue and visited < MAX_PAGES:
        path = queue.popleft()
        response = client.get(path)
        visited += 1
        if response.status_code >= 500:
            failures.append((path, response.status_code))
            continue
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            missing: list[str] = []
            for link in _links(path, response.content.decode(), missing):
                if link not in seen:
                    seen.add(link)
                    queue.append(link)
            if missing:
                dangling[path] = missing
    assert visited > 30, f"the walk found only {visited} pages"
    assert not failures, failures
    # a screen reader announces a field's help or error through these: they must resolve
    assert not dangling, dangling
