"""Self-checks for notebook dpo."""

__all__: list[str] = []
