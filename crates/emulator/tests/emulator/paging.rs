//! Paging (spec §3.4, §3.7, §3.8): `odata.maxpagesize`, `@odata.nextLink` with Dataverse's
//! paging-cookie `$skiptoken`, keyset stability, the 5000-row default page and count caps.

use crate::common::{Emu, assert_error, header, json, spawn};
use serde_json::{Value, json};
use std::sync::Arc;

fn names(v: &Value) -> Vec<String> {
    v["value"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect()
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// One percent-decoding pass.
fn decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes()).next().unwrap().1.into_owned()
}

async fn named_accounts(e: &Emu, names: &[&str]) {
    for n in names {
        e.create("accounts", json!({"name": n})).await;
    }
}

/// Follows an absolute link (the org URL is the bound address in tests).
async fn follow(e: &Emu, link: &str, prefer: Option<&str>) -> reqwest::Response {
    let mut req = e.http.get(link).bearer_auth(&e.token).header("accept", "application/json");
    if let Some(p) = prefer {
        req = req.header("prefer", p);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn maxpagesize_pages_end_with_a_next_link() {
    let e = spawn().await;
    named_accounts(&e, &["Account 5", "Account 2", "Account 7", "Account 1", "Account 4", "Account 3", "Account 6"])
        .await;
    let prefer = "odata.maxpagesize=3";
    let resp = e.send("GET", "accounts?$select=name&$orderby=name&$count=true", None, &[("prefer", prefer)]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "preference-applied").as_deref(), Some("odata.maxpagesize=3"));
    let page = json(resp).await;
    assert_eq!(keys(&page), ["@odata.context", "@odata.count", "value", "@odata.nextLink"]);
    assert_eq!(page["@odata.count"], 7);
    assert_eq!(names(&page), ["Account 1", "Account 2", "Account 3"]);
    let link = page["@odata.nextLink"].as_str().unwrap().to_owned();
    let prefix = format!(
        "{}/accounts?$select=name&$orderby=name&$count=true&$skiptoken=%3Ccookie%20pagenumber=%222%22%20pagingcookie=%22%253ccookie%2520page%253d%25221%2522%253e%253cname%2520last%253d%2522Account%25203%2522%2520first%253d%2522Account%25201%2522%2520%252f%253e%253caccountid%2520last%253d%2522%257b",
        e.base()
    );
    assert!(link.starts_with(&prefix), "{link}");
    assert!(link.ends_with("%22%20istracking=%22False%22%20/%3E"), "{link}");
    // Decoded once, the token is Dataverse's cookie; its pagingcookie decodes twice more.
    let token = decode(link.split_once("$skiptoken=").unwrap().1);
    assert!(token.starts_with("<cookie pagenumber=\"2\" pagingcookie=\"%3ccookie%20page%3d%221%22%3e"), "{token}");
    let inner = decode(&decode(token.split('"').nth(3).unwrap()));
    let last_id = page["value"][2]["accountid"].as_str().unwrap().to_uppercase();
    let first_id = page["value"][0]["accountid"].as_str().unwrap().to_uppercase();
    assert_eq!(
        inner,
        format!(
            "<cookie page=\"1\"><name last=\"Account 3\" first=\"Account 1\" /><accountid last=\"{{{last_id}}}\" first=\"{{{first_id}}}\" /></cookie>"
        )
    );

    let resp = follow(&e, &link, Some(prefer)).await;
    assert_eq!(resp.status(), 200);
    let page = json(resp).await;
    assert_eq!(page["@odata.count"], 7, "the count covers every page");
    assert_eq!(names(&page), ["Account 4", "Account 5", "Account 6"]);
    let link = page["@odata.nextLink"].as_str().unwrap().to_owned();
    assert!(link.contains("$skiptoken=%3Ccookie%20pagenumber=%223%22"), "{link}");
    let page = json(follow(&e, &link, Some(prefer)).await).await;
    assert_eq!(names(&page), ["Account 7"]);
    assert_eq!(keys(&page), ["@odata.context", "@odata.count", "value"]);
}

#[tokio::test]
async fn top_is_ignored_with_maxpagesize_and_caps_rows_without_it() {
    let e = spawn().await;
    named_accounts(&e, &["a", "b", "c", "d", "e"]).await;
    let resp = e.send("GET", "accounts?$select=name&$top=2", None, &[("prefer", "odata.maxpagesize=3")]).await;
    let page = json(resp).await;
    assert_eq!(page["value"].as_array().unwrap().len(), 3, "spec §3.4: $top is ignored with maxpagesize");
    let link = page["@odata.nextLink"].as_str().unwrap();
    assert!(link.starts_with(&format!("{}/accounts?$select=name&$top=2&$skiptoken=", e.base())), "{link}");
    let page = json(follow(&e, link, Some("odata.maxpagesize=3")).await).await;
    assert_eq!(page["value"].as_array().unwrap().len(), 2);
    assert!(page.get("@odata.nextLink").is_none());

    let resp = e.get("accounts?$select=name&$top=2").await;
    assert!(header(&resp, "preference-applied").is_none());
    let page = json(resp).await;
    assert_eq!(page["value"].as_array().unwrap().len(), 2);
    assert!(page.get("@odata.nextLink").is_none());
}

#[tokio::test]
async fn pages_are_stable_under_concurrent_inserts() {
    let e = spawn().await;
    named_accounts(&e, &["B", "D", "F", "H", "J", "L"]).await;
    let prefer = Some("odata.maxpagesize=2");
    let resp = e.send("GET", "accounts?$select=name&$orderby=name", None, &[("prefer", "odata.maxpagesize=2")]).await;
    let page = json(resp).await;
    assert_eq!(names(&page), ["B", "D"]);
    // One row sorting before the cursor, one after it.
    named_accounts(&e, &["C", "E"]).await;
    let mut seen = names(&page);
    let mut link = page["@odata.nextLink"].as_str().map(str::to_owned);
    while let Some(l) = link {
        let page = json(follow(&e, &l, prefer).await).await;
        seen.extend(names(&page));
        link = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, ["B", "D", "E", "F", "H", "J", "L"]);
}

#[tokio::test]
async fn foreign_or_mismatched_skiptokens_are_400() {
    let e = spawn().await;
    named_accounts(&e, &["a", "b", "c"]).await;
    let resp = e.send("GET", "accounts?$select=name&$orderby=name", None, &[("prefer", "odata.maxpagesize=1")]).await;
    let link = json(resp).await["@odata.nextLink"].as_str().unwrap().to_owned();
    let token = link.split_once("$skiptoken=").unwrap().1.to_owned();
    let bad = [
        "accounts?$select=name&$skiptoken=abc".to_owned(),
        format!("accounts?$select=name&$orderby=revenue&$skiptoken={token}"),
        format!("accounts?$select=name&$skiptoken={token}"),
        format!(
            "accounts?$select=name&$orderby=name&$skiptoken={}",
            &token[..token[..token.len() / 2].rfind('%').unwrap()]
        ),
        format!(
            "accounts?$select=name&$orderby=name&$skiptoken={}",
            token.replace("pagenumber=%222%22", "pagenumber=%22x%22")
        ),
    ];
    for rel in bad {
        let message = assert_error(e.get(&rel).await, 400, "0x0").await;
        assert_eq!(message, "The $skiptoken is not valid for this query", "{rel}");
    }
    // The same token with other filters or page sizes is still a position in that order.
    let rel = format!("accounts?$select=name&$orderby=name%20desc&$skiptoken={token}");
    assert_eq!(names(&e.get_json(&rel).await), Vec::<String>::new());
}

#[tokio::test]
async fn the_default_page_is_5000_rows_and_counts_cap_at_5000() {
    let e = Arc::new(spawn().await);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let e = e.clone();
        tasks.spawn(async move {
            for i in (worker..5001).step_by(8) {
                let body = json!({"subject": format!("Lead {i:04}"), "lastname": "Bulk"});
                let resp = e.send("POST", "leads", Some(&body), &[]).await;
                assert_eq!(resp.status(), 204);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let prefer = "odata.include-annotations=\"Microsoft.Dynamics.CRM.totalrecordcount,Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded\"";
    let resp = e.send("GET", "leads?$select=subject&$count=true", None, &[("prefer", prefer)]).await;
    assert_eq!(resp.status(), 200);
    let page = json(resp).await;
    assert_eq!(
        keys(&page),
        [
            "@odata.context",
            "@odata.count",
            "@Microsoft.Dynamics.CRM.totalrecordcount",
            "@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded",
            "value",
            "@odata.nextLink"
        ]
    );
    assert_eq!(page["@odata.count"], 5000);
    assert_eq!(page["@Microsoft.Dynamics.CRM.totalrecordcount"], 5000);
    assert_eq!(page["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"], true);
    assert_eq!(page["value"].as_array().unwrap().len(), 5000);
    let next = json(follow(&e, page["@odata.nextLink"].as_str().unwrap(), None).await).await;
    assert_eq!(next["value"].as_array().unwrap().len(), 1);
    assert!(next.get("@odata.nextLink").is_none());
    let resp = e.get("leads/$count").await;
    assert_eq!(resp.text().await.unwrap(), "5000");

    let page = json(e.send("GET", "leads?$select=subject&$top=1", None, &[("prefer", prefer)]).await).await;
    assert_eq!(page["@Microsoft.Dynamics.CRM.totalrecordcount"], -1, "spec §3.7: -1 without $count=true");
    assert_eq!(page["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"], false);
    assert!(page.get("@odata.count").is_none());
}
