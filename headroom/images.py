"""Image prompt tokens by OpenAI's tile rule.

low detail costs the base; high (and auto) detail scales the image to fit 2048x2048, then its
shortest side to 768, and costs base + per-tile tokens for every 512-px tile. Dimensions come
from the part (``width``/``height``) or from the header of an inline ``data:`` image.
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Mapping
from typing import Any

# An image whose size cannot be known is priced as a 1024x1024 high-detail image (4 tiles).
_UNKNOWN_SIZE = (1024, 1024)


def image_tokens(part: Mapping[str, Any], base: int = 85, per_tile: int = 170) -> int:
    """Prompt tokens for one ``image_url`` content part."""
    image = part.get("image_url")
    if isinstance(image, str):
        image = {"url": image}
    if not isinstance(image, Mapping):
        image = {}
    detail = image.get("detail") or part.get("detail") or "auto"
    if detail == "low":
        return base
    size = _declared_size(image) or _declared_size(part) or _data_url_size(image.get("url"))
    width, height = size or _UNKNOWN_SIZE
    return base + per_tile * _tiles(width, height)


def _tiles(width: int, height: int) -> int:
    if width <= 0 or height <= 0:
        return 0
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = w * scale, h * scale
    return math.ceil(w / 512) * math.ceil(h / 512)


def _declared_size(source: Mapping[str, Any]) -> tuple[int, int] | None:
    width, height = source.get("width"), source.get("height")
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return width, height
    return None


def _data_url_size(url: object) -> tuple[int, int] | None:
    if not isinstance(url, str) or not url.startswith("data:") or "," not in url:
        return None
    header, _, payload = url.partition(",")
    if ";base64" not in header:
        return None
    try:
        head = base64.b64decode(payload[:65536] + "=" * (-len(payload[:65536]) % 4))
    except ValueError:
        return None
    return image_size(head)


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG, GIF, WebP or JPEG header; None when unknown."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
            w, h = struct.unpack(">II", data[16:24])
            return int(w), int(h)
        if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
            w, h = struct.unpack("<HH", data[6:10])
            return int(w), int(h)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_size(data)
        if data.startswith(b"\xff\xd8"):
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return w, h
    if chunk == b"VP8 " and len(data) >= 30:
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(w), int(h)
        i += 2 + length
    return None
