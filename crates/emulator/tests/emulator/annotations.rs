//! Instance annotations (spec §1.4, §3.7, §3.9, §3.10): formatted values, lookup annotations,
//! `Preference-Applied`.

use crate::common::{Emu, config, header, json, spawn, spawn_with};
use serde_json::{Value, json};

const FORMATTED: &str = "@OData.Community.Display.V1.FormattedValue";
const NAV: &str = "@Microsoft.Dynamics.CRM.associatednavigationproperty";
const LOGICAL: &str = "@Microsoft.Dynamics.CRM.lookuplogicalname";

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// Every annotation `p@a` sits right before `p`, and annotations of one property are adjacent.
fn assert_annotations_precede(row: &Value) {
    let keys = keys(row);
    for (i, k) in keys.iter().enumerate() {
        if let Some((prop, _)) = k.split_once('@').filter(|(p, _)| !p.is_empty()) {
            let next = keys[i + 1..].iter().find(|n| !n.starts_with(&format!("{prop}@"))).copied();
            assert_eq!(next, Some(prop), "{k} must precede {prop}: {keys:?}");
        }
    }
}

async fn get_with(e: &Emu, rel: &str, prefer: &str) -> reqwest::Response {
    e.send("GET", rel, None, &[("prefer", prefer)]).await
}

#[tokio::test]
async fn formatted_values_for_each_column_type() {
    let e = spawn().await;
    let id = e
        .create(
            "accounts",
            json!({"name": "Formatted", "revenue": 1234.5, "numberofemployees": 9500, "creditonhold": true,
                   "donotpostalmail": false, "industrycode": 7, "address1_latitude": 47.63958}),
        )
        .await;
    let prefer = "odata.include-annotations=\"OData.Community.Display.V1.FormattedValue\"";
    let rel = format!(
        "accounts({id})?$select=name,revenue,numberofemployees,creditonhold,donotpostalmail,industrycode,statecode,statuscode,createdon,address1_latitude,_ownerid_value,description"
    );
    let resp = get_with(&e, &rel, prefer).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "preference-applied").as_deref(), Some(prefer));
    let etag = header(&resp, "etag").unwrap();
    let row = json(resp).await;
    assert_annotations_precede(&row);
    let f = |p: &str| row[format!("{p}{FORMATTED}")].clone();
    assert_eq!(f("revenue"), "$1,234.50");
    assert_eq!(f("numberofemployees"), "9,500");
    assert_eq!(f("creditonhold"), "Yes");
    assert_eq!(f("donotpostalmail"), "Allow");
    assert_eq!(f("industrycode"), "Consulting");
    assert_eq!(f("statecode"), "Active");
    assert_eq!(f("statuscode"), "Active");
    assert_eq!(f("address1_latitude"), "47.63958");
    assert_eq!(f("_ownerid_value"), "# stanchion-local");
    assert_eq!(f("_transactioncurrencyid_value"), "US Dollar");
    let created = chrono::DateTime::parse_from_rfc3339(row["createdon"].as_str().unwrap()).unwrap();
    assert_eq!(f("createdon"), created.format("%-m/%-d/%Y %-I:%M %p").to_string());
    for plain in ["name", "accountid", "description"] {
        assert!(row.get(format!("{plain}{FORMATTED}")).is_none(), "{plain}: {row}");
    }
    assert!(row.get(format!("_ownerid_value{LOGICAL}")).is_none(), "only what was asked for");
    // Spec §2.5: never 304 when annotations are asked for.
    let resp = e.send("GET", &rel, None, &[("prefer", prefer), ("if-none-match", &etag)]).await;
    assert_eq!(resp.status(), 200);

    let contact = e.create("contacts", json!({"lastname": "Dated", "birthdate": "1990-07-04"})).await;
    let row =
        json(get_with(&e, &format!("contacts({contact})?$select=birthdate"), "odata.include-annotations=\"*\"").await)
            .await;
    assert_eq!(row[format!("birthdate{FORMATTED}")], "7/4/1990");
    let currencies = json(
        get_with(&e, "transactioncurrencies?$select=exchangerate,currencyprecision", "odata.include-annotations=\"*\"")
            .await,
    )
    .await;
    assert_eq!(currencies["value"][0][format!("exchangerate{FORMATTED}")], "1.0000000000");
    assert_eq!(currencies["value"][0][format!("currencyprecision{FORMATTED}")], "2");
}

#[tokio::test]
async fn lookups_get_navigation_logical_name_and_primary_name() {
    let mut c = config(emulator::Storage::InMemory);
    c.seed = Some(11);
    let e = spawn_with(c).await;
    let rel =
        "contacts?$select=fullname,_parentcustomerid_value&$filter=_parentcustomerid_value%20ne%20null&$count=true";
    let resp = get_with(&e, rel, "odata.include-annotations=\"*\",odata.maxpagesize=4").await;
    assert_eq!(
        header(&resp, "preference-applied").as_deref(),
        Some("odata.include-annotations=\"*\",odata.maxpagesize=4")
    );
    let page = json(resp).await;
    assert_eq!(page["@Microsoft.Dynamics.CRM.totalrecordcount"], page["@odata.count"]);
    assert_eq!(page["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"], false);
    let rows = page["value"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for row in rows {
        assert_annotations_precede(row);
        let p = "_parentcustomerid_value";
        let ks = keys(row);
        let at = ks.iter().position(|k| *k == p).unwrap();
        assert_eq!(ks[at - 3..at], [format!("{p}{NAV}"), format!("{p}{LOGICAL}"), format!("{p}{FORMATTED}")]);
        assert_eq!(row[format!("{p}{NAV}")], "parentcustomerid_account");
        assert_eq!(row[format!("{p}{LOGICAL}")], "account");
        let account = e.get_json(&format!("accounts({})?$select=name", row[p].as_str().unwrap())).await;
        assert_eq!(row[format!("{p}{FORMATTED}")], account["name"]);
        assert!(row.get(format!("fullname{FORMATTED}")).is_none());
    }

    // Only the lookup annotations with the CRM prefix; only logical names when named.
    let page = json(get_with(&e, rel, "odata.include-annotations=\"Microsoft.Dynamics.CRM.*\"").await).await;
    let row = &page["value"][0];
    assert!(row.get(format!("_parentcustomerid_value{NAV}")).is_some());
    assert!(row.get(format!("_parentcustomerid_value{LOGICAL}")).is_some());
    assert!(row.get(format!("_parentcustomerid_value{FORMATTED}")).is_none());
    let page =
        json(get_with(&e, rel, "odata.include-annotations=\"Microsoft.Dynamics.CRM.lookuplogicalname\"").await).await;
    let row = &page["value"][0];
    assert_eq!(keys(row).iter().filter(|k| k.contains('@') && !k.starts_with('@')).count(), 1, "{row}");
    assert!(page.get("@Microsoft.Dynamics.CRM.totalrecordcount").is_none());
}

#[tokio::test]
async fn no_annotations_unless_asked() {
    let e = spawn().await;
    let id = e.create("accounts", json!({"name": "Plain", "revenue": 10, "creditonhold": true})).await;
    let resp = e.get(&format!("accounts({id})")).await;
    assert!(header(&resp, "preference-applied").is_none());
    let row = json(resp).await;
    assert_eq!(
        keys(&row).iter().filter(|k| k.contains('@')).copied().collect::<Vec<_>>(),
        ["@odata.context", "@odata.etag"]
    );
    let resp = e.get("accounts?$select=name,revenue").await;
    assert!(header(&resp, "preference-applied").is_none());
    let page = json(resp).await;
    assert_eq!(keys(&page["value"][0]).iter().filter(|k| k.contains('@')).count(), 1);
}

#[tokio::test]
async fn written_rows_are_annotated_and_preferences_combine() {
    let e = spawn().await;
    let prefer = "return=representation,odata.include-annotations=\"*\"";
    let resp = e
        .send(
            "POST",
            "accounts?$select=name,revenue",
            Some(&json!({"name": "Rep", "revenue": 100000})),
            &[("prefer", prefer)],
        )
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(header(&resp, "preference-applied").as_deref(), Some(prefer));
    let row = json(resp).await;
    assert_eq!(row[format!("revenue{FORMATTED}")], "$100,000.00");
    assert_eq!(row[format!("_transactioncurrencyid_value{LOGICAL}")], "transactioncurrency");
    assert_eq!(row[format!("_transactioncurrencyid_value{NAV}")], "transactioncurrencyid");
    let id = row["accountid"].as_str().unwrap().to_owned();

    let resp = e
        .send(
            "PATCH",
            &format!("accounts({id})?$select=revenue"),
            Some(&json!({"revenue": -2.345})),
            &[("prefer", prefer), ("if-match", "*")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "preference-applied").as_deref(), Some(prefer));
    let row = json(resp).await;
    assert_eq!(row[format!("revenue{FORMATTED}")], "-$2.35");
    assert_annotations_precede(&row);

    // Without return=representation nothing is returned, so nothing is applied.
    let resp = e
        .send(
            "PATCH",
            &format!("accounts({id})"),
            Some(&json!({"name": "x"})),
            &[("prefer", "odata.include-annotations=\"*\"")],
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert!(header(&resp, "preference-applied").is_none());
}
