"""`portal <command>` (the console script) or `python -m portal <command>`: Flask's command
line on the app factory, with the portal's commands (portal/cli.py)."""

from __future__ import annotations

from flask.cli import FlaskGroup

from portal.app import create_app


def main() -> None:
    cli = FlaskGroup(create_app=lambda: create_app(), help="The field service booking portal.")
    cli()


if __name__ == "__main__":
    main()
