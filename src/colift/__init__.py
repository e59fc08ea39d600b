"""colift: co-production of elevator retrofits in old residential compounds."""

from colift.errors import BadInput, ColiftError, NotFound, RuleViolation

__version__ = "0.1.0"
__all__ = ["BadInput", "ColiftError", "NotFound", "RuleViolation", "__version__"]
