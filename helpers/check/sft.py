"""Self-checks for notebook sft."""

__all__: list[str] = []
