"""Headroom's exceptions. Provider errors are never wrapped: they reach the caller as they are."""

from __future__ import annotations


class HeadroomError(Exception):
    """Base class for errors Headroom raises itself."""


class HeadroomBudgetError(HeadroomError, ValueError):
    """The part of a request Headroom may never drop does not fit the model's window.

    Raised instead of sending a request the provider would reject for its length.
    """

    def __init__(
        self,
        *,
        protected_tokens: int,
        budget: int,
        context_window: int,
        output_buffer_tokens: int,
        tool_tokens: int,
    ) -> None:
        self.protected_tokens = protected_tokens
        self.budget = budget
        self.context_window = context_window
        self.output_buffer_tokens = output_buffer_tokens
        self.tool_tokens = tool_tokens
        super().__init__(
            f"the protected part of the request (system prompt and last turns) needs "
            f"{protected_tokens} tokens but the budget is {budget} "
            f"(context window {context_window} - output buffer {output_buffer_tokens} "
            f"- tool definitions {tool_tokens}); lower keep_turns or output_buffer_tokens, "
            f"or shorten the last turns"
        )
