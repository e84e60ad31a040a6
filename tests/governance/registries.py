"""The partnership's entries of the project-wide registries: programme isolation (``PK_URLS``) and
the journal of sensitive pages (``SENSITIVE_URLS``)."""

from django.core.files.base import ContentFile

from maillage.governance import services
from maillage.governance.models import MeetingDocument
from tests.factories import ChildFactory, MembershipFactory
from tests.governance.helpers import committee, committee_meeting, eps_world, mission_sheet

SMALL_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# --- programme isolation: factory(programme, secret) → (reverse kwargs, object) ---------------------


def _eps(programme, secret):
    from maillage.programmes.defaults import ensure_default_lists

    ensure_default_lists(programme)
    child = ChildFactory(programme=programme, last_name=secret, household__name=f"Foyer {secret}")
    return eps_world(programme, child=child)


def _body(programme, secret):
    body = committee(programme, name=f"Comité {secret}")
    return {"pk": body.pk}, body


def _meeting(programme, secret):
    world = _eps(programme, secret)
    return {"pk": world["meeting"].pk}, world["meeting"]


def _item(programme, secret):
    world = _eps(programme, secret)
    return {"pk": world["item"].pk}, world["item"]


def _document(programme, secret):
    meeting = committee_meeting(committee(programme, name=f"Comité {secret}"))
    document = MeetingDocument(
        meeting=meeting,
        title=f"Document {secret}",
        content_type="application/pdf",
        uploaded_by=meeting_user(meeting),
    )
    document.file.save("doc.pdf", ContentFile(SMALL_PDF), save=False)
    document.save()
    return {"pk": document.pk}, document


def meeting_user(meeting):
    return MembershipFactory(programme=meeting.body.programme).user


def _sheet(programme, secret):
    sheet = mission_sheet(
        programme, by=MembershipFactory(programme=programme).user, title=f"Mission {secret}"
    )
    return {"pk": sheet.pk}, sheet


def _memento_page(programme, secret):
    page = services.memento_page_save(
        programme=programme,
        title=f"Page {secret}",
        slug="accueil",
        body=f"Texte {secret}",
        by=MembershipFactory(programme=programme).user,
    )
    return {"pk": page.pk}, page


def pk_urls(secret: str) -> dict:
    def bind(factory):
        return lambda programme: factory(programme, secret)

    meeting_urls = [
        "meeting",
        "meeting_edit",
        "meeting_publish",
        "meeting_cancel",
        "meeting_invite",
        "meeting_ics",
        "agenda_item_add",
        "situation_add",
        "minutes",
        "attendance",
        "document_add",
        "forward",
    ]
    sheet_urls = [
        "mission_sheet",
        "mission_sheet_edit",
        "mission_sheet_comment",
        "mission_sheet_propose",
        "mission_sheet_validate",
    ]
    return {
        "governance:body": bind(_body),
        "governance:body_member_add": bind(_body),
        "governance:meeting_schedule": bind(_body),
        **{f"governance:{name}": bind(_meeting) for name in meeting_urls},
        "governance:decision": bind(_item),
        "governance:agenda_item_remove": bind(_item),
        "governance:document": bind(_document),
        **{f"governance:{name}": bind(_sheet) for name in sheet_urls},
        "governance:memento_page_edit": bind(_memento_page),
    }


# --- journal of sensitive pages: builder(world) → Case ---------------------------------------------


def sensitive_urls(case_class) -> dict:
    def meeting(world):
        w = eps_world(world.programme)
        return case_class({"pk": w["meeting"].pk}, [w["meeting"], w["pathway"]])

    def situations(world):
        from tests.governance.helpers import eps_body, eps_meeting, eps_pathway

        body = eps_body(world.programme, members=[world.coordinator])
        meeting = eps_meeting(body, by=world.coordinator.user)
        pathways = [eps_pathway(world.programme, coordinator=world.coordinator.user) for _ in range(2)]
        return case_class({"pk": meeting.pk}, pathways)

    def decision(world):
        w = eps_world(world.programme)
        return case_class({"pk": w["item"].pk}, [w["pathway"]])

    def document(world):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from maillage.governance.services import document_add
        from maillage.pathways.enums import Circle

        w = eps_world(world.programme)
        upload = SimpleUploadedFile("ordre.pdf", SMALL_PDF, "application/pdf")
        doc = document_add(
            meeting=w["meeting"],
            title="Emploi du temps",
            upload=upload,
            by=w["coordinator"].user,
            circle=Circle.PARTNERS,
            pathway=w["pathway"],
        )
        return case_class({"pk": doc.pk}, [w["pathway"]])

    return {
        "governance:document": document,
        "governance:meeting": meeting,
        "governance:situation_add": situations,
        "governance:decision": decision,
    }
