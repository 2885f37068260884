"""Ingest of outside feeds, front half: fetch -> parse -> normalise (no database).

fetch.py (safe HTTP, address policy in netguard.py), parse.py (the only importer of
feedparser), sanitize.py (nh3), normalize.py, schedule.py (when to check next).
"""
