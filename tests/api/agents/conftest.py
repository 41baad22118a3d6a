"""Agent fixtures, shared by the three agent test folders (see tests/unit/agents/fixtures.py)."""

from tests.unit.agents.fixtures import *  # noqa: F403
