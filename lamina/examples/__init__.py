"""Runnable programs shipped with lamina: `python -m lamina.examples.digits` (the main job)
and `python -m lamina.examples.quickstart`."""
