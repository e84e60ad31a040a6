"""The actions pages in the project-wide registries: programme isolation and the access journal.

``pk_urls(secret)`` feeds ``tests/test_isolation.py`` ``PK_URLS``; ``sensitive_urls(case)`` feeds
``tests/www/journal/sensitive_urls.py`` ``SENSITIVE_URLS``.
"""

from tests.offers import helpers


def pk_urls(secret: str) -> dict:
    def offer(programme):
        offer, _group = helpers.offer_in(programme, title=f"Atelier {secret}")
        return {"pk": offer.pk}, offer

    def group(programme):
        group, _session, _children = helpers.roster_in(programme, last_name=secret)
        return {"pk": group.pk}, group

    def session(programme):
        _group, session, _children = helpers.roster_in(programme, last_name=secret)
        return {"pk": session.pk}, session

    def pathway(programme):
        pathway = helpers.active_pathway(programme, helpers.coordinator_of(programme), last_name=secret)
        return {"pathway_pk": pathway.pk}, pathway

    def contract(programme):
        contract = helpers.contract_in(programme, last_name=secret)
        return {"pk": contract.pk}, contract

    def alert(programme):
        alert = helpers.alert_in(programme, last_name=secret)
        return {"pk": alert.pk}, alert

    def task(programme):
        task = helpers.task_in(programme, last_name=secret)
        return {"pk": task.pk}, task

    def fund_request(programme):
        fund_request = helpers.fund_request_in(programme, last_name=secret)
        return {"pk": fund_request.pk}, fund_request

    return {
        "offers:offer": offer,
        "offers:offer_edit": offer,
        "offers:group_create": offer,
        "offers:group": group,
        "offers:rollcall": session,
        "offers:plan_add": pathway,
        "offers:parent_enrol": pathway,
        "offers:contract_create": pathway,
        "offers:fund_request_create": pathway,
        "offers:contract": contract,
        "offers:contract_pdf": contract,
        "offers:alert": alert,
        "offers:task": task,
        "offers:fund_request": fund_request,
        "offers:fund_invoice": fund_request,
    }


def sensitive_urls(case) -> dict:
    """Builders taking the journal test's ``World``; ``case`` is its ``Case`` class."""

    def by(world):
        return world.coordinator.user

    def group(world):
        group, _session, children = helpers.roster_in(world.programme, by=by(world))
        return case({"pk": group.pk}, children)

    def rollcall(world):
        _group, session, children = helpers.roster_in(world.programme, by=by(world))
        return case({"pk": session.pk}, children)

    def on_pathway(world):
        pathway = helpers.active_pathway(world.programme, by(world))
        return case({"pathway_pk": pathway.pk}, [pathway])

    def contract(world):
        contract = helpers.contract_in(world.programme, by=by(world))
        return case({"pk": contract.pk}, [contract.pathway])

    def alerts(world):
        first = helpers.alert_in(world.programme, by=by(world))
        second = helpers.task_in(world.programme, by=by(world))
        return case({}, [first.pathway, second.pathway])

    def alert(world):
        alert = helpers.alert_in(world.programme, by=by(world))
        return case({"pk": alert.pk}, [alert.pathway])

    def task(world):
        task = helpers.task_in(world.programme, by=by(world))
        return case({"pk": task.pk}, [task.pathway])

    def fund(world):
        rows = [helpers.fund_request_in(world.programme, by=by(world)) for _ in range(2)]
        return case({}, [row.pathway for row in rows])

    def fund_request(world):
        row = helpers.fund_request_in(world.programme, by=by(world))
        return case({"pk": row.pk}, [row.pathway])

    return {
        "offers:group": group,
        "offers:rollcall": rollcall,
        "offers:plan_add": on_pathway,
        "offers:parent_enrol": on_pathway,
        "offers:contract_create": on_pathway,
        "offers:fund_request_create": on_pathway,
        "offers:contract": contract,
        "offers:contract_pdf": contract,
        "offers:alerts": alerts,
        "offers:alert": alert,
        "offers:task": task,
        "offers:fund": fund,
        "offers:fund_request": fund_request,
        "offers:fund_invoice": fund_request,
    }
