"""The one detector of names and case codes in free text that leaves the case team.

Minutes, meeting document titles, comité highlights, mission sheets and their comments, memento pages:
every text read by aggregate roles or by people not bound to a child's case goes through ``find``. The
function is pure (no database): the caller passes the candidate people and the case-code prefixes.

Normalisation, applied identically to the text and to the candidate names:

* Unicode NFKC (fullwidth letters, ligatures, compatibility spaces and hyphens);
* invisible characters removed (every format character, category ``Cf``: zero-width space and
  joiners, soft hyphen, byte-order mark, word joiner, bidirectional marks…, plus a few fillers);
* every dash and hyphen variant, every space variant (NBSP, narrow NBSP, thin space…) folded to a space;
  apostrophe variants folded to ``'``; accents and case folded.

What is flagged, for each child and guardian given:

* the full name, in either order (« Nicolas Dupont », « DUPONT nicolas », « NicolasDupont »);
* a first name with the last name's initial (« Nicolas S. », « Nicolas S ») and an initial with the last
  name (« N. Dupont », « Dupont N. »). A single letter counts as an initial when it is upper-case or
  followed by a full stop, so that « Nicolas a dit » is not « Nicolas A. »; « M. » before a last name
  is read as *Monsieur* (« M. Petit » is not « Marie Petit »; « Marie M. » is caught);
* the last name alone, unless every significant word of it is a common French word (« Petit », « Rose »,
  « Fontaine » alone are not flagged: too many false positives in ordinary prose), nor a last name that
  is a common first name (« Jean », « Thomas », « Martin »: a school, a street, a professional);

First names alone are never flagged: « Rose », « Pierre », « Léa, animatrice » are ordinary words or
professionals' names; a first name becomes nominative with an initial or a last name next to it.

Case codes are matched with any separator or none between prefix, year and number
(``DEMO-2026-0003``, ``DEMO 2026 0003``, ``demo20260003``, ``DEMO‑2026‑0003``), existing or not.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# Invisible characters that are not of category Cf but render as nothing.
_EXTRA_INVISIBLE = {"\u034f", "\u115f", "\u1160", "\u17b4", "\u17b5", "\u3164", "\uffa0", "\u2800"}
_HYPHENS = {"\u2212", "\u2043", "\ufe63", "\uff0d", "\u2e3a", "\u2e3b"}
_APOSTROPHES = {"\u2019", "\u2018", "\u02bc", "\u0060", "\u00b4", "\u2032", "\u02b9", "\uff07"}
_TOKEN = re.compile(r"[^\W_]+")
_PARTICLES = {"de", "du", "des", "la", "le", "les", "van", "von", "der", "den", "da", "di", "del", "dos"}
_PARTICLES |= {"ben", "bin", "ibn", "el", "al", "ould", "mac", "mc", "saint", "st", "sainte"}
_ELIDED = {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"}
_MONSIEUR = "m"

# Common French words and common first names that are also surnames: alone, they are not flagged
# (« Jean » of « collège Jean Moulin », « Petit » of « le petit groupe »).
COMMON_WORDS = frozenset(
    """
    abbe able accord agent aigle aime ami amour ange arbre argent astier aube avril bailly balle barbe
    baron barre bas basse beau bel belle berger bernard bien blanc blanche bled bleu bois bon bonne
    bonnet bord bosquet boucher boulanger bouquet bourgeois brun brune bruneau camp cartier cave chambre
    champ chance chapelle charbon charpentier chasseur chat chateau chauve chemin chene cher chevalier
    chevre chien clair claire clerc cloche coeur colin comte cordier cote cour court couturier croix
    cure dame daniel delage desert doux droit duc enfant ete faucon faure femme ferme fer fevrier fleur
    fleury floral fontaine fort fortin fosse fournier franc france garcon garde germain gentil grand
    grange gras gros guerre haut herbe hiver homme hubert jardin jeune joli jolie joly jour juillet juin
    lac lamarre laine lapin large leger lievre lion long loup lune mai maire maitre maison marchand
    marechal mars martin masse mercier merle mesnil meunier meyer michel mignon moine monnier mont morel
    mouton moulin muller nain neuf noel noir nord olive orange page paris pasteur pape pays perrin petit
    pierre pin plante pont poirier pommier porte prevost prieur prince rame ravel renard rey riche
    rivage riviere robin roche roi rose rosier rossignol rouge rousseau roux roy royer sage saint salle
    sauvage sec seigneur simon soleil sol tailleur terre tissier tour tournier vacher val vallee
    verdier vert vidal vigne ville vincent vivant voisin
    adam alexandre andre antoine arnaud aubert augustin benoit bertrand charles christophe clement denis
    dominique etienne fabien francois gabriel gaston georges gerard gilbert gilles girard guillaume guy
    henri henry hugo hugues jacques jean joseph jules julien laurent lambert leon leonard louis lucas
    marc marcel marie mathieu maurice maxime nicolas olivier pascal paul philippe raymond remy renaud
    rene richard robert roger roland romain samuel thibault thierry thomas victor
    """.split()
)


def fold(text: str) -> str:
    """NFKC, invisible characters removed, dashes/spaces/apostrophes folded, accents removed; case kept.

    The case is kept (an upper-case single letter is an initial); compare ``.casefold()``-ed tokens.
    """
    text = unicodedata.normalize("NFKC", text or "")
    out = []
    for char in text:
        category = unicodedata.category(char)
        if char in _HYPHENS or category == "Pd":
            out.append(" ")
        elif category == "Cf" or char in _EXTRA_INVISIBLE:
            continue
        elif char.isspace() or category in ("Zs", "Zl", "Zp"):
            out.append(" ")
        elif char in _APOSTROPHES:
            out.append("'")
        else:
            out.append(char)
    decomposed = unicodedata.normalize("NFD", "".join(out))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")


@dataclass(frozen=True)
class _Token:
    key: str  # casefolded; an initial is "<letter>."
    start: int
    end: int


def _runs(folded: str) -> list[list[_Token]]:
    """Tokens grouped in runs of adjacent words (only spaces between them; a full stop after an initial)."""
    runs: list[list[_Token]] = [[]]
    previous_end = 0
    for match in _TOKEN.finditer(folded):
        word = match.group()
        start, end = match.span()
        after = folded[end : end + 1]
        gap = folded[previous_end:start]
        if gap.strip(" '"):
            runs.append([])
        if after == "'" and word.casefold() in _ELIDED:
            # « l'enfant », « d'Arc », « qu'il »: the elided article is not a word of its own
            previous_end = end + 1
            continue
        key = word.casefold()
        initial = len(word) == 1 and word.isalpha() and (word.isupper() or after == ".")
        if initial:
            key += "."
            if after == ".":
                end += 1
        runs[-1].append(_Token(key, start, end))
        previous_end = end
    return [run for run in runs if run]


def tokens(value: str) -> tuple[str, ...]:
    """A name's words as the detector compares them (« Jean-Édouard D'Arc » → jean, edouard, arc)."""
    return tuple(t.key.rstrip(".") for run in _runs(fold(value)) for t in run)


@dataclass(frozen=True)
class Person:
    """A candidate: a child or a guardian. ``kind`` is ``"child"`` or ``"guardian"``."""

    first_name: str
    last_name: str
    kind: str = "child"


@dataclass(frozen=True)
class Finding:
    kind: str  # "child", "guardian" or "case_code"
    found: str  # the words as written in the text (normalised spaces), to quote in the message


class NameIndex:
    """Patterns (token sequences) of every candidate; build once per text check, match in linear time."""

    def __init__(self, people: Iterable[Person]):
        self.patterns: dict[tuple[str, ...], str] = {}
        for person in people:
            first, last = tokens(person.first_name), tokens(person.last_name)
            if not first or not last:
                continue
            forms = [
                first + last,
                last + first,
                ("".join(first + last),),
                ("".join(last + first),),
                (*first, f"{last[0][0]}."),
                # « M. Dupont » is Monsieur Dupont, not Marie Dupont (Dupont alone is caught below)
                (f"{first[0][0]}.", *last) if first[0][0] != _MONSIEUR else (),
                (*last, f"{first[0][0]}."),
            ]
            significant = [w for w in last if w not in _PARTICLES]
            written = fold(person.last_name).strip()[:1].casefold()  # « D'Arc » is also « D. »
            for letter in {significant[0][0] if significant else "", written if written.isalpha() else ""}:
                if letter and letter != last[0][0]:
                    forms.append((*first, f"{letter}."))
            if significant and any(w not in COMMON_WORDS for w in significant) and len("".join(last)) >= 3:
                forms.append(last)
            for form in forms:
                if form:
                    self.patterns.setdefault(tuple(form), person.kind)
        self.longest = max((len(p) for p in self.patterns), default=0)

    def find(self, folded: str) -> list[Finding]:
        findings = []
        for run in _runs(folded):
            i = 0
            while i < len(run):
                for length in range(min(self.longest, len(run) - i), 0, -1):
                    window = run[i : i + length]
                    kind = self.patterns.get(tuple(t.key for t in window))
                    if kind is not None:
                        found = " ".join(folded[window[0].start : window[-1].end].split())
                        findings.append(Finding(kind, found))
                        i += length - 1
                        break
                i += 1
        return findings


def find_case_codes(folded: str, prefixes: Iterable[str]) -> list[str]:
    """Case codes with any separator (or none) between prefix, year and number, in canonical form."""
    found = []
    for prefix in {p for p in prefixes if p}:
        words = tokens(prefix)
        if not words:
            continue
        head = r"[\W_]*".join(re.escape(w) for w in words)
        pattern = re.compile(rf"(?<![^\W_]){head}[\W_]*(\d{{4}})[\W_]*(\d{{3,5}})(?!\d)", re.IGNORECASE)
        for match in pattern.finditer(folded.casefold()):
            found.append(f"{prefix.upper()}-{match.group(1)}-{match.group(2)}")
    return found


def find(
    text: str, *, people: Iterable[Person] | NameIndex = (), prefixes: Iterable[str] = ()
) -> list[Finding]:
    """Every name and case code of the candidates found in ``text`` (empty: the text names no one)."""
    if not text:
        return []
    folded = fold(text)
    index = people if isinstance(people, NameIndex) else NameIndex(people)
    findings = index.find(folded)
    findings += [Finding("case_code", code) for code in find_case_codes(folded, prefixes)]
    unique = []
    for finding in findings:
        if finding not in unique:
            unique.append(finding)
    return unique
