//! N:N relationships (spec §5; Microsoft, "Associate and disassociate table rows using the Web
//! API"): `accountleads_association` pairs accounts and leads through the `accountleads`
//! intersect table. Associate with `POST …/$ref`, disassociate with `DELETE …(id)/$ref` and
//! `DELETE …/$ref?$id=`, pairs made on create by bind and by deep insert, read back from both
//! sides through `$expand`, the navigation path, `/$ref`, `/$count`, a row by key and `any`/`all`
//! lambdas; duplicates refused, pairs gone with a deleted row, rolled back with a change set.

use crate::common::{Emu, assert_error, spawn};
use serde_json::{Value, json};

async fn lead(e: &Emu, last: &str) -> String {
    e.create("leads", json!({"lastname": last, "subject": format!("{last} interest")})).await
}

async fn associate(e: &Emu, account: &str, lead: &str) -> reqwest::Response {
    let body = json!({"@odata.id": format!("{}/leads({lead})", e.base())});
    e.send("POST", &format!("accounts({account})/accountleads_association/$ref"), Some(&body), &[]).await
}

fn names(v: &Value, key: &str) -> Vec<String> {
    let mut out: Vec<String> =
        v.as_array().unwrap().iter().map(|r| r[key].as_str().unwrap_or_default().to_owned()).collect();
    out.sort();
    out
}

#[tokio::test]
async fn associate_and_read_back_from_both_sides() {
    let e = spawn().await;
    let contoso = e.create("accounts", json!({"name": "Contoso"})).await;
    let fabrikam = e.create("accounts", json!({"name": "Fabrikam"})).await;
    let (l1, l2) = (lead(&e, "Alpha").await, lead(&e, "Beta").await);
    for (a, l) in [(&contoso, &l1), (&contoso, &l2), (&fabrikam, &l1)] {
        assert_eq!(associate(&e, a, l).await.status(), 204);
    }
    // The same pair again: Dataverse's duplicate key error, nothing added.
    assert_error(associate(&e, &contoso, &l1).await, 400, "0x80040237").await;

    // From the account: $expand, the navigation path with options, $count, $ref, a row by key.
    let v = e
        .get_json(&format!(
            "accounts({contoso})?$select=name&$expand=accountleads_association($select=lastname;$orderby=lastname desc)"
        ))
        .await;
    let related = v["accountleads_association"].as_array().unwrap();
    let order: Vec<&str> = related.iter().map(|r| r["lastname"].as_str().unwrap()).collect();
    assert_eq!(order, ["Beta", "Alpha"], "{v}");
    let v = e
        .get_json(&format!("accounts({contoso})/accountleads_association?$select=lastname&$filter=lastname eq 'Beta'"))
        .await;
    assert_eq!(names(&v["value"], "lastname"), ["Beta"]);
    let n = e.get(&format!("accounts({contoso})/accountleads_association/$count")).await.text().await.unwrap();
    assert_eq!(n.trim_start_matches('\u{feff}'), "2");
    let v = e.get_json(&format!("accounts({fabrikam})/accountleads_association/$ref")).await;
    assert_eq!(v["value"].as_array().unwrap().len(), 1, "{v}");
    assert!(v["value"][0]["@odata.id"].as_str().unwrap().ends_with(&format!("leads({l1})")), "{v}");
    let v = e.get_json(&format!("accounts({contoso})/accountleads_association({l2})?$select=lastname")).await;
    assert_eq!(v["lastname"], "Beta");
    let resp = e.get(&format!("accounts({fabrikam})/accountleads_association({l2})")).await;
    assert_error(resp, 404, "0x80040217").await;

    // From the lead: the same relationship, the other way; several parents per related row.
    let v = e
        .get_json(&format!(
            "leads?$select=lastname&$expand=accountleads_association($select=name)&$filter=leadid eq {l1}"
        ))
        .await;
    assert_eq!(names(&v["value"][0]["accountleads_association"], "name"), ["Contoso", "Fabrikam"]);
    let v = e.get_json("accounts?$select=name&$expand=accountleads_association($select=lastname)&$orderby=name").await;
    let rows = v["value"].as_array().unwrap();
    let contoso_row = rows.iter().find(|r| r["name"] == "Contoso").unwrap();
    let fabrikam_row = rows.iter().find(|r| r["name"] == "Fabrikam").unwrap();
    assert_eq!(names(&contoso_row["accountleads_association"], "lastname"), ["Alpha", "Beta"]);
    assert_eq!(names(&fabrikam_row["accountleads_association"], "lastname"), ["Alpha"]);

    // Lambdas over the intersect table.
    let v = e.get_json("accounts?$select=name&$filter=accountleads_association/any(l: l/lastname eq 'Beta')").await;
    assert_eq!(names(&v["value"], "name"), ["Contoso"]);
    let v = e
        .get_json("accounts?$select=name&$filter=accountleads_association/all(l: l/lastname eq 'Alpha') and accountleads_association/any()")
        .await;
    assert_eq!(names(&v["value"], "name"), ["Fabrikam"]);
}

#[tokio::test]
async fn disassociate_by_key_and_by_id_option() {
    let e = spawn().await;
    let account = e.create("accounts", json!({"name": "Contoso"})).await;
    let (l1, l2) = (lead(&e, "Alpha").await, lead(&e, "Beta").await);
    for l in [&l1, &l2] {
        assert_eq!(associate(&e, &account, l).await.status(), 204);
    }
    let resp = e.send("DELETE", &format!("accounts({account})/accountleads_association({l1})/$ref"), None, &[]).await;
    assert_eq!(resp.status(), 204);
    let id = format!("{}/leads({l2})", e.base());
    let resp =
        e.send("DELETE", &format!("accounts({account})/accountleads_association/$ref?$id={id}"), None, &[]).await;
    assert_eq!(resp.status(), 204);
    let v = e.get_json(&format!("accounts({account})/accountleads_association/$ref")).await;
    assert_eq!(v["value"], json!([]));
    // No such pair any more: 404, and the rows themselves are untouched.
    let resp = e.send("DELETE", &format!("accounts({account})/accountleads_association({l1})/$ref"), None, &[]).await;
    assert_error(resp, 404, "0x80040217").await;
    assert_eq!(e.get(&format!("leads({l1})")).await.status(), 200);
    // Associating a row that does not exist: 404, nothing recorded.
    let ghost = uuid::Uuid::new_v4();
    assert_error(associate(&e, &account, &ghost.to_string()).await, 404, "0x80040217").await;
}

#[tokio::test]
async fn pairs_made_on_create_by_bind_and_deep_insert() {
    let e = spawn().await;
    let l1 = lead(&e, "Alpha").await;
    let account = e
        .create(
            "accounts",
            json!({
                "name": "Contoso",
                "accountleads_association@odata.bind": [format!("/leads({l1})")],
            }),
        )
        .await;
    let deep = e
        .create(
            "accounts",
            json!({
                "name": "Fabrikam",
                "accountleads_association": [{"lastname": "Gamma", "subject": "deep"}],
            }),
        )
        .await;
    let v = e.get_json(&format!("accounts({account})/accountleads_association?$select=lastname")).await;
    assert_eq!(names(&v["value"], "lastname"), ["Alpha"]);
    let v = e.get_json(&format!("accounts({deep})/accountleads_association?$select=lastname")).await;
    assert_eq!(names(&v["value"], "lastname"), ["Gamma"]);
    // A bind to a missing lead fails the whole create.
    let ghost = uuid::Uuid::new_v4();
    let resp = e
        .send(
            "POST",
            "accounts",
            Some(&json!({"name": "Orphan", "accountleads_association@odata.bind": [format!("/leads({ghost})")]})),
            &[],
        )
        .await;
    assert_error(resp, 404, "0x80040217").await;
    let v = e.get_json("accounts?$select=name&$filter=name eq 'Orphan'").await;
    assert_eq!(v["value"], json!([]));
}

#[tokio::test]
async fn deleting_a_row_removes_its_pairs() {
    let e = spawn().await;
    let account = e.create("accounts", json!({"name": "Contoso"})).await;
    let (l1, l2) = (lead(&e, "Alpha").await, lead(&e, "Beta").await);
    for l in [&l1, &l2] {
        assert_eq!(associate(&e, &account, l).await.status(), 204);
    }
    assert_eq!(e.send("DELETE", &format!("leads({l1})"), None, &[]).await.status(), 204);
    let v = e.get_json(&format!("accounts({account})/accountleads_association/$ref")).await;
    assert_eq!(v["value"].as_array().unwrap().len(), 1, "{v}");
    // Re-creating a lead with the deleted id does not inherit the old pair.
    let again = e.create("leads", json!({"leadid": l1, "lastname": "Alpha", "subject": "again"})).await;
    assert_eq!(again, l1);
    let v = e.get_json(&format!("leads({l1})/accountleads_association/$ref")).await;
    assert_eq!(v["value"], json!([]));
}

#[tokio::test]
async fn teams_and_users_pair_through_teammembership() {
    let e = spawn().await;
    let team = e.get_json("teams?$select=name&$top=1").await["value"][0]["teamid"].as_str().unwrap().to_owned();
    let user = e.get_json("systemusers?$select=fullname&$top=1").await["value"][0]["systemuserid"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"@odata.id": format!("systemusers({user})")});
    let resp = e.send("POST", &format!("teams({team})/teammembership_association/$ref"), Some(&body), &[]).await;
    assert_eq!(resp.status(), 204);
    let v = e
        .get_json(&format!(
            "systemusers?$select=fullname&$filter=teammembership_association/any(t: t/teamid eq {team})"
        ))
        .await;
    assert_eq!(v["value"].as_array().unwrap().len(), 1, "{v}");
}
