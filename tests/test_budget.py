"""The one T4 compute model (helpers.budget) that every time estimate uses."""
import pytest

from helpers import budget


def test_flops_per_token_counts_the_passes():
    n = 1_000_000
    assert budget.flops_per_token(n, kind="forward") == 2 * n
    assert budget.flops_per_token(n) == 4 * n                      # LoRA: no weight gradients
    assert budget.flops_per_token(n, checkpointing=True) == 6 * n  # + one recomputed forward
    assert budget.flops_per_token(n, kind="full", checkpointing=True) == 8 * n
    with pytest.raises(ValueError, match="kind must be one of"):
        budget.flops_per_token(n, kind="backward")


def test_t4_minutes_uses_the_one_figure():
    one_minute = budget.T4_SUSTAINED_TFLOPS * 1e12 * 60
    assert budget.t4_minutes(one_minute) == pytest.approx(1.0)
    assert f"{budget.T4_SUSTAINED_TFLOPS:g} TFLOP/s" in budget.t4_assumption()
