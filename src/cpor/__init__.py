"""CPOR: Claiming Partner of Record customer associations."""
