"""spreadscale: spread and scale up improvements across many sites."""

__version__ = "0.1.0.dev0"
