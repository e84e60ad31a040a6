from django.conf import settings


def site(request):
    """Branding of the instance, in the shape django-dsfr's templates read (SITE_CONFIG)."""
    brand = "République<br>Française" if settings.MAILLAGE_STATE_OPERATED else None
    return {
        "SITE_CONFIG": {
            "site_title": settings.MAILLAGE_INSTANCE_NAME,
            "site_tagline": settings.MAILLAGE_INSTANCE_TAGLINE,
            "header_brand_html": brand,
            "operator_name": settings.MAILLAGE_OPERATOR_NAME,
            "state_operated": settings.MAILLAGE_STATE_OPERATED,
        },
    }
