from django.db import models
from django.utils.translation import gettext_lazy as _


class ReferralState(models.TextChoices):
    SUBMITTED = "submitted", _("Transmise")
    UNDER_REVIEW = "under_review", _("En cours d'examen")
    ACCEPTED = "accepted", _("Acceptée")
    DECLINED = "declined", _("Non retenue")
    REDIRECTED = "redirected", _("Réorientée")


OPEN_STATES = {ReferralState.SUBMITTED, ReferralState.UNDER_REVIEW}

# state → states it may move to
TRANSITIONS = {
    ReferralState.SUBMITTED: {ReferralState.UNDER_REVIEW, ReferralState.DECLINED, ReferralState.REDIRECTED},
    ReferralState.UNDER_REVIEW: {ReferralState.ACCEPTED, ReferralState.DECLINED, ReferralState.REDIRECTED},
    ReferralState.ACCEPTED: set(),
    ReferralState.DECLINED: set(),
    ReferralState.REDIRECTED: set(),
}
