# The real first migration of ops, already applied in the test database.
import importlib

Migration = importlib.import_module("cpor.ops.migrations.0001_initial").Migration
