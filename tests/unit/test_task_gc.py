"""Task bodies run with the objects alive before them frozen out of the garbage collector's
scans (tasks.young_objects_only), and nothing is leaked: the freeze is undone after the body,
also when it fails, and garbage from before it is collected afterwards."""

import gc
import weakref

import pytest

from minerwatch import tasks


class Node:
    pass


def _cycle():
    """An unreachable reference cycle, and a weak reference telling whether it is collected."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture(autouse=True)
def nothing_frozen():
    gc.collect()
    assert gc.get_freeze_count() == 0
    yield
    assert gc.get_freeze_count() == 0


def test_the_body_runs_with_older_objects_frozen_and_they_are_collected_after():
    older = _cycle()  # garbage from before the body, not yet collected
    seen = {}

    def body():
        seen["frozen"] = gc.get_freeze_count()
        gc.collect()  # a full collection inside the body does not scan the frozen objects
        seen["older_alive"] = older() is not None
        young = _cycle()
        gc.collect()
        seen["young_collected"] = young() is None
        return "done"

    assert tasks.run(body) == "done"
    assert seen == {"frozen": seen["frozen"], "older_alive": True, "young_collected": True}
    assert seen["frozen"] > 1000
    gc.collect()
    assert older() is None  # unfrozen afterwards: collected as before


def test_the_freeze_is_undone_when_the_body_fails():
    def body():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        tasks.run(body)
    assert gc.get_freeze_count() == 0


def test_a_chunk_runs_frozen_too(env):
    counts = tasks.run_each(lambda day, item, settings: gc.get_freeze_count(), "2024-06-30", ["A"])
    assert counts[0] > 1000


def test_objects_someone_else_froze_stay_frozen():
    # Airflow's LocalExecutor freezes before forking its workers: a task must not unfreeze them
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        tasks.run(lambda: None)
        assert gc.get_freeze_count() == before
    finally:
        gc.unfreeze()
