"""Drops the databases earlier test runs left on the local MongoDB-protocol server (named
`t_<32 hex>`, as the test kit names them). scripts/test runs it before the tests, as it drops
the PostgreSQL ones. Prints one line: how many were dropped.

usage: drop_test_databases.py <mongodb url>
"""

import re
import sys

import pymongo

TEST_DATABASE = re.compile(r"^t_[0-9a-f]{32}$")


def main() -> int:
    client = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=10000)
    names = [n for n in client.list_database_names() if TEST_DATABASE.match(n)]
    for name in names:
        client.drop_database(name)
    print(f"mongodb: dropped {len(names)} test database(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
