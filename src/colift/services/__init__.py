"""Use cases: one function per thing a user does. The only layer that combines rules and store."""

# Registers the summary refresher with the store, so every committed write keeps the
# overviews' lines current (services/summary.py).
from colift.services import summary as _summary  # noqa: F401
