"""Staff screens: thin adapters over selectors and services."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def customer_list(request: HttpRequest) -> HttpResponse:
    return render(request, "syncapp/customer_list.html", {})
