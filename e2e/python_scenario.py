#!/usr/bin/env python3
# End-to-end scenario: drives Microsoft's PyPI package PowerPlatform-Dataverse-Client
# 1.1.0 (pinned, with all transitive dependencies, in requirements.txt) against a
# Dataverse Web API server (the emulator, or the gateway with an agent key).
#
# Setup:
#   python3.11 -m venv /tmp/dvpy && /tmp/dvpy/bin/pip install -r e2e/requirements.txt
# Usage:
#   DV_BASE=http://127.0.0.1:8080 DV_TOKEN=... DV_EXPECT=full /tmp/dvpy/bin/python e2e/python_scenario.py
#
#   DV_BASE    server root (no API path); 1.1.0 builds every URL as
#              f"{DV_BASE.rstrip('/')}/api/data/v9.2/..." (data/_odata_base.py: self.api)
#   DV_TOKEN   bearer token; returned by a fixed TokenCredential, sent as
#              "Authorization: Bearer <DV_TOKEN>" on every request
#   DV_EXPECT  "full"          read/write user: list, create, get, update, delete
#              "full_nodelete" as "full", but delete must be refused with 403
#                              (gateway agent with "delete records" off)
#              "read"          read-only user: list works, create/update/delete -> 403
#                              with Dataverse error code 0x80040220
#   DV_TRACE   optional: "1" prints every HTTP exchange (as "# " comment lines)
#   DV_TIMEOUT optional watchdog for the whole run in seconds (default 120)
#
# Output: one line per step, "ok - <step>" or "not ok - <step>: <detail>"
# ("# ..." lines are comments), then exactly "N passed, M failed". Exit 1 iff M > 0.
#
# ---------------------------------------------------------------------------
# Over https (DV_BASE=https://…; a test CA goes in REQUESTS_CA_BUNDLE) the client is used
# exactly as shipped. For a plain-http server: DataverseClient refuses any
# base_url not starting with https:// (client.py __init__). The client is built
# with the https:// form of DV_BASE and its private `_base_url` is set to the
# http:// one before the first call; the internal _ODataClient is created lazily
# on the first call from `_base_url` (test-only workaround). Token scope asked
# of the credential: f"{DV_BASE}/.default" (ignored by the fixed credential).
#
# What 1.1.0 puts on the wire (read from site-packages/PowerPlatform/Dataverse:
# data/_odata.py, data/_odata_base.py, core/_http.py; confirmed with DV_TRACE=1).
# <B> = DV_BASE + "/api/data/v9.2".
#
# Headers on EVERY request (_ODataClient._headers + _RequestContext.build):
#   Authorization: Bearer <token>
#   Accept: application/json
#   Content-Type: application/json        (also on GET and DELETE, which have no body)
#   OData-MaxVersion: 4.0
#   OData-Version: 4.0
#   User-Agent: DataverseSvcPythonClient:1.1.0
#   x-ms-client-request-id: <uuid4, per request>
#   x-ms-correlation-id: <uuid4, one per SDK call>
#   (+ Accept-Encoding: gzip, deflate, Connection: keep-alive from requests)
# Query strings passed as `params=` dicts are encoded by requests with
# urlencode/quote_plus: "$" -> %24, "," -> %2C, "'" -> %27, space -> "+".
# URLs the SDK formats itself are sent as written (requests only re-quotes
# characters that are illegal in a URL, e.g. a space would become %20).
#
# M1 (before the first use of the "account" table in this client; cached after):
#   GET <B>/EntityDefinitions?%24select=LogicalName%2CEntitySetName%2CPrimaryIdAttribute&%24filter=LogicalName+eq+%27account%27
#   -> reads value[0].EntitySetName ("accounts") and value[0].PrimaryIdAttribute
# M2 (before the first create/update whose body has a non-empty string value;
#     cached for 1 hour per client; 404 is retried 5 times with backoff):
#   GET <B>/EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)
#   -> reads value[].LogicalName / OptionSet.Options[].Value / Label.LocalizedLabels[].Label
#
# Steps (full / full_nodelete):
#   (a)  records.list("account", filter="statecode eq 0", select=["name","numberofemployees"], page_size=3)
#          M1, then GET <B>/accounts?%24select=name%2Cnumberofemployees&%24filter=statecode+eq+0
#               with "Prefer: odata.maxpagesize=3"
#          then GET <@odata.nextLink verbatim> with "Prefer: odata.maxpagesize=3" while a nextLink is present
#          -> all "value" rows collected; ids read from "accountid" (always returned as the primary key)
#   (a2) records.list_pages(... same arguments ...): same requests, one QueryResult per HTTP page
#   (b)  count: 1.1.0 has NO count operation (no $count path segment, no RetrieveTotalRecordCount).
#          Its only count knob is list(count=True), which adds $count=true but drops
#          "@odata.count" (_get_multiple yields only "value"); so no count is asserted (SKIP),
#          and step (b2) only checks that the server accepts the request shape:
#   (b2) records.list("account", filter="statecode eq 0", select=["name"], count=True)
#          GET <B>/accounts?%24select=name&%24filter=statecode+eq+0&%24count=true
#   (c)  records.create("account", {"name": "PySDK Co", "numberofemployees": 7})
#          M2, then POST <B>/accounts  body {"name": "PySDK Co", "numberofemployees": 7}
#          -> expects 200/201/202/204; GUID taken ONLY from the OData-EntityId (or Location) header
#   (d)  records.retrieve("account", id, select=["name","numberofemployees"])
#          GET <B>/accounts(<id>)?$select=name,numberofemployees        (404 -> returns None)
#   (e)  records.update("account", id, {"name": "PySDK Co Renamed"})
#          PATCH <B>/accounts(<id>) with "If-Match: *", body {"name": "PySDK Co Renamed"}
#          then GET <B>/accounts(<id>)?$select=name,numberofemployees
#   (f)  records.delete("account", id)
#          DELETE <B>/accounts(<id>) with "If-Match: *"
#          then records.get("account", id, select=[...]) (deprecated form that raises instead of
#          returning None): GET <B>/accounts(<id>)?$select=name,numberofemployees
#          full:          DELETE succeeds, the GET raises HttpError status_code=404
#          full_nodelete: DELETE raises HttpError status_code=403 (message says deleting is off),
#                         the GET still returns the record
#
# Steps (read):
#   (a), (a2), (b2) as above
#   (c)  create refused:  M2, POST <B>/accounts -> HttpError 403, service code 0x80040220
#   (e)  update refused:  PATCH <B>/accounts(<existing id from (a)>) If-Match: * -> 403, 0x80040220
#   (f)  delete refused:  DELETE <B>/accounts(<existing id>) If-Match: * -> 403, 0x80040220
#   (g)  the existing row is unchanged: GET <B>/accounts(<existing id>)?$select=name,numberofemployees
#   (if the create in (c) unexpectedly succeeds, (e)-(g) target that new record instead of
#    seeded data, so a misconfigured run cannot rename or delete a seeded account)
#
# Where 1.1.0 puts an HTTP error (core/errors.py HttpError, raised by _ODataClient._request
# for any status outside the expected set, no retry on HTTP status):
#   exc.status_code                     HTTP status (int)
#   exc.code                            always "http_error"
#   exc.subcode                         "http_<status>" (e.g. "http_403")
#   exc.message / str(exc)              body error.message (+ ": " + error.innererror.message)
#   exc.details["service_error_code"]   body error.code (e.g. "0x80040220")
#   exc.details["body_excerpt"]         first 200 chars of the body
#   exc.details["client_request_id"], ["correlation_id"], ["service_request_id"]
# ---------------------------------------------------------------------------

import os

# requests honours proxy variables (trust_env); remove them before anything is sent.
for _k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
    os.environ.pop(_k, None)

import re
import signal
import sys
import uuid
import time
import warnings

from azure.core.credentials import AccessToken, TokenCredential
from PowerPlatform.Dataverse import __version__ as SDK_VERSION
from PowerPlatform.Dataverse.client import DataverseClient
from PowerPlatform.Dataverse.core.errors import HttpError

GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
TABLE = "account"
FILTER = "statecode eq 0"
SELECT = ["name", "numberofemployees"]
PAGE_SIZE = 3
NAME = "PySDK Co"
RENAMED = "PySDK Co Renamed"
EMPLOYEES = 7
ACCESS_DENIED = "0x80040220"

base = (os.environ.get("DV_BASE") or "").rstrip("/")
token = os.environ.get("DV_TOKEN") or ""
expect = os.environ.get("DV_EXPECT") or ""
trace = os.environ.get("DV_TRACE") == "1"
if not base.startswith("http") or not token or expect not in ("full", "full_nodelete", "read"):
    print(
        "usage: DV_BASE=<server root> DV_TOKEN=<bearer token> DV_EXPECT=full|full_nodelete|read "
        "python python_scenario.py",
        file=sys.stderr,
    )
    sys.exit(2)
if SDK_VERSION != "1.1.0":
    print(f"PowerPlatform-Dataverse-Client {SDK_VERSION} installed, 1.1.0 required", file=sys.stderr)
    sys.exit(2)

timeout_s = int(os.environ.get("DV_TIMEOUT") or "120")


def _watchdog(_signum, _frame):
    print(f"not ok - watchdog: scenario did not finish within {timeout_s} s", flush=True)
    os._exit(1)


signal.signal(signal.SIGALRM, _watchdog)
signal.alarm(timeout_s)


class FixedToken(TokenCredential):
    """TokenCredential whose get_token returns DV_TOKEN (valid for an hour from each call)."""

    def __init__(self, value: str) -> None:
        self._value = value

    def get_token(self, *scopes, **kwargs) -> AccessToken:
        return AccessToken(self._value, int(time.time()) + 3600)


# --------------------------------------------------------------------- output

passed = 0
failed = 0
exchanges = []  # (method, url, request headers, status, response headers, body) -- diagnostics only


class StepFailure(Exception):
    pass


def check(cond, detail):
    if not cond:
        raise StepFailure(detail)


def describe_http(e: HttpError) -> str:
    d = e.details or {}
    return (
        f"HttpError status_code={e.status_code} subcode={e.subcode!r} "
        f"service_error_code={d.get('service_error_code')!r} message={e.message!r} "
        f"body={d.get('body_excerpt')!r}"
    )


def last_exchange() -> str:
    if not exchanges:
        return ""
    m, u, _rh, st, h, body = exchanges[-1]
    ct = h.get("Content-Type")
    return f" [last request: {m} {u} -> {st} Content-Type={ct!r} body={body[:300]!r}]"


def describe(e: BaseException) -> str:
    if isinstance(e, StepFailure):
        return str(e)
    if isinstance(e, HttpError):
        return describe_http(e) + last_exchange()
    return f"unexpected {type(e).__name__}: {e}" + last_exchange()


def step(name, fn):
    global passed, failed
    try:
        note = fn()
    except Exception as e:  # noqa: BLE001 -- every failure becomes a "not ok" line
        failed += 1
        print(f"not ok - {name}: {describe(e)}", flush=True)
        return False
    passed += 1
    print(f"ok - {name}" + (f" ({note})" if note else ""), flush=True)
    return True


def expect_http_error(fn, status):
    """Run fn, which must raise HttpError with the given status; return the error."""
    try:
        result = fn()
    except HttpError as e:
        check(e.status_code == status, f"expected HTTP {status}, got {describe(e)}")
        check(e.code == "http_error", f"expected code 'http_error', got {e.code!r}")
        check(e.subcode == f"http_{status}", f"expected subcode 'http_{status}', got {e.subcode!r}")
        return e
    raise StepFailure(f"expected HttpError {status}, but the call returned {result!r}")


def expect_access_denied(fn):
    e = expect_http_error(fn, 403)
    code = (e.details or {}).get("service_error_code")
    check(code == ACCESS_DENIED, f"expected error.code {ACCESS_DENIED!r}, got {describe_http(e)}")
    check(bool(e.message) and e.message != "HTTP 403", f"no error.message surfaced: {describe_http(e)}")
    return f"403 {code}: {e.message}"


def need(value, what):
    if value is None:
        raise StepFailure(f"skipped: no {what} from an earlier step")
    return value


# --------------------------------------------------------------------- client

https_base = "https://" + base.split("://", 1)[1]
client = DataverseClient(https_base, FixedToken(token))
client.__enter__()  # creates the pooled requests.Session
if base.startswith("http://"):
    client._base_url = base  # test-only: plain-http server (see header)


def _record_exchange(resp, *args, **kwargs):
    req = resp.request
    body = resp.text if resp.content is not None else ""
    exchanges.append((req.method, req.url, dict(req.headers), resp.status_code, resp.headers, body))
    del exchanges[:-20]
    if trace:
        hdrs = {k: ("Bearer <token>" if k.lower() == "authorization" else v) for k, v in req.headers.items()}
        print(f"#   {req.method} {req.url}", flush=True)
        print(f"#     request headers: {hdrs}", flush=True)
        if req.body:
            b = req.body.decode("utf-8", "replace") if isinstance(req.body, bytes) else str(req.body)
            print(f"#     request body: {b[:500]}", flush=True)
        rh = {k: v for k, v in resp.headers.items() if k.lower() in ("content-type", "odata-entityid", "location", "preference-applied")}
        print(f"#     -> {resp.status_code} {rh} {body[:300]!r}", flush=True)


# Diagnostics only: observe (never alter) the session's responses.
client._session.hooks["response"].append(_record_exchange)


def account_requests_since(mark):
    """GETs on the accounts collection (not metadata) made since exchanges index `mark`."""
    return [x for x in exchanges[mark:] if x[0] == "GET" and re.search(r"/api/data/v9\.2/accounts(\?|$)", x[1])]


# --------------------------------------------------------------------- steps

state = {"ids": None, "existing": None, "created": None}


def step_list():
    res = client.records.list(TABLE, filter=FILTER, select=SELECT, page_size=PAGE_SIZE)
    rows = list(res)
    ids = []
    for r in rows:
        rid = r.get("accountid")
        check(isinstance(rid, str) and GUID_RE.match(rid), f"row without accountid GUID: {r.to_dict()!r}")
        check(isinstance(r.get("name"), str), f"row without name: {r.to_dict()!r}")
        extra = set(r.keys()) - set(SELECT) - {"accountid"}
        check(not extra, f"$select not honoured, extra columns {sorted(extra)} in {r.to_dict()!r}")
        ids.append(rid)
    check(len(ids) >= 10, f"expected >= 10 accounts across pages, got {len(ids)}")
    dups = sorted({i for i in ids if ids.count(i) > 1})
    check(not dups, f"duplicate ids across pages: {dups}")
    state["ids"] = ids
    state["existing"] = ids[0]
    return f"{len(ids)} rows"


def step_list_pages():
    ids = need(state["ids"], "rows")
    mark = len(exchanges)
    pages = list(client.records.list_pages(TABLE, filter=FILTER, select=SELECT, page_size=PAGE_SIZE))
    sizes = [len(p) for p in pages]
    check(len(pages) >= 2, f"expected several pages at page_size={PAGE_SIZE}, got page sizes {sizes}")
    check(all(0 < s <= PAGE_SIZE for s in sizes), f"a page exceeds odata.maxpagesize={PAGE_SIZE}: {sizes}")
    got = [r.get("accountid") for p in pages for r in p]
    check(sorted(got) == sorted(ids), f"list_pages rows differ from list rows: {len(got)} vs {len(ids)}")
    reqs = account_requests_since(mark)
    for m, u, rh, st, h, body in reqs:
        check(rh.get("Prefer") == f"odata.maxpagesize={PAGE_SIZE}", f"Prefer not re-sent on {u}: {rh.get('Prefer')!r}")
    if len(reqs) > 1:
        nl = reqs[1][1]
        check(nl.startswith(base + "/api/data/v9.2/accounts"), f"nextLink not under the client's base {base}: {nl}")
    return f"{len(pages)} pages {sizes}"


def step_count():
    res = client.records.list(TABLE, filter=FILTER, select=["name"], count=True)
    n = len(list(res))
    check(n == len(need(state["ids"], "rows")), f"count=True returned {n} rows, list returned {len(state['ids'])}")
    return f"$count=true accepted, {n} rows; 1.1.0 does not expose @odata.count"


def step_create():
    rid = client.records.create(TABLE, {"name": NAME, "numberofemployees": EMPLOYEES})
    check(isinstance(rid, str) and GUID_RE.match(rid), f"create returned {rid!r}, expected a GUID")
    state["created"] = rid
    return rid


def step_get():
    rid = need(state["created"], "created id")
    rec = client.records.retrieve(TABLE, rid, select=SELECT)
    check(rec is not None, f"retrieve returned None (404) for {rid}")
    check(rec.id == rid, f"record id {rec.id!r} != {rid!r}")
    check(rec.get("name") == NAME, f"name {rec.get('name')!r} != {NAME!r}")
    check(rec.get("numberofemployees") == EMPLOYEES, f"numberofemployees {rec.get('numberofemployees')!r} != {EMPLOYEES}")
    return None


def step_update():
    rid = need(state["created"], "created id")
    client.records.update(TABLE, rid, {"name": RENAMED})
    rec = client.records.retrieve(TABLE, rid, select=SELECT)
    check(rec is not None, f"retrieve after update returned None (404) for {rid}")
    check(rec.get("name") == RENAMED, f"name after update {rec.get('name')!r} != {RENAMED!r}")
    check(rec.get("numberofemployees") == EMPLOYEES, f"numberofemployees changed: {rec.get('numberofemployees')!r}")
    return None


def get_raising(rid):
    # records.get(table, id) is deprecated in 1.1.0 in favour of retrieve(), but it is
    # the form that raises HttpError on 404 (retrieve() maps 404 to None).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return client.records.get(TABLE, rid, select=SELECT)


def step_delete():
    rid = need(state["created"], "created id")
    client.records.delete(TABLE, rid)
    e = expect_http_error(lambda: get_raising(rid), 404)
    code = (e.details or {}).get("service_error_code")
    check(isinstance(code, str) and code.startswith("0x"), f"no Dataverse error code on the 404: {describe_http(e)}")
    check(client.records.retrieve(TABLE, rid) is None, "retrieve() after delete did not return None")
    return f"404 {code}: {e.message}"


def step_delete_refused():
    rid = need(state["created"], "created id")
    e = expect_http_error(lambda: client.records.delete(TABLE, rid), 403)
    msg = e.message or ""
    check(re.search(r"delet", msg, re.I) and re.search(r"\boff\b|disabled|not allowed|turned off", msg, re.I),
          f"403 message does not say deleting is off: {describe_http(e)}")
    rec = get_raising(rid)
    check(rec.get("name") == RENAMED, f"record changed after refused delete: {rec.to_dict()!r}")
    code = (e.details or {}).get("service_error_code")
    return f"403 {code}: {msg}"


def step_create_refused():
    def create():
        rid = client.records.create(TABLE, {"name": NAME, "numberofemployees": EMPLOYEES})
        state["stray"] = rid  # the target is writable after all: see write_target()
        return rid

    return expect_access_denied(create)


def write_target():
    # The id the refused update/delete are aimed at: an existing (seeded) record. If the
    # create in (c) unexpectedly succeeded, the target is writable (wrong DV_EXPECT or a
    # broken policy): aim at that stray record instead, so that the (failing) run does
    # not rename or delete seeded data.
    return state.get("stray") or need(state["existing"], "existing id")


def step_update_refused():
    rid = write_target()
    state["before"] = get_raising(rid).to_dict()
    return expect_access_denied(lambda: client.records.update(TABLE, rid, {"name": RENAMED}))


def step_delete_existing_refused():
    rid = write_target()
    return expect_access_denied(lambda: client.records.delete(TABLE, rid))


def step_unchanged():
    rid = write_target()
    before = need(state.get("before"), "record read before the refused writes")
    after = get_raising(rid).to_dict()
    check(after == before, f"record changed: before {before!r}, after {after!r}")
    return None


def step_bind():
    rid = need(state["created"], "created id")
    cid = client.records.create("contact", {"lastname": "PySDK Bound", "parentcustomerid_account@odata.bind": f"/accounts({rid})"})
    check(isinstance(cid, str) and GUID_RE.match(cid), f"create returned {cid!r}")
    state["contact"] = cid
    rec = client.records.retrieve("contact", cid, select=["_parentcustomerid_value"])
    check(rec is not None and rec.get("_parentcustomerid_value") == rid, f"parent customer: {rec!r}")
    return cid


def step_upsert_by_key():
    number = f"PY-{uuid.uuid4().hex[:8]}"
    client.records.upsert(TABLE, [{"alternate_key": {"accountnumber": number}, "record": {"name": "PySDK Upserted"}}])
    client.records.upsert(TABLE, [{"alternate_key": {"accountnumber": number}, "record": {"name": "PySDK Upserted Again"}}])
    rows = list(client.records.list(TABLE, filter=f"accountnumber eq '{number}'", select=["name"]))
    flat = [r for page in rows for r in (page if isinstance(page, list) else [page])]
    check(len(flat) == 1, f"expected one row for {number}, got {flat!r}")
    check(flat[0].get("name") == "PySDK Upserted Again", f"name {flat[0].get('name')!r}")
    return number


def step_batch():
    rid = need(state["created"], "created id")
    batch = client.batch.new()
    with batch.changeset() as cs:
        ref = cs.records.create("contact", {"lastname": "PySDK Batch"})
        cs.records.update(TABLE, rid, {"primarycontactid@odata.bind": ref})
    batch.records.get(TABLE, rid, select=["name", "_primarycontactid_value"])
    result = batch.execute()
    check(not result.has_errors, f"batch errors: {[(r.status_code, r.error_message) for r in result.responses]!r}")
    rec = client.records.retrieve(TABLE, rid, select=["_primarycontactid_value"])
    check(rec is not None and rec.get("_primarycontactid_value"), f"primary contact not set: {rec!r}")
    return f"{len(result.responses)} responses"


def step_sql():
    ids = need(state["ids"], "rows")
    rows = client.query.sql("SELECT TOP 3 accountid, name FROM account WHERE statecode = 0 ORDER BY name")
    check(len(rows) == 3, f"TOP 3 returned {len(rows)} rows")
    names = [r.get("name") for r in rows]
    check(names == sorted(names, key=str.lower), f"ORDER BY name not honoured: {names}")
    check(all(r.get("accountid") in ids for r in rows), f"rows outside the listed accounts: {rows}")
    counted = client.query.sql("SELECT COUNT(*) AS n FROM account WHERE statecode = 0")
    check(len(counted) == 1 and counted[0].get("n") == len(ids), f"COUNT(*) {counted} != {len(ids)} listed rows")
    return f"TOP 3 {names}, COUNT(*) = {counted[0].get('n')}"


COUNT_SKIP = ("# skip - (b) count accounts: 1.1.0 has no count operation "
              "(list(count=True) sends $count=true but discards @odata.count)")

try:
    step(f"(a) records.list account filter+select page_size={PAGE_SIZE}: all rows, >= 10, no duplicate ids", step_list)
    step("(a2) records.list_pages: several pages, each <= page size, same rows", step_list_pages)
    print(COUNT_SKIP, flush=True)
    step("(b2) records.list with count=True: request accepted, same rows", step_count)
    step("(k) query.sql: SELECT TOP with WHERE and ORDER BY, and COUNT(*) AS n", step_sql)
    if expect in ("full", "full_nodelete"):
        step("(c) create account -> GUID from OData-EntityId", step_create)
        step("(d) retrieve by id with select -> values match", step_get)
        step("(e) update name -> retrieve shows the new name", step_update)
        step("(h) create a contact bound to the account (@odata.bind)", step_bind)
        step("(i) upsert by alternate key: create, then update the same row", step_upsert_by_key)
        step("(j) batch: change set creating a contact and binding it, then a GET", step_batch)
        if expect == "full":
            step("(f) delete -> get raises HttpError 404", step_delete)
        else:
            step("(f) delete refused with HttpError 403 (deleting is off); record still there", step_delete_refused)
    else:
        step("(c) create refused: HttpError 403 with code 0x80040220", step_create_refused)
        step("(e) update of an existing id refused: HttpError 403 with code 0x80040220", step_update_refused)
        step("(f) delete of an existing id refused: HttpError 403 with code 0x80040220", step_delete_existing_refused)
        step("(g) existing record unchanged after the refused writes", step_unchanged)
finally:
    client.close()

print(f"{passed} passed, {failed} failed", flush=True)
sys.exit(1 if failed else 0)
