"""Feeds: the newsroom's feed backbone."""

__version__ = "0.1.0"
