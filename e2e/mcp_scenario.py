#!/usr/bin/env python3
# End-to-end scenario: the official MCP Python SDK (PyPI `mcp` 2.3.0, pinned with every
# dependency in requirements.txt) against Stanchion's MCP server, over Streamable HTTP
# (`/mcp` with the agent key as bearer token) or over stdio (`stanchion mcp` launched as a
# subprocess, as desktop MCP clients do).
#
# Usage:
#   MCP_URL=http://127.0.0.1:8080/mcp MCP_KEY=stn_… MCP_EXPECT=sales e2e/.venv/bin/python e2e/mcp_scenario.py
#   MCP_STDIO=/path/to/stanchion MCP_GATEWAY=http://127.0.0.1:8080 MCP_KEY=… MCP_EXPECT=sales …
#
#   MCP_EXPECT  "sales"    Full use on accounts, contacts, leads, opportunities; delete off;
#                          accounts' telephone1 hidden
#               "support"  Read on accounts and contacts, Full use on incidents; delete off
#               "support_delete" as "support", after Delete records was turned on
#               "pipeline" Read on opportunities only (their lookups point at unreadable tables)
#   MCP_MODE    optional: "legacy" (initialize handshake) or "auto" (the SDK's default: probes
#               server/discover, the 2026-07-28 protocol)
#
# Output: one line per step, "ok - <step>" or "not ok - <step>: <detail>", then exactly
# "N passed, M failed". Exit 1 iff M > 0.

import asyncio
import json
import os
import sys
import traceback
import uuid

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

EXPECT = os.environ.get("MCP_EXPECT", "sales")
MODE = os.environ.get("MCP_MODE", "auto")
KEY = os.environ["MCP_KEY"]
# A name no other run used, so that search finds exactly the row this run created.
NAME = f"MCP Python {uuid.uuid4().hex[:8]}"
passed = 0
failed = 0


def check(step, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok - {step}")
    else:
        failed += 1
        print(f"not ok - {step}: {detail}")


def text_of(result):
    return "".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def call(client, name, args):
    """(is_error, parsed JSON or error text)."""
    r = await client.call_tool(name, args)
    text = text_of(r)
    if r.is_error:
        return True, text
    return False, json.loads(text)


def server():
    if os.environ.get("MCP_STDIO"):
        env = dict(os.environ)
        env["STANCHION_AGENT_KEY"] = KEY
        return StdioServerParameters(
            command=os.environ["MCP_STDIO"],
            args=["mcp", "--gateway", os.environ["MCP_GATEWAY"]],
            env=env,
        )
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {KEY}"})
    return streamable_http_client(os.environ["MCP_URL"], http_client=http)


async def sales(client):
    names = [t.name for t in (await client.list_tools(cache_mode="bypass")).tools]
    for t in ["whoami", "list_tables", "describe_table", "read_query", "query_records", "fetch_records",
              "get_record", "count_records", "search", "create_record", "update_record",
              "associate_records", "disassociate_records"]:
        check(f"tools/list offers {t}", t in names, names)
    check("tools/list has no delete_record (delete is off)", "delete_record" not in names, names)
    tools = {t.name: t for t in (await client.list_tools(cache_mode="bypass")).tools}
    q = tools["query_records"]
    check("query_records names the tables it may read",
          q.input_schema["properties"]["table"]["enum"] == ["account", "contact", "lead", "opportunity"],
          q.input_schema)
    check("read tools are marked read-only", q.annotations.read_only_hint is True, q.annotations)
    check("update_record is marked destructive", tools["update_record"].annotations.destructive_hint is True)

    err, me = await call(client, "whoami", {})
    check("whoami names the agent", not err and me["agent"] == "Sales Ops Agent", me)
    err, tables = await call(client, "list_tables", {})
    levels = {t["table"]: t["access"] for t in tables["tables"]} if not err else {}
    check("list_tables shows levels", levels.get("account") == "Full use", tables)

    err, described = await call(client, "describe_table", {"table": "account"})
    cols = [c["name"] for c in described.get("columns", [])] if not err else []
    check("describe_table lists columns", "name" in cols and "revenue" in cols, described)
    check("describe_table leaves the hidden column out", "telephone1" not in cols, cols)

    err, created = await call(client, "create_record",
                              {"table": "account", "record": {"name": NAME, "revenue": 1200}})
    check("create_record returns the id", not err and created["created"]["id"], created)
    account_id = created["created"]["id"] if not err else str(uuid.uuid4())
    err, got = await call(client, "get_record", {"table": "account", "id": account_id})
    check("get_record reads it back", not err and got["record"]["name"] == NAME, got)
    check("get_record never returns the hidden column", not err and "telephone1" not in got["record"], got)
    err, upd = await call(client, "update_record", {"table": "account", "id": account_id, "record": {"revenue": 2400}})
    check("update_record", not err, upd)
    err, rows = await call(client, "query_records",
                           {"table": "account", "select": "name,revenue", "filter": f"name eq '{NAME}'"})
    check("query_records sees the update", not err and rows["rows"][0]["revenue"] == 2400, rows)
    check("formatted values are kept", not err and "revenue@display" in rows["rows"][0], rows)
    err, sql = await call(client, "read_query", {"sql": "SELECT TOP 3 name, revenue FROM account ORDER BY revenue DESC"})
    check("read_query runs SQL", not err and sql["count"] == 3, sql)
    err, hidden_sql = await call(client, "read_query", {"sql": "SELECT TOP 3 name, telephone1 FROM account"})
    check("read_query naming a hidden column is refused", err and "telephone1" in hidden_sql, hidden_sql)
    err, fx = await call(client, "fetch_records", {"fetchxml":
        '<fetch top="5"><entity name="contact"><attribute name="fullname"/>'
        '<link-entity name="account" from="accountid" to="parentcustomerid" alias="a">'
        '<attribute name="name"/></link-entity></entity></fetch>'})
    check("fetch_records with a link-entity", not err and fx["count"] >= 1, fx)
    err, n = await call(client, "count_records", {"table": "contact"})
    check("count_records", not err and n["count"] > 0, n)
    err, found = await call(client, "search", {"text": NAME, "tables": ["account"]})
    check("search finds the new account", not err and found["count"] == 1, found)
    err, contacts = await call(client, "query_records", {"table": "contact", "select": "fullname", "top": 1})
    contact_id = contacts["rows"][0]["contactid"]
    rel = {"table": "account", "id": account_id, "relationship": "contact_customer_accounts", "related_id": contact_id}
    err, a = await call(client, "associate_records", rel)
    check("associate_records", not err, a)
    err, d = await call(client, "disassociate_records", rel)
    check("disassociate_records", not err, d)

    err, denied = await call(client, "delete_record", {"table": "account", "id": account_id})
    check("delete_record is refused in plain English", err and "deleting records is off" in denied, denied)
    err, off = await call(client, "query_records", {"table": "incident"})
    check("a table it cannot see is refused", err and "no access to incidents" in off, off)


async def support(client):
    names = [t.name for t in (await client.list_tools(cache_mode="bypass")).tools]
    check("support may create (incidents)", "create_record" in names, names)
    tools = {t.name: t for t in (await client.list_tools(cache_mode="bypass")).tools}
    check("create_record names only incidents",
          tools["create_record"].input_schema["properties"]["table"]["enum"] == ["incident"],
          tools["create_record"].input_schema)
    err, denied = await call(client, "create_record", {"table": "account", "record": {"name": "Nope"}})
    check("creating an account is refused", err and denied.endswith("it can only read accounts."), denied)
    err, rows = await call(client, "query_records", {"table": "account", "select": "name", "top": 2})
    check("reading accounts works", not err and rows["count"] == 2, rows)
    err, unknown = await call(client, "drop_table", {})
    check("an unknown tool is refused", err and "no MCP tool named drop_table" in unknown, unknown)


async def support_delete(client):
    # Run after an admin turned Delete records on: the very next tools/list shows delete_record.
    tools = {t.name: t for t in (await client.list_tools(cache_mode="bypass")).tools}
    check("delete_record is listed once delete is on", "delete_record" in tools, list(tools))
    if "delete_record" in tools:
        d = tools["delete_record"]
        check("delete_record names only incidents", d.input_schema["properties"]["table"]["enum"] == ["incident"],
              d.input_schema)
        check("delete_record is marked destructive", d.annotations.destructive_hint is True, d.annotations)
    err, gone = await call(client, "delete_record", {"table": "account", "id": str(uuid.uuid4())})
    check("deleting an account it can only read is still refused", err and "it can only read accounts" in gone, gone)


async def pipeline(client):
    err, rows = await call(client, "query_records", {"table": "opportunity", "top": 5})
    check("pipeline reads opportunities", not err and rows["count"] > 0, rows)
    keys = set()
    for r in rows.get("rows", []) if not err else []:
        keys.update(r.keys())
    leaked = [k for k in keys if k.startswith(("_parentaccountid_value@", "_customerid_value@", "_parentcontactid_value@"))]
    check("no name of an unreadable account or contact", not leaked, leaked)
    names = [t.name for t in (await client.list_tools(cache_mode="bypass")).tools]
    check("no write tools for a read-only agent", not any(n in names for n in ["create_record", "update_record", "delete_record"]), names)


async def main():
    async with Client(server(), mode=MODE) as client:
        scenarios = {"sales": sales, "support": support, "support_delete": support_delete, "pipeline": pipeline}
        await scenarios[EXPECT](client)


try:
    asyncio.run(asyncio.wait_for(main(), timeout=float(os.environ.get("MCP_TIMEOUT", "120"))))
except Exception as e:  # noqa: BLE001 - a scenario reports every failure as a step
    failed += 1
    print(f"not ok - scenario ran to the end: {e!r}")
    traceback.print_exc(file=sys.stdout)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
