"""`bandwidth new`: write a new request file with the next free id."""

from __future__ import annotations

from bandwidth import options

HELP = "write a new request file with the next free id"


def add_arguments(parser) -> None:
    parser.add_argument("--agency")
    parser.add_argument("--letter-number", dest="letter_number")
    parser.add_argument("--letter-date", dest="letter_date")
    parser.add_argument("--contact-name", dest="contact_name")
    parser.add_argument("--contact-email", dest="contact_email")
    parser.add_argument("--github")
    parser.add_argument("--gateway")
    parser.add_argument("--uplink")
    parser.add_argument("--subnet", action="append", help="an agency network; repeat for several")
    parser.add_argument("--download", metavar="G:M", help="guaranteed:max Mbit/s, e.g. 50:100")
    parser.add_argument("--upload", metavar="G:M", help="guaranteed:max Mbit/s, e.g. 20:40")
    parser.add_argument("--priority", type=int)
    parser.add_argument("--start")
    parser.add_argument("--end")
    parser.add_argument("--purpose")
    parser.add_argument("--stdout", action="store_true", help="print the file instead of writing it")
    options.inventory(parser)
    options.today(parser, hidden=True)


def run(args) -> int:
    from bandwidth.allocations import scaffold

    return scaffold.run(args)
