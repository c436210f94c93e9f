"""URLs of the staff portal."""

from django.urls import path

from syncapp import views

app_name = "syncapp"

urlpatterns = [
    path("", views.customer_list, name="customer-list"),
]
