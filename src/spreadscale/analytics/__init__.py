"""Pure analytics for spread and scale-up programmes.

Only numpy, scipy and networkx are imported here: no Django, no database. The web app
and the CLI hand plain arrays in and get plain results back. An import-linter contract
(``make lint``) keeps it that way.
"""
