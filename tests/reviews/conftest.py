import pytest

from reviews import services
from tests.reviews.factories import make_cycle, make_template


@pytest.fixture
def template(admin):
    return make_template(admin)


@pytest.fixture
def cycle(admin, north, alice, bob, template):
    """A draft quarterly cycle covering North (alice and bob, reviewed by maria)."""
    return make_cycle(admin, [north], template)


@pytest.fixture
def opened(admin, cycle):
    services.cycle_open(actor=admin, cycle=cycle)
    cycle.refresh_from_db()
    return cycle


@pytest.fixture
def alice_review(opened, alice):
    return opened.reviews.get(rep=alice)
