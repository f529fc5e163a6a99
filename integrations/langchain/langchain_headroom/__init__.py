"""Headroom for LangChain: context budget control for chat models, chains and agents.

``HeadroomChatOpenAI`` is a drop-in ``ChatOpenAI``; ``HeadroomChatModel`` wraps any chat model;
``HeadroomCallbackHandler`` records audit metrics from any chain; ``HeadroomMiddleware`` applies
the engine to every model call of a ``create_agent`` agent.
"""

from __future__ import annotations

from .callbacks import HeadroomCallbackHandler
from .chat_model import HeadroomChatModel
from .chat_openai import HeadroomChatOpenAI, HeadroomResponsesAPIWarning
from .middleware import HeadroomMiddleware

__all__ = [
    "HeadroomCallbackHandler",
    "HeadroomChatModel",
    "HeadroomChatOpenAI",
    "HeadroomMiddleware",
    "HeadroomResponsesAPIWarning",
]
