"""The one rule for characters XML 1.0 cannot carry, shared by every layer.

Ingest cleans outside text with it, the API cleans payloads with it, and the writers
clean again before lxml serialises (lxml raises on these characters). One rule means a
string stored is a string served: no layer removes what another kept.
"""

from __future__ import annotations

import re

# Outside the XML 1.0 Char production (C0 controls but tab, newline and return; lone
# surrogates left by a bad decode or sent as "\ud800" in JSON; U+FFFE/U+FFFF), plus the
# C1 controls the spec discourages and some readers choke on (U+0085 is allowed).
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value: str) -> str:
    """*value* without the characters XML 1.0 cannot carry."""
    return XML_INVALID.sub("", value)
