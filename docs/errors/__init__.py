"""The pages of the diagnostic codes (``<CODE>.md``), shipped as package data of ``dsl.errors`` so
that ``paymap explain M201`` works wherever paymap is installed."""
