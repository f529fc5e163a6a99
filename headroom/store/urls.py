"""Store URLs as they may be shown: never with their password."""

from __future__ import annotations


def redact_url(url: str) -> str:
    """Hide a password in a store URL before it reaches a log, an error or a report."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url
