"""Agent tests: this directory is on ``sys.path`` (pytest puts conftest directories there), so
the helper modules ``agent_models``, ``contract_server`` and ``agent_test_backends`` import by
name from the tests below it, and agent child processes inherit the path."""
