"""Model permissions of the parent-staff groups, kept in step after every migrate.

The groups themselves are created by a data migration; permissions only exist after
post_migrate, so they are assigned here.
"""

from django.contrib.auth.models import Group, Permission

from .access import ParentRole

# app label -> the groups that may use those models in the admin (view and change).
ADMIN_APPS = {
    ParentRole.CHANNEL_MANAGER: ["partners", "deals", "quotes", "cases", "renewals", "mdf", "analytics"],
    ParentRole.SALES: ["deals", "quotes", "renewals"],
    ParentRole.SUPPORT: ["cases"],
    ParentRole.FINANCE: ["quotes", "mdf", "renewals"],
    ParentRole.MARKETING: ["mdf", "deals"],
    ParentRole.FRAUD_ANALYST: ["analytics"],
}
READ_ONLY_APPS = {
    ParentRole.SALES: ["partners"],
    ParentRole.SUPPORT: ["partners"],
    ParentRole.FINANCE: ["partners", "deals"],
    ParentRole.MARKETING: ["partners"],
    ParentRole.FRAUD_ANALYST: ["partners", "deals", "quotes", "cases", "renewals", "mdf"],
}
# Models only the parent's admins change.
ADMIN_ONLY = {"partners.programtier", "partners.productline", "partners.auditevent"}


def sync_parent_role_permissions(app_config=None, **kwargs):
    from django.apps import apps

    # post_migrate is sent once per app; every app's permissions exist only after the last one.
    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if app_config is not None and app_config is not with_models[-1]:
        return
    for name in ParentRole.ALL:
        group, _ = Group.objects.get_or_create(name=name)
        perms = Permission.objects.none()
        if name == ParentRole.ADMIN:
            perms = Permission.objects.all()
        else:
            for app in ADMIN_APPS.get(name, []):
                perms |= Permission.objects.filter(content_type__app_label=app).exclude(codename__startswith="delete_")
            for app in READ_ONLY_APPS.get(name, []):
                perms |= Permission.objects.filter(content_type__app_label=app, codename__startswith="view_")
        perms = [
            p
            for p in perms.select_related("content_type")
            if name == ParentRole.ADMIN
            or f"{p.content_type.app_label}.{p.content_type.model}" not in ADMIN_ONLY
            or p.codename.startswith("view_")
        ]
        # Object-level only: a global manage_partner would be every partner.
        perms = [p for p in perms if p.codename != "manage_partner"]
        group.permissions.set(perms)
