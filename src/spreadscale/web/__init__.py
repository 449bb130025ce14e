"""The spreadscale Django project: settings, URLs and one app per area of the domain."""
