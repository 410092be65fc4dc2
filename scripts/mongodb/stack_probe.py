"""Readiness probe of the local MongoDB-protocol server (scripts/stack).

Ready means what inventory needs, over a real connection: the server answers `hello` as the
writable primary of a replica set, and a multi-document transaction commits with majority
write concern and is read back. Prints one line, "ok <set name>" or what failed; exit status 0
iff ready.

usage: stack_probe.py <mongodb url> <timeout ms>   (TLS and credentials: stack_client.py)
"""

import sys
import uuid

from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from stack_client import client as stack_client


def main() -> int:
    url, timeout_ms = sys.argv[1], int(sys.argv[2])
    try:
        client = stack_client(url, timeout_ms)
        hello = client.admin.command("hello")
        set_name = hello.get("setName")
        if not set_name or not hello.get("isWritablePrimary"):
            print(f"not the primary of a replica set: {hello}")
            return 1
        coll = client["stack_probe"]["probe"]
        marker = str(uuid.uuid4())
        with client.start_session() as session:
            with session.start_transaction(
                read_concern=ReadConcern("snapshot"),
                write_concern=WriteConcern("majority"),
            ):
                coll.insert_one({"_id": marker}, session=session)
        if coll.find_one({"_id": marker}) is None:
            print("a committed transaction's write was not read back")
            return 1
        coll.delete_one({"_id": marker})
        print(f"ok {set_name}")
        return 0
    except Exception as e:  # any failure means "not ready"; the line says which
        print(f"{type(e).__name__}: {e}".splitlines()[0])
        return 1


if __name__ == "__main__":
    sys.exit(main())
