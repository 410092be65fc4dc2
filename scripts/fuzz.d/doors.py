"""The doors of every API (SPEC §7), read from the services' own OpenAPI documents.

For each operation of each document given on the command line (`name=base_url` pairs):
  - an operation that declares no security is public: without a token it is not refused
    (no 401, no 403);
  - an operation that declares one is closed: without a token, and with a token that is not
    one (a malformed string, and a well-formed JWT signed by nobody the service trusts), it
    answers 401 with SPEC §4's error body and a `WWW-Authenticate: Bearer` challenge;
  - a closed operation whose every security requirement names only the role `operator` answers
    a customer's token (alice's, in $FUZZ_CUSTOMER_TOKEN) 403 `forbidden`.
Path parameters are filled with a UUID, or a SKU for `sku`; a request body, where there is
one, is `{}`: the door is checked before the body is read, so neither has to name anything.

Prints one line per service and every failure; exits 1 when any door is wrong, 2 when a
document cannot be read. Tokens come from the environment, never the command line.
"""

import base64
import json
import os
import re
import sys
import urllib.error
import urllib.request
import uuid

METHODS = ("get", "put", "post", "delete", "patch")
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# A JWT in form, RS256 with a key id no issuer has, and a signature of random bytes.
FORGED = ".".join(
    [
        b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "doors-" + uuid.uuid4().hex}).encode()),
        b64(json.dumps({"sub": str(uuid.uuid4()), "iss": "http://127.0.0.1:8080/realms/saga",
                        "aud": "saga-api", "exp": 4102444800,
                        "realm_access": {"roles": ["operator"]}}).encode()),
        b64(os.urandom(256)),
    ]
)


def call(method, url, token):
    """(status, headers, body) of `method url` with `token` (None: no Authorization header)."""
    data = b"{}" if method in ("post", "put", "patch") else None
    request = urllib.request.Request(url, data=data, method=method.upper())
    if data is not None:
        request.add_header("content-type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            # A stream that opened would never end: its status is all that is wanted.
            return response.status, response.headers, b""
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def error_code(body):
    try:
        error = json.loads(body.decode("utf-8"))["error"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) and SNAKE_CASE.match(code) else None


def fill(path):
    """`path` with each `{name}` filled: a SKU for `sku`, a UUID for anything else."""
    return re.sub(
        r"\{([^}]+)\}",
        lambda m: "DOORS-SKU" if m.group(1) == "sku" else str(uuid.uuid4()),
        path,
    )


def check_service(name, base, customer_token):
    """The failures of the service at `base`, and how many operations it has."""
    with urllib.request.urlopen(f"{base}/openapi.json", timeout=10) as response:
        document = json.load(response)
    failures = []
    operations = 0
    for path, item in sorted(document.get("paths", {}).items()):
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            operations += 1
            where = f"{name}: {method.upper()} {path}"
            url = base + fill(path)
            security = operation.get("security", document.get("security", []))
            if not security:
                status, _, _ = call(method, url, None)
                if status in (401, 403):
                    failures.append(f"{where}: documented public, answered {status} without a token")
                continue
            for label, token in (("no token", None), ("a malformed token", "not-a-jwt"),
                                 ("a forged token", FORGED)):
                status, headers, body = call(method, url, token)
                challenge = headers.get("WWW-Authenticate", "") if headers else ""
                if status != 401:
                    failures.append(f"{where}: {status} with {label}, not 401")
                elif not challenge.startswith("Bearer"):
                    failures.append(f"{where}: 401 with {label} has no Bearer challenge ({challenge!r})")
                elif error_code(body) is None:
                    failures.append(f"{where}: 401 with {label} has no SPEC §4 error body")
            operator_only = all(
                set(requirement) <= {"bearer"} and requirement.get("bearer") == ["operator"]
                for requirement in security
            )
            if operator_only:
                status, _, body = call(method, url, customer_token)
                if status != 403 or error_code(body) != "forbidden":
                    failures.append(
                        f"{where}: operators only, answered a customer's token {status} "
                        f"{error_code(body)!r}, not 403 'forbidden'"
                    )
    return failures, operations


def main(targets):
    customer_token = os.environ.get("FUZZ_CUSTOMER_TOKEN")
    if not customer_token:
        print("doors: FUZZ_CUSTOMER_TOKEN (a customer's access token) is not set", file=sys.stderr)
        return 2
    failed = False
    for target in targets:
        name, _, base = target.partition("=")
        try:
            failures, operations = check_service(name, base.rstrip("/"), customer_token)
        except (OSError, ValueError) as e:
            print(f"doors: {name}: reading {base}/openapi.json: {e}", file=sys.stderr)
            return 2
        print(f"doors: {name}: {operations} operations, {len(failures)} wrong")
        for failure in failures:
            print(f"  {failure}")
        failed = failed or bool(failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
