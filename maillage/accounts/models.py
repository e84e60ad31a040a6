import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.core.models import BaseModel
from maillage.programmes.enums import Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("An email is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in. What they may see comes from their memberships, never from the account."""

    email = models.EmailField(_("adresse électronique"), unique=True)
    first_name = models.CharField(_("prénom"), max_length=150, blank=True)
    last_name = models.CharField(_("nom"), max_length=150, blank=True)
    is_active = models.BooleanField(_("actif"), default=True)
    is_staff = models.BooleanField(_("accès à l'administration"), default=False)
    date_joined = models.DateTimeField(_("date de création"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email


class InvitationQuerySet(models.QuerySet):
    def open(self):
        """Neither accepted nor revoked (possibly expired): at most one per programme and address."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)

    def pending(self):
        """Open and not yet expired: the link still works (a proposal has no link yet)."""
        return self.open().filter(expires_at__gt=timezone.now())

    def proposals(self):
        """Proposed by a manager, waiting for a coordinator to confirm (then the link is sent) or decline."""
        return self.open().filter(token_hash__isnull=True)


class Invitation(BaseModel):
    """An invitation to join a programme with a role. Only its token's hash is stored.

    Accepting it creates (or completes) the account and the membership; the link works once and
    expires after ``MAILLAGE_INVITATION_DAYS`` days.

    A manager may only *propose* a role that reaches names: the invitation then has no token nor
    expiry (no link exists) until a coordinator confirms it; a declined proposal is closed
    (``revoked_at``) with the coordinator's ``decline_reason``.
    """

    email = models.EmailField(_("adresse électronique"))
    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(_("nom"), max_length=150)
    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="invitations"
    )
    organisation = models.ForeignKey(
        "programmes.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    job_title = models.CharField(_("fonction"), max_length=150, blank=True)
    bound_by_secrecy = models.BooleanField(_("soumis au secret professionnel"), default=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(_("motif du refus"), blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    membership = models.ForeignKey(
        "programmes.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        indexes = [models.Index(fields=["programme", "email"], name="invitation_programme_email")]
        constraints = [
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(revoked_at__isnull=True),
                name="invitation_not_accepted_and_revoked",
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="invitation_role_valid"),
            # A proposal has neither link nor expiry; a sent invitation has both.
            models.CheckConstraint(
                condition=Q(token_hash__isnull=True, expires_at__isnull=True)
                | Q(token_hash__isnull=False, expires_at__isnull=False),
                name="invitation_link_and_expiry_together",
            ),
            # A new invitation to the same address revokes the open one first (invitation_create).
            models.UniqueConstraint(
                fields=["programme", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_programme_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.programme}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    @property
    def is_proposal(self) -> bool:
        """Proposed, still waiting for a coordinator's decision."""
        return self.token_hash is None and self.accepted_at is None and self.revoked_at is None

    @property
    def is_declined(self) -> bool:
        return self.revoked_at is not None and bool(self.decline_reason)

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at is not None
            and self.expires_at > timezone.now()
        )
