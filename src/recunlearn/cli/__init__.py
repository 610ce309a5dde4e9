"""The ``recunlearn`` command line."""
