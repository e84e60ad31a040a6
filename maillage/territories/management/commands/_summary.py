"""Shared output of the reference-data import commands."""

from django.utils.translation import gettext as _

from maillage.territories.importers import ImportSummary


def summary_line(what: str, summary: ImportSummary, dry_run: bool = False) -> str:
    line = _("%(what)s : %(created)d créé(s), %(updated)d mis à jour, %(unchanged)d inchangé(s)") % {
        "what": what,
        **summary.as_dict(),
    }
    if summary.skipped:
        line += _(", %(skipped)d ignoré(s)") % {"skipped": summary.skipped}
    if summary.repaired:
        line += _(", %(repaired)d contour(s) réparé(s)") % {"repaired": summary.repaired}
    if summary.linked:
        line += _(", %(linked)d établissement(s) rattaché(s) à leur commune") % {"linked": summary.linked}
    line += "."
    if dry_run:
        line += " " + _("(simulation : rien n'a été écrit)")
    return line


def programme_line(slug: str, summary: ImportSummary) -> str:
    return _("Programme %(slug)s : %(added)d QPV ajouté(s), %(removed)d retiré(s).") % {
        "slug": slug,
        "added": summary.programme_added,
        "removed": summary.programme_removed,
    }


def write_report(command, summary: ImportSummary) -> None:
    """The report of an import: one line per row left aside or contour repaired, on stderr."""
    for line in summary.report:
        command.stderr.write(command.style.WARNING(line))
