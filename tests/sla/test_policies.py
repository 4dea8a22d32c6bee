"""What a policy says about itself: the sentence the expectations document shows."""

import pytest

from leads.sla.selectors import policy_for_team

pytestmark = pytest.mark.django_db


def test_the_built_in_default_describes_itself_with_its_default_hours(org):
    policy = policy_for_team(org["north"])  # no policy saved anywhere
    assert policy.pk is None
    text = policy.describe()
    assert "Mon" in text and "09:00" in text and "17:00" in text
