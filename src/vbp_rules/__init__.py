"""vbp_rules: Chinese volume-based procurement (集中带量采购) notices as policy packs.

The public API is re-exported here; everything else is private.
"""

from __future__ import annotations

from vbp_rules._version import __version__

__all__ = ["__version__"]
