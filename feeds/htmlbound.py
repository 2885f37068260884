"""Bounding the nesting of HTML before anything parses it, in one linear pass.

html5ever, inside nh3, takes time that grows with the square of nesting depth (one
4.6 MB fragment of nested blockquotes cost minutes), and lxml's HTML parser silently
drops everything nested deeper than about 255 levels, text after it included.
`flatten_deep` removes the start and end tags of elements nested deeper than a limit
and keeps their text, so what a parser sees next nests no deeper than the limit (a
parser may add a few implied levels, such as tbody).

This is a tokeniser, not a parser, but it reads markup the way the HTML tokeniser
does where a difference would let it understate the depth: comments, `<!...>` and
`<?...>` are skipped whole, quoted attribute values may hold `<` and `>`, the text of
script, style, textarea and the like holds no tags, `<div/>` opens a div (only SVG and
MathML elements close themselves), and an end tag the parser would ignore because a
table or cell lies in between closes nothing. Where it still differs from a parser it
counts deeper, never shallower. It does not make anything safe; sanitising comes after.
"""

from __future__ import annotations

import itertools
import re

# The deepest nesting feeds carry as written: within lxml's limit of about 255 levels,
# with room for a wrapper and the levels a parser adds (tbody and the like). Deeper
# stored markup is flattened on output; the API refuses it.
FEED_MAX_DEPTH = 200
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr", "keygen", "frame", "basefont", "bgsound"}
)  # fmt: skip
# Elements whose text the tokeniser reads up to their own end tag, tags and all.
RAW_TEXT = frozenset(
    {"script", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "textarea",
     "title"}
)  # fmt: skip
# An end tag does not reach past these to an element opened outside them.
SCOPE_BOUNDARIES = frozenset(
    {"applet", "caption", "html", "table", "td", "th", "marquee", "object", "template",
     "svg", "math", "foreignobject"}
)  # fmt: skip
FOREIGN_ROOTS = frozenset({"svg", "math"})
# Children of these are HTML again, even inside SVG or MathML.
INTEGRATION_POINTS = frozenset(
    {"foreignobject", "desc", "title", "mi", "mo", "mn", "ms", "mtext", "annotation-xml"}
)
# An HTML start tag among these ends SVG or MathML content (the parser pops out of it).
BREAKOUT = frozenset(
    {"b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt",
     "em", "embed", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li",
     "listing", "menu", "meta", "nobr", "ol", "p", "pre", "ruby", "s", "small", "span",
     "strong", "strike", "sub", "sup", "table", "tt", "u", "ul", "var"}
)  # fmt: skip

_SPACE = "\t\n\f\r "
# The attribute part of a tag as the HTML tokeniser reads it: names may hold quotes,
# only a value after "=" is quoted. Possessive quantifiers keep every match linear.
_ATTRIBUTES = (
    r"(?:[\t\n\f\r /]++"
    r"|[^\t\n\f\r />][^\t\n\f\r />=]*+"
    r"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:\"[^\"]*+\"|'[^']*+'|[^\t\n\f\r >]*+))?+)*+"
)
_TOKEN = re.compile(
    r"<!--(?:>|->|.*?--!?>|.*\Z)"  # a comment, to its end (or the end of the text)
    r"|<[!?][^>]*+(?:>|\Z)"  # a doctype, a bogus comment, CDATA outside SVG and MathML
    r"|</(?:[^A-Za-z>][^>]*+>|>)"  # an end tag without a name: ignored
    rf"|<(/?)([A-Za-z][^\t\n\f\r />]*+)({_ATTRIBUTES})>",
    re.DOTALL,
)
_CDATA_END = "]]>"


# A whole tag of sanitised HTML, whose attribute values are always quoted; group 1 is
# "/" for an end tag.
_SANITISED_TAG = re.compile(r"<(/?)[A-Za-z][^\t\n\f\r />]*+(?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+>")


_STEP = {"": 1, "/": -1}


def within_depth(html: str, max_depth: int) -> bool:
    """A quick check for sanitised HTML (no comments, no script or style text, values
    quoted, text `<` escaped): True when it cannot nest deeper than *max_depth*.

    Every start tag counts as an opening, void ones too, which can only overstate the
    depth; False just means the full pass (`flatten_deep`) must look. Not for raw
    outside markup, which can hide end tags from a pattern.
    """
    if html.count("<") <= max_depth:
        return True
    steps = map(_STEP.__getitem__, _SANITISED_TAG.findall(html))
    return max(itertools.accumulate(steps), default=0) <= max_depth


def flatten_deep(html: str, max_depth: int) -> tuple[str, int]:
    """*html* without the tags of elements nested deeper than *max_depth*, and how many
    start tags were removed (0 when it was within bounds: then it is returned as is)."""
    if html.count("<") <= max_depth:  # too few tags to nest that deep: the common case
        return html, 0
    out: list[str] = []
    stack: list[tuple[str, bool]] = []  # open elements: (name, is SVG or MathML)
    dropped: dict[str, int] = {}  # elements opened too deep whose end tag is still to come
    removed = kept_to = pos = 0
    end = len(html)
    while pos < end:
        match = _TOKEN.search(html, pos)
        if match is None:
            break
        pos = match.end()
        name = match.group(2)
        foreign = bool(stack) and stack[-1][1]
        if name is None:  # a comment or the like: CDATA in SVG and MathML runs to "]]>"
            if foreign and html.startswith("<![CDATA[", match.start()):
                close = html.find(_CDATA_END, match.start())
                pos = end if close < 0 else close + len(_CDATA_END)
            continue
        name = name.lower()
        keep = True
        if match.group(1):  # an end tag
            if dropped.get(name):
                dropped[name] -= 1
                keep = False
            else:
                _close(stack, name)
        else:
            self_closing = match.group(3).endswith("/")
            if foreign and name in BREAKOUT:
                while stack and stack[-1][1]:
                    stack.pop()
                foreign = False
            in_foreign = name in FOREIGN_ROOTS or (
                foreign and stack[-1][0] not in INTEGRATION_POINTS
            )
            raw_text = name in RAW_TEXT and not in_foreign
            if (name in VOID and not in_foreign) or (self_closing and in_foreign):
                pass  # nothing stays open
            elif len(stack) >= max_depth and raw_text:
                # Script, style, a textarea: code or form text, never the article's
                # words; removed whole, end tag and all.
                removed += 1
                closing = _TOKEN.match(html, _raw_text_end(html, name, pos))
                pos = end if closing is None else closing.end()
                out.append(html[kept_to : match.start()])
                kept_to = pos
                continue
            elif len(stack) >= max_depth:
                dropped[name] = dropped.get(name, 0) + 1
                removed += 1
                keep = False
            else:
                stack.append((name, in_foreign))
                if raw_text:
                    pos = _raw_text_end(html, name, pos)
        if not keep:
            out.append(html[kept_to : match.start()])
            kept_to = match.end()
    if not removed:
        return html, 0
    out.append(html[kept_to:])
    return "".join(out), removed


def _close(stack: list[tuple[str, bool]], name: str) -> None:
    """Pop up to the innermost open *name*, unless a scope boundary lies in between
    (the parser ignores such an end tag, so popping would understate the depth)."""
    for index in range(len(stack) - 1, -1, -1):
        open_name = stack[index][0]
        if open_name == name:
            del stack[index:]
            return
        if open_name in SCOPE_BOUNDARIES:
            return


def _raw_text_end(html: str, name: str, pos: int) -> int:
    """Where the text of a raw-text element opened before *pos* ends: at its own end tag
    (which is then read as a token), else at the end of the input."""
    pattern = re.compile(rf"</{re.escape(name)}(?=[{_SPACE}/>])", re.IGNORECASE)
    found = pattern.search(html, pos)
    return len(html) if found is None else found.start()
