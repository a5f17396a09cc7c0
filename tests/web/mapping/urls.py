"""The site's URLs plus the Datamapper's, as the root URLconf will include them (``mapping/``)."""

from django.urls import include, path

from koppeling.urls import urlpatterns as site

urlpatterns = [*site, path("mapping/", include("koppeling.web.mapping_urls"))]
