from django import forms

from partners.models import ProductLine

from .models import ActivityType, FundAllocation, ProofKind


class DateInput(forms.DateInput):
    input_type = "date"


class FundRequestForm(forms.Form):
    allocation = forms.ModelChoiceField(queryset=FundAllocation.objects.none(), required=False)
    title = forms.CharField(max_length=200)
    activity_type = forms.ChoiceField(choices=ActivityType.choices)
    plan = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    starts_on = forms.DateField(widget=DateInput)
    ends_on = forms.DateField(widget=DateInput)
    requested_amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    expected_leads = forms.IntegerField(min_value=0, required=False)
    expected_pipeline = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    product_lines = forms.ModelMultipleChoiceField(queryset=ProductLine.objects.all(), required=False)
    uses_own_materials = forms.BooleanField(required=False, label="Uses our own materials (not the parent's)")

    def __init__(self, *args, user=None, allow_own_materials=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["allocation"].queryset = FundAllocation.objects.for_user(user).filter(status="active")
        if not allow_own_materials:
            del self.fields["uses_own_materials"]


class FundClaimForm(forms.Form):
    vendor = forms.CharField(max_length=200)
    invoice_number = forms.CharField(max_length=80)
    invoice_date = forms.DateField(widget=DateInput)
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, help_text="Invoice total.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    file = forms.FileField(label="Proof of performance (invoice)", help_text="PDF, image, CSV or Office file.")
    kind = forms.ChoiceField(choices=ProofKind.choices, initial=ProofKind.INVOICE)


class ProofFileForm(forms.Form):
    file = forms.FileField()
    kind = forms.ChoiceField(choices=ProofKind.choices, initial=ProofKind.PHOTO)
