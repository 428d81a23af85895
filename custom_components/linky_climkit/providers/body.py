"""Read an answer's body with a cap on its size (no Home Assistant import).

A client never reads more than its cap: an answer beyond it is cut there, and a 200 that was cut
is refused with InvalidResponseError (a shortened JSON document cannot be read anyway); an
error answer is mapped from its beginning, which is all an error mapping looks at.

The caps, from the answers' sizes: Conso API 4 MiB (a 7-day load curve is about 30 kB, 90 kB
at a 10-minute step; a year of daily figures about 20 kB). Climkit 64 MiB: a 15-minute
`site_data` row of the captured site (4 consumers, 1 producer: 22 keys of about 45 bytes) is
about 1 kB, a 30-day window with its margins about 2,900 rows (3 MB); each consumer adds about
135 bytes a row (ext_, self_, total_), each producer 45, so 64 MiB holds a month of a site with
about 150 consumers. A Gateway answer (one meter's registers) is a few hundred bytes: 64 KiB.
"""

from __future__ import annotations

import codecs

import aiohttp

from .errors import InvalidResponseError

CHUNK = 64 * 1024


async def read_text(response: aiohttp.ClientResponse, limit: int, source: str) -> str:
    """The body decoded (the declared charset, else UTF-8; undecodable bytes replaced), at
    most `limit` bytes of it; InvalidResponseError for a 200 longer than that."""
    data = bytearray()
    cut = False
    async for chunk in response.content.iter_chunked(CHUNK):
        room = limit - len(data)
        if len(chunk) > room:
            data += chunk[:room]
            cut = True
            break
        data += chunk
    encoding = response.charset or "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "utf-8"
    if cut and response.status == 200:
        raise InvalidResponseError(f"{source} answered more than {limit // 1024} KiB")
    return data.decode(encoding, errors="replace")
