"""Portal forms for cases. Choices come from the caller's scope; services re-check everything."""

from django import forms

from deals.models import Lead
from partners.access import actor_of
from partners.models import Customer, Partner, ProductLine

from . import permissions
from .models import CaseCategory, CaseOrigin, CasePriority, CloseReason, CommentVisibility


class CaseForm(forms.Form):
    subject = forms.CharField(max_length=200, help_text="What is wrong, in a line.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=20000)
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), required=False)
    lead = forms.ModelChoiceField(queryset=Lead.objects.none(), required=False, help_text="For a case from a lead.")
    lead_reference = forms.CharField(
        max_length=120,
        required=False,
        label="Lead from outside the portal",
        help_text="A lead from outside this portal: its id or name.",
    )
    origin = forms.ChoiceField(choices=CaseOrigin.choices)
    category = forms.ChoiceField(choices=CaseCategory.choices)
    priority = forms.ChoiceField(choices=CasePriority.choices, initial=CasePriority.NORMAL)
    product_line = forms.ModelChoiceField(queryset=ProductLine.objects.all(), required=False)
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.none(), required=False, help_text="The partner involved (default: the customer's)."
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        actor = actor_of(user)
        self.fields["customer"].queryset = Customer.objects.for_user(user).order_by("legal_name")
        self.fields["lead"].queryset = Lead.objects.for_user(user).order_by("company_name")
        if actor.is_partner:
            del self.fields["partner"]
            self.fields["origin"].choices = [c for c in CaseOrigin.choices if c[0] != CaseOrigin.PARENT]
            self.fields["origin"].initial = CaseOrigin.PARTNER
        else:
            self.fields["partner"].queryset = Partner.objects.for_user(user).order_by("name")
            self.fields["origin"].initial = CaseOrigin.PARENT


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=20000, label="Your comment")
    visibility = forms.ChoiceField(choices=CommentVisibility.choices, label="Who sees it")

    def __init__(self, *args, user, case, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = permissions.comment_visibilities(user, case)
        self.fields["visibility"].choices = [c for c in CommentVisibility.choices if c[0] in allowed]


class AttachmentForm(forms.Form):
    file = forms.FileField()
    visibility = forms.ChoiceField(choices=CommentVisibility.choices)

    def __init__(self, *args, user, case, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = permissions.comment_visibilities(user, case)
        self.fields["visibility"].choices = [c for c in CommentVisibility.choices if c[0] in allowed]


class CloseForm(forms.Form):
    reason = forms.ChoiceField(choices=CloseReason.choices)
    note = forms.CharField(required=False, max_length=2000)
