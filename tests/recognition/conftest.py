import pytest

from tests.recognition.factories import CompanyValueFactory


@pytest.fixture
def own_it(db):
    return CompanyValueFactory(name="Own it")


@pytest.fixture
def honesty(db):
    return CompanyValueFactory(name="Honesty first")
