"""The seeded charter text, drawn from the usual clauses of PRE/veille éducative charters."""

CHARTER_TITLE = "Charte de confidentialité du programme de réussite éducative"

CHARTER_BODY = """\
Préambule
Les membres du programme de réussite éducative, des équipes pluridisciplinaires de soutien (EPS) et des \
instances de pilotage s'engagent à la confidentialité des informations dont ils ont connaissance, sauf \
dérogation prévue par la loi. La présente charte est un référentiel commun, discuté et ratifié par \
l'ensemble des parties.

Article 1 — L'accord de la famille
L'information des familles et leur accord écrit sont un préalable nécessaire à tout accompagnement. \
Aucune solution ne peut être mise en œuvre sans l'accord des titulaires de l'autorité parentale. \
L'enfant est informé en fonction de son âge et de sa maturité.

Article 2 — Le strict nécessaire
Seuls sont transmis les éléments strictement nécessaires à la compréhension de la situation et à la \
mise en œuvre des actions (articles L.121-6-2 et L.226-2-2 du code de l'action sociale et des familles). \
Les situations sont présentées en EPS sous une forme pseudonymisée ; les noms ne sont connus que des \
professionnels soumis au secret qui en ont besoin.

Article 2 bis — Les ressources
L'examen d'une situation recherche toujours les points positifs et les leviers sur lesquels s'appuyer, \
et ne se limite pas aux difficultés.

Article 3 — Les écrits
Les comptes rendus des instances sont non nominatifs ; seules les décisions sont consignées. \
Aucune note personnelle n'est conservée en dehors de l'outil du programme ; les documents remis en \
séance sont repris ou détruits à son issue.

Article 4 — Le secret professionnel
Chaque membre connaît son statut : les professionnels soumis au secret professionnel (articles 226-13 et \
226-14 du code pénal) partagent uniquement ce que la loi permet ; les autres membres sont tenus à la \
discrétion. Un professionnel peut refuser le secret partagé : ce refus est respecté.

Article 5 — Protection de l'enfance
Lorsqu'une situation relève de la protection de l'enfance, la procédure d'information préoccupante \
auprès de la cellule départementale (CRIP) s'applique ; le dossier du programme n'en tient pas lieu.

Article 6 — Durée et révision
La charte s'applique pendant toute la durée de participation au programme et au-delà pour les \
informations connues. Elle est révisée en comité de pilotage ; chaque nouvelle version est signée à nouveau.
"""
