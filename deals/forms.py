from django import forms

from partners.choices import country_choices, currency_choices
from partners.models import Customer
from quotes.models import Product

LINE_ROWS = 3


class RegistrationForm(forms.Form):
    """A deal registration in the portal: a customer (existing or a new prospect), up to three
    product lines, value and expected close."""

    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), required=False, empty_label="A new prospect")
    customer_name = forms.CharField(max_length=200, required=False, label="Company name")
    customer_domain = forms.CharField(max_length=253, required=False, label="Web domain")
    customer_country = forms.ChoiceField(choices=country_choices, required=False, label="Country")
    contact_name = forms.CharField(max_length=200, required=False, label="Customer contact")
    contact_email = forms.EmailField(required=False, label="Contact's email")
    competitor = forms.CharField(
        max_length=200, required=False, label="Competitor", help_text="Who else is bidding, if you know."
    )
    estimated_value = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0.01)
    currency = forms.ChoiceField(choices=currency_choices, initial="USD", required=False)
    expected_close_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.for_user(user).order_by("legal_name")
        products = Product.objects.for_user(user).order_by("sku")
        for index in range(1, LINE_ROWS + 1):
            self.fields[f"product_{index}"] = forms.ModelChoiceField(
                queryset=products, required=index == 1, label=f"Product {index}"
            )
            self.fields[f"quantity_{index}"] = forms.IntegerField(
                min_value=1, max_value=1_000_000, required=False, initial=1 if index == 1 else None, label="Quantity"
            )

    def clean(self):
        data = super().clean()
        if not data.get("customer"):
            for name in ("customer_name", "customer_country"):
                if not data.get(name):
                    self.add_error(name, "Required for a new prospect.")
        return data

    def lines(self):
        rows = []
        for index in range(1, LINE_ROWS + 1):
            product = self.cleaned_data.get(f"product_{index}")
            if product is not None:
                rows.append({"product": product, "quantity": self.cleaned_data.get(f"quantity_{index}") or 1})
        return rows

    def registration_fields(self):
        fields = {
            name: self.cleaned_data[name]
            for name in (
                "customer_domain",
                "estimated_value",
                "currency",
                "expected_close_date",
                "notes",
                "contact_name",
                "contact_email",
                "competitor",
            )
            if self.cleaned_data.get(name) not in (None, "")
        }
        if self.cleaned_data.get("customer"):
            fields["customer"] = self.cleaned_data["customer"]
        for name in ("customer_name", "customer_country"):
            if self.cleaned_data.get(name):
                fields[name] = self.cleaned_data[name]
        return fields
