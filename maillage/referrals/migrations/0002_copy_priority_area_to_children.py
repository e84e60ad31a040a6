"""Copy the QPV chosen on accepted referrals onto their children, when the child has no QPV fact.

Before this fix, ``referral_accept`` dropped the referral's priority area: the dashboard, the ANCT
workbook and the comité pack counted no child residing in a QPV.
"""

from django.db import migrations


def copy_priority_area_to_children(Referral, Child) -> int:
    """Mark as residing in a QPV every child of an accepted referral that chose one; return the count."""
    children = Referral.objects.filter(
        state="accepted", child__isnull=False, priority_area__isnull=False, child__in_priority_area__isnull=True
    ).values("child_id")
    return Child.objects.filter(pk__in=children).update(in_priority_area=True)


def forwards(apps, schema_editor):
    copy_priority_area_to_children(apps.get_model("referrals", "Referral"), apps.get_model("people", "Child"))


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0002_child_in_priority_area"),
        ("referrals", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
