"""Headroom for LlamaIndex LLMs: ``from llama_index.llms.headroom import HeadroomLLM``."""

from .base import HeadroomLLM

__all__ = ["HeadroomLLM"]
