"""`python -m bench [data|run|compare]`; `make bench` runs `data` (when the database has no bench
data yet) and then `run`. PostgreSQL only: the figures mean nothing on SQLite."""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Production-like settings for the measurement: DEBUG off (no query log), no HTTPS redirect on
# loopback, throttles out of the way, emails kept in memory.
BENCH_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
    "SECURE_SSL_REDIRECT": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "THROTTLE_USER": "1000000/minute",
    "THROTTLE_ANON": "1000000/minute",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "LOG_LEVEL": "WARNING",
    "CELERY_TASK_ALWAYS_EAGER": "true",
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench")
    sub = parser.add_subparsers(dest="command")
    data = sub.add_parser("data", help="generate the data set (seed_demo first when needed)")
    data.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1.0")))
    data.add_argument("--seed", type=int, default=2026)
    run = sub.add_parser("run", help="measure")
    run.add_argument("--label", default=os.environ.get("BENCH_LABEL", "latest"))
    run.add_argument("--only", default="api,portal,admin,http,tasks")
    compare = sub.add_parser("compare", help="before/after table of two result files")
    compare.add_argument("before")
    compare.add_argument("after")
    args = parser.parse_args(argv)

    if args.command == "compare":
        from .compare import compare as do_compare

        do_compare(args.before, args.after)
        return 0

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        print(
            "make bench needs PostgreSQL: the figures are only meaningful there.\n"
            "  createdb -h 127.0.0.1 -U postgres prm_bench\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/prm_bench make bench\n"
            "(use a database of its own: the generator writes a million-row channel into it)",
            file=sys.stderr,
        )
        return 2
    for key, value in BENCH_ENV.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from . import generate

    # DEBUG off serves hashed static files from the manifest, as in production; seeding sends
    # branded emails that name them, so this comes before the data too.
    call_command("collectstatic", verbosity=0, interactive=False)
    if args.command in (None, "data"):
        call_command("migrate", verbosity=0, interactive=False)
        if generate.generated():
            print("bench: data already generated (drop and re-create the database to regenerate)")
        else:
            from partners.models import Partner

            if not Partner.objects.filter(slug="northwind").exists():
                call_command("seed_demo", "--force", stdout=open(os.devnull, "w"))  # noqa: SIM115
            scale = getattr(args, "scale", float(os.environ.get("BENCH_SCALE", "1.0")))
            print(f"bench: generating at scale {scale}")
            generate.generate(scale=scale, seed=getattr(args, "seed", 2026))
        if args.command == "data":
            return 0
    from .run import run as do_run

    label = getattr(args, "label", os.environ.get("BENCH_LABEL", "latest"))
    only = tuple(getattr(args, "only", "api,portal,admin,http,tasks").split(","))
    do_run(label, only=only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
