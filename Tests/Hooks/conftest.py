"""The fixtures of the hook tests: a fresh `margin serve` per test, and receivers made on demand."""
import pytest

from hooks_support import Node, Receiver


@pytest.fixture
def node():
    """`margin serve` on a SQLite file of its own, with short hook timings (hooks_support.Node)."""
    n = Node()
    yield n
    n.stop()


@pytest.fixture
def receiver():
    """Makes receivers on 127.0.0.1; all are closed after the test."""
    made = []

    def make():
        made.append(Receiver())
        return made[-1]
    yield make
    for r in made:
        r.stop()
