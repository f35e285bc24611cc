from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from prm.security.login import LoginForm

from . import account_views, token_views, views
from .branding import BrandedPasswordResetForm

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LoginForm),
        name="login",
    ),
    path("logout/", account_views.BrandedLogoutView.as_view(), name="logout"),
    path(
        "p/<slug:slug>/login/",
        account_views.PartnerLoginView.as_view(authentication_form=LoginForm),
        name="partner-login",
    ),
    path("p/<slug:slug>/favicon.svg", account_views.partner_favicon, name="partner-favicon"),
    path("brand.css", account_views.brand_css, name="brand-css"),
    path("notifications/", account_views.notification_list, name="notifications"),
    path("notifications/read/", account_views.notification_read, name="notifications-read"),
    path("settings/", account_views.personal_settings, name="settings"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("portal:password-change-done")),
        name="password-change",
    ),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password-change-done"),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            success_url=reverse_lazy("portal:password-reset-done"),
            email_template_name="registration/password_reset_email.txt",
            form_class=BrandedPasswordResetForm,
        ),
        name="password-reset",
    ),
    path("password/reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("portal:password-reset-complete")),
        name="password-reset-confirm",
    ),
    path("password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
    path("profile/", views.profile, name="profile"),
    path("profile/api-tokens/", token_views.api_tokens, name="api-tokens"),
    path("team/", views.team, name="team"),
    path("team/<int:pk>/", views.member_update, name="member-update"),
    path("customers/", views.customer_list, name="customer-list"),
    path("customers/new/", views.customer_create, name="customer-create"),
    path("customers/<int:pk>/", views.customer_detail, name="customer-detail"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer-edit"),
    path("partners/", views.partner_list, name="partner-list"),
    path("partners/<slug:slug>/", views.partner_detail, name="partner-detail"),
    path("partners/<slug:slug>/transition/", views.partner_transition, name="partner-transition"),
    path("partners/<slug:slug>/logo/", views.partner_logo, name="partner-logo"),
]
