"""Schemathesis hooks for scripts/fuzz (loaded through SCHEMATHESIS_HOOKS).

1. A custom check, `error_body`: every 4xx response carries SPEC §4's error body,
   `{"error": {"code": "snake_case", "message": "human sentence"}}`, as JSON. It holds for every
   4xx, documented or not: actix-web's own answers (an empty 405, a plain-text 400) are what it
   is there to catch. The one exception is a response to HEAD, which has no body by definition
   (RFC 9110 §9.3.2): there only the status is looked at.

2. Seeds. A random UUID names no customer and a random SKU no product, so without help the fuzz
   would never get past 404/422 `unknown_customer` into the logic behind it. scripts/fuzz
   creates a customer and a few products first and passes their ids in FUZZ_CUSTOMER_ID and
   FUZZ_SKUS (comma-separated); the `flatmap_*` hooks below draw either the generated request
   or the same request with the seeded ids in place of generated ones. Only a value that is
   already valid for its field (a UUID string, a string in the SKU alphabet) is replaced, so a
   request generated to be invalid stays invalid.

3. Identity (SPEC §7). Every request carries an operator's bearer token, the tools' client
   saga-tools's from `scripts/token --client`, fetched again every four minutes (Keycloak's
   access tokens live five). Schemathesis's own `ignored_auth` check then also sends requests
   of closed operations without it, and wants them refused.
"""

import json
import os
import re
import subprocess

import schemathesis
from hypothesis import strategies as st

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SKU = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CUSTOMER_ID = os.environ.get("FUZZ_CUSTOMER_ID")
SEED_SKUS = [s for s in os.environ.get("FUZZ_SKUS", "").split(",") if s]


@schemathesis.auth(refresh_interval=240)
class OperatorToken:
    """saga-tools's access token (role operator), as an `Authorization: Bearer` header."""

    def get(self, case, ctx):
        done = subprocess.run(
            [os.path.join(REPO, "scripts", "token"), "--client"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"scripts/token --client: {done.stderr.strip()}")
        return done.stdout.strip()

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.check
def error_body(ctx, response, case):
    """A 4xx response has the body {"error": {"code": <snake_case string>, "message": <string>}}."""
    if not 400 <= response.status_code < 500 or case.method.upper() == "HEAD":
        return None
    where = f"{response.status_code} from {case.method.upper()} {case.formatted_path}"
    try:
        body = json.loads(response.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        snippet = response.content[:200].decode("utf-8", "replace")
        raise AssertionError(f"{where}: the body is not JSON: {snippet!r}") from None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        raise AssertionError(f'{where}: no object "error" in the body: {body!r}')
    code = error.get("code")
    if not isinstance(code, str) or not SNAKE_CASE.match(code):
        raise AssertionError(f'{where}: "error.code" is not a snake_case string: {code!r}')
    if not isinstance(error.get("message"), str):
        raise AssertionError(f'{where}: "error.message" is not a string: {error.get("message")!r}')
    return None


def _seeded(values, key, pattern, seed):
    """`values` with `values[key]` replaced by `seed`, if it is there and matches `pattern`."""
    if seed is None or not isinstance(values, dict):
        return None
    current = values.get(key)
    if not isinstance(current, str) or not pattern.match(current):
        return None
    replaced = dict(values)
    replaced[key] = seed
    return replaced


def _either(original, replaced):
    return st.just(original) if replaced is None else st.sampled_from([original, replaced])


@schemathesis.hook
def flatmap_path_parameters(ctx, path_parameters):
    replaced = _seeded(path_parameters, "customer_id", UUID, CUSTOMER_ID)
    if replaced is None and SEED_SKUS:
        replaced = _seeded(path_parameters, "sku", SKU, SEED_SKUS[0])
    return _either(path_parameters, replaced)


@schemathesis.hook
def flatmap_query(ctx, query):
    return _either(query, _seeded(query, "customer_id", UUID, CUSTOMER_ID))


@schemathesis.hook
def flatmap_body(ctx, body):
    """The customer_id (orders, deposits, notifications), a new product's sku (409 sku_exists)
    and the SKUs of the first lines (orders, reservations; a different seeded SKU on each, as a
    SKU on two lines of an order is 422 duplicate_sku), all at once."""
    if not isinstance(body, dict) or not SEED_SKUS:
        return st.just(body)
    replaced = _seeded(body, "customer_id", UUID, CUSTOMER_ID)
    replaced = _seeded(replaced or body, "sku", SKU, SEED_SKUS[0]) or replaced
    items = body.get("items")
    if isinstance(items, list):
        lines = list(items)
        for i, sku in enumerate(SEED_SKUS[: len(lines)]):
            lines[i] = _seeded(lines[i], "sku", SKU, sku) or lines[i]
        if lines != items:
            replaced = dict(replaced or body)
            replaced["items"] = lines
    return _either(body, replaced)
