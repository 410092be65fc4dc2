"""The users of the stack's MongoDB-protocol server (scripts/stack), made or updated from the
passwords in .stack/secrets:

    operator    root, defined in admin: the stack's probes and clean-up, the tests' set-up
    inventory   readWrite on the database inventory only, defined there

Connects as stack_client.py says (without credentials on the bootstrap run, against a server
started without --auth; as the operator afterwards, to set rotated passwords). Prints one line;
exit status 0 iff both users are in place.

usage: users.py <mongodb url> <operator password file> <inventory password file>
"""

import sys

from pymongo.errors import OperationFailure

from stack_client import client


def read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def ensure(db, user: str, password: str, roles: list) -> str:
    try:
        db.command("updateUser", user, pwd=password, roles=roles)
        return "updated"
    except OperationFailure as e:
        if e.code != 11:  # UserNotFound
            raise
    db.command("createUser", user, pwd=password, roles=roles)
    return "created"


def main() -> int:
    url, operator_file, inventory_file = sys.argv[1:4]
    try:
        c = client(url, 10000)
        done = [
            "operator " + ensure(c.admin, "operator", read(operator_file), [{"role": "root", "db": "admin"}]),
            "inventory " + ensure(
                c.inventory, "inventory", read(inventory_file), [{"role": "readWrite", "db": "inventory"}]
            ),
        ]
        print(", ".join(done))
        return 0
    except Exception as e:
        print(f"{type(e).__name__}: {e}".splitlines()[0])
        return 1


if __name__ == "__main__":
    sys.exit(main())
