"""Self-checks for notebook savings."""

__all__: list[str] = []
