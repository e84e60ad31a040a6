from django.db import models
from django.utils import timezone


class BaseModel(models.Model):
    """Every table carries when a row was created and last changed."""

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
