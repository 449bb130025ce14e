"""The driver diagram as a graph: layered layout, a standalone SVG and a nested-list outline."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from django.db.models import Q

from spreadscale.web.core.models import Programme, Site
from spreadscale.web.improvement.models import ChangeIdea, DriverNode

COL_WIDTH, COL_GAP, ROW_GAP, LINE, PAD, TOP = 210, 70, 14, 15, 8, 40
WRAP = 30
FILL = {"aim": "#0b3d63", "primary": "#005ea5", "secondary": "#d6e8f5", "idea": "#fff6d5"}
INK = {"aim": "#ffffff", "primary": "#ffffff", "secondary": "#0b0c0c", "idea": "#0b0c0c"}
HEADINGS = {
    "aim": "Aim",
    "primary": "Primary drivers",
    "secondary": "Secondary drivers",
    "idea": "Change ideas",
}


@dataclass
class Box:
    key: str  # "n12" for a driver node, "i7" for a change idea
    kind: str  # aim | primary | secondary | idea
    text: str
    order: int
    parents: list[str]
    measures: list[str] = field(default_factory=list)
    layer: int = 0
    x: float = 0
    y: float = 0
    height: float = 0
    lines: list[str] = field(default_factory=list)


@dataclass
class Diagram:
    title: str
    boxes: dict[str, Box]
    columns: list[list[str]]
    width: float = 0
    height: float = 0

    def children(self, key: str) -> list[Box]:
        kids = [b for b in self.boxes.values() if key in b.parents]
        return sorted(kids, key=lambda b: (b.layer, b.y))


def load(programme: Programme, site: Site | None = None) -> Diagram:
    """The programme's current diagram, or a site's: the programme's plus the site's own nodes."""
    scope = Q(site__isnull=True) | Q(site=site) if site is not None else Q(site__isnull=True)
    nodes = list(
        DriverNode.objects.filter(scope, programme=programme, retired=False).prefetch_related(
            "parents", "measures"
        )
    )
    live = {n.pk for n in nodes}
    boxes: dict[str, Box] = {}
    for n in nodes:
        boxes[f"n{n.pk}"] = Box(
            key=f"n{n.pk}",
            kind=n.kind,
            text=n.text,
            order=n.order,
            parents=[f"n{p.pk}" for p in n.parents.all() if p.pk in live],
            measures=[m.name for m in n.measures.all()],
        )
    ideas = ChangeIdea.objects.filter(scope, programme=programme, retired=False).prefetch_related(
        "drivers"
    )
    for i in ideas:
        parents = [f"n{d.pk}" for d in i.drivers.all() if d.pk in live]
        if parents:  # an idea not yet linked to a driver waits in the change package
            boxes[f"i{i.pk}"] = Box(
                key=f"i{i.pk}", kind="idea", text=i.title, order=i.pk, parents=parents
            )
    title = f"Driver diagram: {programme.name}" + (f", {site.name}" if site else "")
    return layout(title, boxes)


def layout(title: str, boxes: dict[str, Box]) -> Diagram:
    """Place boxes in columns by longest path from the aim, ordered to keep links short.

    >>> d = layout("t", {"a": Box("a", "aim", "Aim", 0, []), "p": Box("p", "primary", "P", 0, ["a"]),
    ...                  "s": Box("s", "secondary", "S", 0, ["p", "a"])})
    >>> [b.layer for b in d.boxes.values()]
    [0, 1, 2]
    """
    memo: dict[str, int] = {}

    def depth(key: str, trail: frozenset[str] = frozenset()) -> int:
        if key in memo:
            return memo[key]
        b = boxes[key]
        floor = {"aim": 0, "primary": 1, "secondary": 2, "idea": 3}[b.kind]
        parents = [p for p in b.parents if p in boxes and p not in trail]
        d = max([depth(p, trail | {key}) + 1 for p in parents] + [floor])
        memo[key] = d
        return d

    for key in boxes:
        boxes[key].layer = depth(key)
    driver_depth = max([b.layer for b in boxes.values() if b.kind != "idea"] + [2])
    for b in boxes.values():
        if b.kind == "idea":  # every change idea in the last column
            b.layer = driver_depth + 1
    n_cols = max([b.layer for b in boxes.values()] + [0]) + 1
    columns: list[list[str]] = [[] for _ in range(n_cols)]
    for b in sorted(boxes.values(), key=lambda b: (b.order, b.key)):
        columns[b.layer].append(b.key)
    rank: dict[str, float] = {}
    for col in columns:
        # barycentre of the parents' positions: children line up beside what they serve
        col.sort(
            key=lambda k: (
                sum(rank.get(p, 0) for p in boxes[k].parents) / max(len(boxes[k].parents), 1),
                boxes[k].order,
            )
        )
        for i, k in enumerate(col):
            rank[k] = i
    height = 0.0
    for c, col in enumerate(columns):
        y = TOP
        for k in col:
            b = boxes[k]
            b.lines = textwrap.wrap(b.text, WRAP) or [""]
            if b.measures:
                b.lines += textwrap.wrap("Measures: " + "; ".join(b.measures), WRAP + 4)
            b.height = len(b.lines) * LINE + 2 * PAD
            b.x = 10 + c * (COL_WIDTH + COL_GAP)
            b.y = y
            y += b.height + ROW_GAP
        height = max(height, y)
    # centre shorter columns against the tallest, so the picture reads left to right
    for col in columns:
        if col:
            used = boxes[col[-1]].y + boxes[col[-1]].height - TOP
            shift = (height - TOP - ROW_GAP - used) / 2
            for k in col:
                boxes[k].y += shift
    width = 20 + n_cols * COL_WIDTH + (n_cols - 1) * COL_GAP
    return Diagram(title, boxes, columns, width, max(height, TOP + 40))


def svg(diagram: Diagram) -> str:
    """A standalone SVG (no scripts or external styles), with a title and a description."""
    d = diagram
    n_nodes = sum(1 for b in d.boxes.values() if b.kind != "idea")
    n_ideas = len(d.boxes) - n_nodes
    desc = (
        f"{n_nodes} aims and drivers and {n_ideas} change ideas, read from left (the aim) to "
        "right (the change ideas); lines join each box to what it contributes to. The page "
        "beside the picture gives the same diagram as nested lists."
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {d.width:.0f} {d.height:.0f}" '
        f'width="{d.width:.0f}" height="{d.height:.0f}" role="img" '
        'aria-labelledby="dd-title dd-desc" font-family="Arial, Helvetica, sans-serif" font-size="12">',
        f'<title id="dd-title">{escape(d.title)}</title>',
        f'<desc id="dd-desc">{escape(desc)}</desc>',
        f'<rect width="{d.width:.0f}" height="{d.height:.0f}" fill="#ffffff"/>',
    ]
    for c, col in enumerate(d.columns):
        kinds = {d.boxes[k].kind for k in col}
        heading = " / ".join(
            HEADINGS[k] for k in ("aim", "primary", "secondary", "idea") if k in kinds
        )
        x = 10 + c * (COL_WIDTH + COL_GAP)
        out.append(
            f'<text x="{x}" y="22" font-weight="bold" font-size="13" fill="#0b0c0c">{escape(heading)}</text>'
        )
    out.append('<g fill="none" stroke="#6f777b" stroke-width="1.2">')
    for b in d.boxes.values():
        for p in b.parents:
            if p not in d.boxes:
                continue
            a = d.boxes[p]
            x1, y1 = a.x + COL_WIDTH, a.y + a.height / 2
            x2, y2 = b.x, b.y + b.height / 2
            mid = (x1 + x2) / 2
            out.append(
                f'<path d="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"/>'
            )
    out.append("</g>")
    for b in d.boxes.values():
        out.append(f'<g id={quoteattr(b.key)} class="node-{b.kind}">')
        out.append(
            f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{COL_WIDTH}" height="{b.height:.1f}" rx="5" '
            f'fill="{FILL[b.kind]}" stroke="#0b3d63"/>'
        )
        text_lines = len(textwrap.wrap(b.text, WRAP) or [""])
        for i, line in enumerate(b.lines):
            italic = ' font-style="italic" font-size="11"' if i >= text_lines else ""
            out.append(
                f'<text x="{b.x + PAD:.1f}" y="{b.y + PAD + (i + 1) * LINE - 3:.1f}" '
                f'fill="{INK[b.kind]}"{italic}>{escape(line)}</text>'
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def outline(diagram: Diagram) -> list[dict]:
    """The diagram as a tree for nested lists; a box under several parents is listed once in full."""
    shown: set[str] = set()

    def walk(b: Box) -> dict:
        if b.key in shown:
            return {"box": b, "children": [], "again": True}
        shown.add(b.key)
        return {"box": b, "children": [walk(c) for c in diagram.children(b.key)], "again": False}

    roots = [b for b in diagram.boxes.values() if not [p for p in b.parents if p in diagram.boxes]]
    return [walk(b) for b in sorted(roots, key=lambda b: (b.layer, b.order))]
