// End-to-end scenario: drives the real third-party client `dynamics-web-api`
// (pinned to 2.5.0 in package.json / package-lock.json) against a Dataverse
// Web API server.
//
// Usage:
//   DV_BASE=http://127.0.0.1:8080/ DV_TOKEN=... DV_EXPECT=full node dwa-scenario.mjs
//   DV_BASE=http://127.0.0.1:8080/ DV_TOKEN=... DV_EXPECT=read node dwa-scenario.mjs
//
//   DV_BASE    server root; the client appends "api/data/v9.2/" (a trailing "/" is
//              added if missing, otherwise new URL() would drop the last path segment)
//   DV_TOKEN   bearer token, sent as "Authorization: Bearer <DV_TOKEN>" on every request
//   DV_EXPECT  "full" (read/write user) or "read" (read-only user)
//   DV_TIMEOUT_MS  optional watchdog for the whole run (default 120000)
//
// Output: one line per step, "ok - <step>" or "not ok - <step>: <detail>", then
// "N passed, M failed". Exit code 0 iff M == 0.
//
// ---------------------------------------------------------------------------
// What dynamics-web-api 2.5.0 puts on the wire (read from
// node_modules/dynamics-web-api/dist/esm/dynamics-web-api.mjs and confirmed
// against a mock server). <B> = "/api/data/v9.2".
//
// Headers on EVERY request (setStandardHeaders + sendRequest):
//   Accept: application/json
//   OData-MaxVersion: 4.0
//   OData-Version: 4.0
//   Authorization: Bearer <token>           (token from onTokenRefresh, called per request)
//   Content-Type: application/json; charset=utf-8   (only when there is a body)
//   Content-Length: <n>                     (only when there is a body)
//   Host, Connection: keep-alive            (added by Node's http agent, keepAlive=true)
// No "Prefer" header is sent by default (only with returnRepresentation,
// includeAnnotations, maxPageSize, ... none of which are used here).
//
// Query string composition (composeUrl), in this fixed order:
//   $select=<a,b>  (not encoded)   $filter=<encodeURIComponent(filter)>
//   $count=true    $top=<n>        $orderby=<a asc,b desc> (not encoded by the
//   library; Node's WHATWG URL turns the space into %20).
//   encodeURIComponent leaves  ' ( ) * ! ~  unencoded, but Node's WHATWG URL
//   parser (new URL(uri), then pathname + search) then percent-encodes ' as %27
//   and spaces as %20, so on the wire: $filter=name%20eq%20%27DWA%20Upserted%27.
// The collection name is lower-cased by the client before use.
// Keys that are GUIDs are sent bare: accounts(<guid>) (curly braces stripped).
//
// Calls and requests:
//   retrieveMultiple({collection, select, filter, orderBy, top})
//     GET <B>/accounts?$select=name,revenue&$filter=statecode%20eq%200&$top=5&$orderby=name%20asc
//     -> returns the parsed JSON body: { "@odata.context", oDataContext, value: [...] }
//        (rows are expected to carry accountid even though it is not in $select,
//        as Dataverse always returns the primary key)
//   create({collection, data})
//     POST <B>/accounts   body = JSON.stringify(data) (non-ASCII escaped as \uXXXX)
//     -> on 204 returns the GUID parsed from the OData-EntityId (or Location)
//        response header, which must end in "(<guid>)"
//   retrieve({collection, key, select})
//     GET <B>/accounts(<id>)?$select=name,revenue,numberofemployees
//     -> parsed JSON body; "@odata.etag" is kept as-is (plus oDataContext)
//   update({collection, key, data[, ifmatch]})
//     PATCH <B>/accounts(<id>) with "If-Match: *" unless ifmatch is given
//     -> 204 => true. 412 => returns false (NOT thrown) unless the client was
//        constructed with propagateErrors: true, in which case it throws.
//        Every other error status (404, 403, ...) is thrown.
//   upsert({collection, key, data[, ifnonematch | ifmatch]})
//     PATCH <B>/accounts(<id>) with NO If-Match/If-None-Match by default,
//     "If-None-Match: *" with ifnonematch:"*".
//     -> 204 => GUID from OData-EntityId (undefined if the header is absent).
//        With ifnonematch: 412 => returns null (not thrown) unless propagateErrors.
//        With ifmatch: 404 => returns null.
//   count({collection, filter})
//     GET <B>/accounts?$filter=name%20eq%20%27DWA%20Upserted%27&$count=true
//     -> returns parseInt(body["@odata.count"]) (0 if missing). Without a filter
//        it would instead send GET <B>/accounts/$count and return the text body.
//   deleteRecord({collection, key})
//     DELETE <B>/accounts(<id>)   (no If-Match unless ifmatch is given)
//     -> 204 => true; errors thrown (412 => false only when ifmatch was given).
//
// How errors surface: for any non-2xx/304 status the promise rejects with an
// Error whose own properties are copied from the body's "error" object
// (code, message, ...) plus status, statusText (""), statusMessage, headers.
// The body is only parsed as JSON if the response Content-Type starts with
// "application/json"; otherwise error.message becomes undefined (the text
// body is not kept), so the server must send JSON errors with that type.
// The same applies to successful responses: non-JSON content types are
// returned as raw strings / numbers.
// ---------------------------------------------------------------------------

// The library picks up process.env.http_proxy / https_proxy at request time
// (lower-case only) and would route through it; remove all proxy variables.
// (ES imports are hoisted, but no request is made before this loop runs.)
for (const k of ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"]) {
  delete process.env[k];
}

import { randomUUID } from "node:crypto";
import { DynamicsWebApi } from "dynamics-web-api";

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NIL = "00000000-0000-0000-0000-000000000001";

let base = process.env.DV_BASE;
const token = process.env.DV_TOKEN;
const expect = process.env.DV_EXPECT;
if (!base || !token || (expect !== "full" && expect !== "read")) {
  console.error("usage: DV_BASE=<server root> DV_TOKEN=<bearer token> DV_EXPECT=full|read node dwa-scenario.mjs");
  process.exit(2);
}
if (!base.endsWith("/")) base += "/";

const watchdogMs = Number(process.env.DV_TIMEOUT_MS || 120000);
setTimeout(() => {
  console.log(`not ok - watchdog: scenario did not finish within ${watchdogMs} ms`);
  process.exit(1);
}, watchdogMs).unref();

const config = { serverUrl: base, dataApi: { version: "9.2" }, onTokenRefresh: async () => token };
const api = new DynamicsWebApi(config);
// Second client: identical, except 412 (and other "legacy-handled" statuses)
// from update/upsert/deleteRecord are thrown instead of mapped to false/null.
const strictApi = new DynamicsWebApi({ ...config, propagateErrors: true });

let passed = 0;
let failed = 0;

class StepFailure extends Error {}
function check(cond, detail) {
  if (!cond) throw new StepFailure(detail);
}
function show(v) {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
function describeError(e) {
  if (e instanceof StepFailure) return e.message;
  if (e && typeof e === "object" && "status" in e) {
    return `HTTP ${e.status} code=${show(e.code)} message=${show(e.message)}`;
  }
  return `unexpected exception: ${e && e.stack ? e.stack : show(e)}`;
}

async function step(name, fn) {
  try {
    const note = await fn();
    passed++;
    console.log(`ok - ${name}${note ? ` (${note})` : ""}`);
    return true;
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${describeError(e)}`);
    return false;
  }
}

/** Runs fn, which must reject with an HTTP error of the given status; returns the error. */
async function expectHttpError(fn, status) {
  let result;
  try {
    result = await fn();
  } catch (e) {
    if (e instanceof StepFailure) throw e;
    check(e && typeof e === "object" && "status" in e, `expected HTTP ${status} error, got ${describeError(e)}`);
    check(e.status === status, `expected HTTP ${status}, got ${describeError(e)}`);
    return e;
  }
  throw new StepFailure(`expected HTTP ${status} error, but the call resolved with ${show(result)}`);
}

function requireValue(v, what) {
  if (v === undefined || v === null) throw new StepFailure(`skipped: no ${what} from an earlier step`);
  return v;
}

const QUERY = {
  collection: "accounts",
  select: ["name", "revenue"],
  filter: "statecode eq 0",
  orderBy: ["name asc"],
  top: 5,
};

/** The catalog's functions and actions through callFunction/callAction (full mode). */
async function functionsAndActions() {
  await step("callFunction RetrieveTotalRecordCount (EntityNames through an alias)", async () => {
    // dynamics-web-api sends RetrieveTotalRecordCount(EntityNames=@p1)?@p1=["account","contact"].
    const res = await api.callFunction({ name: "RetrieveTotalRecordCount", parameters: { EntityNames: ["account", "contact"] } });
    const c = res && res.EntityRecordCountCollection;
    check(c && Array.isArray(c.Keys) && Array.isArray(c.Values), `expected EntityRecordCountCollection, got ${show(res)}`);
    check(c.Keys.join(",") === "account,contact", `keys: ${show(c.Keys)}`);
    check(c.Values.every((v) => Number.isInteger(v) && v >= 0), `values: ${show(c.Values)}`);
    return `${c.Values.join(", ")}`;
  });

  await step("change tracking: first sync, then new, updated and deleted rows through the delta link", async () => {
    const first = await api.retrieveMultiple({ collection: "contacts", select: ["lastname"], trackChanges: true });
    const link = first.oDataDeltaLink;
    check(typeof link === "string" && link.includes("$deltatoken="), `expected a delta link, got ${show(first)}`);
    const keep = first.value[0].contactid;
    const added = await api.create({ collection: "contacts", data: { lastname: "DWA Synced" } });
    await api.update({ collection: "contacts", key: keep, data: { lastname: "DWA Sync Changed" } });
    const gone = await api.create({ collection: "contacts", data: { lastname: "DWA Sync Gone" } });
    await api.deleteRecord({ collection: "contacts", key: gone });
    const delta = await api.retrieveMultiple({ collection: "contacts" }, link);
    const ids = delta.value.filter((r) => r.contactid).map((r) => r.contactid);
    check(ids.includes(added) && ids.includes(keep), `delta rows ${show(ids)} lack ${added} or ${keep}`);
    const deleted = delta.value.find((r) => r.id === gone);
    check(deleted && deleted.reason === "deleted", `no deleted entry for ${gone}: ${show(delta.value)}`);
    check(typeof delta.oDataDeltaLink === "string", "the delta carries the next delta link");
    return `${delta.value.length} changes`;
  });

  await step("callFunction bound RetrieveUserPrivileges for the calling user", async () => {
    const me = await api.callFunction("WhoAmI");
    const res = await api.callFunction({ collection: "systemusers", key: me.UserId, name: "Microsoft.Dynamics.CRM.RetrieveUserPrivileges" });
    check(Array.isArray(res.RolePrivileges) && res.RolePrivileges.length > 0, `expected RolePrivileges, got ${show(res)}`);
    check(res.RolePrivileges.some((p) => p.PrivilegeName === "prvReadAccount"), "prvReadAccount missing");
    return `${res.RolePrivileges.length} privileges`;
  });

  let opportunityId = null;
  await step("create an opportunity to win", async () => {
    opportunityId = await api.create({ collection: "opportunities", data: { name: "DWA deal", estimatedvalue: 4200 } });
    check(GUID_RE.test(opportunityId), `expected a GUID, got ${show(opportunityId)}`);
  });

  await step("callAction WinOpportunity closes it as won", async () => {
    const id = requireValue(opportunityId, "opportunity");
    await api.callAction({
      actionName: "WinOpportunity",
      action: { Status: 3, OpportunityClose: { subject: "Won by DWA", "opportunityid@odata.bind": `/opportunities(${id})` } },
    });
    const row = await api.retrieve({ collection: "opportunities", key: id, select: ["statecode", "statuscode", "actualvalue"] });
    check(row.statecode === 1 && row.statuscode === 3, `expected Won (1, 3), got ${show(row)}`);
    check(Number(row.actualvalue) === 4200, `expected the estimate as actual value, got ${show(row.actualvalue)}`);
  });

  await step("callAction Merge moves a contact to the kept account and retires the other", async () => {
    const keep = await api.create({ collection: "accounts", data: { name: "DWA Merge Keep" } });
    const old = await api.create({ collection: "accounts", data: { name: "DWA Merge Old" } });
    const child = await api.create({
      collection: "contacts",
      data: { lastname: "DWA Merge Child", "parentcustomerid_account@odata.bind": `/accounts(${old})` },
    });
    await api.callAction({
      actionName: "Merge",
      action: {
        Target: { "@odata.type": "Microsoft.Dynamics.CRM.account", accountid: keep },
        Subordinate: { "@odata.type": "Microsoft.Dynamics.CRM.account", accountid: old },
        UpdateContent: { "@odata.type": "Microsoft.Dynamics.CRM.account", accountnumber: `DWA-MERGED-${Math.random().toString(36).slice(2, 10)}` },
        PerformParentingChecks: false,
      },
    });
    const c = await api.retrieve({ collection: "contacts", key: child, select: ["_parentcustomerid_value"] });
    check(c._parentcustomerid_value === keep, `contact still under ${show(c._parentcustomerid_value)}`);
    const o = await api.retrieve({ collection: "accounts", key: old, select: ["statecode"] });
    check(o.statecode === 1, `subordinate statecode ${show(o.statecode)}`);
  });

  await step("callAction WinOpportunity again -> 400 (already closed)", async () => {
    const id = requireValue(opportunityId, "opportunity");
    const e = await expectHttpError(
      () => api.callAction({ actionName: "WinOpportunity", action: { Status: 3, OpportunityClose: { "opportunityid@odata.bind": `/opportunities(${id})` } } }),
      400,
    );
    check(/already closed/.test(e.message), `message: ${show(e.message)}`);
  });
}

async function runFull() {
  let createdId = null;
  let upsertId = null;
  let staleEtag = null;
  const cleanup = new Set();

  await step("query accounts (select, filter, orderBy, top)", async () => {
    const res = await api.retrieveMultiple({ ...QUERY });
    check(res && Array.isArray(res.value), `expected {value: [...]}, got ${show(res)}`);
    check(res.value.length >= 1, `expected at least 1 seeded account, got ${res.value.length}`);
    check(res.value.length <= 5, `$top=5 not honoured: got ${res.value.length} rows`);
    for (const row of res.value) {
      check(typeof row.accountid === "string" && GUID_RE.test(row.accountid), `row without accountid GUID: ${show(row)}`);
      check(typeof row.name === "string", `row without name: ${show(row)}`);
    }
    return `${res.value.length} rows`;
  });

  await step("create account -> id", async () => {
    const id = await api.create({
      collection: "accounts",
      data: { name: "DWA Scenario Co", revenue: 12345.5, numberofemployees: 42, creditonhold: false },
    });
    check(typeof id === "string" && GUID_RE.test(id), `expected a GUID, got ${show(id)}`);
    createdId = id;
    cleanup.add(id);
    return id;
  });

  await step("retrieve created account", async () => {
    const id = requireValue(createdId, "created id");
    const r = await api.retrieve({ collection: "accounts", key: id, select: ["name", "revenue", "numberofemployees"] });
    check(r && typeof r === "object", `expected an object, got ${show(r)}`);
    check(r.name === "DWA Scenario Co", `name: ${show(r.name)}`);
    check(r.numberofemployees === 42, `numberofemployees: ${show(r.numberofemployees)}`);
    check(r.revenue == 12345.5, `revenue: ${show(r.revenue)}`);
    check(typeof r["@odata.etag"] === "string" && r["@odata.etag"].length > 0, `@odata.etag missing: ${show(r)}`);
    staleEtag = r["@odata.etag"];
    return `etag ${staleEtag}`;
  });

  await step("update account (If-Match: *)", async () => {
    const id = requireValue(createdId, "created id");
    const res = await api.update({ collection: "accounts", key: id, data: { name: "DWA Scenario Co (renamed)" } });
    check(res === true, `expected true, got ${show(res)}`);
  });

  await step("retrieve after update shows new name and a new etag", async () => {
    const id = requireValue(createdId, "created id");
    const r = await api.retrieve({ collection: "accounts", key: id, select: ["name"] });
    check(r.name === "DWA Scenario Co (renamed)", `name: ${show(r.name)}`);
    check(typeof r["@odata.etag"] === "string", `@odata.etag missing: ${show(r)}`);
    if (staleEtag !== null) check(r["@odata.etag"] !== staleEtag, `etag did not change on update (${staleEtag})`);
    return `etag ${r["@odata.etag"]}`;
  });

  // The etag read before the rename is stale now. (Falls back to W/"1" if the
  // retrieve step failed to produce one.)
  await step("update with stale etag -> 412 mapped to false (default client)", async () => {
    const id = requireValue(createdId, "created id");
    const res = await api.update({ collection: "accounts", key: id, data: { name: "stale write" }, ifmatch: staleEtag ?? 'W/"1"' });
    check(res === false, `expected false (412 swallowed by 2.5.0), got ${show(res)}`);
  });

  await step("update with stale etag -> 412 thrown (propagateErrors client)", async () => {
    const id = requireValue(createdId, "created id");
    const e = await expectHttpError(
      () => strictApi.update({ collection: "accounts", key: id, data: { name: "stale write" }, ifmatch: staleEtag ?? 'W/"1"' }),
      412,
    );
    return `code ${e.code}`;
  });

  await step("name unchanged after rejected stale writes", async () => {
    const id = requireValue(createdId, "created id");
    const r = await api.retrieve({ collection: "accounts", key: id, select: ["name"] });
    check(r.name === "DWA Scenario Co (renamed)", `name: ${show(r.name)}`);
  });

  await step("upsert new account by client-generated id", async () => {
    const id = randomUUID();
    const res = await api.upsert({ collection: "accounts", key: id, data: { name: "DWA Upserted" } });
    upsertId = id;
    cleanup.add(id);
    // 2.5.0 returns the id parsed from OData-EntityId (undefined if the header is absent).
    check(res === undefined || (typeof res === "string" && res.toLowerCase() === id), `unexpected upsert result ${show(res)} for ${id}`);
    return id;
  });

  await step("retrieve upserted account", async () => {
    const id = requireValue(upsertId, "upsert id");
    const r = await api.retrieve({ collection: "accounts", key: id, select: ["name"] });
    check(r.name === "DWA Upserted", `name: ${show(r.name)}`);
    check(typeof r.accountid === "string" && r.accountid.toLowerCase() === id, `accountid: ${show(r.accountid)}`);
  });

  await step("upsert existing id with If-None-Match: * -> 412 mapped to null", async () => {
    const id = requireValue(upsertId, "upsert id");
    const res = await api.upsert({ collection: "accounts", key: id, data: { name: "DWA Upserted (must not apply)" }, ifnonematch: "*" });
    check(res === null, `expected null, got ${show(res)}`);
    const r = await api.retrieve({ collection: "accounts", key: id, select: ["name"] });
    check(r.name === "DWA Upserted", `row was modified despite If-None-Match: name=${show(r.name)}`);
  });

  await step("count accounts named 'DWA Upserted'", async () => {
    const n = await api.count({ collection: "accounts", filter: "name eq 'DWA Upserted'" });
    check(n === 1, `expected 1, got ${show(n)}`);
  });

  await step("delete created account", async () => {
    const id = requireValue(createdId, "created id");
    const res = await api.deleteRecord({ collection: "accounts", key: id });
    check(res === true, `expected true, got ${show(res)}`);
    cleanup.delete(id);
  });

  await step("delete upserted account", async () => {
    const id = requireValue(upsertId, "upsert id");
    const res = await api.deleteRecord({ collection: "accounts", key: id });
    check(res === true, `expected true, got ${show(res)}`);
    cleanup.delete(id);
  });

  await step("retrieve deleted account -> 404 0x80040217", async () => {
    const id = requireValue(createdId, "created id");
    const e = await expectHttpError(() => api.retrieve({ collection: "accounts", key: id, select: ["name"] }), 404);
    check(e.code === "0x80040217", `error code: ${show(e.code)}`);
    check(typeof e.message === "string" && e.message.length > 0, `error message: ${show(e.message)}`);
    return e.message;
  });

  await step("update non-existent account (If-Match: *) -> 404 thrown", async () => {
    const e = await expectHttpError(
      () => api.update({ collection: "accounts", key: randomUUID(), data: { name: "ghost" } }),
      404,
    );
    check(e.code === "0x80040217", `error code: ${show(e.code)}`);
    return e.message;
  });

  await step("retrieveAll pages through every account (maxPageSize 4) and matches count", async () => {
    const all = await api.retrieveAll({ collection: "accounts", select: ["name"], maxPageSize: 4 });
    check(all && Array.isArray(all.value), `expected {value: [...]}, got ${show(all)}`);
    const ids = new Set(all.value.map((r) => r.accountid));
    check(ids.size === all.value.length, "a row came back twice across pages");
    check(all.value.length >= 10, `expected at least 10 accounts, got ${all.value.length}`);
    const n = await api.count({ collection: "accounts" });
    check(Number(n) === all.value.length, `count ${show(n)} != rows paged ${all.value.length}`);
    const n2 = await api.countAll({ collection: "accounts", select: ["accountid"] });
    check(Number(n2) === all.value.length, `countAll ${show(n2)} != ${all.value.length}`);
    return `${all.value.length} rows`;
  });

  await step("fetchAll pages FetchXML with paging cookies (count 4) and matches the OData rows", async () => {
    const fetchXml =
      "<fetch count='4'><entity name='account'><attribute name='name'/><order attribute='name'/>" +
      "<link-entity name='contact' from='contactid' to='primarycontactid' link-type='outer' alias='pc'>" +
      "<attribute name='fullname'/></link-entity></entity></fetch>";
    const all = await api.fetchAll({
      collection: "accounts",
      fetchXml,
      includeAnnotations: "Microsoft.Dynamics.CRM.fetchxmlpagingcookie",
    });
    check(all && Array.isArray(all.value), `expected {value: [...]}, got ${show(all)}`);
    const ids = new Set(all.value.map((r) => r.accountid));
    check(ids.size === all.value.length, "a row came back twice across FetchXML pages");
    const n = await api.count({ collection: "accounts" });
    check(Number(n) === all.value.length, `count ${show(n)} != FetchXML rows ${all.value.length}`);
    const names = all.value.map((r) => r.name);
    const sorted = [...names].sort((a, b) => a.localeCompare(b, "en", { sensitivity: "base" }));
    check(JSON.stringify(names) === JSON.stringify(sorted), `not ordered by name: ${show(names.slice(0, 5))}`);
    return `${all.value.length} rows`;
  });

  await step("formatted values on request (includeAnnotations)", async () => {
    const res = await api.retrieveMultiple({
      collection: "accounts",
      select: ["name", "industrycode", "revenue"],
      filter: "industrycode ne null",
      top: 3,
      includeAnnotations: "OData.Community.Display.V1.FormattedValue",
    });
    check(res.value.length >= 1, "no account with an industry");
    for (const row of res.value) {
      const label = row["industrycode@OData.Community.Display.V1.FormattedValue"];
      check(typeof label === "string" && label.length > 0, `no formatted industry: ${show(row)}`);
    }
    return res.value[0]["industrycode@OData.Community.Display.V1.FormattedValue"];
  });

  await step("expand contacts of accounts", async () => {
    const res = await api.retrieveMultiple({
      collection: "accounts",
      select: ["name"],
      expand: [{ property: "contact_customer_accounts", select: ["fullname"] }],
      top: 5,
    });
    check(res.value.length >= 1, "no accounts");
    for (const row of res.value) {
      check(Array.isArray(row.contact_customer_accounts), `no expanded contacts array: ${show(row)}`);
    }
    return `${res.value.reduce((n, r) => n + r.contact_customer_accounts.length, 0)} contacts`;
  });

  await step("alternate key: create, retrieve and delete by accountnumber", async () => {
    const number = `DWA-${randomUUID().slice(0, 8)}`;
    const id = await api.create({ collection: "accounts", data: { name: "DWA Keyed", accountnumber: number } });
    check(typeof id === "string" && GUID_RE.test(id), `create returned ${show(id)}`);
    cleanup.add(id);
    const row = await api.retrieve({ collection: "accounts", key: `accountnumber='${number}'`, select: ["name"] });
    check(row && row.name === "DWA Keyed" && row.accountid === id, `retrieve by key: ${show(row)}`);
    const done = await api.deleteRecord({ collection: "accounts", key: `accountnumber='${number}'` });
    check(done === true, `delete by key returned ${show(done)}`);
    cleanup.delete(id);
    return number;
  });

  await metadataAndAggregates(true);
  await functionsAndActions();

  await writesAndRelationships(cleanup);

  // Best-effort cleanup of rows left behind by failed steps (no requests when all passed).
  for (const id of cleanup) {
    try {
      await api.deleteRecord({ collection: "accounts", key: id });
      console.log(`# cleanup: deleted ${id}`);
    } catch (e) {
      console.log(`# cleanup: could not delete ${id}: ${describeError(e)}`);
    }
  }
}

/** Binds, single-property writes, $ref associate/disassociate and $batch (issue: writes). */
async function writesAndRelationships(cleanup) {
  let accountId = null;
  let contactId = null;
  const contacts = new Set();

  await step("create with returnRepresentation returns the row", async () => {
    const row = await api.create({
      collection: "accounts",
      data: { name: "DWA Relationships Co", telephone1: "555-0100" },
      returnRepresentation: true,
      select: ["name", "telephone1"],
    });
    check(row && row.name === "DWA Relationships Co", `row: ${show(row)}`);
    check(typeof row.accountid === "string" && GUID_RE.test(row.accountid), `accountid: ${show(row)}`);
    accountId = row.accountid;
    cleanup.add(accountId);
    return accountId;
  });

  await step("create a contact bound to the account (@odata.bind)", async () => {
    const a = requireValue(accountId, "account id");
    const id = await api.create({
      collection: "contacts",
      data: { lastname: "Bound", "parentcustomerid_account@odata.bind": `accounts(${a})` },
    });
    check(typeof id === "string" && GUID_RE.test(id), `create returned ${show(id)}`);
    contactId = id;
    contacts.add(id);
    const c = await api.retrieve({ collection: "contacts", key: id, select: ["_parentcustomerid_value"] });
    check(c._parentcustomerid_value === a, `parent customer: ${show(c)}`);
  });

  await step("disassociate and associate a contact through the collection ($ref)", async () => {
    const a = requireValue(accountId, "account id");
    const c = requireValue(contactId, "contact id");
    await api.disassociate({ collection: "accounts", primaryKey: a, relationshipName: "contact_customer_accounts", relatedKey: c });
    let row = await api.retrieve({ collection: "contacts", key: c, select: ["_parentcustomerid_value"] });
    check(row._parentcustomerid_value === null, `still linked: ${show(row)}`);
    await api.associate({
      collection: "accounts",
      primaryKey: a,
      relationshipName: "contact_customer_accounts",
      relatedCollection: "contacts",
      relatedKey: c,
    });
    row = await api.retrieve({ collection: "contacts", key: c, select: ["_parentcustomerid_value"] });
    check(row._parentcustomerid_value === a, `not linked: ${show(row)}`);
  });

  await step("set and clear a single-valued navigation property ($ref)", async () => {
    const a = requireValue(accountId, "account id");
    const c = requireValue(contactId, "contact id");
    await api.associateSingleValued({
      collection: "accounts",
      primaryKey: a,
      navigationProperty: "primarycontactid",
      relatedCollection: "contacts",
      relatedKey: c,
    });
    let row = await api.retrieve({ collection: "accounts", key: a, select: ["_primarycontactid_value"] });
    check(row._primarycontactid_value === c, `primary contact: ${show(row)}`);
    await api.disassociateSingleValued({ collection: "accounts", primaryKey: a, navigationProperty: "primarycontactid" });
    row = await api.retrieve({ collection: "accounts", key: a, select: ["_primarycontactid_value"] });
    check(row._primarycontactid_value === null, `primary contact not cleared: ${show(row)}`);
  });

  await step("pair and unpair a lead with the account (N:N $ref)", async () => {
    const a = requireValue(accountId, "account id");
    const lead = await api.create({ collection: "leads", data: { lastname: "DWA Paired", subject: "N:N" } });
    check(typeof lead === "string" && GUID_RE.test(lead), `lead create returned ${show(lead)}`);
    try {
      await api.associate({
        collection: "accounts",
        primaryKey: a,
        relationshipName: "accountleads_association",
        relatedCollection: "leads",
        relatedKey: lead,
      });
      let row = await api.retrieve({
        collection: "accounts",
        key: a,
        select: ["name"],
        expand: [{ property: "accountleads_association", select: ["lastname"] }],
      });
      const paired = row.accountleads_association.map((l) => l.lastname);
      check(show(paired) === show(["DWA Paired"]), `paired leads: ${show(row)}`);
      const back = await api.retrieveMultiple({
        collection: "leads",
        select: ["lastname"],
        filter: `accountleads_association/any(a: a/accountid eq ${a})`,
      });
      check(back.value.length === 1 && back.value[0].leadid === lead, `leads of the account: ${show(back)}`);
      await api.disassociate({ collection: "accounts", primaryKey: a, relationshipName: "accountleads_association", relatedKey: lead });
      row = await api.retrieve({
        collection: "accounts",
        key: a,
        select: ["name"],
        expand: [{ property: "accountleads_association", select: ["lastname"] }],
      });
      check(row.accountleads_association.length === 0, `still paired: ${show(row)}`);
    } finally {
      await api.deleteRecord({ collection: "leads", key: lead });
    }
  });

  await step("update and clear a single property", async () => {
    const a = requireValue(accountId, "account id");
    await api.updateSingleProperty({ collection: "accounts", key: a, fieldValuePair: { telephone1: "555-0199" } });
    let row = await api.retrieve({ collection: "accounts", key: a, select: ["telephone1"] });
    check(row.telephone1 === "555-0199", `telephone1: ${show(row)}`);
    await api.deleteRecord({ collection: "accounts", key: a, fieldName: "telephone1" });
    row = await api.retrieve({ collection: "accounts", key: a, select: ["telephone1"] });
    check(row.telephone1 === null, `telephone1 not cleared: ${show(row)}`);
  });

  await step("deep insert: an account with its primary contact and two contacts", async () => {
    const id = await api.create({
      collection: "accounts",
      data: {
        name: "DWA Deep Co",
        primarycontactid: { firstname: "Deep", lastname: "Primary" },
        contact_customer_accounts: [{ lastname: "Deep One" }, { lastname: "Deep Two" }],
      },
    });
    check(typeof id === "string" && GUID_RE.test(id), `create returned ${show(id)}`);
    cleanup.add(id);
    const row = await api.retrieve({
      collection: "accounts",
      key: id,
      select: ["name"],
      expand: [
        { property: "primarycontactid", select: ["fullname"] },
        { property: "contact_customer_accounts", select: ["lastname"] },
      ],
    });
    check(row.primarycontactid && row.primarycontactid.fullname === "Deep Primary", `primary contact: ${show(row)}`);
    const names = row.contact_customer_accounts.map((c) => c.lastname).sort();
    check(show(names) === show(["Deep One", "Deep Two"]), `contacts: ${show(names)}`);
    contacts.add(row.primarycontactid.contactid);
    for (const c of row.contact_customer_accounts) contacts.add(c.contactid);
  });

  await step("batch: change set with Content-ID references, then a GET", async () => {
    api.startBatch();
    api.create({ collection: "contacts", data: { lastname: "Batch Contact" }, contentId: "1" });
    api.create({ collection: "accounts", data: { name: "DWA Batch Co", "primarycontactid@odata.bind": "$1" } });
    api.retrieveMultiple({ collection: "accounts", select: ["name"], filter: "name eq 'DWA Batch Co'" });
    const res = await api.executeBatch();
    check(Array.isArray(res) && res.length >= 2, `batch result: ${show(res)}`);
    const rows = await api.retrieveMultiple({
      collection: "accounts",
      select: ["name"],
      filter: "name eq 'DWA Batch Co'",
      expand: [{ property: "primarycontactid", select: ["lastname"] }],
    });
    check(rows.value.length === 1, `accounts created: ${show(rows)}`);
    const row = rows.value[0];
    cleanup.add(row.accountid);
    check(row.primarycontactid && row.primarycontactid.lastname === "Batch Contact", `bound contact: ${show(row)}`);
    contacts.add(row.primarycontactid.contactid);
    return `${res.length} results`;
  });

  await step("batch: a failing change set leaves nothing behind", async () => {
    const before = await api.count({ collection: "accounts", filter: "name eq 'DWA Rolled Back'" });
    api.startBatch();
    api.create({ collection: "accounts", data: { name: "DWA Rolled Back" } });
    api.update({ collection: "accounts", key: randomUUID(), data: { name: "ghost" } });
    let outcome;
    try {
      outcome = await api.executeBatch();
    } catch (e) {
      outcome = e;
    }
    const errors = Array.isArray(outcome) ? outcome.filter((r) => r instanceof Error || (r && r.status >= 400)) : [outcome];
    check(errors.length >= 1, `expected a failure, got ${show(outcome)}`);
    const after = await api.count({ collection: "accounts", filter: "name eq 'DWA Rolled Back'" });
    check(after === before, `the change set was not rolled back: ${before} -> ${after}`);
  });

  for (const id of contacts) {
    try {
      await api.deleteRecord({ collection: "contacts", key: id });
    } catch (e) {
      console.log(`# cleanup: could not delete contact ${id}: ${describeError(e)}`);
    }
  }
}

/** Label text of a metadata Label (its user label, else the first localized one). */
function labelText(label) {
  if (!label || typeof label !== "object") return undefined;
  if (label.UserLocalizedLabel && typeof label.UserLocalizedLabel.Label === "string") return label.UserLocalizedLabel.Label;
  return Array.isArray(label.LocalizedLabels) && label.LocalizedLabels[0] ? label.LocalizedLabels[0].Label : undefined;
}

/** Properties of a row other than annotations ("x@..." and "@..."). */
function plainKeys(row) {
  return Object.keys(row).filter((k) => !k.includes("@") && k !== "oDataContext").sort();
}

/**
 * Metadata through the client's own metadata calls (EntityDefinitions, Attributes with type
 * casts, RelationshipDefinitions, the CSDL document) and FetchXML aggregation.
 *   full: accounts, contacts and leads are readable (emulator, or the gateway's Full Agent)
 *   read: only accounts are readable (the gateway's Read Agent): contacts must not show up
 * What 2.5.0 sends (composeUrl; <B> = /api/data/v9.2):
 *   retrieveEntity({key:"LogicalName='account'", select, expand:[{property:"Attributes", select, filter}]})
 *     GET <B>/EntityDefinitions(LogicalName='account')?$select=a,b&$expand=Attributes($select=x,y;$filter=<encoded>)
 *   retrieveEntities({select, filter})       GET <B>/EntityDefinitions?$select=…&$filter=…
 *   retrieveAttributes({entityKey, castType, select, expand})
 *     GET <B>/EntityDefinitions(LogicalName='account')/Attributes/<castType>?$select=…&$expand=OptionSet($select=Options)
 *   retrieveAttribute({entityKey, attributeKey, castType, select})
 *     GET <B>/EntityDefinitions(LogicalName='account')/Attributes(LogicalName='name')/<castType>?$select=…
 *   retrieveRelationship({key, castType, select})   GET <B>/RelationshipDefinitions(<key>)/<castType>?$select=…
 *   retrieveRelationships({castType, select, filter})  GET <B>/RelationshipDefinitions/<castType>?$select=…&$filter=…
 *   retrieveCsdlMetadata()   GET <B>/$metadata with "Accept: application/xml" -> the XML text
 *   fetch({collection, fetchXml}) adds page="1" to <fetch> (no top=): GET <B>/accounts?fetchXml=<encoded>
 *   fetchAll: fetch, then follows PagingInfo (none for aggregates)
 */
async function metadataAndAggregates(full) {
  const ACCOUNT = "LogicalName='account'";
  let accountMetadataId = null;
  let industryOptions = null;

  await step("retrieveEntity account by LogicalName (select, expand Attributes with an enum filter)", async () => {
    const e = await api.retrieveEntity({
      key: ACCOUNT,
      select: ["LogicalName", "EntitySetName", "PrimaryIdAttribute", "PrimaryNameAttribute", "OwnershipType"],
      expand: [
        {
          property: "Attributes",
          select: ["LogicalName", "AttributeType"],
          filter: "AttributeType eq Microsoft.Dynamics.CRM.AttributeTypeCode'Picklist'",
        },
      ],
    });
    check(e && e.LogicalName === "account", `LogicalName: ${show(e)}`);
    check(e.EntitySetName === "accounts", `EntitySetName: ${show(e.EntitySetName)}`);
    check(e.PrimaryIdAttribute === "accountid" && e.PrimaryNameAttribute === "name", `primary attributes: ${show(e)}`);
    check(e.OwnershipType === "UserOwned", `OwnershipType: ${show(e.OwnershipType)}`);
    check(typeof e.MetadataId === "string" && GUID_RE.test(e.MetadataId), `MetadataId (always returned): ${show(e.MetadataId)}`);
    check(e.DisplayName === undefined, `$select not honoured, DisplayName came back: ${show(e.DisplayName)}`);
    check(Array.isArray(e.Attributes), `Attributes not expanded: ${show(e)}`);
    const names = e.Attributes.map((a) => a.LogicalName).sort();
    for (const a of e.Attributes) {
      check(a.AttributeType === "Picklist", `expanded $filter not honoured: ${show(a)}`);
      check(a.MaxLength === undefined && a.OptionSet === undefined, `expanded $select not honoured: ${show(a)}`);
    }
    for (const n of ["industrycode", "customertypecode", "accountcategorycode"]) {
      check(names.includes(n), `picklist ${n} missing from ${show(names)}`);
    }
    check(!names.includes("statecode") && !names.includes("name"), `non-picklist attributes in ${show(names)}`);
    accountMetadataId = e.MetadataId;
    return `${names.length} picklists`;
  });

  await step("retrieveEntity by MetadataId (select SchemaName, EntitySetName)", async () => {
    const id = requireValue(accountMetadataId, "account MetadataId");
    const e = await api.retrieveEntity({ key: id, select: ["SchemaName", "EntitySetName"] });
    check(e && e.SchemaName === "Account" && e.EntitySetName === "accounts", `entity: ${show(e)}`);
    check(e.MetadataId === id, `MetadataId ${show(e.MetadataId)} != ${id}`);
    check(e.LogicalName === undefined, `$select not honoured: ${show(e)}`);
  });

  await step("retrieveEntity account expands Keys and ManyToOneRelationships (with their own $select)", async () => {
    const e = await api.retrieveEntity({
      key: ACCOUNT,
      select: ["LogicalName"],
      expand: [
        { property: "Keys", select: ["SchemaName", "KeyAttributes"] },
        { property: "ManyToOneRelationships", select: ["SchemaName", "ReferencingAttribute", "ReferencedEntity"] },
      ],
    });
    check(e && e.LogicalName === "account", `entity: ${show(e)}`);
    check(Array.isArray(e.Keys) && Array.isArray(e.ManyToOneRelationships), `not expanded: ${show(e)}`);
    const keys = e.Keys.map((k) => show(k.KeyAttributes));
    check(keys.includes(show(["accountnumber"])), `alternate key on accountnumber missing: ${show(e.Keys)}`);
    const lookups = Object.fromEntries(e.ManyToOneRelationships.map((r) => [r.ReferencingAttribute, r]));
    check(lookups.parentaccountid && lookups.parentaccountid.SchemaName === "account_parent_account", `parentaccountid: ${show(e.ManyToOneRelationships)}`);
    check(lookups.parentaccountid.ReferencedEntity === "account", `parentaccountid target: ${show(lookups.parentaccountid)}`);
    if (full) {
      check(lookups.primarycontactid && lookups.primarycontactid.SchemaName === "account_primary_contact", `primarycontactid: ${show(e.ManyToOneRelationships)}`);
      check(lookups.primarycontactid.ReferencedEntity === "contact", `primarycontactid target: ${show(lookups.primarycontactid)}`);
    } else {
      check(!lookups.primarycontactid, `relationship to unreadable contacts listed: ${show(lookups.primarycontactid)}`);
    }
    return `${e.Keys.length} keys, ${e.ManyToOneRelationships.length} N:1`;
  });

  await step("retrieveEntities (select, filter on an enum) lists the readable user-owned tables", async () => {
    const res = await api.retrieveEntities({
      select: ["LogicalName", "EntitySetName", "OwnershipType"],
      filter: "OwnershipType eq Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'",
    });
    check(res && Array.isArray(res.value), `expected {value: [...]}, got ${show(res)}`);
    const names = res.value.map((e) => e.LogicalName).sort();
    for (const e of res.value) {
      check(e.OwnershipType === "UserOwned", `$filter not honoured: ${show(e)}`);
      check(plainKeys(e).every((k) => ["LogicalName", "EntitySetName", "OwnershipType", "MetadataId"].includes(k)), `$select not honoured: ${show(e)}`);
    }
    const account = res.value.find((e) => e.LogicalName === "account");
    check(account && account.EntitySetName === "accounts", `account missing: ${show(names)}`);
    if (full) {
      for (const n of ["contact", "lead"]) check(names.includes(n), `${n} missing from ${show(names)}`);
      for (const n of ["transactioncurrency", "businessunit"]) check(!names.includes(n), `${n} is not user-owned: ${show(names)}`);
    } else {
      check(show(names) === show(["account"]), `only account is readable, listed ${show(names)}`);
    }
    return show(names);
  });

  await step("retrieveAttributes cast to PicklistAttributeMetadata with OptionSet expanded", async () => {
    const res = await api.retrieveAttributes({
      entityKey: ACCOUNT,
      castType: "Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
      select: ["LogicalName"],
      expand: [{ property: "OptionSet", select: ["Options"] }],
    });
    check(res && Array.isArray(res.value) && res.value.length >= 3, `expected picklists, got ${show(res)}`);
    for (const a of res.value) {
      // @odata.type may be left out under a cast (the context URL names the type); if present it must be the cast's.
      check([undefined, "#Microsoft.Dynamics.CRM.PicklistAttributeMetadata"].includes(a["@odata.type"]), `cast not honoured: ${show(a)}`);
      check(a.OptionSet && Array.isArray(a.OptionSet.Options), `OptionSet not expanded: ${show(a)}`);
    }
    const byName = Object.fromEntries(res.value.map((a) => [a.LogicalName, a]));
    check(!("statecode" in byName) && !("name" in byName), `non-picklists in ${show(Object.keys(byName))}`);
    const industry = byName.industrycode;
    check(industry, `industrycode missing from ${show(Object.keys(byName))}`);
    const options = industry.OptionSet.Options.map((o) => [o.Value, labelText(o.Label)]);
    check(options.length === 33, `industrycode has ${options.length} options`);
    check(options.every(([v, l]) => Number.isInteger(v) && typeof l === "string" && l.length > 0), `options: ${show(options.slice(0, 3))}`);
    const accounting = options.find(([v]) => v === 1);
    check(accounting && accounting[1] === "Accounting", `option 1: ${show(accounting)}`);
    check(byName.customertypecode && byName.customertypecode.OptionSet.Options.length === 12, `customertypecode: ${show(byName.customertypecode)}`);
    industryOptions = new Map(options);
    return `${res.value.length} picklists, industrycode ${options.length} options`;
  });

  await step("option set labels match the formatted values of the data", async () => {
    const options = requireValue(industryOptions, "industrycode options");
    const res = await api.retrieveMultiple({
      collection: "accounts",
      select: ["industrycode"],
      filter: "industrycode ne null",
      top: 5,
      includeAnnotations: "OData.Community.Display.V1.FormattedValue",
    });
    check(res.value.length >= 1, "no account with an industry");
    for (const row of res.value) {
      const label = row["industrycode@OData.Community.Display.V1.FormattedValue"];
      check(options.get(row.industrycode) === label, `industrycode ${row.industrycode}: formatted ${show(label)}, option set ${show(options.get(row.industrycode))}`);
    }
    return `${res.value.length} rows`;
  });

  await step("retrieveAttribute name cast to StringAttributeMetadata: MaxLength 160, required", async () => {
    const a = await api.retrieveAttribute({
      entityKey: ACCOUNT,
      attributeKey: "LogicalName='name'",
      castType: "Microsoft.Dynamics.CRM.StringAttributeMetadata",
      select: ["LogicalName", "MaxLength", "RequiredLevel"],
    });
    check(a && a.LogicalName === "name", `attribute: ${show(a)}`);
    check([undefined, "#Microsoft.Dynamics.CRM.StringAttributeMetadata"].includes(a["@odata.type"]), `@odata.type: ${show(a["@odata.type"])}`);
    check(a.MaxLength === 160, `MaxLength: ${show(a.MaxLength)}`);
    check(a.RequiredLevel && a.RequiredLevel.Value === "ApplicationRequired", `RequiredLevel: ${show(a.RequiredLevel)}`);
    check(a.AttributeType === undefined, `$select not honoured: ${show(a)}`);
    return `MaxLength ${a.MaxLength}`;
  });

  if (full) {
    await step("retrieveRelationship contact_customer_accounts cast to OneToManyRelationshipMetadata", async () => {
      const r = await api.retrieveRelationship({
        key: "SchemaName='contact_customer_accounts'",
        castType: "Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata",
        select: ["SchemaName", "ReferencedEntity", "ReferencingEntity", "ReferencingAttribute", "ReferencedEntityNavigationPropertyName"],
      });
      check(r && r.SchemaName === "contact_customer_accounts", `relationship: ${show(r)}`);
      check([undefined, "#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata"].includes(r["@odata.type"]), `@odata.type: ${show(r["@odata.type"])}`);
      check(r.ReferencedEntity === "account" && r.ReferencingEntity === "contact", `entities: ${show(r)}`);
      check(r.ReferencingAttribute === "parentcustomerid", `ReferencingAttribute: ${show(r.ReferencingAttribute)}`);
      check(r.ReferencedEntityNavigationPropertyName === "contact_customer_accounts", `navigation: ${show(r)}`);
    });

    await step("retrieveRelationships cast to OneToMany, filtered to those referencing account", async () => {
      const res = await api.retrieveRelationships({
        castType: "Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata",
        select: ["SchemaName", "ReferencedEntity", "ReferencingEntity", "RelationshipType"],
        filter: "ReferencedEntity eq 'account'",
      });
      check(res && Array.isArray(res.value), `expected {value: [...]}, got ${show(res)}`);
      for (const r of res.value) {
        check(r.ReferencedEntity === "account" && r.RelationshipType === "OneToManyRelationship", `not honoured: ${show(r)}`);
      }
      const names = res.value.map((r) => r.SchemaName).sort();
      for (const n of ["contact_customer_accounts", "account_parent_account", "lead_customer_accounts"]) {
        check(names.includes(n), `${n} missing from ${show(names)}`);
      }
      check(!names.includes("account_primary_contact"), `account_primary_contact is referenced by contact: ${show(names)}`);
      return show(names);
    });

    await step("retrieveRelationships cast to ManyToMany: accountleads_association", async () => {
      const res = await api.retrieveRelationships({
        castType: "Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata",
        select: ["SchemaName", "Entity1LogicalName", "Entity2LogicalName", "IntersectEntityName"],
      });
      check(res && Array.isArray(res.value), `expected {value: [...]}, got ${show(res)}`);
      for (const r of res.value) {
        check([undefined, "#Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata"].includes(r["@odata.type"]), `cast not honoured: ${show(r)}`);
        check(typeof r.Entity1LogicalName === "string" && typeof r.Entity2LogicalName === "string", `not a N:N relationship: ${show(r)}`);
      }
      const al = res.value.find((r) => r.SchemaName === "accountleads_association");
      check(al, `accountleads_association missing from ${show(res.value.map((r) => r.SchemaName))}`);
      check(show([al.Entity1LogicalName, al.Entity2LogicalName].sort()) === show(["account", "lead"]), `entities: ${show(al)}`);
      check(typeof al.IntersectEntityName === "string" && al.IntersectEntityName.length > 0, `IntersectEntityName: ${show(al)}`);
      return `${res.value.length} N:N`;
    });
  } else {
    await step("retrieveRelationship to an unreadable table (contact_customer_accounts) refused -> 403", async () => {
      const e = await expectHttpError(
        () => api.retrieveRelationship({ key: "SchemaName='contact_customer_accounts'", select: ["SchemaName", "ReferencedEntity", "ReferencingEntity", "RelationshipType", "ReferencingAttribute"] }),
        403,
      );
      check(e.code === "0x80040220", `error code: ${show(e.code)}`);
      return e.message;
    });

    await step("retrieveRelationships lists only relationships between readable tables", async () => {
      const res = await api.retrieveRelationships({
        select: ["SchemaName", "RelationshipType", "ReferencedEntity", "ReferencingEntity", "ReferencingAttribute", "Entity1LogicalName", "Entity2LogicalName"],
      });
      check(res && Array.isArray(res.value), `expected {value: [...]}, got ${show(res)}`);
      const names = res.value.map((r) => r.SchemaName).sort();
      for (const r of res.value) {
        const ends = r.RelationshipType === "ManyToManyRelationship" ? [r.Entity1LogicalName, r.Entity2LogicalName] : [r.ReferencedEntity, r.ReferencingEntity];
        check(ends.every((t) => t === "account"), `relationship to an unreadable table listed: ${show(r)}`);
      }
      check(names.includes("account_parent_account"), `account_parent_account missing from ${show(names)}`);
      return show(names);
    });

    await step("retrieveEntity of an unreadable table (contact) refused -> 403", async () => {
      const e = await expectHttpError(() => api.retrieveEntity({ key: "LogicalName='contact'", select: ["LogicalName"] }), 403);
      check(e.code === "0x80040220", `error code: ${show(e.code)}`);
      return e.message;
    });
  }

  await step("retrieveCsdlMetadata: the $metadata XML describes the readable tables", async () => {
    const xml = await api.retrieveCsdlMetadata();
    check(typeof xml === "string" && xml.includes("<edmx:Edmx"), `not a CSDL document: ${show(String(xml).slice(0, 200))}`);
    check(/<EntityType Name="account"/.test(xml), "no account EntityType");
    check(/<EntitySet Name="accounts" EntityType="Microsoft\.Dynamics\.CRM\.account"/.test(xml), "no accounts EntitySet");
    check(/<Property Name="name" Type="Edm\.String"/.test(xml), "no account name property");
    if (full) {
      check(/<EntityType Name="contact"/.test(xml), "no contact EntityType");
      check(/<NavigationProperty Name="contact_customer_accounts"/.test(xml), "no contact_customer_accounts navigation property");
    } else {
      check(!/<EntityType Name="contact"/.test(xml), "contact EntityType shown to an agent that cannot read contacts");
      check(!/contact_customer_accounts/.test(xml), "contact_customer_accounts shown to an agent that cannot read contacts");
    }
    return `${xml.length} chars`;
  });

  await step("fetch: aggregate count of accounts grouped by statecode adds up to the account count", async () => {
    const fetchXml =
      "<fetch aggregate='true'><entity name='account'>" +
      "<attribute name='statecode' groupby='true' alias='state'/>" +
      "<attribute name='accountid' aggregate='count' alias='n'/>" +
      "<order alias='state'/></entity></fetch>";
    const res = await api.fetch({ collection: "accounts", fetchXml });
    check(res && Array.isArray(res.value) && res.value.length >= 1, `expected group rows, got ${show(res)}`);
    for (const row of res.value) {
      check(show(plainKeys(row)) === show(["n", "state"]), `group row shape: ${show(row)}`);
      check(Number.isInteger(row.n) && row.n > 0, `count: ${show(row)}`);
    }
    const states = res.value.map((r) => r.state);
    check(show(states) === show([...new Set(states)].sort((a, b) => a - b)), `groups not distinct and ordered: ${show(states)}`);
    const total = res.value.reduce((sum, r) => sum + r.n, 0);
    const n = await api.count({ collection: "accounts" });
    check(Number(n) === total, `groups add up to ${total}, /$count says ${show(n)}`);
    for (const row of res.value) {
      const m = await api.count({ collection: "accounts", filter: `statecode eq ${row.state}` });
      check(m === row.n, `statecode ${row.state}: aggregate ${row.n}, $count ${m}`);
    }
    return show(res.value);
  });

  await step("fetchAll: count, countcolumn, sum, min, max grouped by industrycode match the rows", async () => {
    const fetchXml =
      "<fetch aggregate='true'><entity name='account'>" +
      "<attribute name='industrycode' groupby='true' alias='industry'/>" +
      "<attribute name='accountid' aggregate='count' alias='n'/>" +
      "<attribute name='numberofemployees' aggregate='countcolumn' alias='staffed'/>" +
      "<attribute name='numberofemployees' aggregate='sum' alias='employees'/>" +
      "<attribute name='numberofemployees' aggregate='min' alias='fewest'/>" +
      "<attribute name='numberofemployees' aggregate='max' alias='most'/>" +
      "</entity></fetch>";
    const agg = await api.fetchAll({ collection: "accounts", fetchXml });
    check(agg && Array.isArray(agg.value) && agg.value.length >= 2, `expected several groups, got ${show(agg)}`);
    const rows = await api.retrieveAll({ collection: "accounts", select: ["industrycode", "numberofemployees"] });
    const expected = new Map();
    for (const r of rows.value) {
      const key = r.industrycode ?? null;
      const g = expected.get(key) ?? { n: 0, staffed: 0, employees: null, fewest: null, most: null };
      g.n++;
      const v = r.numberofemployees;
      if (v !== null && v !== undefined) {
        g.staffed++;
        g.employees = (g.employees ?? 0) + v;
        g.fewest = g.fewest === null ? v : Math.min(g.fewest, v);
        g.most = g.most === null ? v : Math.max(g.most, v);
      }
      expected.set(key, g);
    }
    const got = new Map();
    for (const row of agg.value) {
      const key = row.industry ?? null;
      check(!got.has(key), `industrycode ${key} grouped twice: ${show(agg.value)}`);
      got.set(key, {
        n: row.n,
        staffed: row.staffed,
        employees: row.employees ?? null,
        fewest: row.fewest ?? null,
        most: row.most ?? null,
      });
    }
    check(got.size === expected.size, `${got.size} groups, rows have ${expected.size} industries`);
    for (const [key, g] of expected) {
      check(show(got.get(key)) === show(g), `industrycode ${key}: aggregate ${show(got.get(key))}, rows ${show(g)}`);
    }
    return `${got.size} groups over ${rows.value.length} rows`;
  });

  if (!full) {
    await step("fetch aggregate over an unreadable table (contact) refused -> 403", async () => {
      const fetchXml = "<fetch aggregate='true'><entity name='contact'><attribute name='contactid' aggregate='count' alias='n'/></entity></fetch>";
      const e = await expectHttpError(() => api.fetch({ collection: "contacts", fetchXml }), 403);
      check(e.code === "0x80040220", `error code: ${show(e.code)}`);
      return e.message;
    });
  }
}

async function runRead() {
  let firstId = null;

  await step("query accounts (select, filter, orderBy, top)", async () => {
    const res = await api.retrieveMultiple({ ...QUERY });
    check(res && Array.isArray(res.value), `expected {value: [...]}, got ${show(res)}`);
    check(res.value.length >= 1, `expected at least 1 seeded account, got ${res.value.length}`);
    for (const row of res.value) {
      check(typeof row.accountid === "string" && GUID_RE.test(row.accountid), `row without accountid GUID: ${show(row)}`);
      check(typeof row.name === "string", `row without name: ${show(row)}`);
    }
    firstId = res.value[0].accountid;
    return `${res.value.length} rows`;
  });

  const expect403 = (e) => {
    check(e.code === "0x80040220", `error code: ${show(e.code)}`);
    check(typeof e.message === "string" && e.message.length > 0, `error message: ${show(e.message)}`);
    return e.message;
  };

  await step("create refused -> 403 0x80040220", async () => {
    const e = await expectHttpError(async () => {
      const id = await api.create({ collection: "accounts", data: { name: "DWA Scenario Co", revenue: 12345.5, numberofemployees: 42, creditonhold: false } });
      // The server wrongly accepted the write: remove the row (best effort) before failing the step.
      if (typeof id === "string") await api.deleteRecord({ collection: "accounts", key: id }).catch(() => {});
      return id;
    }, 403);
    return expect403(e);
  });

  await step("update existing refused -> 403 0x80040220", async () => {
    const id = requireValue(firstId, "account id");
    const e = await expectHttpError(() => api.update({ collection: "accounts", key: id, data: { name: "DWA read-only write" } }), 403);
    return expect403(e);
  });

  await step("delete existing refused -> 403 0x80040220", async () => {
    const id = requireValue(firstId, "account id");
    const e = await expectHttpError(() => api.deleteRecord({ collection: "accounts", key: id }), 403);
    return expect403(e);
  });

  await step("batch holding a write refused as a whole -> 403", async () => {
    api.startBatch();
    api.retrieveMultiple({ collection: "accounts", select: ["name"], top: 1 });
    api.create({ collection: "accounts", data: { name: "DWA batch write" } });
    const e = await expectHttpError(() => api.executeBatch(), 403);
    check(/part 2/.test(e.message), `message should name part 2: ${show(e.message)}`);
    return expect403(e);
  });

  await step("callAction WinOpportunity without the grant -> 403", async () => {
    const e = await expectHttpError(
      () => api.callAction({ actionName: "WinOpportunity", action: { Status: 3, OpportunityClose: { "opportunityid@odata.bind": `/opportunities(${NIL})` } } }),
      403,
    );
    return expect403(e);
  });

  await metadataAndAggregates(false);
}

console.log(`# dynamics-web-api scenario: DV_EXPECT=${expect} DV_BASE=${base}`);
try {
  if (expect === "full") await runFull();
  else await runRead();
} catch (e) {
  failed++;
  console.log(`not ok - scenario aborted: ${describeError(e)}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
