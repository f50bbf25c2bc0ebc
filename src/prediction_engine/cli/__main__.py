"""``python -m prediction_engine.cli`` runs the ``pengine`` command."""

from prediction_engine.cli import main

main()
