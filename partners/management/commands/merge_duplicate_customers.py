from django.core.management.base import BaseCommand

from partners.merge import merge_duplicate_customers


class Command(BaseCommand):
    help = (
        "Merge customer records that are one customer (same country and normalised name or registrable domain) "
        "into the oldest, moving every reference. Migration partners 0007 runs it once; run it again after "
        "restoring data from elsewhere."
    )

    def handle(self, *args, **options):
        for survivor, losers in merge_duplicate_customers():
            self.stdout.write(f"Customer {survivor}: merged {', '.join(map(str, losers))}")
