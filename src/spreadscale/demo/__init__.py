"""The demo programme: a seeded generator (pure) and a loader into the database.

``generate()`` returns plain data (no Django) so analytics examples and simulations can use
the same programme; ``spreadscale.demo.load.load_demo()`` writes it through the actions.
"""

from spreadscale.demo.generator import DemoProgramme, DemoSite, generate

__all__ = ["DemoProgramme", "DemoSite", "generate"]
