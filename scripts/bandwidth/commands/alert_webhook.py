"""`bandwidth alert-webhook`: Alertmanager's webhook receiver that keeps one GitHub issue per alert."""

from __future__ import annotations

import os

from bandwidth import options

HELP = "serve Alertmanager's webhook: one GitHub issue per alert, opened, commented on and closed"


def add_arguments(parser) -> None:
    parser.add_argument("--listen", default="127.0.0.1:9098", metavar="HOST:PORT", help="where to listen (default: %(default)s; port 0: any free port, printed)")
    options.github_repo(parser, "the GitHub repository of the issues (default: $GITHUB_REPOSITORY)", required=False)


def run(args) -> int:
    from bandwidth.monitoring import webhook

    args.github_repo = args.github_repo or os.environ.get("GITHUB_REPOSITORY")
    return webhook.serve(args.listen, options.checked_github_repo(args))
