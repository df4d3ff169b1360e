//! Change tracking (spec §9): a first sync with `Prefer: odata.track-changes`, then deltas of
//! new, changed and deleted rows through the delta link; options refused; tokens expire.

use crate::common::{assert_error, header, json as body_json, spawn};
use serde_json::{Value, json};

fn relative(link: &str) -> String {
    link.split_once("/api/data/v9.2/").map(|(_, rest)| rest.to_owned()).expect("a link under the Web API")
}

#[tokio::test]
async fn first_sync_then_new_changed_and_deleted_rows() {
    let e = spawn().await;
    let keep = e.create("contacts", json!({"lastname": "Keep"})).await;
    let first = e.send("GET", "contacts?$select=lastname", None, &[("Prefer", "odata.track-changes")]).await;
    assert_eq!(first.status(), 200);
    assert!(header(&first, "preference-applied").unwrap().contains("odata.track-changes"));
    let first = body_json(first).await;
    assert!(first["value"].as_array().unwrap().iter().any(|r| r["contactid"] == json!(keep)));
    let link = first["@odata.deltaLink"].as_str().unwrap().to_owned();
    assert!(link.contains("$select=lastname&$deltatoken="), "{link}");

    // Nothing changed: an empty delta with a delta link.
    let quiet = e.get_json(&relative(&link)).await;
    assert_eq!(quiet["value"], json!([]));
    assert!(quiet["@odata.context"].as_str().unwrap().ends_with("$metadata#contacts(lastname)/$delta"));

    let added = e.create("contacts", json!({"lastname": "Added"})).await;
    let resp =
        e.send("PATCH", &format!("contacts({keep})"), Some(&json!({"lastname": "Kept"})), &[("If-Match", "*")]).await;
    assert_eq!(resp.status(), 204);
    let gone = e.create("contacts", json!({"lastname": "Gone"})).await;
    assert_eq!(e.send("DELETE", &format!("contacts({gone})"), None, &[]).await.status(), 204);

    let delta = e.get_json(&relative(&link)).await;
    let value = delta["value"].as_array().unwrap();
    let ids: Vec<&Value> = value.iter().filter_map(|r| r.get("contactid")).collect();
    assert_eq!(ids, [&json!(added), &json!(keep)], "changed rows in version order: {delta}");
    assert_eq!(value[1]["lastname"], "Kept");
    let deleted = value.last().unwrap();
    assert_eq!(deleted["id"], json!(gone), "a row created and deleted since shows as deleted");
    assert_eq!(deleted["reason"], "deleted");
    assert!(deleted["@odata.context"].as_str().unwrap().ends_with("$metadata#contacts/$deletedEntity"));

    // The next delta starts after those.
    let next = e.get_json(&relative(delta["@odata.deltaLink"].as_str().unwrap())).await;
    assert_eq!(next["value"], json!([]));
}

#[tokio::test]
async fn only_select_goes_with_change_tracking_and_tokens_expire() {
    let e = spawn().await;
    for option in ["$filter=lastname eq 'x'", "$orderby=lastname", "$top=1", "$expand=parentcustomerid_account"] {
        let resp = e.send("GET", &format!("contacts?{option}"), None, &[("Prefer", "odata.track-changes")]).await;
        let message = assert_error(resp, 400, "0x0").await;
        assert!(message.ends_with("query parameter isn't supported when Change Tracking is enabled."), "{message}");
    }
    let first = e.send("GET", "contacts?$select=lastname", None, &[("Prefer", "odata.track-changes")]).await;
    let link = body_json(first).await["@odata.deltaLink"].as_str().unwrap().to_owned();
    assert_error(e.get("contacts?$deltatoken=nonsense").await, 400, "0x0").await;
    e.emu.set_clock(Some(chrono::Utc::now() + chrono::Duration::days(8)));
    let expired = assert_error(e.get(&relative(&link)).await, 400, "0x80040203").await;
    assert!(expired.contains("sync again without $deltatoken"), "{expired}");
}
