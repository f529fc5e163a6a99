"""Offline tiktoken encodings, shipped in the package and checked against tiktoken's sha256.

tiktoken downloads its encoding files on first use; Headroom must count in a sandbox with no
network, so it builds the ``tiktoken.Encoding`` from the files in ``_encodings/`` instead.
"""

from __future__ import annotations

import binascii
import functools
import gzip
import hashlib
from collections.abc import Callable
from importlib import resources

import tiktoken

from .errors import HeadroomError

# The hashes tiktoken itself checks its downloads against (tiktoken_ext/openai_public.py).
ENCODING_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}

_PATTERNS = {
    "cl100k_base": (
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+"""
        r"""| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
    ),
    "o200k_base": "|".join(
        [
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""\p{N}{1,3}""",
            r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
            r"""\s*[\r\n]+""",
            r"""\s+(?!\S)""",
            r"""\s+""",
        ]
    ),
}

_SPECIAL_TOKENS = {
    "cl100k_base": {
        "<|endoftext|>": 100257,
        "<|fim_prefix|>": 100258,
        "<|fim_middle|>": 100259,
        "<|fim_suffix|>": 100260,
        "<|endofprompt|>": 100276,
    },
    "o200k_base": {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
}


def read_encoding_file(name: str) -> bytes:
    """The raw ``.tiktoken`` file for ``name``, verified against tiktoken's sha256."""
    if name not in ENCODING_SHA256:
        raise HeadroomError(f"unknown encoding {name!r}; shipped: {sorted(ENCODING_SHA256)}")
    packed = resources.files("headroom").joinpath("_encodings", f"{name}.tiktoken.gz")
    raw = gzip.decompress(packed.read_bytes())
    digest = hashlib.sha256(raw).hexdigest()
    if digest != ENCODING_SHA256[name]:
        raise HeadroomError(
            f"encoding file {name} is corrupt: sha256 {digest} != {ENCODING_SHA256[name]}"
        )
    return raw


@functools.cache
def _ranks(name: str) -> dict[bytes, int]:
    """token -> rank from the file's ``base64-token rank`` lines (its sha256 is checked, so
    the layout is known): decoded by C-level maps, 88 instead of 147 ms for o200k_base."""
    fields = read_encoding_file(name).split()
    return dict(zip(map(binascii.a2b_base64, fields[0::2]), map(int, fields[1::2]), strict=True))


def _build(name: str) -> tiktoken.Encoding:
    return tiktoken.Encoding(
        name=f"headroom-{name}",
        pat_str=_PATTERNS[name],
        mergeable_ranks=_ranks(name),
        special_tokens=_SPECIAL_TOKENS[name],
    )


@functools.cache
def get_encoding(name: str) -> tiktoken.Encoding:
    """Build (once per process) the tiktoken encoding ``name`` from the shipped file."""
    return _build(name)


@functools.cache
def token_counter(name: str) -> Callable[[str], int]:
    """Exactly ``len(get_encoding(name).encode_ordinary(text))``, without the Python list.

    tiktoken can hand its tokens over as one buffer (what ``encode_to_numpy`` wraps): no
    Python int per token is made, and the GIL is not held while they would be, so a count
    on the background thread no longer stalls the engine. With no special token allowed,
    special-token text is encoded as ordinary text, as ``encode_ordinary`` does. Versions of
    tiktoken without the buffer get the list's length.
    """
    return _counter(get_encoding(name))


def own_token_counter(name: str) -> Callable[[str], int]:
    """``token_counter`` on an encoding of its own, for a thread that counts a lot.

    The thread that first encodes with a tiktoken encoding owns its regex's match caches;
    any other thread takes a cache from a locked pool at every match, and encodes about
    1.2x slower (measured: 12.2 vs 15.4 ms for the same 286k characters). The background
    count thread builds its own (about 100 ms and 38 MB for o200k_base, the ranks shared).
    """
    return _counter(_build(name))


def _counter(encoding: tiktoken.Encoding) -> Callable[[str], int]:
    to_buffer = getattr(getattr(encoding, "_core_bpe", None), "encode_to_tiktoken_buffer", None)
    if to_buffer is None:
        return lambda text: len(encoding.encode_ordinary(text))
    no_special: frozenset[str] = frozenset()

    def count(text: str) -> int:
        return memoryview(to_buffer(text, no_special)).nbytes // 4  # uint32 per token

    return count
