"""The drop-in OpenAI wrapper: ``HeadroomClient`` and ``AsyncHeadroomClient``.

``client.chat.completions.create`` takes the usual OpenAI arguments plus ``headroom_mode``,
``headroom_output_buffer_tokens``, ``headroom_keep_turns`` and ``headroom_tool_profiles``,
which never reach the provider. Audit mode sends the request untouched; optimize mode sends the
engine's plan. Each call writes one metrics record; a store or engine failure never breaks it.
"""

from __future__ import annotations

from ._clients import AsyncHeadroomClient, HeadroomClient
from ._streams import AsyncHeadroomStream, HeadroomStream

__all__ = ["AsyncHeadroomClient", "AsyncHeadroomStream", "HeadroomClient", "HeadroomStream"]
