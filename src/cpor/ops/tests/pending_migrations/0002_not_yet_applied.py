# Stands for a migration of a new release that the release step has not run yet.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ops", "0001_initial")]
    operations = []
