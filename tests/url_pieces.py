"""URLs built from the pieces that trip URL parsers up: schemes in either case, slashes,
brackets, full-width look-alikes, spaces and controls, ports, queries, fragments."""

from __future__ import annotations

from hypothesis import strategies as st

URL_PIECES = st.sampled_from(
    ["https", "http", "HTTPS", "ftp", "://", "https://", "http://", "：", "／", ":", "/",
     "//", "///", "?", "#", ";", "[", "]", "@", ".", "..", "a", "B", "news.example.org",
     "x-y", "%7e", " ", "\t", "\n", "é", "１", "\x01", "mailto", "data", "=", "&", "%",
     "+", "-"]
)  # fmt: skip
URLS = st.lists(URL_PIECES, max_size=10).map("".join)
# Mostly absolute: a scheme, "://" and the pieces after it.
ABSOLUTE_URLS = st.builds(
    "{}://{}".format, st.sampled_from(["https", "http", "HTTP", "ftp", "mailto"]), URLS
)
