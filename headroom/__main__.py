"""``python -m headroom``: the headroom command."""

from .cli import main

main()
