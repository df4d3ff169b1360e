//! FetchXML (spec §4): conditions, links of every supported kind, paging and its annotations.

use crate::common::{Emu, assert_error, header, spawn};
use serde_json::{Value, json};

/// Jim Glynn is the primary contact of three accounts (two in WA); Blue Yonder has none and no
/// revenue.
async fn fixture() -> Emu {
    let e = spawn().await;
    let jim = e.create("contacts", json!({"firstname": "Jim", "lastname": "Glynn"})).await;
    for (name, revenue, state, contact) in [
        ("Fourth Coffee", json!(100000), "WA", true),
        ("Litware", json!(300000.5), "WA", true),
        ("Adventure Works", json!(40000), "OR", true),
        ("Blue Yonder", Value::Null, "WA", false),
    ] {
        let mut body = json!({"name": name, "revenue": revenue, "address1_stateorprovince": state});
        if contact {
            body["primarycontactid@odata.bind"] = json!(format!("/contacts({jim})"));
        }
        e.create("accounts", body).await;
    }
    e
}

fn url(set: &str, xml: &str) -> String {
    let encoded: String = xml
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    format!("{set}?fetchXml={encoded}")
}

async fn fetch(e: &Emu, set: &str, xml: &str) -> Value {
    e.get_json(&url(set, xml)).await
}

fn column(v: &Value, name: &str) -> Vec<Value> {
    v["value"].as_array().unwrap().iter().map(|r| r.get(name).cloned().unwrap_or(Value::Null)).collect()
}

#[tokio::test]
async fn conditions_orders_and_links() {
    let e = fixture().await;
    let v = fetch(&e, "accounts", "<fetch><entity name='account'><attribute name='name'/><attribute name='revenue'/><order attribute='name'/><filter><condition attribute='address1_stateorprovince' operator='eq' value='WA'/></filter></entity></fetch>").await;
    assert_eq!(column(&v, "name"), [json!("Blue Yonder"), json!("Fourth Coffee"), json!("Litware")]);
    assert!(v["value"][0].get("revenue").is_none(), "nulls are left out: {v}");
    assert!(v["value"][0]["@odata.etag"].is_string() && v["value"][0]["accountid"].is_string());

    // N:1 inner with an alias, outer without a match, 1:N from the other side.
    let v = fetch(&e, "accounts", "<fetch><entity name='account'><attribute name='name'/><order attribute='name'/><link-entity name='contact' from='contactid' to='primarycontactid' alias='pc'><attribute name='fullname'/></link-entity></entity></fetch>").await;
    assert_eq!(column(&v, "pc.fullname"), [json!("Jim Glynn"), json!("Jim Glynn"), json!("Jim Glynn")]);
    let v = fetch(&e, "accounts", "<fetch><entity name='account'><attribute name='name'/><order attribute='name'/><link-entity name='contact' from='contactid' to='primarycontactid' link-type='outer'><attribute name='fullname'/></link-entity></entity></fetch>").await;
    assert_eq!(v["value"].as_array().unwrap().len(), 4);
    assert_eq!(v["value"][1]["name"], "Blue Yonder");
    assert!(
        v["value"][1].get("contact1.fullname").is_none() && v["value"][0]["contact1.fullname"] == "Jim Glynn",
        "{v}"
    );
    let v = fetch(&e, "contacts", "<fetch><entity name='contact'><attribute name='fullname'/><link-entity name='account' from='primarycontactid' to='contactid'><attribute name='name'/><order attribute='name' descending='true'/><filter><condition attribute='revenue' operator='gt' value='50000'/></filter></link-entity></entity></fetch>").await;
    assert_eq!(column(&v, "account1.name"), [json!("Litware"), json!("Fourth Coffee")]);

    // exists and not any.
    let exists = "<fetch><entity name='account'><attribute name='name'/><order attribute='name'/><link-entity name='contact' from='contactid' to='primarycontactid' link-type='KIND'><filter><condition attribute='firstname' operator='eq' value='Jim'/></filter></link-entity></entity></fetch>";
    let v = fetch(&e, "accounts", &exists.replace("KIND", "exists")).await;
    assert_eq!(v["value"].as_array().unwrap().len(), 3);
    let v = fetch(&e, "accounts", &exists.replace("KIND", "not any")).await;
    assert_eq!(column(&v, "name"), [json!("Blue Yonder")]);

    // Operators lowered to their OData twins.
    for (condition, want) in [
        ("<condition attribute='name' operator='in'><value>Litware</value><value>Blue Yonder</value></condition>", 2),
        ("<condition attribute='revenue' operator='between'><value>50000</value><value>200000</value></condition>", 1),
        ("<condition attribute='name' operator='like' value='%ware%'/>", 1),
        ("<condition attribute='name' operator='not-begin-with' value='L'/>", 3),
        ("<condition attribute='revenue' operator='null'/>", 1),
        ("<condition attribute='createdon' operator='last-x-days' value='7'/>", 4),
        ("<condition attribute='createdon' operator='olderthan-x-days' value='7'/>", 0),
        ("<condition attribute='revenue' operator='gt' valueof='revenue'/>", 0),
        ("<condition attribute='revenue' operator='ge' valueof='revenue'/>", 3),
    ] {
        let xml = format!(
            "<fetch><entity name='account'><attribute name='name'/><filter type='and'>{condition}</filter></entity></fetch>"
        );
        let v = fetch(&e, "accounts", &xml).await;
        assert_eq!(v["value"].as_array().unwrap().len(), want, "{condition}: {v}");
    }
}

#[tokio::test]
async fn pages_with_cookies_and_counts() {
    let e = fixture().await;
    let prefer = "odata.include-annotations=\"Microsoft.Dynamics.CRM.fetchxmlpagingcookie,Microsoft.Dynamics.CRM.morerecords,Microsoft.Dynamics.CRM.totalrecordcount\"";
    let page = |n: u32| {
        format!(
            "<fetch count='3' page='{n}' returntotalrecordcount='true'><entity name='account'><attribute name='name'/><order attribute='name'/></entity></fetch>"
        )
    };
    let resp = e.send("GET", &url("accounts", &page(1)), None, &[("prefer", prefer)]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "preference-applied").as_deref(), Some(prefer));
    let v = crate::common::json(resp).await;
    assert_eq!(v["value"].as_array().unwrap().len(), 3);
    assert_eq!(v["@Microsoft.Dynamics.CRM.morerecords"], true);
    assert_eq!(v["@Microsoft.Dynamics.CRM.totalrecordcount"], 4);
    let cookie = v["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"].as_str().unwrap();
    assert!(
        cookie.starts_with("<cookie pagenumber=\"2\" pagingcookie=\"%253ccookie%2520page%253d%25221%2522%253e"),
        "{cookie}"
    );
    assert!(v.get("@odata.nextLink").is_none());
    let resp = e.send("GET", &url("accounts", &page(2)), None, &[("prefer", prefer)]).await;
    let v = crate::common::json(resp).await;
    assert_eq!(column(&v, "name"), [json!("Litware")]);
    assert_eq!(v["@Microsoft.Dynamics.CRM.morerecords"], false);
    assert!(v.get("@Microsoft.Dynamics.CRM.fetchxmlpagingcookie").is_none());
    let v =
        fetch(&e, "accounts", "<fetch top='2'><entity name='account'><attribute name='name'/></entity></fetch>").await;
    assert_eq!(v["value"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn refusals() {
    let e = fixture().await;
    for (xml, status, want) in [
        ("<fetch><entity name='account'><attribute name='nosuch'/></entity></fetch>", 400, "nosuch"),
        ("<fetch><entity name='contact'/></fetch>", 400, "does not match"),
        ("<!DOCTYPE fetch [<!ENTITY x 'y'>]><fetch><entity name='account'/></fetch>", 400, "DTD"),
        ("<fetch><entity name='account'><frob/></entity></fetch>", 400, "frob"),
        (
            "<fetch><entity name='account'><filter><condition attribute='revenue' operator='eq' value='abc'/></filter></entity></fetch>",
            400,
            "revenue",
        ),
        ("<fetch top='10' count='5'><entity name='account'/></fetch>", 400, "top"),
        (
            "<fetch><entity name='account'><filter><condition attribute='revenue' operator='eq' value='null'/></filter></entity></fetch>",
            400,
            "revenue",
        ),
        (
            "<fetch><entity name='account'><filter><condition attribute='revenue' operator='gt' value='revenue'/></filter></entity></fetch>",
            400,
            "revenue",
        ),
        (
            "<fetch><entity name='account'><filter><condition attribute='name' operator='in'><value>a<b/>c</value></condition></filter></entity></fetch>",
            400,
            "<b>",
        ),
        (
            "<fetch aggregate='true'><entity name='account'><attribute name='createdon' groupby='true' dategrouping='year' usertimezone='false' alias='y'/></entity></fetch>",
            501,
            "usertimezone",
        ),
        (
            "<fetch><entity name='account'><filter><condition attribute='primarycontactid' operator='eq' value='00000000-0000-0000-0000-000000000001 or name eq &apos;x&apos;'/></filter></entity></fetch>",
            400,
            "primarycontactid",
        ),
        (
            "<fetch><entity name='account'><filter><condition attribute='numberofemployees' operator='eq' value='1 or name eq 1'/></filter></entity></fetch>",
            400,
            "numberofemployees",
        ),
        (
            "<fetch aggregate='true'><entity name='account'><attribute name='revenue' aggregate='sum'/></entity></fetch>",
            400,
            "alias",
        ),
        (
            "<fetch aggregate='true'><entity name='account'><attribute name='name' aggregate='sum' alias='s'/></entity></fetch>",
            400,
            "name",
        ),
        (
            "<fetch aggregate='true'><entity name='account'><attribute name='createdon' groupby='true' alias='c'/></entity></fetch>",
            400,
            "dategrouping",
        ),
        (
            "<fetch aggregate='true'><entity name='account'><attribute name='name' groupby='true' alias='n'/><link-entity name='contact' from='contactid' to='primarycontactid'/></entity></fetch>",
            501,
            "link-entity",
        ),
    ] {
        let m = assert_error(e.get(&url("accounts", xml)).await, status, "0x0").await;
        assert!(m.contains(want), "{xml}: {m}");
    }
}

/// `aggregate='true'`: group keys and aggregates under their aliases, date parts, distinct counts.
#[tokio::test]
async fn aggregates_come_back_under_their_aliases() {
    let e = fixture().await;
    let v = fetch(&e, "accounts", "<fetch aggregate='true'><entity name='account'><attribute name='address1_stateorprovince' groupby='true' alias='state'/><attribute name='revenue' aggregate='sum' alias='total'/><attribute name='accountid' aggregate='count' alias='n'/><attribute name='primarycontactid' aggregate='countcolumn' alias='with_contact'/><attribute name='primarycontactid' aggregate='countcolumn' distinct='true' alias='contacts'/><order alias='state' descending='true'/><filter><condition attribute='name' operator='ne' value='Nobody'/></filter></entity></fetch>").await;
    assert_eq!(
        v["value"],
        json!([
            {"state": "WA", "total": 400000.5, "n": 3, "with_contact": 2, "contacts": 1},
            {"state": "OR", "total": 40000.0, "n": 1, "with_contact": 1, "contacts": 1},
        ])
    );
    let v = fetch(&e, "accounts", "<fetch aggregate='true'><entity name='account'><attribute name='createdon' groupby='true' dategrouping='year' alias='year'/><attribute name='accountid' aggregate='count' alias='n'/></entity></fetch>").await;
    let year: i64 = chrono_year();
    assert_eq!(v["value"], json!([{"year": year, "n": 4}]));
}

fn chrono_year() -> i64 {
    let days = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 86_400;
    // Civil year from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + i64::from(month <= 2)
}
