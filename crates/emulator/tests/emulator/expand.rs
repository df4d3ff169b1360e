//! `$expand` (spec §3.6) on queries and retrieves: single-valued, polymorphic, nested,
//! collection-valued with options, `$ref`, annotations, paging, and its SQL cost.

use crate::common::{Emu, header, json};
use crate::fixture::{Crm, crm};
use serde_json::{Value, json};

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn rows(v: &Value) -> &Vec<Value> {
    v["value"].as_array().unwrap()
}

/// The row whose `field` is `value`.
fn row<'v>(v: &'v Value, field: &str, value: &str) -> &'v Value {
    rows(v).iter().find(|r| r[field] == value).unwrap_or_else(|| panic!("no row {value}: {v}"))
}

async fn etag_of(e: &Emu, set: &str, id: &str) -> Value {
    e.get_json(&format!("{set}({id})?$select=createdon")).await["@odata.etag"].clone()
}

#[tokio::test]
async fn single_valued_expansions_nest_the_row_or_null() {
    let c = crm().await;
    let v =
        c.e.get_json("accounts?$select=name&$orderby=name&$expand=primarycontactid($select=fullname,jobtitle)").await;
    // Spec §3.6: the context lists the expansion with its nested select.
    assert_eq!(
        v["@odata.context"],
        format!("{}/$metadata#accounts(name,primarycontactid(fullname,jobtitle))", c.e.base())
    );
    let contoso = row(&v, "name", "Contoso");
    assert_eq!(keys(contoso), ["@odata.etag", "name", "accountid", "primarycontactid"]);
    let nancy = &contoso["primarycontactid"];
    // Spec §2.1: every returned row, expanded ones too, has `@odata.etag` and its primary key.
    assert_eq!(keys(nancy), ["@odata.etag", "fullname", "jobtitle", "contactid"]);
    assert_eq!(nancy["fullname"], "Nancy Davolio");
    assert_eq!(nancy["jobtitle"], "CEO");
    assert_eq!(nancy["contactid"], c.id("Nancy"));
    assert_eq!(nancy["@odata.etag"], etag_of(&c.e, "contacts", c.id("Nancy")).await);
    let janet = &row(&v, "name", "Fabrikam")["primarycontactid"];
    assert_eq!((janet["fullname"].as_str(), janet["jobtitle"].is_null()), (Some("Janet Leverling"), true));
    // Spec §3.6: `null` when the lookup is empty.
    assert!(row(&v, "name", "Litware")["primarycontactid"].is_null());
    assert!(row(&v, "name", "Northwind")["primarycontactid"].is_null());
    // Polymorphic lookups expand through their type-specific navigation properties (spec §3.6).
    let v = c
        .e
        .get_json("contacts?$select=fullname&$orderby=fullname&$expand=parentcustomerid_account($select=name),parentcustomerid_contact($select=fullname)")
        .await;
    let steven = row(&v, "fullname", "Steven Buchanan");
    assert!(steven["parentcustomerid_account"].is_null(), "points at a contact: {steven}");
    assert_eq!(steven["parentcustomerid_contact"]["fullname"], "Nancy Davolio");
    let andrew = row(&v, "fullname", "Andrew Fuller");
    assert_eq!(keys(&andrew["parentcustomerid_account"]), ["@odata.etag", "name", "accountid"]);
    assert_eq!(andrew["parentcustomerid_account"]["accountid"], c.id("Contoso"));
    assert!(andrew["parentcustomerid_contact"].is_null());
    assert!(row(&v, "fullname", "Margaret Peacock")["parentcustomerid_account"].is_null());
}

#[tokio::test]
async fn nested_expansions_reach_any_depth() {
    let c = crm().await;
    let rel = "accounts?$select=name&$filter=name%20eq%20'Contoso'&$expand=primarycontactid($select=fullname;$expand=parentcustomerid_account($select=name;$expand=createdby($select=fullname)))";
    let v = c.e.get_json(rel).await;
    assert_eq!(
        v["@odata.context"],
        format!(
            "{}/$metadata#accounts(name,primarycontactid(fullname,parentcustomerid_account(name,createdby(fullname))))",
            c.e.base()
        )
    );
    let nancy = &rows(&v)[0]["primarycontactid"];
    assert_eq!(keys(nancy), ["@odata.etag", "fullname", "contactid", "parentcustomerid_account"]);
    let account = &nancy["parentcustomerid_account"];
    assert_eq!(account["name"], "Contoso");
    assert_eq!(keys(&account["createdby"]), ["@odata.etag", "fullname", "systemuserid"]);
    assert_eq!(account["createdby"]["fullname"], "# stanchion-local");
    // Without nested $select every column comes, and the context says `nav()`.
    let v = c.e.get_json("accounts?$select=name&$filter=name%20eq%20'Fabrikam'&$expand=primarycontactid").await;
    assert_eq!(v["@odata.context"], format!("{}/$metadata#accounts(name,primarycontactid())", c.e.base()));
    let janet = &rows(&v)[0]["primarycontactid"];
    assert_eq!(janet["_parentcustomerid_value"], c.id("Fabrikam"));
    assert_eq!(janet["lastname"], "Leverling");
}

#[tokio::test]
async fn collection_valued_expansions_take_their_own_options() {
    let c = crm().await;
    let rel = "accounts?$select=name&$orderby=name&$expand=contact_customer_accounts($select=fullname,jobtitle;$filter=jobtitle%20ne%20null;$orderby=fullname%20desc;$top=1)";
    let v = c.e.get_json(rel).await;
    assert_eq!(
        v["@odata.context"],
        format!("{}/$metadata#accounts(name,contact_customer_accounts(fullname,jobtitle))", c.e.base())
    );
    let contoso = &row(&v, "name", "Contoso")["contact_customer_accounts"];
    assert_eq!(contoso.as_array().unwrap().len(), 1);
    assert_eq!(keys(&contoso[0]), ["@odata.etag", "fullname", "jobtitle", "contactid"]);
    assert_eq!(contoso[0]["fullname"], "Nancy Davolio");
    assert_eq!(row(&v, "name", "Fabrikam")["contact_customer_accounts"], json!([]), "Janet has no job title");
    assert_eq!(row(&v, "name", "Litware")["contact_customer_accounts"], json!([]));
    // `$top` applies per parent row, after ordering.
    let v = c
        .e
        .get_json("accounts?$select=name&$expand=contact_customer_accounts($select=fullname;$orderby=fullname;$top=1)")
        .await;
    let first = |name: &str| row(&v, "name", name)["contact_customer_accounts"][0]["fullname"].clone();
    assert_eq!((first("Contoso"), first("Fabrikam")), (json!("Andrew Fuller"), json!("Janet Leverling")));
    // Polymorphic: cases whose customer is the account, not the mislabeled one with its id.
    let v = c.e.get_json("accounts?$select=name&$expand=incident_customer_accounts($select=title)").await;
    assert_eq!(
        row(&v, "name", "Contoso")["incident_customer_accounts"],
        json!([{
            "@odata.etag": etag_of(&c.e, "incidents", c.id("Printer offline")).await,
            "title": "Printer offline",
            "incidentid": c.id("Printer offline"),
        }])
    );
    assert_eq!(row(&v, "name", "Fabrikam")["incident_customer_accounts"], json!([]));
    // A self-referencing collection, filtered with a query function inside the expansion.
    let v = c
        .e
        .get_json("accounts?$select=name&$filter=name%20eq%20'Contoso'&$expand=account_parent_account($select=name;$filter=Microsoft.Dynamics.CRM.In(PropertyName='numberofemployees',PropertyValues=[\"5\"]))")
        .await;
    assert_eq!(rows(&v)[0]["account_parent_account"][0]["name"], "Northwind");
}

#[tokio::test]
async fn references_give_odata_ids() {
    let c = crm().await;
    let v = c
        .e
        .get_json("accounts?$select=name&$filter=name%20eq%20'Contoso'&$expand=primarycontactid/$ref,contact_customer_accounts/$ref")
        .await;
    assert_eq!(v["@odata.context"], format!("{}/$metadata#accounts(name)", c.e.base()));
    let contoso = &rows(&v)[0];
    // Spec §3.6: `primarycontactid/$ref` gives `{"@odata.id": …}` plus `_primarycontactid_value`.
    assert_eq!(
        keys(contoso),
        [
            "@odata.etag",
            "name",
            "_primarycontactid_value",
            "accountid",
            "primarycontactid",
            "contact_customer_accounts"
        ]
    );
    assert_eq!(contoso["_primarycontactid_value"], c.id("Nancy"));
    assert_eq!(
        contoso["primarycontactid"],
        json!({"@odata.id": format!("{}/contacts({})", c.e.base(), c.id("Nancy"))})
    );
    let mut ids = [c.id("Nancy").to_owned(), c.id("Andrew").to_owned()];
    ids.sort();
    let refs: Vec<Value> =
        ids.iter().map(|id| json!({"@odata.id": format!("{}/contacts({id})", c.e.base())})).collect();
    assert_eq!(contoso["contact_customer_accounts"], Value::Array(refs));
    let v = c.e.get_json("accounts?$select=name&$filter=name%20eq%20'Litware'&$expand=primarycontactid/$ref").await;
    assert!(rows(&v)[0]["primarycontactid"].is_null() && rows(&v)[0]["_primarycontactid_value"].is_null());
}

#[tokio::test]
async fn retrieve_expands_with_annotations_and_money() {
    let c = crm().await;
    let resp = c.e.send("PATCH", &format!("accounts({})", c.id("Contoso")), Some(&json!({"revenue": 1000})), &[]).await;
    assert_eq!(resp.status(), 204);
    let rel = format!(
        "contacts({})?$select=fullname&$expand=parentcustomerid_account($select=name,revenue),contact_customer_contacts($select=fullname,_parentcustomerid_value)",
        c.id("Nancy")
    );
    let prefer = "odata.include-annotations=\"*\"";
    let resp = c.e.send("GET", &rel, None, &[("prefer", prefer)]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "preference-applied").as_deref(), Some(prefer));
    let etag = header(&resp, "etag").unwrap();
    let v = json(resp).await;
    // Spec §3.6 / §2.5: a single row's context ends in `/$entity`; the ETag is the row's own.
    assert_eq!(
        v["@odata.context"],
        format!(
            "{}/$metadata#contacts(fullname,parentcustomerid_account(name,revenue),contact_customer_contacts(fullname,_parentcustomerid_value))/$entity",
            c.e.base()
        )
    );
    assert_eq!(v["@odata.etag"], etag);
    let account = &v["parentcustomerid_account"];
    // Spec §2.5: a money column brings `_transactioncurrencyid_value`; §3.9/§3.10 annotations.
    assert_eq!(
        keys(account),
        [
            "@odata.etag",
            "name",
            "revenue@OData.Community.Display.V1.FormattedValue",
            "revenue",
            "accountid",
            "_transactioncurrencyid_value@Microsoft.Dynamics.CRM.associatednavigationproperty",
            "_transactioncurrencyid_value@Microsoft.Dynamics.CRM.lookuplogicalname",
            "_transactioncurrencyid_value@OData.Community.Display.V1.FormattedValue",
            "_transactioncurrencyid_value",
        ]
    );
    assert_eq!(account["revenue@OData.Community.Display.V1.FormattedValue"], "$1,000.00");
    assert_eq!(account["_transactioncurrencyid_value@OData.Community.Display.V1.FormattedValue"], "US Dollar");
    let raw = c.e.send("GET", &rel, None, &[]).await.text().await.unwrap();
    assert!(raw.contains(r#""revenue":1000.0000"#), "money keeps four decimals when expanded: {raw}");
    let steven = &v["contact_customer_contacts"][0];
    assert_eq!(steven["fullname"], "Steven Buchanan");
    assert_eq!(steven["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"], "contact");
    assert_eq!(
        steven["_parentcustomerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"],
        "parentcustomerid_contact"
    );
    assert_eq!(steven["_parentcustomerid_value@OData.Community.Display.V1.FormattedValue"], "Nancy Davolio");
    assert_eq!(v["contact_customer_contacts"].as_array().unwrap().len(), 1);
}

/// Three more accounts with two contacts each, so pages of two cut through related rows.
async fn more_accounts(c: &Crm, n: usize) {
    for i in 0..n {
        let account = c.e.create("accounts", json!({"name": format!("Extra {i:02}")})).await;
        for who in ["First", "Second"] {
            let contact = c.e.create("contacts", json!({"firstname": who, "lastname": format!("of {i:02}")})).await;
            c.db.link("contact", &contact, "parentcustomerid", "account", &account).await;
        }
    }
}

#[tokio::test]
async fn paging_keys_on_the_root_rows_only() {
    let c = crm().await;
    more_accounts(&c, 3).await;
    let rel = "accounts?$select=name&$orderby=name&$expand=contact_customer_accounts($select=fullname;$orderby=fullname),primarycontactid($select=fullname)";
    let all = c.e.get_json(rel).await;
    assert_eq!(rows(&all).len(), 7);
    let prefer = [("prefer", "odata.maxpagesize=2")];
    let mut resp = c.e.send("GET", rel, None, &prefer).await;
    let mut seen: Vec<Value> = Vec::new();
    loop {
        assert_eq!(resp.status(), 200);
        let page = json(resp).await;
        assert!(rows(&page).len() <= 2);
        seen.extend(rows(&page).iter().cloned());
        let Some(link) = page["@odata.nextLink"].as_str() else { break };
        // Spec §3.8: the next link repeats the query options, `$expand` included (as the
        // protocol core prints it, `=` escaped inside parentheses).
        assert!(
            link.contains(
                "$expand=contact_customer_accounts($select%3Dfullname;$orderby%3Dfullname),primarycontactid("
            ),
            "{link}"
        );
        resp = c.e.http.get(link).bearer_auth(&c.e.token).header("prefer", "odata.maxpagesize=2").send().await.unwrap();
    }
    // No duplicates, nothing lost, nested rows intact.
    assert_eq!(&seen, rows(&all));
    let extra = row(&all, "name", "Extra 01");
    let names: Vec<&str> = extra["contact_customer_accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["fullname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["First of 01", "Second of 01"]);
}

#[tokio::test]
async fn expansions_cost_one_query_each_per_page() {
    let c = crm().await;
    let cost = |rel: String, prefer: Option<&'static str>| {
        let e = &c.e;
        async move {
            let before = e.emu.sql_statements();
            let headers: Vec<(&str, &str)> = prefer.map(|p| ("prefer", p)).into_iter().collect();
            let resp = e.send("GET", &rel, None, &headers).await;
            assert_eq!(resp.status(), 200, "{rel}");
            e.emu.sql_statements() - before
        }
    };
    let query =
        "accounts?$select=name&$expand=primarycontactid($select=fullname),contact_customer_accounts($select=fullname)"
            .to_owned();
    let nested = "accounts?$select=name&$expand=primarycontactid($select=fullname;$expand=parentcustomerid_account($select=name;$expand=createdby($select=fullname)))".to_owned();
    let retrieve = format!(
        "accounts({})?$select=name&$expand=primarycontactid($select=fullname),contact_customer_accounts($select=fullname)",
        c.id("Contoso")
    );
    let annotated = Some("odata.include-annotations=\"*\"");
    let small =
        (cost(query.clone(), None).await, cost(nested.clone(), None).await, cost(query.clone(), annotated).await);
    // The page, then one query per expansion (nested ones included).
    assert_eq!((small.0, small.1), (3, 4));
    assert_eq!(cost(retrieve.clone(), None).await, 3);
    more_accounts(&c, 30).await;
    for i in 0..30 {
        let id = c.e.get_json(&format!("accounts?$select=name&$filter=name%20eq%20'Extra%20{i:02}'")).await["value"][0]
            ["accountid"]
            .as_str()
            .unwrap()
            .to_owned();
        let contact = c.e.create("contacts", json!({"lastname": format!("Primary {i:02}")})).await;
        c.db.link("account", &id, "primarycontactid", "contact", &contact).await;
        c.db.link("contact", &contact, "parentcustomerid", "account", &id).await;
    }
    // Ten times the rows, the same number of statements, annotations included.
    assert_eq!(cost(query.clone(), None).await, small.0);
    assert_eq!(cost(nested, None).await, small.1);
    assert_eq!(cost(query.clone(), annotated).await, small.2);
    assert_eq!(cost(retrieve, None).await, 3);
    // Paged: each page costs the same.
    assert_eq!(cost(query, Some("odata.maxpagesize=5")).await, 3);
}
