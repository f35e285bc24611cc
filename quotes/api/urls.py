from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="product")
router.register("price-books", views.PriceBookViewSet, basename="price-book")
router.register("quotes", views.QuoteViewSet, basename="quote")
router.register("orders", views.OrderViewSet, basename="order")

urlpatterns = router.urls
