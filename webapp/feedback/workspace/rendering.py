"""Markdown for prompts, responses and guidelines, rendered so that nothing in a text can run.

markdown-it-py with raw HTML off: `<script>` or `<img onerror=...>` in a text comes out escaped, as
visible text; its link validator drops `javascript:`, `vbscript:` and `data:` targets (the link text
stays). Images are off too, so a text cannot make the annotator's browser fetch a remote address."""

from functools import lru_cache

from markdown_it import MarkdownIt


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"]).disable("image")
    md.add_render_rule("link_open", _link_open)
    return md


def _link_open(self, tokens, idx, options, env):
    """Links open in a new tab, so following one never loses a ranking in progress."""
    tokens[idx].attrSet("target", "_blank")
    tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
    return self.renderToken(tokens, idx, options, env)


@lru_cache(maxsize=256)
def render_markdown(text: str) -> str:
    """Safe HTML for a Markdown text (a fragment: paragraphs, lists, code blocks, tables). Kept for the texts rendered
    last: a task's prompt and responses are shown to each of its `overlap` annotators, one after another."""
    return _renderer().render(text or "")
