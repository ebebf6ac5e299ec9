import pytest

from tests.support.stack import start_stack, stop_stack


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.xdist_group("e2e"))


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """The real local stack, as `make dev` runs it (honours STREAM_CHAOS from the environment)."""
    # a generous write limit so races and the fuzz run reach the logic (429s: test_rate_limits.py)
    running = start_stack(tmp_path_factory.mktemp("stack"), extra_env={"WRITE_LIMIT_PER_MINUTE": "100000"})
    yield running
    stop_stack(running)
