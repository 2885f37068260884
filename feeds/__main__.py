"""The `feeds` console script and `python -m feeds`: `flask --app app feeds` without typing it.

It lives here, above the app factory, so that feeds/cli.py (the commands, which the
factory registers) never imports the factory back.
"""

from __future__ import annotations

import sys

from flask.cli import ScriptInfo

from feeds import create_app
from feeds.cli import feeds_cli


def main() -> None:
    # with_appcontext loads the app from the ScriptInfo in the click context.
    info = ScriptInfo(create_app=lambda: create_app())
    feeds_cli.main(args=sys.argv[1:], prog_name="feeds", obj=info)


if __name__ == "__main__":
    main()
