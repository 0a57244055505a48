"""Folded stacks ("root;child;leaf count", the format of Brendan Gregg's FlameGraph and py-spy's raw
output) and a self-contained flame graph SVG drawn from them (no script, no CDN: hover a frame for
its name and share of samples; it opens in any browser).
"""

from __future__ import annotations

import html
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

Stacks = Counter[tuple[str, ...]]  # root-first frames -> samples

WIDTH, ROW, PAD = 1200, 17, 10
MIN_PX = 0.3  # frames narrower than this are not drawn (their parent's width still counts them)


def parse_folded(lines: Iterable[str]) -> Stacks:
    stacks: Stacks = Counter()
    for line in lines:
        frames, _, count = line.rstrip("\n").rpartition(" ")
        if frames and count.isdigit():
            stacks[tuple(frames.split(";"))] += int(count)
    return stacks


def to_folded(stacks: Stacks) -> str:
    return "".join(f"{';'.join(frames)} {count}\n" for frames, count in sorted(stacks.items()))


@dataclass
class _Node:
    name: str
    count: int = 0
    children: dict[str, _Node] = field(default_factory=dict)


def _tree(stacks: Stacks) -> tuple[_Node, int]:
    root, depth = _Node("all"), 0
    for frames, count in stacks.items():
        root.count += count
        node = root
        for frame in frames:
            node = node.children.setdefault(frame, _Node(frame))
            node.count += count
        depth = max(depth, len(frames))
    return root, depth


def _colour(name: str) -> str:
    h = zlib.crc32(name.encode())  # stable across runs: a function keeps its colour
    return f"rgb({205 + h % 50},{80 + (h >> 8) % 130},{(h >> 16) % 60})"


def render_svg(stacks: Stacks, title: str) -> str:
    """A flame graph: the root at the bottom, each frame as wide as its share of the samples."""
    root, depth = _tree(stacks)
    height = (depth + 1) * ROW + 3 * PAD + 20
    total = max(1, root.count)
    scale = (WIDTH - 2 * PAD) / total
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="monospace" font-size="11">',
        '<rect width="100%" height="100%" fill="#fdfdf6"/>',
        f'<text x="{PAD}" y="{PAD + 10}" font-size="13">{html.escape(title)} ({root.count} samples)</text>',
    ]

    def draw(node: _Node, x: float, level: int) -> None:
        w = node.count * scale
        if w < MIN_PX:
            return
        y = height - PAD - (level + 1) * ROW
        label = f"{node.name} ({node.count} samples, {100 * node.count / total:.1f} %)"
        chars = int((w - 4) / 6.6)
        text = node.name if len(node.name) <= chars else node.name[: max(0, chars - 1)] + "…"
        out.append(
            f'<g><title>{html.escape(label)}</title><rect x="{x:.1f}" y="{y}" width="{w:.1f}" '
            f'height="{ROW - 1}" fill="{_colour(node.name)}" rx="2"/>'
            + (f'<text x="{x + 2:.1f}" y="{y + ROW - 5}">{html.escape(text)}</text>' if chars >= 3 else "")
            + "</g>"
        )
        child_x = x
        for child in sorted(node.children.values(), key=lambda n: n.name):
            draw(child, child_x, level + 1)
            child_x += child.count * scale

    draw(root, PAD, 0)
    out.append("</svg>\n")
    return "\n".join(out)
