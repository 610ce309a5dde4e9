"""``python -m recunlearn`` runs the command-line tool (the same as ``recunlearn``)."""

from recunlearn.cli.main import app

if __name__ == "__main__":
    app()
