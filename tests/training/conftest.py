"""Fixtures of the training tests that need the store."""

import pytest

from tests.training.synthetic import marker_pairs
from webapp.feedback.services.catalog import preference_create


@pytest.fixture
def arena_votes(db):
    """The synthetic signal as arena votes: the marked answer wins each battle (KTO: it desirable, the other not)."""
    rows = marker_pairs(40, seed=5)
    for row in rows:
        preference_create(
            prompt=row["prompt"],
            response_a=row["rejected"],
            response_b=row["chosen"],
            outcome="b",
            language=row["language"],
            source="arena",
            origin="local",
            group=row["group"],
            external_id=f"vote-{row['id']}",
        )
    return rows
