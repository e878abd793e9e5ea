"""One module per page; each has a ``render()`` that app.py routes to."""
