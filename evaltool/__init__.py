"""evaltool: measure and evaluate services for parents in recurrent care proceedings.

The library API lives in :mod:`evaltool.api`; the command line is a thin layer over it.
Importing this package is cheap: pandas, scipy and lifelines load only when used.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
