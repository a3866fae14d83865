"""A short, fixed-seed fuzz of Medium's answers through the real client and the emulator
(see ``apifuzz``); ``bench/fuzz_api.py`` runs the same for longer."""

from __future__ import annotations

import apifuzz

SEED = 20261202
CASES = 400


def test_no_answer_crashes_the_client_or_claims_more_than_it_proves() -> None:
    summary = apifuzz.run(SEED, CASES, huge_every=100)
    assert summary.cases == CASES
    assert dict(summary.findings) == {}, summary.examples
    assert summary.slowest_s < apifuzz.CASE_CEILING_S
    # The generator still reaches every kind of outcome, so an empty list of findings means
    # something: posts created, doubt, refusals, limits, users and unreadable answers.
    reached = {outcome.split(": ", 1)[1] for outcome in summary.outcomes}
    assert {"CreatedPost", "InDoubt", "Rejected", "RateLimited", "TokenRefused", "MediumUser",
            "Unreadable", "NotSent"} <= reached, summary.outcomes
