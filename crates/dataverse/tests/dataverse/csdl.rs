//! The CSDL `$metadata` document: written from the standard schema and read back, filtered per
//! agent structurally (design §4) so that what remains still reads back.

use dataverse::Schema;
use dataverse::csdl::{self, Visibility};
use dataverse::xml;
use std::collections::BTreeSet;

fn shape(s: &Schema) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for t in s.tables() {
        out.insert(format!("table {} set {} key {}", t.logical_name, t.set_name, t.primary_id));
        for c in &t.columns {
            out.insert(format!("{}.{} {}", t.logical_name, c.odata_name(), c.kind.edm_name()));
        }
    }
    for r in s.relationships() {
        out.insert(format!(
            "rel {} {}.{} -> {} via {}",
            r.schema_name, r.referencing_table, r.referencing_column, r.referenced_table, r.referencing_nav
        ));
    }
    out
}

#[test]
fn the_standard_schema_reads_back_from_its_document() {
    let schema = Schema::standard();
    let text = csdl::write(&schema);
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<edmx:Edmx Version=\"4.0\""));
    assert!(text.contains(r#"<EntityType Name="account" BaseType="mscrm.crmbaseentity">"#));
    assert!(text.contains(r#"<Property Name="_primarycontactid_value" Type="Edm.Guid"/>"#));
    assert!(
        text.contains(r#"<ReferentialConstraint Property="_primarycontactid_value" ReferencedProperty="contactid"/>"#)
    );
    assert!(text.contains(r#"<EntitySet Name="accounts" EntityType="Microsoft.Dynamics.CRM.account">"#));
    let back = csdl::read(&text).unwrap();
    assert_eq!(shape(&back), shape(&schema));
    // Polymorphic lookups keep every target.
    let customer = back.table("contact").unwrap().column("parentcustomerid").unwrap();
    assert_eq!(
        customer.kind,
        dataverse::metadata::ColumnType::Lookup { targets: vec!["account".into(), "contact".into()] }
    );
    assert_eq!(back.table("contact").unwrap().primary_name, "fullname");
}

struct Agent;

impl Visibility for Agent {
    fn table(&self, table: &str) -> bool {
        matches!(table, "account" | "contact")
    }
    fn hidden(&self, table: &str, column: &str) -> bool {
        table == "account" && matches!(column, "revenue" | "primarycontactid")
    }
    fn operation(&self, name: &str) -> bool {
        name == "WhoAmI"
    }
}

#[test]
fn filtered_documents_hold_only_what_the_agent_may_see_and_read_back() {
    let text = csdl::write(&Schema::standard());
    let mut doc = xml::parse(&text, csdl::MAX_DOCUMENT).unwrap();
    csdl::filter(&mut doc, &Agent).unwrap();
    let filtered = doc.to_document();
    for gone in [
        r#"EntityType Name="lead""#,
        r#"EntitySet Name="leads""#,
        r#"Property Name="revenue""#,
        r#"Property Name="revenue_base""#,
        r#"Property Name="_primarycontactid_value""#,
        r#"NavigationProperty Name="primarycontactid""#,
        r#"NavigationProperty Name="account_primary_contact""#,
        r#"NavigationProperty Name="lead_customer_accounts""#,
        r#"Target="leads""#,
    ] {
        assert!(!filtered.contains(gone), "{gone} survived");
    }
    for kept in [
        r#"Property Name="name""#,
        r#"NavigationProperty Name="contact_customer_accounts""#,
        r#"NavigationProperty Name="parentcustomerid_account""#,
        r#"FunctionImport Name="WhoAmI""#,
        r#"<NavigationPropertyBinding Path="contact_customer_accounts" Target="contacts"/>"#,
    ] {
        assert!(filtered.contains(kept), "{kept} removed");
    }
    let back = csdl::read(&filtered).unwrap();
    let tables: Vec<&str> = back.tables().iter().map(|t| t.logical_name.as_str()).collect();
    assert_eq!(tables, ["account", "contact"]);
    assert!(back.table("account").unwrap().column("revenue").is_none());
}

#[test]
fn hostile_documents_are_refused() {
    for bad in [
        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><edmx:Edmx>&e;</edmx:Edmx>",
        "<edmx:Edmx><edmx:DataServices/></edmx:Edmx>",
        "<html/>",
        "not xml",
    ] {
        assert!(csdl::read(bad).is_err(), "{bad}");
    }
}
