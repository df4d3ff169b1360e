//! Navigation in `$filter` (spec §3.2): single-valued paths (one and two hops, polymorphic
//! lookups) and the `any`/`all` lambda operators, nested and negated.

use crate::common::assert_error;
use crate::fixture::{Crm, column, crm};

async fn names(c: &Crm, set: &str, field: &str, filter: &str) -> Vec<String> {
    let v = c.e.get_json(&format!("{set}?$select={field}&$orderby={field}&$filter={filter}")).await;
    column(&v, field)
}

async fn accounts(c: &Crm, filter: &str) -> Vec<String> {
    names(c, "accounts", "name", filter).await
}

async fn contacts(c: &Crm, filter: &str) -> Vec<String> {
    names(c, "contacts", "fullname", filter).await
}

#[tokio::test]
async fn paths_through_single_valued_navigation() {
    let c = crm().await;
    // Spec §3.2: `primarycontactid/fullname eq '…'`; text compares ignoring case through the path.
    assert_eq!(accounts(&c, "primarycontactid/fullname%20eq%20'NANCY%20DAVOLIO'").await, ["Contoso"]);
    assert_eq!(
        accounts(&c, "startswith(name,'N')%20or%20primarycontactid/jobtitle%20eq%20'ceo'").await,
        ["Contoso", "Northwind"]
    );
    // Two hops: the primary contact's parent account, and a self-referencing hop.
    assert_eq!(accounts(&c, "primarycontactid/parentcustomerid_account/name%20eq%20'Contoso'").await, ["Contoso"]);
    assert_eq!(accounts(&c, "parentaccountid/primarycontactid/lastname%20eq%20'Davolio'").await, ["Northwind"]);
    assert_eq!(
        contacts(&c, "parentcustomerid_account/createdby/fullname%20eq%20'%23%20stanchion-local'").await,
        ["Andrew Fuller", "Janet Leverling", "Nancy Davolio"],
        "contacts whose parent customer is an account"
    );
    // Numbers and GUIDs through a path; `parentaccountid/accountid` (spec §3.2).
    assert_eq!(contacts(&c, "parentcustomerid_account/numberofemployees%20gt%2010").await.len(), 3);
    let contoso = c.id("Contoso");
    assert_eq!(accounts(&c, &format!("parentaccountid/accountid%20eq%20{contoso}")).await, ["Northwind"]);
    // A column compared with a related column.
    assert_eq!(
        accounts(&c, "primarycontactid/parentcustomerid_account/numberofemployees%20eq%20numberofemployees").await,
        ["Contoso", "Fabrikam"]
    );
}

#[tokio::test]
async fn polymorphic_hops_follow_only_their_table() {
    let c = crm().await;
    assert_eq!(contacts(&c, "parentcustomerid_contact/fullname%20eq%20'Nancy%20Davolio'").await, ["Steven Buchanan"]);
    assert_eq!(
        contacts(&c, "parentcustomerid_account/name%20eq%20'Contoso'").await,
        ["Andrew Fuller", "Nancy Davolio"]
    );
    // A missing related row is NULL: `eq null` matches it (Steven points at a contact, Margaret
    // at nothing), `ne` never does.
    assert_eq!(
        contacts(&c, "parentcustomerid_account/name%20eq%20null").await,
        ["Margaret Peacock", "Steven Buchanan"]
    );
    assert_eq!(contacts(&c, "parentcustomerid_account/name%20ne%20'Contoso'").await, ["Janet Leverling"]);
    assert_eq!(contacts(&c, "not%20(parentcustomerid_account/name%20eq%20'Contoso')").await, ["Janet Leverling"]);
    let printer = c.e.get_json("incidents?$select=title&$filter=customerid_account/name%20eq%20'Contoso'").await;
    assert_eq!(column(&printer, "title"), ["Printer offline"]);
}

#[tokio::test]
async fn any_and_all_over_collection_valued_navigation() {
    let c = crm().await;
    // Spec §3.2: `nav/any()` is "non-empty"; `not nav/any(…)` is allowed.
    assert_eq!(accounts(&c, "contact_customer_accounts/any()").await, ["Contoso", "Fabrikam"]);
    assert_eq!(accounts(&c, "not%20contact_customer_accounts/any()").await, ["Litware", "Northwind"]);
    assert_eq!(accounts(&c, "contact_customer_accounts/any(c:c/jobtitle%20eq%20'ceo')").await, ["Contoso"]);
    assert_eq!(accounts(&c, "account_parent_account/any(a:a/numberofemployees%20lt%2010)").await, ["Contoso"]);
    // `all` holds vacuously without related rows; a related row whose predicate is NULL (Janet
    // has no job title, and `ne` never matches NULL) does not match, so Fabrikam fails both.
    assert_eq!(
        accounts(&c, "contact_customer_accounts/all(c:c/jobtitle%20eq%20'CEO')").await,
        ["Litware", "Northwind"]
    );
    assert_eq!(
        accounts(&c, "contact_customer_accounts/all(c:c/jobtitle%20ne%20'Buyer')").await,
        ["Litware", "Northwind"]
    );
    assert_eq!(
        accounts(&c, "contact_customer_accounts/any()%20and%20contact_customer_accounts/all(c:c/lastname%20ne%20'x')")
            .await,
        ["Contoso", "Fabrikam"]
    );
    // Polymorphic collections: cases whose customer is the account (not a contact with its id).
    assert_eq!(accounts(&c, "incident_customer_accounts/any()").await, ["Contoso"]);
    assert_eq!(contacts(&c, "incident_customer_contacts/any()").await, ["Andrew Fuller", "Nancy Davolio"]);
    // `/$count` takes the same filters (spec §3.7).
    let n = c.e.get("accounts/$count?$filter=contact_customer_accounts/any()").await.text().await.unwrap();
    assert_eq!(n, "2");
}

#[tokio::test]
async fn nested_lambdas_are_relative_to_their_range_variable() {
    let c = crm().await;
    // Spec §3.2's nested form: `contact_customer_accounts/any(c:… and c/…/any(o:…))`.
    let nested = "contact_customer_accounts/any(c:c/jobtitle%20eq%20'CEO'%20and%20c/incident_customer_contacts/any(i:contains(i/title,'deliv')))";
    assert_eq!(accounts(&c, nested).await, ["Contoso"]);
    // `not` inside: an account with a contact that has no case.
    assert_eq!(
        accounts(&c, "contact_customer_accounts/any(c:not%20c/incident_customer_contacts/any())").await,
        ["Fabrikam"]
    );
    assert_eq!(
        accounts(&c, "contact_customer_accounts/all(c:c/incident_customer_contacts/any())").await,
        ["Contoso", "Litware", "Northwind"]
    );
    // Paths inside a lambda start from the lambda's table; lambdas nest through self-references.
    assert_eq!(
        accounts(&c, "contact_customer_accounts/any(c:c/parentcustomerid_account/numberofemployees%20eq%2050)").await,
        ["Fabrikam"]
    );
    let grandparents = "account_parent_account/any(a:a/contact_customer_accounts/any()%20or%20a/parentaccountid/name%20eq%20'Contoso')";
    assert_eq!(accounts(&c, grandparents).await, ["Contoso"]);
    // Contacts of contacts: Steven's parent customer is Nancy.
    assert_eq!(contacts(&c, "contact_customer_contacts/any(s:s/jobtitle%20eq%20'CEO')").await, ["Nancy Davolio"]);
}

#[tokio::test]
async fn hierarchy_functions_walk_a_three_level_tree() {
    let c = crm().await;
    // Root ← Mid ← Leaf, Root ← Side; Other stands alone.
    let mut ids = std::collections::HashMap::new();
    for name in ["Root", "Mid", "Leaf", "Side", "Other"] {
        ids.insert(name, c.e.create("accounts", serde_json::json!({"name": name})).await);
    }
    for (child, parent) in [("Mid", "Root"), ("Leaf", "Mid"), ("Side", "Root")] {
        c.db.link("account", &ids[child], "parentaccountid", "account", &ids[parent]).await;
    }
    let only_tree = |mut v: Vec<String>| {
        v.retain(|n| ids.contains_key(n.as_str()));
        v
    };
    let f = |function: &str, column: &str, row: &str| {
        format!("Microsoft.Dynamics.CRM.{function}(PropertyName='{column}',PropertyValue='{}')", ids[row])
    };
    // Spec §3.2.1 `Under(PropertyName='accountid',PropertyValue='<guid>')`.
    assert_eq!(only_tree(accounts(&c, &f("Under", "accountid", "Root")).await), ["Leaf", "Mid", "Side"]);
    assert_eq!(only_tree(accounts(&c, &f("UnderOrEqual", "accountid", "Root")).await), ["Leaf", "Mid", "Root", "Side"]);
    assert_eq!(only_tree(accounts(&c, &f("Under", "accountid", "Mid")).await), ["Leaf"]);
    assert_eq!(only_tree(accounts(&c, &f("Under", "accountid", "Leaf")).await), Vec::<String>::new());
    assert_eq!(only_tree(accounts(&c, &f("Above", "accountid", "Leaf")).await), ["Mid", "Root"]);
    assert_eq!(only_tree(accounts(&c, &f("AboveOrEqual", "accountid", "Leaf")).await), ["Leaf", "Mid", "Root"]);
    assert_eq!(only_tree(accounts(&c, &f("Above", "accountid", "Root")).await), Vec::<String>::new());
    assert_eq!(only_tree(accounts(&c, &f("NotUnder", "accountid", "Mid")).await), ["Mid", "Other", "Root", "Side"]);
    // On a lookup to the hierarchical table: accounts whose parent is under Root.
    assert_eq!(accounts(&c, &f("Under", "parentaccountid", "Root")).await, ["Leaf"]);
    // Related rows of a lambda can be filtered by hierarchy too.
    let lambda = format!("account_parent_account/any(a:{})", f("UnderOrEqual", "accountid", "Mid"));
    assert_eq!(accounts(&c, &lambda).await, ["Mid", "Root"]);
    let resp = c.e.get(&format!("accounts?$filter={}", f("Under", "name", "Root"))).await;
    let message = assert_error(resp, 400, "0x0").await;
    assert!(message.contains("Under"), "{message}");
}

/// Spec §3.2: text functions on a related row's column.
#[tokio::test]
async fn text_functions_through_navigation() {
    let e = crate::common::spawn_with(emulator::EmulatorConfig {
        seed: Some(7),
        ..crate::common::config(emulator::Storage::InMemory)
    })
    .await;
    let all = e.get_json("contacts?$select=fullname&$filter=_parentcustomerid_value ne null&$expand=parentcustomerid_account($select=name)").await;
    let rows = all["value"].as_array().unwrap();
    let with_account: Vec<&serde_json::Value> =
        rows.iter().filter(|r| r["parentcustomerid_account"].is_object()).collect();
    assert!(!with_account.is_empty());
    let name = with_account[0]["parentcustomerid_account"]["name"].as_str().unwrap();
    let prefix: String = name.chars().take(4).collect();
    let found = e
        .get_json(&format!("contacts?$select=fullname&$filter=startswith(parentcustomerid_account/name,'{prefix}')"))
        .await;
    let expected = with_account
        .iter()
        .filter(|r| {
            r["parentcustomerid_account"]["name"].as_str().unwrap().to_lowercase().starts_with(&prefix.to_lowercase())
        })
        .count();
    assert_eq!(found["value"].as_array().unwrap().len(), expected);
}

/// `$orderby` through single-valued navigation, and by lookups (Microsoft, "Order rows using
/// OData": ordering by a lookup sorts "using the primary name field for the related table").
/// Rows without a related row sort first ascending and last descending (NULLs, as SQL Server).
#[tokio::test]
async fn ordering_through_navigation_and_by_lookups() {
    let c = crm().await;
    let order = |q: &'static str| {
        let e = &c.e;
        async move { column(&e.get_json(q).await, "name") }
    };
    // Contoso → Nancy Davolio, Fabrikam → Janet Leverling, the others have no primary contact.
    assert_eq!(
        order("accounts?$select=name&$orderby=primarycontactid/fullname,name").await,
        ["Litware", "Northwind", "Fabrikam", "Contoso"]
    );
    assert_eq!(
        order("accounts?$select=name&$orderby=primarycontactid/fullname%20desc,name").await,
        ["Contoso", "Fabrikam", "Litware", "Northwind"]
    );
    // By the lookup itself: the contact's name, not its id.
    assert_eq!(
        order("accounts?$select=name&$orderby=_primarycontactid_value%20desc,name%20desc").await,
        ["Contoso", "Fabrikam", "Northwind", "Litware"]
    );
    // Two hops: Northwind's parent is Contoso, whose primary contact is Nancy.
    assert_eq!(
        order("accounts?$select=name&$orderby=parentaccountid/primarycontactid/lastname%20desc,name").await,
        ["Northwind", "Contoso", "Fabrikam", "Litware"]
    );
    // A polymorphic lookup sorts by the name of whichever table it points at: cases by their
    // customer, Andrew Fuller (contact) < Contoso (account) < Nancy Davolio (contact); the
    // dangling "Mislabeled" customer has no name and sorts first.
    let v = c.e.get_json("incidents?$select=title&$orderby=_customerid_value,title").await;
    assert_eq!(column(&v, "title"), ["Mislabeled", "Invoice wrong", "Printer offline", "Delivery damaged"]);
    // Paging through a related order returns every row once, in order.
    let mut seen = Vec::new();
    let mut url = "accounts?$select=name&$orderby=primarycontactid/fullname%20desc".to_owned();
    loop {
        let resp = c.e.send("GET", &url, None, &[("prefer", "odata.maxpagesize=1")]).await;
        assert_eq!(resp.status(), 200);
        let v = crate::common::json(resp).await;
        seen.extend(column(&v, "name"));
        match v["@odata.nextLink"].as_str() {
            Some(next) => url = next.split_once("/api/data/v9.2/").unwrap().1.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen[..2], ["Contoso", "Fabrikam"]);
    assert_eq!(seen.len(), 4);
    // Inside a collection-valued `$expand`.
    let v = c
        .e
        .get_json("accounts?$select=name&$filter=name%20eq%20'Contoso'&$expand=contact_customer_accounts($select=fullname;$orderby=createdby/fullname,fullname%20desc)")
        .await;
    let related: Vec<&str> = v["value"][0]["contact_customer_accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["fullname"].as_str().unwrap())
        .collect();
    assert_eq!(related, ["Nancy Davolio", "Andrew Fuller"]);
    // Collection-valued navigation cannot be ordered by.
    let resp = c.e.send("GET", "accounts?$orderby=contact_customer_accounts/fullname", None, &[]).await;
    let message = assert_error(resp, 400, "0x0").await;
    assert!(message.contains("collection-valued"), "{message}");
}

/// One related row by its key in the path (OData 4.0 part 2, §4.3 "addressing entities":
/// `accounts(id)/contact_customer_accounts(cid)`): the row when it points at this one, else 404.
#[tokio::test]
async fn related_rows_by_key_in_the_path() {
    let c = crm().await;
    let (contoso, nancy, janet) = (c.id("Contoso"), c.id("Nancy"), c.id("Janet"));
    let v = c.e.get_json(&format!("accounts({contoso})/contact_customer_accounts({nancy})?$select=fullname")).await;
    assert_eq!(v["fullname"], "Nancy Davolio");
    assert_eq!(v["contactid"], nancy);
    assert!(v["@odata.etag"].is_string(), "{v}");
    // Janet is Fabrikam's contact, not Contoso's; an unknown id is missing the same way.
    for other in [janet, "00000000-0000-0000-0000-0000000000aa"] {
        let resp = c.e.send("GET", &format!("accounts({contoso})/contact_customer_accounts({other})"), None, &[]).await;
        assert_error(resp, 404, "0x80040217").await;
    }
    // Steven's parent customer is the contact Nancy, not an account with her id: the
    // polymorphic lookup's table must match too.
    let steven = c.id("Steven");
    let v = c.e.get_json(&format!("contacts({nancy})/contact_customer_contacts({steven})?$select=fullname")).await;
    assert_eq!(v["fullname"], "Steven Buchanan");
    // "Mislabeled" holds Fabrikam's id with `@type` contact: it is not Fabrikam's case.
    let (fabrikam, mislabeled) = (c.id("Fabrikam"), c.id("Mislabeled"));
    let resp =
        c.e.send("GET", &format!("accounts({fabrikam})/incident_customer_accounts({mislabeled})"), None, &[]).await;
    assert_error(resp, 404, "0x80040217").await;
    // A single-valued navigation property takes no key.
    let resp = c.e.send("GET", &format!("accounts({contoso})/primarycontactid({nancy})"), None, &[]).await;
    assert_error(resp, 400, "0x0").await;
}
