"""Body decoders: Content-Encoding undone in bounded pieces, and UTF-8 repair.

Both turn the bytes a server sent into the bytes a parser should see. fetch.py uses the
first (a compression bomb must never inflate at once); parse.py and jsonfeed.py use the
second (a document labelled UTF-8 that is not must still read right).

What this module does not do: network I/O, or parsing of any kind.
"""

from __future__ import annotations

import codecs
import functools
import re
import zlib
from collections.abc import Callable, Iterable, Iterator

import brotli

from feeds.errors import FetchError

_XML_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)""")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_UTF8_NAMES = frozenset({"utf-8", "utf8"})
# The codec error handler name the readers pass to bytes.decode(); registered below.
CP1252_FALLBACK = "feeds-cp1252"


Decoder = Callable[[Iterable[bytes]], Iterator[bytes]]
_PIECE = 64 * 1024


def body_decoder(content_encoding: str) -> Decoder:
    """Undo Content-Encoding in bounded pieces, so a bomb never inflates at once.

    httpx's own decoders inflate each network chunk in one call (64 KiB of gzip can be
    64 MiB); these hand out at most 64 KiB at a time and the caller counts them.
    """
    decoders: list[Decoder] = []
    for coding in reversed([c.strip().lower() for c in content_encoding.split(",")]):
        if coding in ("", "identity"):
            continue
        if coding in ("gzip", "x-gzip"):
            decoders.append(functools.partial(_inflate, wbits=16 + zlib.MAX_WBITS))
        elif coding == "deflate":
            decoders.append(functools.partial(_inflate, wbits=zlib.MAX_WBITS))
        elif coding == "br":
            decoders.append(_unbrotli)
        else:
            raise FetchError("bad_response", f"unsupported Content-Encoding {coding!r}")

    def decode(chunks: Iterable[bytes]) -> Iterator[bytes]:
        stream: Iterable[bytes] = chunks
        for decoder in decoders:
            stream = decoder(stream)
        yield from stream

    return decode


def _inflate(chunks: Iterable[bytes], wbits: int) -> Iterator[bytes]:
    inflater = zlib.decompressobj(wbits)
    first = True
    try:
        for data in chunks:
            while data:
                if inflater.eof:
                    if wbits != 16 + zlib.MAX_WBITS:
                        break  # trailing bytes after a deflate stream: ignored
                    inflater = zlib.decompressobj(wbits)  # next gzip member
                try:
                    piece = inflater.decompress(data, _PIECE)
                except zlib.error:
                    if not (first and wbits == zlib.MAX_WBITS):
                        raise
                    # "deflate" is often sent raw, without the zlib header.
                    wbits = -zlib.MAX_WBITS
                    inflater = zlib.decompressobj(wbits)
                    piece = inflater.decompress(data, _PIECE)
                first = False
                if piece:
                    yield piece
                data = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
        yield inflater.flush()
    except zlib.error as exc:
        raise FetchError("bad_response", f"corrupt compressed body: {exc}") from exc


def _unbrotli(chunks: Iterable[bytes]) -> Iterator[bytes]:
    decompressor = brotli.Decompressor()
    bounded = hasattr(decompressor, "can_accept_more_data")  # Brotli >= 1.2
    try:
        for data in chunks:
            if not bounded:
                yield decompressor.process(data)
                continue
            yield decompressor.process(data, output_buffer_limit=_PIECE)
            while not decompressor.can_accept_more_data():
                yield decompressor.process(b"", output_buffer_limit=_PIECE)
    except brotli.error as exc:
        raise FetchError("bad_response", f"corrupt brotli body: {exc}") from exc


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace"), error.end


codecs.register_error(CP1252_FALLBACK, _cp1252_fallback)


def repair_utf8(body: bytes, content_type: str | None) -> bytes:
    """Valid UTF-8 for a document meant to be UTF-8; other encodings are left alone."""
    if body[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or b"\x00" in body[:4]:
        return body
    declared = set()
    if match := _XML_ENCODING.match(body[:512]):
        declared.add(match.group(1).decode("ascii").lower())
    if charset := _CHARSET.search(content_type or ""):
        declared.add(charset.group(1).lower())
    if declared - _UTF8_NAMES:
        return body
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        body = body.decode("utf-8", errors=CP1252_FALLBACK).encode("utf-8")
    # Control characters make the strict XML parser give up on the whole document;
    # in UTF-8 these bytes are never part of a multi-byte character.
    return _CONTROL_BYTES.sub(b"", body)
