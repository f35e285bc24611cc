from django import forms

from .access import PartnerRole
from .models import Customer, CustomerSize, Partner


class InviteForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField()
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=PartnerRole.choices, initial=PartnerRole.REP)


class CustomerForm(forms.ModelForm):
    size = forms.ChoiceField(choices=[("", "—"), *CustomerSize.choices], required=False)

    class Meta:
        model = Customer
        fields = ["legal_name", "domain", "country", "industry", "size"]
        help_texts = {"country": "Two-letter code, e.g. DE"}


class BrandingForm(forms.ModelForm):
    class Meta:
        model = Partner
        fields = ["display_name", "brand_color", "logo"]
        widgets = {"brand_color": forms.TextInput(attrs={"type": "color"})}
