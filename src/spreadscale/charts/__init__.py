"""Vega-Lite chart specifications built as plain dicts: data in, dict out."""
