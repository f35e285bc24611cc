from decimal import Decimal

from django import forms


class QuoteForm(forms.Form):
    customer = forms.ModelChoiceField(queryset=None)
    partner = forms.ModelChoiceField(queryset=None, required=False, help_text="Parent staff: the partner quoted for.")
    price_book = forms.ModelChoiceField(queryset=None, required=False, empty_label="Default price book")
    valid_until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    header_discount_percent = forms.DecimalField(
        min_value=Decimal("0"), max_value=Decimal("100"), decimal_places=2, initial=Decimal("0"), required=False
    )
    terms = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    opportunity = forms.ModelChoiceField(
        queryset=None, required=False, help_text="The opportunity this quote is for; its order closes it as won."
    )

    def __init__(self, *args, customers, partners, price_books, is_request=False, opportunities=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        if opportunities is None:
            del self.fields["opportunity"]
        else:
            self.fields["opportunity"].queryset = opportunities
        self.fields["price_book"].queryset = price_books
        if partners is None:
            del self.fields["partner"]
        else:
            self.fields["partner"].queryset = partners
            self.fields["partner"].required = True
        if is_request:
            for name in ("price_book", "header_discount_percent", "terms", "valid_until"):
                del self.fields[name]
            self.fields["notes"].required = True
            self.fields["notes"].help_text = "What does the customer need? The parent prices the quote."


class QuoteHeaderForm(forms.Form):
    valid_until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    header_discount_percent = forms.DecimalField(min_value=Decimal("0"), max_value=Decimal("100"), decimal_places=2)
    terms = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class LineForm(forms.Form):
    product = forms.ModelChoiceField(queryset=None)
    quantity = forms.IntegerField(min_value=1, max_value=1_000_000, initial=1)
    discount_percent = forms.DecimalField(
        min_value=Decimal("0"), max_value=Decimal("100"), decimal_places=2, initial=Decimal("0"), required=False
    )

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products


class ServiceLineForm(forms.Form):
    """One of a white-label partner's own services on its quote."""

    description = forms.CharField(max_length=200)
    quantity = forms.IntegerField(min_value=1, initial=1)
    unit_price = forms.DecimalField(min_value=Decimal("0"), decimal_places=2, max_digits=12)
    tax_category = forms.CharField(max_length=40, help_text="Your tax category for this service.")
