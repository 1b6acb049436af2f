"""Hidden checks for 03_sft: run by scripts/teachers/grade.py after the visible self-check, never shown to students.

The student build leaves ``grading/`` out, and the sandbox's copy of the kit holds no ``grading/hidden``: the
grader's worker gets this file on its stdin. ``HIDDEN`` maps a visible check's name to more checks of the same
student object, called like it (``check(student_function, *the visible check's arguments)``); a FAIL here fails the
exercise with "hidden check" in the message.
"""
from helpers.check.sft import compare_shares

# Cases the visible check does not use: a hand-in that looks its answers up in a table of the visible cases fails.
_UNSEEN = [([6, 2, 9, 1, 4], 2, None), ([5, 5, 5, 5], 3, 8), ([1], 1, None), ([2, 7, 3], 4, 9)]


def real_token_share_unseen(fn) -> None:
    compare_shares(fn, _UNSEEN, hint="compute the share from the lengths; do not look answers up",
                   label="share (a case the notebook never shows)")


HIDDEN = {"real_token_share": [real_token_share_unseen]}
