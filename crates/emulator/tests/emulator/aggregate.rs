//! `$apply` grouping and aggregation (spec §3.11), on Microsoft's examples.

use crate::common::{Emu, assert_error, config, header, spawn, spawn_with};
use emulator::Storage;
use serde_json::{Value, json};

const FORMATTED: &str = "odata.include-annotations=\"OData.Community.Display.V1.FormattedValue\"";

/// Four accounts: Jim Glynn is the primary contact of three (two in WA), one is inactive, one has
/// no revenue and no contact.
async fn fixture() -> (Emu, String) {
    let e = spawn().await;
    let jim = e.create("contacts", json!({"firstname": "Jim", "lastname": "Glynn"})).await;
    let bind = format!("/contacts({jim})");
    for (name, revenue, state, category, contact) in [
        ("Fourth Coffee", json!(100000), "WA", json!(1), true),
        ("Litware", json!(300000.5), "WA", json!(2), true),
        ("Adventure Works", json!(40000), "OR", json!(1), true),
        ("Blue Yonder", Value::Null, "WA", Value::Null, false),
    ] {
        let mut body = json!({"name": name, "revenue": revenue, "address1_stateorprovince": state,
            "accountcategorycode": category, "numberofemployees": 10});
        if contact {
            body["primarycontactid@odata.bind"] = json!(bind);
        }
        let id = e.create("accounts", body).await;
        if name == "Adventure Works" {
            let resp =
                e.send("PATCH", &format!("accounts({id})"), Some(&json!({"statecode": 1, "statuscode": 2})), &[]).await;
            assert_eq!(resp.status(), 204);
        }
    }
    (e, jim)
}

async fn apply(e: &Emu, query: &str, prefer: Option<&str>) -> Value {
    let headers: Vec<(&str, &str)> = prefer.map(|p| ("prefer", p)).into_iter().collect();
    let resp = e.send("GET", &format!("accounts?$apply={query}"), None, &headers).await;
    assert_eq!(resp.status(), 200, "{query}");
    if prefer.is_some() {
        assert_eq!(header(&resp, "preference-applied").as_deref(), prefer);
    }
    let v = crate::common::json(resp).await;
    assert!(v["@odata.context"].as_str().unwrap().ends_with("/$metadata#accounts"), "{v}");
    v
}

#[tokio::test]
async fn microsoft_examples_answer_in_dataverse_shapes() {
    let (e, jim) = fixture().await;

    // Unique statuses, with their labels.
    let v = apply(&e, "groupby((statuscode))", Some(FORMATTED)).await;
    assert_eq!(
        v["value"],
        json!([
            {"statuscode@OData.Community.Display.V1.FormattedValue": "Active", "statuscode": 1},
            {"statuscode@OData.Community.Display.V1.FormattedValue": "Inactive", "statuscode": 2},
        ])
    );

    // Count by status: the count carries a formatted value too.
    let v = apply(&e, "groupby((statuscode),aggregate($count as count))", Some(FORMATTED)).await;
    assert_eq!(v["value"][0]["count"], 3);
    assert_eq!(v["value"][0]["count@OData.Community.Display.V1.FormattedValue"], "3");
    assert_eq!(v["value"][1]["count"], 1);

    // Sum of revenue over every row (money adds exactly), and its currency text.
    let v = apply(&e, "aggregate(revenue with sum as total)", Some(FORMATTED)).await;
    assert_eq!(
        v["value"],
        json!([{"total": 440000.5, "total@OData.Community.Display.V1.FormattedValue": "$440,000.50"}])
    );
    let v = apply(&e, "aggregate(revenue with sum as total)", None).await;
    assert_eq!(v["value"][0].as_object().unwrap().len(), 1, "no annotations unasked, no etag: {v}");

    // Average by status: nulls are not averaged.
    let v = apply(&e, "groupby((statuscode),aggregate(revenue with average as averagevalue))", None).await;
    assert_eq!(
        v["value"],
        json!([{"statuscode": 1, "averagevalue": 200000.25}, {"statuscode": 2, "averagevalue": 40000.0}])
    );

    // Grouping by a related column names it `{table}_{column}`; a group with no related row
    // leaves the key out (nulls omitted) and has no revenue either.
    let v = apply(&e, "groupby((primarycontactid/fullname),aggregate(revenue with sum as total))", None).await;
    assert_eq!(v["value"], json!([{}, {"contact_fullname": "Jim Glynn", "total": 440000.5}]));

    // filter() first, then grouping.
    let v = apply(&e, "filter(address1_stateorprovince eq 'WA')/groupby((primarycontactid/fullname))", None).await;
    assert_eq!(v["value"], json!([{}, {"contact_fullname": "Jim Glynn"}]));

    // Grouping by a lookup: its id, and the row's name as the formatted value.
    let v = apply(
        &e,
        "groupby((_primarycontactid_value),aggregate($count as n))&$orderby=_primarycontactid_value desc&$top=1",
        Some("odata.include-annotations=\"*\""),
    )
    .await;
    let row = &v["value"][0];
    assert_eq!(row["_primarycontactid_value"], json!(jim));
    assert_eq!(row["_primarycontactid_value@OData.Community.Display.V1.FormattedValue"], "Jim Glynn");
    assert_eq!(row["_primarycontactid_value@Microsoft.Dynamics.CRM.lookuplogicalname"], "contact");
    assert_eq!(row["n"], 3);
    assert_eq!(v["value"].as_array().unwrap().len(), 1, "$top counts groups");

    // Last created, min and max, distinct combinations.
    let v = apply(
        &e,
        "aggregate(createdon with max as lastCreate,revenue with min as low,numberofemployees with sum as staff)",
        None,
    )
    .await;
    let row = v["value"][0].as_object().unwrap();
    assert!(row["lastCreate"].as_str().unwrap().ends_with('Z'), "{v}");
    assert_eq!(row["low"], 40000.0, "money keeps its decimals");
    assert_eq!(row["staff"], 40);
    let v = apply(&e, "groupby((statecode,statuscode,accountcategorycode))", None).await;
    assert_eq!(
        v["value"],
        json!([
            {"statecode": 0, "statuscode": 1},
            {"statecode": 0, "statuscode": 1, "accountcategorycode": 1},
            {"statecode": 0, "statuscode": 1, "accountcategorycode": 2},
            {"statecode": 1, "statuscode": 2, "accountcategorycode": 1},
        ])
    );
}

#[tokio::test]
async fn refusals_are_dataverse_errors() {
    let (e, _) = fixture().await;
    let m = assert_error(
        e.get("accounts?$apply=groupby((statuscode),aggregate($count%20as%20n))&$orderby=n").await,
        400,
        "0x0",
    )
    .await;
    assert_eq!(m, "The query node SingleValueOpenPropertyAccess is not supported");
    assert_error(e.get("accounts?$apply=groupby((createdon))").await, 400, "0x0").await;
    assert_error(e.get("accounts?$apply=aggregate(name%20with%20sum%20as%20s)").await, 400, "0x0").await;
    let m = assert_error(e.get("accounts?$apply=aggregate(revenue%20with%20countdistinct%20as%20n)").await, 501, "0x0")
        .await;
    assert!(m.contains("countdistinct"), "{m}");
}

/// More than 50,000 rows to aggregate: Dataverse's AggregateQueryRecordLimit error, while a
/// filter that keeps the rows under the limit still aggregates them. The rows are copies of one
/// account made by the API, inserted straight into the emulator's SQLite file (50,000 creates
/// through HTTP would take minutes).
#[tokio::test]
async fn more_than_fifty_thousand_rows_is_the_aggregate_limit_error() {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().unwrap();
    let e = spawn_with(config(Storage::Dir(dir.path().to_owned()))).await;
    let template = e.create("accounts", json!({"name": "Template", "numberofemployees": 100_000})).await;
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("emulator.sqlite"));
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await.unwrap();
    let columns: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pragma_table_info('account')").fetch_all(&mut conn).await.unwrap();
    let copied: Vec<String> = columns
        .iter()
        .map(|c| match c.as_str() {
            "accountid" => "lower(printf('%08x-0000-4000-8000-000000000000', n.i))".to_owned(),
            "numberofemployees" => "n.i".to_owned(),
            other => format!("account.\"{other}\""),
        })
        .collect();
    let quoted: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000) \
         INSERT INTO account ({}) SELECT {} FROM account, n WHERE account.accountid = ?",
        quoted.join(","),
        copied.join(",")
    );
    let inserted = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&template).execute(&mut conn).await.unwrap();
    assert_eq!(inserted.rows_affected(), 50_000);
    drop(conn);

    let m = assert_error(e.get("accounts?$apply=aggregate($count%20as%20n)").await, 400, "0x8004E023").await;
    assert_eq!(m, "AggregateQueryRecordLimit exceeded. Cannot perform this operation.");
    let v = e.get_json("accounts?$apply=filter(numberofemployees%20lt%2010)/aggregate($count%20as%20n)").await;
    assert_eq!(v["value"], json!([{"n": 9}]));
}

/// `sql=` (spec §6.7) answers as its OData twin: a plain SELECT as a query, aggregates and
/// `GROUP BY` as `$apply`.
#[tokio::test]
async fn sql_answers_like_its_odata_twin() {
    let (e, _) = fixture().await;
    let get = |sql: &str| format!("accounts?sql={}", sql.replace(' ', "%20").replace('\'', "%27").replace('>', "%3E"));
    let v = e.get_json(&get("SELECT TOP 2 name FROM account WHERE revenue > 50000 ORDER BY name")).await;
    let names: Vec<&str> = v["value"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Fourth Coffee", "Litware"]);
    let v = e.get_json(&get("SELECT statuscode, COUNT(*) AS n FROM account GROUP BY statuscode")).await;
    assert_eq!(v["value"], json!([{"statuscode": 1, "n": 3}, {"statuscode": 2, "n": 1}]));
    let v = e
        .get_json(&get("SELECT a.name, c.fullname FROM account a JOIN contact c ON a.primarycontactid = c.contactid WHERE a.revenue > 50000 ORDER BY a.name").replace('=', "%3D").replacen("sql%3D", "sql=", 1))
        .await;
    let rows: Vec<(&str, &str)> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["c.fullname"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, [("Fourth Coffee", "Jim Glynn"), ("Litware", "Jim Glynn")]);
    let m = assert_error(e.get(&get("SELECT * FROM account")).await, 400, "0x0").await;
    assert!(m.contains("SELECT *"), "{m}");
}
