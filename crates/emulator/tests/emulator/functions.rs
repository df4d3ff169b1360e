//! Dataverse query functions (spec §3.2.1) against a frozen clock: date ranges around month and
//! year boundaries, the default fiscal calendar, value lists, and the caller's ids.

use crate::common::{Emu, assert_error, spawn};
use crate::fixture::{column, spawn_with_db};
use chrono::{TimeZone as _, Utc};
use serde_json::json;

fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
}

/// Accounts created at known instants (the clock stamps `createdon`), then "now" set to
/// Friday 2024-03-01 12:00 UTC (its week started on Sunday, February 25th).
async fn dated() -> Emu {
    let e = spawn().await;
    for (name, t) in [
        ("Eve2023", at(2023, 12, 31, 23, 59, 59)),
        ("NewYear", at(2024, 1, 1, 0, 0, 0)),
        ("Jan31", at(2024, 1, 31, 12, 0, 0)),
        ("Feb01", at(2024, 2, 1, 0, 0, 0)),
        ("Feb29", at(2024, 2, 29, 8, 0, 0)),
        ("Mar01", at(2024, 3, 1, 9, 0, 0)),
        ("Mar05", at(2024, 3, 5, 10, 0, 0)),
    ] {
        e.emu.set_clock(Some(t));
        e.create("accounts", json!({"name": name})).await;
    }
    e.emu.set_clock(Some(at(2024, 3, 1, 12, 0, 0)));
    e
}

/// The names matching a query function on `createdon`: `args` follow `PropertyName`.
async fn created(e: &Emu, function: &str, args: &str) -> Vec<String> {
    let filter = format!("Microsoft.Dynamics.CRM.{function}(PropertyName='createdon'{args})");
    let v = e.get_json(&format!("accounts?$select=name&$orderby=createdon&$filter={filter}")).await;
    column(&v, "name")
}

#[tokio::test]
async fn relative_days_weeks_months_and_years() {
    let e = dated().await;
    let stamp = e.get_json("accounts?$select=createdon&$filter=name%20eq%20'Feb29'").await;
    assert_eq!(stamp["value"][0]["createdon"], "2024-02-29T08:00:00Z", "the frozen clock stamps rows");
    assert_eq!(created(&e, "Today", "").await, ["Mar01"]);
    assert_eq!(created(&e, "Yesterday", "").await, ["Feb29"]);
    assert_eq!(created(&e, "Tomorrow", "").await, Vec::<String>::new());
    // Rolling ranges end now (Mar05 is in the future) or start now.
    assert_eq!(created(&e, "LastXHours", ",PropertyValue=4").await, ["Mar01"]);
    assert_eq!(created(&e, "LastXHours", ",PropertyValue=28").await, ["Feb29", "Mar01"], "the start is inclusive");
    assert_eq!(created(&e, "Last7Days", "").await, ["Feb29", "Mar01"]);
    assert_eq!(created(&e, "LastXDays", ",PropertyValue='30'").await, ["Jan31", "Feb01", "Feb29", "Mar01"]);
    assert_eq!(created(&e, "LastXWeeks", ",PropertyValue=1").await, ["Feb29", "Mar01"]);
    assert_eq!(created(&e, "LastXMonths", ",PropertyValue=1").await, ["Feb01", "Feb29", "Mar01"]);
    assert_eq!(created(&e, "LastXYears", ",PropertyValue=1").await.len(), 6);
    assert_eq!(created(&e, "NextXHours", ",PropertyValue=94").await, ["Mar05"]);
    assert_eq!(created(&e, "NextXDays", ",PropertyValue=3").await, Vec::<String>::new());
    assert_eq!(created(&e, "NextXDays", ",PropertyValue=4").await, ["Mar05"]);
    assert_eq!(created(&e, "Next7Days", "").await, ["Mar05"]);
    assert_eq!(created(&e, "NextXWeeks", ",PropertyValue=1").await, ["Mar05"]);
    assert_eq!(created(&e, "NextXMonths", ",PropertyValue=1").await, ["Mar05"]);
    assert_eq!(created(&e, "NextXYears", ",PropertyValue=1").await, ["Mar05"]);
    // Older-than ranges end where the last-X ranges start.
    assert_eq!(
        created(&e, "OlderThanXMinutes", ",PropertyValue=180").await,
        ["Eve2023", "NewYear", "Jan31", "Feb01", "Feb29"]
    );
    assert_eq!(created(&e, "OlderThanXHours", ",PropertyValue=28").await, ["Eve2023", "NewYear", "Jan31", "Feb01"]);
    assert_eq!(created(&e, "OlderThanXDays", ",PropertyValue=1").await, ["Eve2023", "NewYear", "Jan31", "Feb01"]);
    assert_eq!(created(&e, "OlderThanXWeeks", ",PropertyValue=5").await, ["Eve2023", "NewYear"]);
    assert_eq!(created(&e, "OlderThanXMonths", ",PropertyValue=2").await, ["Eve2023"], "before January 1st");
    assert_eq!(created(&e, "OlderThanXYears", ",PropertyValue=1").await, Vec::<String>::new());
    // Calendar weeks (from Sunday), months and years.
    assert_eq!(created(&e, "ThisWeek", "").await, ["Feb29", "Mar01"]);
    assert_eq!(created(&e, "LastWeek", "").await, Vec::<String>::new());
    assert_eq!(created(&e, "NextWeek", "").await, ["Mar05"]);
    assert_eq!(created(&e, "ThisMonth", "").await, ["Mar01", "Mar05"]);
    assert_eq!(created(&e, "LastMonth", "").await, ["Feb01", "Feb29"]);
    assert_eq!(created(&e, "NextMonth", "").await, Vec::<String>::new());
    assert_eq!(created(&e, "ThisYear", "").await.len(), 6);
    assert_eq!(created(&e, "LastYear", "").await, ["Eve2023"]);
    assert_eq!(created(&e, "NextYear", "").await, Vec::<String>::new());
    // Across the new year: at 2024-01-01 00:30, yesterday is 2023-12-31 and last month December.
    e.emu.set_clock(Some(at(2024, 1, 1, 0, 30, 0)));
    assert_eq!(created(&e, "Yesterday", "").await, ["Eve2023"]);
    assert_eq!(created(&e, "LastMonth", "").await, ["Eve2023"]);
    assert_eq!(created(&e, "Today", "").await, ["NewYear"]);
    assert_eq!(created(&e, "LastXHours", ",PropertyValue=1").await, ["Eve2023", "NewYear"]);
}

#[tokio::test]
async fn days_and_the_default_fiscal_calendar() {
    let e = dated().await;
    assert_eq!(created(&e, "On", ",PropertyValue='2024-02-29'").await, ["Feb29"]);
    assert_eq!(created(&e, "OnOrBefore", ",PropertyValue='2024-01-31'").await, ["Eve2023", "NewYear", "Jan31"]);
    assert_eq!(created(&e, "OnOrAfter", ",PropertyValue='2024-03-01'").await, ["Mar01", "Mar05"]);
    // Fiscal year = calendar year, 12 monthly periods.
    assert_eq!(created(&e, "InFiscalYear", ",PropertyValue=2023").await, ["Eve2023"]);
    assert_eq!(created(&e, "InFiscalPeriod", ",PropertyValue=2").await, ["Feb01", "Feb29"]);
    assert_eq!(
        created(&e, "InFiscalPeriodAndYear", ",PropertyValue1=1,PropertyValue2=2024").await,
        ["NewYear", "Jan31"]
    );
    assert_eq!(
        created(&e, "InOrBeforeFiscalPeriodAndYear", ",PropertyValue1=12,PropertyValue2=2023").await,
        ["Eve2023"]
    );
    assert_eq!(
        created(&e, "InOrAfterFiscalPeriodAndYear", ",PropertyValue1=3,PropertyValue2=2024").await,
        ["Mar01", "Mar05"]
    );
    assert_eq!(created(&e, "ThisFiscalYear", "").await.len(), 6);
    assert_eq!(created(&e, "LastFiscalYear", "").await, ["Eve2023"]);
    assert_eq!(created(&e, "NextFiscalYear", "").await, Vec::<String>::new());
    assert_eq!(created(&e, "ThisFiscalPeriod", "").await, ["Mar01", "Mar05"]);
    assert_eq!(created(&e, "LastFiscalPeriod", "").await, ["Feb01", "Feb29"]);
    assert_eq!(created(&e, "NextFiscalPeriod", "").await, Vec::<String>::new());
    assert_eq!(created(&e, "LastXFiscalPeriods", ",PropertyValue=2").await, ["NewYear", "Jan31", "Feb01", "Feb29"]);
    assert_eq!(created(&e, "NextXFiscalPeriods", ",PropertyValue=2").await, Vec::<String>::new());
    assert_eq!(created(&e, "LastXFiscalYears", ",PropertyValue=1").await, ["Eve2023"]);
    assert_eq!(created(&e, "NextXFiscalYears", ",PropertyValue=3").await, Vec::<String>::new());
    // Parameter aliases (spec §3.2.1's `PropertyName=@p1,PropertyValue=@p2` form).
    let v = e
        .get_json("accounts?$select=name&$orderby=createdon&$filter=Microsoft.Dynamics.CRM.InFiscalPeriod(PropertyName=@p1,PropertyValue=@p2)&@p1='createdon'&@p2=1")
        .await;
    assert_eq!(column(&v, "name"), ["NewYear", "Jan31"]);
    // Date-only columns compare by date.
    for (last, birth) in [("Leap", "2024-02-29"), ("NewYear", "2024-01-01"), ("Eve", "2023-12-31")] {
        e.create("contacts", json!({"lastname": last, "birthdate": birth})).await;
    }
    let born = |function: &str, args: &str| {
        format!(
            "contacts?$select=lastname&$orderby=birthdate&$filter=Microsoft.Dynamics.CRM.{function}(PropertyName='birthdate'{args})"
        )
    };
    assert_eq!(column(&e.get_json(&born("Yesterday", "")).await, "lastname"), ["Leap"]);
    assert_eq!(column(&e.get_json(&born("LastXHours", ",PropertyValue=36")).await, "lastname"), ["Leap"]);
    assert_eq!(column(&e.get_json(&born("LastYear", "")).await, "lastname"), ["Eve"]);
    assert_eq!(
        column(&e.get_json(&born("InFiscalPeriodAndYear", ",PropertyValue1=2,PropertyValue2=2024")).await, "lastname"),
        ["Leap"]
    );
    assert_eq!(
        column(&e.get_json(&born("Between", ",PropertyValues=[\"2023-12-31\",\"2024-01-01\"]")).await, "lastname"),
        ["Eve", "NewYear"]
    );
    // Bad values: 400 0x0 with a clear message.
    for (function, args) in [
        ("LastXDays", ",PropertyValue='a%20week'"),
        ("LastXDays", ",PropertyValue=-1"),
        ("On", ",PropertyValue=20240229"),
        ("InFiscalPeriod", ",PropertyValue=13"),
        ("InFiscalPeriodAndYear", ",PropertyValue1=1,PropertyValue2=0"),
    ] {
        let filter = format!("Microsoft.Dynamics.CRM.{function}(PropertyName='createdon'{args})");
        let message = assert_error(e.get(&format!("accounts?$filter={filter}")).await, 400, "0x0").await;
        assert!(message.contains(function), "{function}: {message}");
    }
}

#[tokio::test]
async fn between_and_in_convert_values_to_the_column_type() {
    let e = dated().await;
    for (name, employees, revenue) in [("Alpha", 5, 1000.25), ("beta", 2000, 2000.5), ("Gamma", 2001, 99.0)] {
        e.create("accounts", json!({"name": name, "numberofemployees": employees, "revenue": revenue})).await;
    }
    let q = |f: &str| format!("accounts?$select=name&$orderby=name&$filter=Microsoft.Dynamics.CRM.{f}");
    let names = |v: serde_json::Value| column(&v, "name");
    // Spec §3.2.1: `Between(PropertyName='numberofemployees',PropertyValues=["5","2000"])`.
    let between = q("Between(PropertyName='numberofemployees',PropertyValues=[\"5\",\"2000\"])");
    assert_eq!(names(e.get_json(&between).await), ["Alpha", "beta"]);
    // NotBetween never matches NULL (the dated accounts have no employee count).
    let not_between = q("NotBetween(PropertyName='numberofemployees',PropertyValues=[\"5\",\"2000\"])");
    assert_eq!(names(e.get_json(&not_between).await), ["Gamma"]);
    assert_eq!(
        names(e.get_json(&q("Between(PropertyName='revenue',PropertyValues=[\"99\",1000.25])")).await),
        ["Alpha", "Gamma"]
    );
    // Text ignores case; NotIn never matches NULL.
    assert_eq!(
        names(e.get_json(&q("In(PropertyName='name',PropertyValues=[\"ALPHA\",\"Beta\",\"nobody\"])")).await),
        ["Alpha", "beta"]
    );
    assert_eq!(
        names(e.get_json(&q("NotIn(PropertyName='numberofemployees',PropertyValues=[\"5\",2000])")).await),
        ["Gamma"]
    );
    assert_eq!(
        names(e.get_json(&q("In(PropertyName='statecode',PropertyValues=[\"1\"])")).await),
        Vec::<String>::new()
    );
    // A date-only upper bound includes its whole day on a date-time column.
    let dates = "Between(PropertyName='createdon',PropertyValues=[\"2024-01-01\",\"2024-01-31\"])";
    assert_eq!(names(e.get_json(&q(dates)).await), ["Jan31", "NewYear"]);
    let exact = "Between(PropertyName='createdon',PropertyValues=[\"2024-01-01T00:00:00Z\",\"2024-01-31T11:59:59Z\"])";
    assert_eq!(names(e.get_json(&q(exact)).await), ["NewYear"]);
    let ids = e.get_json("accounts?$select=name&$filter=name%20eq%20'Alpha'%20or%20name%20eq%20'Gamma'").await;
    let id_list: Vec<String> =
        ids["value"].as_array().unwrap().iter().map(|r| format!("\"{}\"", r["accountid"].as_str().unwrap())).collect();
    let by_id = q(&format!("In(PropertyName='accountid',PropertyValues=[{}])", id_list.join(",")));
    assert_eq!(names(e.get_json(&by_id).await), ["Alpha", "Gamma"]);
    for bad in [
        "In(PropertyName='numberofemployees',PropertyValues=[\"many\"])",
        "Between(PropertyName='numberofemployees',PropertyValues=[\"1\"])",
        "In(PropertyName='accountid',PropertyValues=[\"not-a-guid\"])",
        "In(PropertyName='createdon',PropertyValues=[\"yesterday\"])",
    ] {
        let message = assert_error(e.get(&q(bad)).await, 400, "0x0").await;
        assert!(message.contains("does not fit") || message.contains("two values"), "{bad}: {message}");
    }
    let message =
        assert_error(e.get(&q("EqualUserLanguage(PropertyName='numberofemployees')")).await, 400, "0x0").await;
    assert!(message.contains("EqualUserLanguage"), "{message}");
}

#[tokio::test]
async fn user_business_unit_and_team_functions() {
    let (e, db) = spawn_with_db().await;
    for name in ["Mine", "Team's"] {
        e.create("accounts", json!({"name": name})).await;
    }
    let who = e.get_json("WhoAmI").await;
    let team = e.get_json("teams?$select=name&$filter=isdefault%20eq%20true").await;
    let team_id = team["value"][0]["teamid"].as_str().unwrap().to_owned();
    let teams = e.get_json("accounts?$select=name&$filter=name%20eq%20'Team''s'").await;
    db.link("account", teams["value"][0]["accountid"].as_str().unwrap(), "ownerid", "team", &team_id).await;
    let q = |f: &str, column: &str| {
        format!("accounts?$select=name&$orderby=name&$filter=Microsoft.Dynamics.CRM.{f}(PropertyName='{column}')")
    };
    let names = |v: serde_json::Value| column(&v, "name");
    assert_eq!(names(e.get_json(&q("EqualUserId", "ownerid")).await), ["Mine"]);
    assert_eq!(names(e.get_json(&q("NotEqualUserId", "ownerid")).await), ["Team's"]);
    assert_eq!(names(e.get_json(&q("EqualUserId", "createdby")).await), ["Mine", "Team's"]);
    // The caller's teams: the emulator knows only the default team, of which every user is a member.
    assert_eq!(names(e.get_json(&q("EqualUserTeams", "ownerid")).await), ["Team's"]);
    assert_eq!(names(e.get_json(&q("EqualUserOrUserTeams", "ownerid")).await), ["Mine", "Team's"]);
    assert_eq!(names(e.get_json(&q("EqualUserOrUserHierarchy", "ownerid")).await), ["Mine"]);
    assert_eq!(names(e.get_json(&q("EqualUserOrUserHierarchyAndTeams", "ownerid")).await), ["Mine", "Team's"]);
    assert_eq!(names(e.get_json(&q("EqualBusinessId", "owningbusinessunit")).await), ["Mine", "Team's"]);
    assert_eq!(names(e.get_json(&q("NotEqualBusinessId", "owningbusinessunit")).await), Vec::<String>::new());
    let me = e
        .get_json(
            "systemusers?$select=fullname&$filter=Microsoft.Dynamics.CRM.EqualUserId(PropertyName='systemuserid')",
        )
        .await;
    assert_eq!(me["value"].as_array().unwrap().len(), 1);
    assert_eq!(me["value"][0]["systemuserid"], who["UserId"]);
    let units = e
        .get_json(
            "businessunits?$select=name&$filter=Microsoft.Dynamics.CRM.EqualBusinessId(PropertyName='businessunitid')",
        )
        .await;
    assert_eq!(units["value"][0]["businessunitid"], who["BusinessUnitId"]);
}

/// Spec §8.1: `$metadata` is the CSDL document of the emulator's schema, as XML.
#[tokio::test]
async fn metadata_is_the_csdl_of_the_schema() {
    let e = crate::common::spawn().await;
    let resp = e.send("GET", "$metadata", None, &[("accept", "application/xml")]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(crate::common::header(&resp, "content-type").as_deref(), Some("application/xml"));
    let text = resp.text().await.unwrap();
    let schema = dataverse::csdl::read(&text).unwrap();
    let standard = dataverse::Schema::standard();
    assert_eq!(schema.tables().len(), standard.tables().len());
    assert_eq!(schema.relationships().len(), standard.relationships().len());
    crate::common::assert_error(e.get("$metadata/accounts").await, 404, "0x0").await;
    crate::common::assert_error(e.get("$metadata?$top=1").await, 400, "0x0").await;
}

/// Spec §8.2–§8.4: the metadata reads clients make, in Dataverse's shapes.
#[tokio::test]
async fn metadata_definitions_answer_every_read_form() {
    use serde_json::json;
    let e = crate::common::spawn().await;
    let v = e
        .get_json("EntityDefinitions?$select=LogicalName&$filter=IsPrivate%20eq%20false%20and%20OwnershipType%20eq%20Microsoft.Dynamics.CRM.OwnershipTypes'OrganizationOwned'")
        .await;
    let names: Vec<&str> = v["value"].as_array().unwrap().iter().map(|t| t["LogicalName"].as_str().unwrap()).collect();
    assert!(names.contains(&"transactioncurrency") && !names.contains(&"account"), "{names:?}");
    assert!(v["value"][0]["MetadataId"].is_string(), "MetadataId always comes back");

    let account =
        e.get_json("EntityDefinitions(LogicalName='account')?$select=EntitySetName,PrimaryNameAttribute").await;
    assert!(
        account["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#EntityDefinitions(EntitySetName,PrimaryNameAttribute)/$entity")
    );
    assert_eq!(
        (account["EntitySetName"].as_str(), account["PrimaryNameAttribute"].as_str()),
        (Some("accounts"), Some("name"))
    );
    assert!(account.get("Attributes").is_none(), "navigation properties only when expanded");
    let id = account["MetadataId"].as_str().unwrap();
    let by_id = e.get_json(&format!("EntityDefinitions({id})?$select=LogicalName")).await;
    assert_eq!(by_id["LogicalName"], "account");

    let expanded = e
        .get_json("EntityDefinitions(LogicalName='account')?$select=LogicalName&$expand=Attributes($select=LogicalName;$filter=AttributeType%20eq%20Microsoft.Dynamics.CRM.AttributeTypeCode'Picklist'),Keys")
        .await;
    let picklists: Vec<&str> =
        expanded["Attributes"].as_array().unwrap().iter().map(|a| a["LogicalName"].as_str().unwrap()).collect();
    assert!(picklists.contains(&"industrycode") && !picklists.contains(&"name"), "{picklists:?}");
    assert_eq!(expanded["Keys"][0]["KeyAttributes"], json!(["accountnumber"]));

    let name = e.get_json("EntityDefinitions(LogicalName='account')/Attributes(LogicalName='name')/Microsoft.Dynamics.CRM.StringAttributeMetadata?$select=MaxLength,RequiredLevel").await;
    assert_eq!(name["MaxLength"], 160);
    assert_eq!(name["RequiredLevel"]["Value"], "ApplicationRequired");
    let status = e
        .get_json("EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)")
        .await;
    assert_eq!(status["value"][0]["OptionSet"]["Options"][1]["State"], 1, "status options carry their state");
    let lookup = e.get_json("EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='parentcustomerid')?$select=AttributeType,Targets").await;
    assert_eq!(
        (lookup["AttributeType"].as_str(), lookup["Targets"].clone()),
        (Some("Customer"), json!(["account", "contact"]))
    );

    let rel = e.get_json("RelationshipDefinitions(SchemaName='contact_customer_accounts')/Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata").await;
    assert_eq!(rel["ReferencingEntityNavigationPropertyName"], "parentcustomerid_account");
    let many = e.get_json("RelationshipDefinitions/Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata?$select=SchemaName,IntersectEntityName").await;
    assert!(many["value"].as_array().unwrap().iter().any(|r| r["IntersectEntityName"] == "accountleads"), "{many}");
    let mine = e.get_json("EntityDefinitions(LogicalName='account')/OneToManyRelationships?$select=SchemaName").await;
    assert!(mine["value"].as_array().unwrap().iter().any(|r| r["SchemaName"] == "contact_customer_accounts"));

    assert_eq!(e.get_json("GlobalOptionSetDefinitions").await["value"], json!([]));
    crate::common::assert_error(e.get("EntityDefinitions(LogicalName='nosuch')").await, 404, "0x80040217").await;
    crate::common::assert_error(e.get("GlobalOptionSetDefinitions(Name='x')").await, 404, "0x80040217").await;
    crate::common::assert_error(e.get("EntityDefinitions?$top=1").await, 400, "0x0").await;
}
