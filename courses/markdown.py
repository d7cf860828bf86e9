"""Markdown → safe HTML for lessons, lab texts, hints and feedback.

markdown-it-py (CommonMark + tables) with raw HTML off, Pygments for code, heading anchors, and
nh3 as the last word on what may reach the page. Fenced blocks whose info string carries `run`
(```bash run) become runnable: the page adds a Run button that types the command into the lab.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
    "button",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "span": {"class"},
    "pre": {"class"},
    "div": {"class", "data-lang"},
    "button": {"class", "type", "title"},
    "th": {"style"},
    "td": {"style"},
    **{f"h{i}": {"id"} for i in range(1, 7)},
}
URL_SCHEMES = {"http", "https", "mailto"}

_formatter = HtmlFormatter(nowrap=True)

# Resolves a relative link in a lesson (e.g. "../02-internals/01-namespaces.md#x") to a URL, or
# returns None when it is not a link to a lesson. May raise BrokenLink.
LinkResolver = Callable[[str], "str | None"]


class BrokenLink(Exception):
    def __init__(self, target: str, line: int | None):
        self.target, self.line = target, line
        super().__init__(f"link to {target!r} does not point to a lesson of this course")


def _fence(md: MarkdownIt):
    def render(self, tokens, idx, options, env):
        token = tokens[idx]
        info = token.info.strip().split()
        lang = info[0].lower() if info else ""
        runnable = "run" in info[1:] or "{run}" in info[1:]
        try:
            lexer = get_lexer_by_name(lang) if lang else TextLexer()
        except ClassNotFound:
            lexer = TextLexer()
        code = highlight(token.content, lexer, _formatter)
        classes = "code-block runnable" if runnable else "code-block"
        run = (
            '<button type="button" class="run-btn" title="Type this into the lab terminal">Run</button>'
            if runnable
            else ""
        )
        lang_attr = html.escape(lang, quote=True)
        pre = f'<pre class="highlight"><code>{code}</code></pre>'
        return f'<div class="{classes}" data-lang="{lang_attr}">{run}{pre}</div>\n'

    md.add_render_rule("fence", render)
    md.add_render_rule("code_block", render)


def _link_rewriter(resolver: LinkResolver | None, line_offset: int):
    def rule(state):
        if resolver is None:
            return
        for block in state.tokens:
            for token in block.children or []:
                if token.type != "link_open":
                    continue
                href = token.attrGet("href") or ""
                try:
                    url = resolver(href)
                except BrokenLink as exc:
                    line = block.map[0] + 1 + line_offset if block.map else None
                    raise BrokenLink(exc.target, line) from None
                if url is not None:
                    token.attrSet("href", url)

    return rule


def make_parser(resolver: LinkResolver | None = None, line_offset: int = 0) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True})
    md.enable(["table", "strikethrough", "replacements", "smartquotes"])
    md.use(anchors_plugin, min_level=2, max_level=3, permalink=False)
    _fence(md)
    md.core.ruler.push("berth_links", _link_rewriter(resolver, line_offset))
    return md


def sanitize(fragment: str) -> str:
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render(text: str, *, resolver: LinkResolver | None = None, line_offset: int = 0) -> str:
    """Render Markdown to sanitized HTML. Raises BrokenLink (with the file line) from the resolver."""
    return sanitize(make_parser(resolver, line_offset).render(text or ""))


_TAG_RE = re.compile(r"<[^>]+>")


def plain_text(fragment: str) -> str:
    return html.unescape(_TAG_RE.sub("", fragment)).strip()
