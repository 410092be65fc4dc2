"""Drops the databases earlier test runs left on the local MongoDB-protocol server (named
`t_<32 hex>`, as the test kit names them). scripts/test runs it before the tests, as it drops
the PostgreSQL ones. Prints one line: how many were dropped.

usage: drop_test_databases.py <mongodb url>   (TLS and credentials: stack_client.py)
"""

import re
import sys

from stack_client import client as stack_client

TEST_DATABASE = re.compile(r"^t_[0-9a-f]{32}$")


def main() -> int:
    client = stack_client(sys.argv[1], 10000)
    names = [n for n in client.list_database_names() if TEST_DATABASE.match(n)]
    for name in names:
        # A test's database has a user of its own (the e2e suite's inventory): it goes too.
        client[name].command("dropAllUsersFromDatabase")
        client.drop_database(name)
    print(f"mongodb: dropped {len(names)} test database(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
