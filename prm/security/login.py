"""Login forms whose limits are real validators: Django's AuthenticationForm only sets the username's
max_length on the widget, so a 256-character name still reached authenticate() and the lockout table
(255 characters on PostgreSQL). Here it is a field error, like any other."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator

USERNAME_MAX = 150
PASSWORD_MAX = 4096


class BoundedLoginMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].validators.append(MaxLengthValidator(USERNAME_MAX))
        self.fields["password"].validators.append(MaxLengthValidator(PASSWORD_MAX))


class LoginForm(BoundedLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(BoundedLoginMixin, AdminAuthenticationForm):
    pass
