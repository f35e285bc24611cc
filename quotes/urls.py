"""This app's portal pages, included under /portal/quotes/ with the namespace "quotes"."""

from django.urls import path

from . import views

app_name = "quotes"

urlpatterns = [
    path("", views.quote_list, name="quote-list"),
    path("new/", views.quote_create, name="quote-create"),
    path("<int:pk>/", views.quote_detail, name="quote-detail"),
    path("<int:pk>/lines/", views.quote_line_add, name="quote-line-add"),
    path("<int:pk>/lines/preview/", views.quote_line_preview, name="quote-line-preview"),
    path("<int:pk>/lines/<int:line_id>/remove/", views.quote_line_remove, name="quote-line-remove"),
    path("<int:pk>/header/", views.quote_header, name="quote-header"),
    path("<int:pk>/document/", views.quote_document, name="quote-document"),
    path("<int:pk>/services/", views.quote_service_add, name="quote-service-add"),
    path("<int:pk>/services/<int:line_id>/remove/", views.quote_service_remove, name="quote-service-remove"),
    path("<int:pk>/document.pdf", views.quote_document_pdf, name="quote-document-pdf"),
    path("<int:pk>/order/", views.quote_order, name="quote-order"),
    path("<int:pk>/<slug:action>/", views.quote_action, name="quote-action"),
    path("orders/", views.order_list, name="order-list"),
    path("orders/<int:pk>/", views.order_detail, name="order-detail"),
    path("orders/<int:pk>/<slug:action>/", views.order_action, name="order-action"),
    path("review/", views.review_queue, name="review-queue"),
]
