"""`make test` runs two pytest-xdist workers with ``--dist loadgroup``: tests marked with the same
``xdist_group`` must run on one worker, or each worker builds the session fixtures of the group for
itself (the demo world takes about three minutes). pytest-xdist marks a grouped test by a ``@group``
suffix on its node id; with pytest 9.2 that suffix silently stopped being set (pytest-dev/pytest-xdist
#1386) and every worker built its own demo world, so pyproject.toml keeps pytest below 9.2."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("demo_world")


def test_grouped_tests_run_on_one_worker(request):
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run by pytest-xdist with --dist loadgroup (make test does)")
    assert request.node.nodeid.endswith("@demo_world"), (
        f"pytest-xdist did not group {request.node.nodeid}: the demo world would be built once per worker")
