"""Make the URLs inside article HTML absolute (the rule lives in feeds/absolutize.py,
beside the models, since the store makes each article's copy when it is written)."""

from __future__ import annotations

from feeds.absolutize import MAX_DEPTH, URL_ATTRIBUTES, absolutize_html
from feeds.urls import absolute_url, absolutize_srcset

__all__ = ["MAX_DEPTH", "URL_ATTRIBUTES", "absolute_url", "absolutize_html", "absolutize_srcset"]
