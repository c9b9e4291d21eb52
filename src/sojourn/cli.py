"""The `sojourn` command: Django's management commands under one name.

`sojourn` with no arguments lists the commands an operator needs; every Django command still works.
"""

from __future__ import annotations

import os
import sys

COMMANDS = {
    "serve": "serve the console, portals and API (gunicorn; --port)",
    "migrate": "create or upgrade the database",
    "demo": "build the demo program and serve it (--no-serve only builds)",
    "worker": "run due agenda steps and deliver the outbox until SIGTERM (--once drains and stops)",
    "simulate": "live a synthetic cohort through a program on a simulated clock (--patients, --days, --seed)",
    "events import FILE": "record the events of a JSON Lines file on two cores (run again: only what is missing)",
    "rules check FILE": "report every problem of a rule set file (rules dry-run: what a version would have done)",
    "magazine build": "lay out an issue of the printed magazine for the print house (magazine delivered: its report)",
    "insights refresh": "bring the journey facts behind the KPIs up to date",
    "survey import FILE": "import an outside patient survey export (CSV or XLSX) with a column mapping",
    "questionnaire import FILE": "import a FHIR Questionnaire, ValueSet or Bundle of both (--program SLUG)",
    "safety list": "the safety queue, soonest deadline first (safety decide|assess|forward|nullify --by EMAIL)",
    "program apply FILE": "create or change a program from its definition file (validate, diff; export SLUG)",
    "program launch": "take a program from set-up (draft) to live",
    "bench engine": "measure the engine against raw SQLite and the cel package (--scale, --json, --postgres URL)",
    "bench kpi": "measure the KPI dashboard against hand-written SQL, and the simulator (--scale, --json, --postgres)",
    "bench soak": "kill and pause workers under load; fail if a message is lost or sent twice (--minutes, --workers)",
    "createstaff": "create a staff account with a role in a program",
    "revokestaff": "take a staff member's role in a program away",
    "token issue": "issue a scoped, expiring API token (list, rotate, revoke; service-account NAME)",
    "invitations issue": "issue a print run of invitation cards and print their codes as CSV",
    "market validate PATH": "check a market pack and report every problem",
    "market activate PATH": "activate a market from its pack (transactional, idempotent)",
    "market new COUNTRY": "write a new market's pack to finish by hand: every field explained (--output PATH)",
    "audit verify": "check the audit trail's chain, its last checkpoint and the rows that need entries",
    "audit checkpoint": "write a signed checkpoint of the audit trail outside the database",
    "keys rotate": "re-wrap every data key under the current master key",
    "check --deploy": "refuse settings that are unsafe in production",
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: sojourn COMMAND [options]", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {text}" for name, text in COMMANDS.items()]
    lines += ["", "`sojourn help` lists every Django command; `sojourn COMMAND --help` explains one."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(_usage())
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sojourn.settings")
    # Django's deploy checks are warnings; in production they must stop the deploy.
    if args[0] == "check" and "--deploy" in args and not any(a.startswith("--fail-level") for a in args):
        args += ["--fail-level", "WARNING"]
    import django
    from django.core.management import execute_from_command_line

    from sojourn.process import settle

    django.setup()
    settle()
    execute_from_command_line(["sojourn", *args])


if __name__ == "__main__":
    main()
