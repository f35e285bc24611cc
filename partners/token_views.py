"""The portal page where a person lists and revokes their own API tokens (prm.security.tokens)."""

from django.contrib import messages
from django.shortcuts import redirect, render

from prm.security import tokens

from .views import portal_view


@portal_view
def api_tokens(request):
    if request.method == "POST":
        if request.POST.get("all"):
            count = tokens.tokens_revoke_all(user=request.user)
        else:
            count = tokens.token_revoke(user=request.user, token_key=request.POST.get("token_key", "")[:25])
        messages.success(request, f"Revoked {count} token{'s' if count != 1 else ''}.")
        return redirect("portal:api-tokens")
    return render(request, "partners/api_tokens.html", {"tokens": tokens.tokens_of(user=request.user)})
