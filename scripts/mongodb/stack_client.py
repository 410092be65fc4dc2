"""The client the stack's MongoDB scripts share: TLS against the stack's CA and the operator's
credentials, from the environment (never the command line, where ps would show them).

    MONGO_TLS_CA_FILE      the CA the server's certificate must chain to (TLS when set)
    MONGO_USERNAME         default "operator" (authSource admin)
    MONGO_PASSWORD_FILE    the user's password; unset: no authentication (the bootstrap of
                           the users, on a server started without --auth)
"""

import os

import pymongo


def client(url: str, timeout_ms: int) -> pymongo.MongoClient:
    options = dict(serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms)
    ca = os.environ.get("MONGO_TLS_CA_FILE")
    if ca:
        options.update(tls=True, tlsCAFile=ca)
    password_file = os.environ.get("MONGO_PASSWORD_FILE")
    if password_file:
        with open(password_file, encoding="utf-8") as f:
            password = f.read().strip()
        options.update(
            username=os.environ.get("MONGO_USERNAME", "operator"),
            password=password,
            authSource="admin",
        )
    return pymongo.MongoClient(url, **options)
