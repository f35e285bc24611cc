"""Merging duplicate customer records into one (migration 0007, and `merge_duplicate_customers`
after a later app adds references). Two records are one customer when the deal matcher says so:
same country and the same normalised name or the same registrable domain."""

from django.db import IntegrityError, transaction

STATUS_RANK = {"prospect": 0, "churned": 1, "active": 2}
FILLED = ("domain", "domain_key", "industry", "size")


def duplicate_groups(rows) -> list[list[int]]:
    """Groups of customer ids that are one customer (union over the name key and the domain key),
    each sorted, only groups of two or more."""
    parent = {row["pk"]: row["pk"] for row in rows}

    def find(pk):
        while parent[pk] != pk:
            parent[pk] = parent[parent[pk]]
            pk = parent[pk]
        return pk

    first_by_key = {}
    for row in sorted(rows, key=lambda r: r["pk"]):
        keys = [("name", row["country"], row["normalized_name"])]
        if row["domain_key"]:
            keys.append(("domain", row["country"], row["domain_key"]))
        for key in keys:
            if key in first_by_key:
                a, b = find(first_by_key[key]), find(row["pk"])
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                first_by_key[key] = row["pk"]
    groups = {}
    for pk in parent:
        groups.setdefault(find(pk), []).append(pk)
    return [sorted(g) for g in groups.values() if len(g) > 1]


def _repoint(model, field, losers, survivor):
    """Point every row of `model` that refers to a loser at the survivor; a row that would then
    duplicate one the survivor already has (a unique key) is the same fact twice and is dropped."""
    moved = dropped = 0
    for pk in list(model._base_manager.filter(**{f"{field.name}__in": losers}).values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                model._base_manager.filter(pk=pk).update(**{field.attname: survivor})
            moved += 1
        except IntegrityError:
            model._base_manager.filter(pk=pk).delete()
            dropped += 1
    return moved, dropped


def merge_duplicate_customers(apps=None) -> list[tuple[int, list[int]]]:
    """Merge every group of duplicates into its oldest record; returns [(survivor, [merged ids])]."""
    if apps is None:
        from django.apps import apps
    Customer = apps.get_model("partners", "Customer")
    AuditEvent = apps.get_model("partners", "AuditEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    rows = list(Customer._base_manager.values("pk", "country", "normalized_name", "domain_key"))
    merged = []
    content_type = ContentType.objects.filter(app_label="partners", model="customer").first()
    relations = [
        rel for rel in Customer._meta.related_objects if (rel.one_to_many or rel.one_to_one) and rel.field.concrete
    ]
    for group in duplicate_groups(rows):
        survivor_pk, losers = group[0], group[1:]
        with transaction.atomic():
            survivor = Customer._base_manager.select_for_update().get(pk=survivor_pk)
            others = list(Customer._base_manager.filter(pk__in=losers).order_by("pk"))
            for other in others:
                for name in FILLED:
                    if not getattr(survivor, name) and getattr(other, name):
                        setattr(survivor, name, getattr(other, name))
                if survivor.owner_partner_id is None and other.owner_partner_id is not None:
                    survivor.owner_partner_id = other.owner_partner_id
                if STATUS_RANK.get(other.status, 0) > STATUS_RANK.get(survivor.status, 0):
                    survivor.status = other.status
            report = {}
            for rel in relations:
                moved, dropped = _repoint(rel.related_model, rel.field, losers, survivor_pk)
                if moved or dropped:
                    report[rel.related_model._meta.label] = [moved, dropped]
            if content_type is not None:
                AuditEvent._base_manager.filter(
                    content_type=content_type, object_id__in=[str(pk) for pk in losers]
                ).update(object_id=str(survivor_pk))
            Customer._base_manager.filter(pk__in=losers).delete()
            survivor.save()
            if content_type is not None:
                AuditEvent._base_manager.create(
                    verb="customer.merge",
                    content_type=content_type,
                    object_id=str(survivor_pk),
                    object_repr=str(survivor.legal_name)[:200],
                    changes={"merged": [losers, None], "references": report},
                    reason="One record per customer: duplicates merged.",
                )
        merged.append((survivor_pk, losers))
    return merged
