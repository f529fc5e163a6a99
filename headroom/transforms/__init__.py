"""The transforms: each a pure function of (messages, context) in a module of its own."""
