# pytest only honours pytest_plugins in the root conftest.
pytest_plugins = ["cpor.testing.browser"]
