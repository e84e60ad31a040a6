"""The distinct cases the permission matrix executed (tests/test_permissions_matrix.py).

A case is one (role, relation, entry point, object) whose answer the matrix checked against the policy
table: it is recorded once, however many times it runs. tests/conftest.py prints their number in
pytest's terminal summary, summing the workers' sets under pytest-xdist.
"""

EXECUTED: set[str] = set()


def record(*key: str) -> None:
    """Count one distinct case (its key: role, relation, entry point, object)."""
    EXECUTED.add("|".join(key))
