"""Test support shared by every suite: the loopback OpenAI-compatible server."""

from .openai_server import (
    DEFAULT_TEXT,
    OpenAIServer,
    ReceivedRequest,
    Reply,
    cut_stream_reply,
    error_reply,
    raw_reply,
    text_reply,
    token_pieces,
    tool_call_reply,
)
from .schema_example import example_from_schema

__all__ = [
    "DEFAULT_TEXT",
    "OpenAIServer",
    "ReceivedRequest",
    "Reply",
    "cut_stream_reply",
    "error_reply",
    "example_from_schema",
    "raw_reply",
    "text_reply",
    "token_pieces",
    "tool_call_reply",
]
