"""pytest-django against the existing, generated bench database (no test database is created).

Each benchmark runs in a transaction that pytest-django rolls back, so the data set is unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.data import DataSet


@pytest.fixture(scope="session")
def django_db_setup() -> None:
    """Use the database named by DATABASE_URL as it is: `python -m bench` created and filled it."""


@pytest.fixture(scope="session")
def dataset() -> DataSet:
    return DataSet.load(Path(os.environ["BENCH_DATASET"]))
