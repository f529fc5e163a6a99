"""Headroom for LlamaIndex retrieval:
``from llama_index.postprocessor.headroom import HeadroomNodePostprocessor``."""

from .base import HeadroomNodePostprocessor, PostprocessReport, RemovedNode

__all__ = ["HeadroomNodePostprocessor", "PostprocessReport", "RemovedNode"]
