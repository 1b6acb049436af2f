"""Self-checks for notebook lora."""

__all__: list[str] = []
