"""The ``spreadscale`` command line.

Subcommands live in their own modules and are imported only when called, so that
``spreadscale spc`` and ``spreadscale simulate`` never pay for importing Django.
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute"; kept in the order shown by --help.
COMMANDS: dict[str, str] = {
    "demo": "spreadscale.cli.web:demo",
    "serve": "spreadscale.cli.web:serve",
    "migrate": "spreadscale.cli.web:migrate",
    "createuser": "spreadscale.cli.web:createuser",
    "spc": "spreadscale.cli.spc:spc",
    "simulate": "spreadscale.cli.simulate:simulate",
    "import": "spreadscale.cli.import_:import_",
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when it runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self._load(name) is not None]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # command not built yet in this checkout
                return None
            raise
        command: click.Command = getattr(module, attr)
        return command


@click.group(cls=LazyGroup)
@click.version_option(package_name="spreadscale")
def main() -> None:
    """spreadscale: spread and scale up improvements across many sites."""
