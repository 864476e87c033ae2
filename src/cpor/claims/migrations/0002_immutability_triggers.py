"""Immutability triggers.

They are installed after every ``migrate`` by ``cpor.claims.immutability.install``
(a post_migrate handler in ``ClaimsConfig``), from the current model definitions: SQLite
drops a table's triggers whenever a migration rebuilds the table, so a one-off
migration would silently lose them.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("claims", "0001_initial")]
    operations: list = []
