"""Its presence makes fx-install-tested a plugin with tests (``flask install --only-with-tests``)."""


def test_fixture_plugin_has_a_test() -> None:
    assert True
