"""helpers.measure: counting, timing and memory (taught in 01 and 02), tested as plain functions."""
import helpers


def test_compare_times_interleaves_and_reports_tokens():
    calls = []
    timings = helpers.compare_times({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
                                  warmup=1, repeats=4, tokens=100)
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b", "b", "a"]   # warm-up, then who goes first rotates
    assert set(timings) == {"a", "b"} and len(timings["a"].times) == 4 and timings["a"].tokens_per_s > 0


def test_fmt_ratio_in_words_and_when_nothing_trains():
    """01 prints fmt_ratio(total, trainable): with no trainable parameter it answers in words, not ZeroDivisionError."""
    assert helpers.fmt_ratio(1_000, 10) == "100x fewer" and helpers.fmt_ratio(10, 20) == "2.00x more"
    assert helpers.fmt_ratio(1_000, 0) == "infinitely fewer"
