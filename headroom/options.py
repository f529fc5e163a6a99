"""Validated engine options and per-tool compression profiles.

Options arrive from users as keyword arguments (``headroom_keep_turns=2``) or dicts
(``{"search": {"max_array_items": 5}}``); a bad value raises ``ValueError`` naming the option
and what it accepts, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

Mode = Literal["audit", "optimize"]
MODES: tuple[str, ...] = get_args(Mode)
DEFAULT_OUTPUT_BUFFER_TOKENS = 4000
DEFAULT_KEEP_TURNS = 2
# A profile under this name applies to every tool that has no profile of its own.
DEFAULT_PROFILE_KEY = "*"


class ToolProfile(BaseModel):
    """How hard one tool's output may be compressed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_array_items: int = Field(5, ge=0, description="leading items kept of a long array")
    shorten_arrays_over: int | None = Field(
        None,
        ge=1,
        description="arrays with more items than this are shortened (built-in: 20, so short"
        " result lists stay whole; max_array_items+1 where a profile sets max_array_items"
        " without it)",
    )
    max_string_length: int = Field(1000, ge=16, description="characters kept of a long string")
    max_depth: int = Field(12, ge=1, description="nesting levels kept")
    min_tokens: int = Field(
        300, ge=0, description="outputs smaller than this are only minified, never shortened"
    )
    text_lines: bool = Field(False, description="opt plain-text output into line shortening")
    text_parts: bool = Field(
        False,
        description="opt tool output sent as a list of content parts (MCP tools, LangChain"
        " content blocks) into compression, each text part on its own; off by default, since"
        " non-string tool content passes through unchanged",
    )
    max_lines: int = Field(60, ge=2, description="head and tail lines kept of long text")
    keep_signals: bool = Field(
        True, description="keep array items and lines with errors, outliers or question terms"
    )
    reference_repeats: bool = Field(
        True,
        description="send a repeated JSON object or array once; later copies become a"
        " reference to the first",
    )
    factor_url_fields: bool = Field(
        True,
        description="send the link fields an object derives from its own url (GitHub's"
        " forks_url, keys_url...) as one template, defined once and named after that",
    )
    factor_null_fields: bool = Field(
        True,
        description="send an object's null fields as one list of their names"
        ' ("__headroom_nulls": "fax company"), where that is shorter',
    )
    keep_ties: bool = Field(
        True,
        description="keep every item or line the question matches as well as the last one"
        " kept, up to twice the usual number or one in ten: items sharing the question's"
        " terms are one answer",
    )

    @property
    def array_threshold(self) -> int:
        if self.shorten_arrays_over is not None:
            return self.shorten_arrays_over
        return self.max_array_items + 1

    def over(self, base: ToolProfile) -> ToolProfile:
        """This profile's own settings laid over ``base``: a profile names only what it
        changes. A ``max_array_items`` set here without ``shorten_arrays_over`` brings its
        threshold along (``max_array_items + 1``), whatever ``base`` shortens at."""
        given = {name: getattr(self, name) for name in self.model_fields_set}
        if "max_array_items" in given and "shorten_arrays_over" not in given:
            given["shorten_arrays_over"] = None
        return base.model_copy(update=given)

    def harder(self) -> ToolProfile:
        """The profile used on old tool outputs when the request does not fit its window."""
        return self.model_copy(
            update={
                "max_array_items": min(self.max_array_items, 3),
                "shorten_arrays_over": min(self.array_threshold, 8),
                "max_string_length": min(self.max_string_length, 400),
                "min_tokens": min(self.min_tokens, 200),
                "text_lines": True,
                "text_parts": True,
                "max_lines": min(self.max_lines, 40),
                "keep_ties": False,
            }
        )


class EngineOptions(BaseModel):
    """Everything that shapes one plan besides the messages, the model and the tools."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Mode = "optimize"
    output_buffer_tokens: int = Field(DEFAULT_OUTPUT_BUFFER_TOKENS, ge=0)
    keep_turns: int = Field(DEFAULT_KEEP_TURNS, ge=0)
    tool_profiles: dict[str, ToolProfile] = Field(default_factory=dict)

    _resolved: tuple[object, dict[str | None, ToolProfile]] | None = PrivateAttr(default=None)

    def profile_for(self, tool_name: str | None) -> ToolProfile:
        """The profile one tool's output is compressed under (``None``: an unnamed tool):
        its own over ``"*"``, and ``"*"`` over the built-in one."""
        resolved = self._resolved
        if resolved is None or resolved[0] is not self.tool_profiles:  # a model_copy's update
            resolved = (self.tool_profiles, self._resolve())
            self._resolved = resolved
        profiles = resolved[1]
        found = profiles.get(tool_name) if tool_name is not None else None
        return found if found is not None else profiles[None]

    def _resolve(self) -> dict[str | None, ToolProfile]:
        default = self.tool_profiles.get(DEFAULT_PROFILE_KEY)
        base = default.over(_DEFAULT_PROFILE) if default is not None else _DEFAULT_PROFILE
        profiles: dict[str | None, ToolProfile] = {
            name: profile.over(base) for name, profile in self.tool_profiles.items()
        }
        profiles[None] = base
        return profiles

    def cache_key(self) -> str:
        """A stable text form of these options, for memoising per-message work."""
        return self.model_dump_json()


_DEFAULT_PROFILE = ToolProfile(shorten_arrays_over=20)

_FIELD_HINTS = {
    "mode": f"one of {', '.join(repr(m) for m in MODES)}",
    "output_buffer_tokens": "an integer >= 0",
    "keep_turns": "an integer >= 0",
    "tool_profiles": (
        "a mapping of tool name to a profile with keys "
        + ", ".join(sorted(ToolProfile.model_fields))
    ),
}


def make_options(**values: Any) -> EngineOptions:
    """Build EngineOptions, turning pydantic's errors into one readable ValueError."""
    given = {k: v for k, v in values.items() if v is not None}
    unknown = sorted(set(given) - set(EngineOptions.model_fields))
    if unknown:
        raise ValueError(
            f"unknown headroom option(s) {unknown}; valid options: "
            f"{sorted(EngineOptions.model_fields)}"
        )
    profiles = given.get("tool_profiles")
    if profiles is not None and not isinstance(profiles, Mapping):
        raise ValueError(f"tool_profiles must be {_FIELD_HINTS['tool_profiles']}")
    try:
        return EngineOptions(**given)
    except ValidationError as exc:
        raise ValueError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = error.get("loc", ())
        field = str(loc[0]) if loc else "options"
        where = ".".join(str(p) for p in loc)
        hint = _FIELD_HINTS.get(field, "")
        got = error.get("input")
        parts.append(
            f"invalid headroom option {where}={got!r}: {error.get('msg')}"
            + (f" (expected {hint})" if hint else "")
        )
    return "; ".join(parts)
