#!/usr/bin/env python3
"""Records the stub upstream's answer from the emulator (called by vs-nginx.sh --record).

    record.py EMULATOR_URL TOKEN OUT_FILE

Makes sure the emulator holds at least 50 accounts (the demo seeds 25: the rest are created
through the emulator's Web API, like the seeded ones, half of them with a primary contact so
the page carries lookup annotations), then GETs `accounts?$top=50` with
`Prefer: odata.include-annotations="*"` and writes the body to OUT_FILE with the emulator's
origin replaced by the placeholder `__STUB_ORIGIN__` (vs-nginx.sh puts the stub's origin there).
"""
import json
import sys
import urllib.request

emu, token, out = sys.argv[1], sys.argv[2], sys.argv[3]
api = f"{emu}/api/data/v9.2"
HEADERS = {"Authorization": f"Bearer {token}", "Accept": "application/json",
           "OData-Version": "4.0", "OData-MaxVersion": "4.0"}


def call(method, path, body=None, extra=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = dict(HEADERS, **(extra or {}))
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(f"{api}/{path}", data=data, method=method, headers=headers)
    with urllib.request.urlopen(req) as r:
        return r.status, r.read()


_, body = call("GET", "accounts?$select=accountid&$count=true")
have = json.loads(body)["@odata.count"]
_, body = call("GET", "contacts?$select=contactid&$top=25")
contacts = [c["contactid"] for c in json.loads(body)["value"]]
cities = [("Redmond", "WA", "425"), ("Seattle", "WA", "206"), ("Portland", "OR", "503"),
          ("Boise", "ID", "208"), ("Spokane", "WA", "509")]
for i in range(have, 50):
    city, state, area = cities[i % len(cities)]
    account = {
        "name": f"Perf Account {i + 1:02d}",
        "accountnumber": f"PRF-{i + 1:05d}",
        "telephone1": f"{area}-555-{1000 + i:04d}",
        "emailaddress1": f"info@perf-account-{i + 1:02d}.example.com",
        "websiteurl": f"https://www.perf-account-{i + 1:02d}.example.com",
        "address1_city": city,
        "address1_stateorprovince": state,
        "address1_country": "United States",
        "revenue": 125000.0 + 1000 * i,
        "numberofemployees": 40 + 7 * i,
        "industrycode": 1 + i % 33,
        "accountcategorycode": 1 + i % 2,
        "customertypecode": 3,
        "creditonhold": False,
    }
    if contacts and i % 2 == 0:
        account["primarycontactid@odata.bind"] = f"/contacts({contacts[i % len(contacts)]})"
    status, _ = call("POST", "accounts", account)
    assert status == 204, status
print(f"record: the emulator had {have} accounts; created {max(0, 50 - have)}", file=sys.stderr)

status, body = call("GET", "accounts?$top=50", extra={"Prefer": 'odata.include-annotations="*"'})
page = json.loads(body)
assert status == 200 and len(page["value"]) == 50, (status, len(page.get("value", [])))
text = body.decode("utf-8").replace(emu, "__STUB_ORIGIN__")
assert emu not in text
with open(out, "w", encoding="utf-8") as f:
    f.write(text)
print(f"record: wrote {out}: 50 rows, {len(text.encode())} bytes", file=sys.stderr)
