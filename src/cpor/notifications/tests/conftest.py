from cpor.notifications.tests.smtp import smtp_server  # noqa: F401 (fixture)
