"""Portal pages for cases: my queue, the team and shared queues, opening a case, the case with its
conversation, files, SLA clocks and hand-over history, and the actions the caller may take."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from partners import uploads
from partners.access import actor_of
from partners.views import apply_form_errors, paginate, portal_view
from prm.security import bounds

from . import permissions, selectors, services, sla
from .api.serializers import case_actions
from .forms import AttachmentForm, CaseForm, CloseForm, CommentForm
from .models import CasePriority, CaseStatus, CloseReason, CommentVisibility, Party, QueueKind

User = get_user_model()

VIEWS = [
    ("work", "My open work"),
    ("mine", "Assigned to me"),
    ("queue", "Team queue"),
    ("shared", "Shared queue"),
    ("all", "All cases"),
]


def _case_or_404(request, pk):
    case = selectors.case_get(user=request.user, pk=pk)
    if case is None:
        raise Http404
    return case


def _annotate_sla(cases, now=None):
    now = now or timezone.now()
    for case in cases:
        case.sla_info = sla.summary(case, now)
    return cases


@portal_view
def case_list(request):
    actor = actor_of(request.user)
    view = request.GET.get("view", "work")
    if view not in dict(VIEWS):
        view = "work"
    filters = {k: request.GET.get(k, "").strip() for k in ("status", "priority", "search", "queue")}
    queue = bounds.parse_id(filters["queue"])
    page = paginate(
        request,
        selectors.case_list(
            user=request.user,
            view=view,
            queue=queue,
            status=filters["status"],
            priority=filters["priority"],
            search=filters["search"],
            breached=request.GET.get("breached") == "1",
        ),
    )
    _annotate_sla(page.object_list)
    context = {
        "page": page,
        "view": view,
        "views": VIEWS,
        "filters": filters,
        "statuses": [("open", "Open"), ("any", "Any status"), *CaseStatus.choices],
        "priorities": CasePriority.choices,
        "queues": selectors.queue_list(user=request.user),
        "status_only": permissions.status_only(actor),
        "can_open": permissions.can_open_case(request.user),
    }
    template = "cases/_case_rows.html" if request.htmx else "cases/case_list.html"
    return render(request, template, context)


@portal_view
def case_create(request):
    if not permissions.can_open_case(request.user):
        raise PermissionDenied
    form = CaseForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        try:
            case = services.case_open(user=request.user, **data)
            messages.success(request, f"Case #{case.pk} opened.")
            return redirect("cases:case-detail", pk=case.pk)
        except ValidationError as exc:
            apply_form_errors(form, exc)
    return render(request, "cases/case_form.html", {"form": form})


@portal_view
def case_detail(request, pk):
    actor = actor_of(request.user)
    case = _case_or_404(request, pk)
    _annotate_sla([case])
    status_only = permissions.status_only(actor)
    context = {"case": case, "status_only": status_only}
    if not status_only:
        actions = case_actions(request.user, case)
        context.update(
            {
                "actions": actions,
                "has_moves": any(a != "comment" for a in actions),
                "comments": selectors.case_comments(user=request.user, case=case),
                "attachments": selectors.case_attachments(user=request.user, case=case),
                "handovers": selectors.case_handovers(user=request.user, case=case),
                "comment_form": CommentForm(user=request.user, case=case) if "comment" in actions else None,
                "attachment_form": AttachmentForm(user=request.user, case=case, auto_id="file_%s")
                if "comment" in actions
                else None,
                "close_form": CloseForm(),
                "close_reasons": CloseReason.choices,
                "agents": _agents_for(case) if "assign" in actions else [],
                "own_queue": not actor.is_partner or case.queue.partner_id == actor.partner_id,
                "show_assignee": not (actor.is_partner and case.owner_party == Party.PARENT),
                "internal_kinds": [CommentVisibility.PARTNER_INTERNAL, CommentVisibility.PARENT_INTERNAL],
            }
        )
    return render(request, "cases/case_detail.html", context)


def _agents_for(case):
    if case.owner_party == Party.PARENT:
        return list(services.parent_agents().order_by("username"))
    return list(
        User.objects.filter(
            membership__partner_id=case.partner_id,
            membership__is_active=True,
            membership__role__in=permissions.PARTNER_AGENT_ROLES,
            is_active=True,
        ).order_by("username")
    )


@portal_view
@require_GET
def case_sla(request, pk):
    """The SLA badges of one case, polled by htmx so the colour changes before a breach."""
    case = _case_or_404(request, pk)
    if permissions.status_only(actor_of(request.user)):
        raise Http404
    _annotate_sla([case])
    return render(request, "cases/_sla.html", {"case": case})


ACTIONS = {
    "assign": None,
    "start-work": services.case_start,
    "wait-on-customer": services.case_wait,
    "escalate": services.case_escalate,
    "hand-back": services.case_hand_back,
    "resolve": services.case_resolve,
    "reopen": services.case_reopen,
    "close": services.case_close,
}


CASE_DONE = {
    "assign": "Case assigned.",
    "start-work": "Work started.",
    "wait-on-customer": "Waiting on the customer: the resolution clock is paused.",
    "resolve": "Case resolved.",
    "escalate": "Case escalated.",
    "hand-back": "Case handed back.",
    "reopen": "Case reopened.",
    "close": "Case closed.",
}


@portal_view
@require_POST
def case_action(request, pk, name):
    case = _case_or_404(request, pk)
    if name not in ACTIONS:
        raise Http404
    post = request.POST
    try:
        if name == "assign":
            if not permissions.can_work(request.user, case):
                raise PermissionDenied
            target = post.get("assignee", "")
            assignee = request.user if target == "me" else User.objects.filter(pk=bounds.parse_id(target) or 0).first()
            services.case_assign(user=request.user, case=case, assignee=assignee)
        elif name in ("escalate", "hand-back", "reopen"):
            ACTIONS[name](user=request.user, case=case, reason=post.get("reason", ""))
        elif name == "resolve":
            services.case_resolve(user=request.user, case=case, resolution=post.get("resolution", ""))
        elif name == "close":
            services.case_close(user=request.user, case=case, reason=post.get("reason", ""), note=post.get("note", ""))
        else:
            ACTIONS[name](user=request.user, case=case)
        messages.success(request, CASE_DONE.get(name, "Saved."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("cases:case-detail", pk=case.pk)


@portal_view
@require_POST
def comment_add(request, pk):
    case = _case_or_404(request, pk)
    if not permissions.comment_visibilities(request.user, case):
        raise PermissionDenied
    form = CommentForm(request.POST, user=request.user, case=case)
    if form.is_valid():
        try:
            services.case_comment_add(user=request.user, case=case, **form.cleaned_data)
            messages.success(request, "Comment added.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect("cases:case-detail", pk=case.pk)


@portal_view
@require_POST
def attachment_add(request, pk):
    case = _case_or_404(request, pk)
    if not permissions.comment_visibilities(request.user, case):
        raise PermissionDenied
    form = AttachmentForm(request.POST, request.FILES, user=request.user, case=case)
    if form.is_valid():
        try:
            services.case_attachment_add(user=request.user, case=case, **form.cleaned_data)
            messages.success(request, "File added.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect("cases:case-detail", pk=case.pk)


@portal_view
@require_GET
def attachment_download(request, pk, attachment_pk):
    case = _case_or_404(request, pk)
    attachment = selectors.case_attachment_get(user=request.user, case=case, pk=attachment_pk)
    if attachment is None:
        raise Http404
    return uploads.stream_file(attachment)


@portal_view
def queue_overview(request):
    """Open cases per queue the caller sees."""
    return render(
        request,
        "cases/queue_list.html",
        {"page": paginate(request, selectors.queue_counts(user=request.user)), "kinds": dict(QueueKind.choices)},
    )
