//! The standard tables of spec §15 (account, contact, lead, opportunity, incident, the tables
//! their lookups point at, and the task and note tables of [`activities`]). Option values follow
//! spec §15; they are marked there as remembered from the Dataverse table reference, so a real
//! org's schema always wins over this one.

mod activities;

use super::{AlternateKey, Column, ColumnType, ManyToMany, Ownership, Relationship, RequiredLevel, Schema, Table};

fn col(name: &str, kind: ColumnType) -> Column {
    Column {
        logical_name: name.to_owned(),
        kind,
        required: RequiredLevel::None,
        valid_for_create: true,
        valid_for_update: true,
    }
}

fn required(mut c: Column) -> Column {
    c.required = RequiredLevel::ApplicationRequired;
    c
}

fn system_required(mut c: Column) -> Column {
    c.required = RequiredLevel::SystemRequired;
    c
}

fn read_only(mut c: Column) -> Column {
    c.valid_for_create = false;
    c.valid_for_update = false;
    c
}

fn string(name: &str, max: u32) -> Column {
    col(name, ColumnType::String { max_length: max })
}

fn memo(name: &str) -> Column {
    col(name, ColumnType::Memo { max_length: 2000 })
}

fn lookup(name: &str, targets: &[&str]) -> Column {
    col(name, ColumnType::Lookup { targets: targets.iter().map(|t| (*t).to_owned()).collect() })
}

fn yes_no(name: &str) -> Column {
    col(name, ColumnType::Boolean { true_label: "Yes".into(), false_label: "No".into() })
}

fn allow(name: &str) -> Column {
    col(name, ColumnType::Boolean { true_label: "Do Not Allow".into(), false_label: "Allow".into() })
}

fn picklist(name: &str, options: &[(i32, &str)]) -> Column {
    col(name, ColumnType::Picklist { options: opts(options) })
}

fn opts(options: &[(i32, &str)]) -> Vec<(i32, String)> {
    options.iter().map(|(v, l)| (*v, (*l).to_owned())).collect()
}

fn state(options: &[(i32, &str)]) -> Column {
    col("statecode", ColumnType::State { options: opts(options) })
}

fn status(options: &[(i32, &str, i32)]) -> Column {
    col(
        "statuscode",
        ColumnType::Status { options: options.iter().map(|(v, l, s)| (*v, (*l).to_owned(), *s)).collect() },
    )
}

pub(super) fn money(name: &str) -> [Column; 2] {
    [col(name, ColumnType::Money), read_only(col(&format!("{name}_base"), ColumnType::Money))]
}

const INDUSTRIES: &[(i32, &str)] = &[
    (1, "Accounting"),
    (2, "Agriculture and Non-petrol Natural Resource Extraction"),
    (3, "Broadcasting Printing and Publishing"),
    (4, "Brokers"),
    (5, "Building Supply Retail"),
    (6, "Business Services"),
    (7, "Consulting"),
    (8, "Consumer Services"),
    (9, "Design, Direction and Creative Management"),
    (10, "Distributors, Dispatchers and Processors"),
    (11, "Doctor's Offices and Clinics"),
    (12, "Durable Manufacturing"),
    (13, "Eating and Drinking Places"),
    (14, "Entertainment Retail"),
    (15, "Equipment Rental and Leasing"),
    (16, "Financial"),
    (17, "Food and Tobacco Processing"),
    (18, "Inbound Capital Intensive Processing"),
    (19, "Inbound Repair and Services"),
    (20, "Insurance"),
    (21, "Legal Services"),
    (22, "Non-Durable Merchandise Retail"),
    (23, "Outbound Consumer Service"),
    (24, "Petrochemical Extraction and Distribution"),
    (25, "Service Retail"),
    (26, "SIG Affiliations"),
    (27, "Social Services"),
    (28, "Special Outbound Trade Contractors"),
    (29, "Specialty Realty"),
    (30, "Transportation"),
    (31, "Utility Creation and Distribution"),
    (32, "Vehicle Retail"),
    (33, "Wholesale"),
];

const CONTACT_METHOD: &[(i32, &str)] = &[(1, "Any"), (2, "Email"), (3, "Phone"), (4, "Fax"), (5, "Mail")];
const RATING: &[(i32, &str)] = &[(1, "Hot"), (2, "Warm"), (3, "Cold")];

fn address(prefix: &str) -> Vec<Column> {
    let mut v: Vec<Column> = ["line1", "line2", "city", "stateorprovince", "postalcode", "country"]
        .iter()
        .map(|p| string(&format!("{prefix}_{p}"), 250))
        .collect();
    v.push(col(&format!("{prefix}_latitude"), ColumnType::Double));
    v.push(col(&format!("{prefix}_longitude"), ColumnType::Double));
    v.push(read_only(col(&format!("{prefix}_composite"), ColumnType::Memo { max_length: 1000 })));
    v
}

/// System columns every table has (spec §15 "Common columns").
fn system_columns(ownership: Ownership) -> Vec<Column> {
    let mut v = vec![
        read_only(col("createdon", ColumnType::DateTime)),
        read_only(col("modifiedon", ColumnType::DateTime)),
        read_only(lookup("createdby", &["systemuser"])),
        read_only(lookup("modifiedby", &["systemuser"])),
        read_only(col("versionnumber", ColumnType::BigInt)),
    ];
    if ownership == Ownership::UserOwned {
        v.push(lookup("ownerid", &["systemuser", "team"]));
        v.push(read_only(lookup("owninguser", &["systemuser"])));
        v.push(read_only(lookup("owningteam", &["team"])));
        v.push(read_only(lookup("owningbusinessunit", &["businessunit"])));
    }
    v
}

fn money_system_columns() -> Vec<Column> {
    vec![lookup("transactioncurrencyid", &["transactioncurrency"]), read_only(col("exchangerate", ColumnType::Decimal))]
}

struct Def {
    logical: &'static str,
    set: &'static str,
    schema: &'static str,
    display: &'static str,
    display_plural: &'static str,
    primary_name: &'static str,
    otc: i32,
    ownership: Ownership,
    has_money: bool,
    columns: Vec<Column>,
}

fn table(d: Def) -> Table {
    let mut columns = vec![read_only(col(&format!("{}id", d.logical), ColumnType::Uniqueidentifier))];
    columns.extend(d.columns);
    columns.extend(system_columns(d.ownership));
    if d.has_money {
        columns.extend(money_system_columns());
    }
    // Creating with a caller-chosen primary key is allowed (spec §2.2).
    columns[0].valid_for_create = true;
    Table {
        logical_name: d.logical.into(),
        set_name: d.set.into(),
        schema_name: d.schema.into(),
        display_name: d.display.into(),
        display_collection_name: d.display_plural.into(),
        primary_id: format!("{}id", d.logical),
        primary_name: d.primary_name.into(),
        object_type_code: d.otc,
        ownership: d.ownership,
        columns,
        keys: Vec::new(),
        index: Default::default(),
    }
}

fn with_key(mut t: Table, schema_name: &str, columns: &[&str]) -> Table {
    t.keys.push(AlternateKey {
        schema_name: schema_name.into(),
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
    });
    t
}

fn account() -> Table {
    let mut c = vec![required(string("name", 160)), string("accountnumber", 20)];
    for n in ["telephone1", "telephone2", "fax", "emailaddress1", "websiteurl"] {
        c.push(string(n, 100));
    }
    c.extend(address("address1"));
    c.push(memo("description"));
    c.extend(money("revenue"));
    c.extend(money("creditlimit"));
    c.push(yes_no("creditonhold"));
    c.push(col("numberofemployees", ColumnType::Integer));
    c.push(picklist("accountcategorycode", &[(1, "Preferred Customer"), (2, "Standard")]));
    c.push(picklist(
        "customertypecode",
        &[
            (1, "Competitor"),
            (2, "Consultant"),
            (3, "Customer"),
            (4, "Investor"),
            (5, "Partner"),
            (6, "Influencer"),
            (7, "Press"),
            (8, "Prospect"),
            (9, "Reseller"),
            (10, "Supplier"),
            (11, "Vendor"),
            (12, "Other"),
        ],
    ));
    c.push(picklist("industrycode", INDUSTRIES));
    c.push(picklist("accountratingcode", &[(1, "Default Value")]));
    c.push(picklist("preferredcontactmethodcode", CONTACT_METHOD));
    c.push(allow("donotemail"));
    c.push(allow("donotphone"));
    c.push(allow("donotpostalmail"));
    c.push(lookup("primarycontactid", &["contact"]));
    c.push(lookup("parentaccountid", &["account"]));
    c.push(state(&[(0, "Active"), (1, "Inactive")]));
    c.push(status(&[(1, "Active", 0), (2, "Inactive", 1)]));
    table(Def {
        logical: "account",
        set: "accounts",
        schema: "Account",
        display: "Account",
        display_plural: "Accounts",
        primary_name: "name",
        otc: 1,
        ownership: Ownership::UserOwned,
        has_money: true,
        columns: c,
    })
}

fn contact() -> Table {
    let mut c = vec![string("firstname", 50), string("middlename", 50), required(string("lastname", 50))];
    c.push(read_only(string("fullname", 160)));
    for n in ["emailaddress1", "emailaddress2", "telephone1", "mobilephone", "jobtitle"] {
        c.push(string(n, 100));
    }
    c.extend(address("address1"));
    c.push(memo("description"));
    c.push(col("birthdate", ColumnType::DateOnly));
    c.push(picklist("gendercode", &[(1, "Male"), (2, "Female")]));
    c.push(picklist("familystatuscode", &[(1, "Single"), (2, "Married"), (3, "Divorced"), (4, "Widowed")]));
    c.extend(money("annualincome"));
    c.extend(money("creditlimit"));
    c.push(picklist("preferredcontactmethodcode", CONTACT_METHOD));
    c.push(allow("donotemail"));
    c.push(allow("donotphone"));
    c.push(lookup("parentcustomerid", &["account", "contact"]));
    c.push(state(&[(0, "Active"), (1, "Inactive")]));
    c.push(status(&[(1, "Active", 0), (2, "Inactive", 1)]));
    table(Def {
        logical: "contact",
        set: "contacts",
        schema: "Contact",
        display: "Contact",
        display_plural: "Contacts",
        primary_name: "fullname",
        otc: 2,
        ownership: Ownership::UserOwned,
        has_money: true,
        columns: c,
    })
}

fn lead() -> Table {
    let mut c = vec![
        string("subject", 300),
        string("firstname", 50),
        required(string("lastname", 50)),
        read_only(string("fullname", 160)),
        string("companyname", 100),
        string("jobtitle", 100),
    ];
    for n in ["emailaddress1", "telephone1", "mobilephone", "websiteurl"] {
        c.push(string(n, 100));
    }
    c.push(memo("description"));
    c.push(picklist(
        "leadsourcecode",
        &[
            (1, "Advertisement"),
            (2, "Employee Referral"),
            (3, "External Referral"),
            (4, "Partner"),
            (5, "Public Relations"),
            (6, "Seminar"),
            (7, "Trade Show"),
            (8, "Web"),
            (9, "Word of Mouth"),
            (10, "Other"),
        ],
    ));
    c.push(picklist("leadqualitycode", RATING));
    c.push(picklist("industrycode", INDUSTRIES));
    c.extend(money("revenue"));
    c.extend(money("budgetamount"));
    c.extend(money("estimatedvalue"));
    c.push(col("numberofemployees", ColumnType::Integer));
    c.push(lookup("parentaccountid", &["account"]));
    c.push(lookup("parentcontactid", &["contact"]));
    c.push(lookup("customerid", &["account", "contact"]));
    c.push(read_only(lookup("qualifyingopportunityid", &["opportunity"])));
    c.push(state(&[(0, "Open"), (1, "Qualified"), (2, "Disqualified")]));
    c.push(status(&[
        (1, "New", 0),
        (2, "Contacted", 0),
        (3, "Qualified", 1),
        (4, "Lost", 2),
        (5, "Cannot Contact", 2),
        (6, "No Longer Interested", 2),
        (7, "Canceled", 2),
    ]));
    table(Def {
        logical: "lead",
        set: "leads",
        schema: "Lead",
        display: "Lead",
        display_plural: "Leads",
        primary_name: "fullname",
        otc: 4,
        ownership: Ownership::UserOwned,
        has_money: true,
        columns: c,
    })
}

fn opportunity() -> Table {
    let mut c = vec![required(string("name", 300)), memo("description")];
    c.extend(money("estimatedvalue"));
    c.push(col("estimatedclosedate", ColumnType::DateOnly));
    c.extend(money("actualvalue"));
    c.push(col("actualclosedate", ColumnType::DateOnly));
    c.extend(money("budgetamount"));
    c.push(col("closeprobability", ColumnType::Integer));
    c.push(picklist("opportunityratingcode", RATING));
    c.push(picklist(
        "purchasetimeframe",
        &[(0, "Immediate"), (1, "This Quarter"), (2, "Next Quarter"), (3, "This Year"), (4, "Unknown")],
    ));
    c.push(picklist("salesstagecode", &[(1, "Default Value")]));
    c.push(string("stepname", 200));
    c.push(lookup("customerid", &["account", "contact"]));
    c.push(lookup("parentaccountid", &["account"]));
    c.push(lookup("parentcontactid", &["contact"]));
    c.push(lookup("originatingleadid", &["lead"]));
    c.push(state(&[(0, "Open"), (1, "Won"), (2, "Lost")]));
    c.push(status(&[(1, "In Progress", 0), (2, "On Hold", 0), (3, "Won", 1), (4, "Canceled", 2), (5, "Out-Sold", 2)]));
    table(Def {
        logical: "opportunity",
        set: "opportunities",
        schema: "Opportunity",
        display: "Opportunity",
        display_plural: "Opportunities",
        primary_name: "name",
        otc: 3,
        ownership: Ownership::UserOwned,
        has_money: true,
        columns: c,
    })
}

fn incident() -> Table {
    let c = vec![
        required(string("title", 200)),
        read_only(string("ticketnumber", 100)),
        memo("description"),
        system_required(lookup("customerid", &["account", "contact"])),
        lookup("primarycontactid", &["contact"]),
        picklist(
            "caseorigincode",
            &[(1, "Phone"), (2, "Email"), (3, "Web"), (2483, "Facebook"), (3986, "Twitter"), (700610000, "IoT")],
        ),
        picklist("casetypecode", &[(1, "Question"), (2, "Problem"), (3, "Request")]),
        picklist("prioritycode", &[(1, "High"), (2, "Normal"), (3, "Low")]),
        picklist("severitycode", &[(1, "Default Value")]),
        lookup("parentcaseid", &["incident"]),
        state(&[(0, "Active"), (1, "Resolved"), (2, "Canceled")]),
        status(&[
            (1, "In Progress", 0),
            (2, "On Hold", 0),
            (3, "Waiting for Details", 0),
            (4, "Researching", 0),
            (5, "Problem Solved", 1),
            (1000, "Information Provided", 1),
            (6, "Canceled", 2),
            (2000, "Merged", 2),
        ]),
    ];
    table(Def {
        logical: "incident",
        set: "incidents",
        schema: "Incident",
        display: "Case",
        display_plural: "Cases",
        primary_name: "title",
        otc: 112,
        ownership: Ownership::UserOwned,
        has_money: false,
        columns: c,
    })
}

fn systemuser() -> Table {
    let c = vec![
        read_only(string("fullname", 200)),
        string("firstname", 64),
        required(string("lastname", 64)),
        string("domainname", 1024),
        string("internalemailaddress", 100),
        col("azureactivedirectoryobjectid", ColumnType::Uniqueidentifier),
        col("applicationid", ColumnType::Uniqueidentifier),
        yes_no("isdisabled"),
        picklist(
            "accessmode",
            &[
                (0, "Read-Write"),
                (1, "Administrative"),
                (2, "Read"),
                (3, "Support User"),
                (4, "Non-interactive"),
                (5, "Delegated Admin"),
            ],
        ),
        string("title", 128),
        string("jobtitle", 100),
        system_required(lookup("businessunitid", &["businessunit"])),
        lookup("parentsystemuserid", &["systemuser"]),
    ];
    table(Def {
        logical: "systemuser",
        set: "systemusers",
        schema: "SystemUser",
        display: "User",
        display_plural: "Users",
        primary_name: "fullname",
        otc: 8,
        ownership: Ownership::BusinessOwned,
        has_money: false,
        columns: c,
    })
}

fn team() -> Table {
    let c = vec![
        required(string("name", 160)),
        picklist("teamtype", &[(0, "Owner"), (1, "Access"), (2, "AAD Security Group"), (3, "AAD Office Group")]),
        picklist("membershiptype", &[(0, "Members and guests"), (1, "Members"), (2, "Owners"), (3, "Guests")]),
        col("azureactivedirectoryobjectid", ColumnType::Uniqueidentifier),
        read_only(yes_no("isdefault")),
        system_required(lookup("businessunitid", &["businessunit"])),
        lookup("administratorid", &["systemuser"]),
        memo("description"),
    ];
    table(Def {
        logical: "team",
        set: "teams",
        schema: "Team",
        display: "Team",
        display_plural: "Teams",
        primary_name: "name",
        otc: 9,
        ownership: Ownership::BusinessOwned,
        has_money: false,
        columns: c,
    })
}

fn businessunit() -> Table {
    let c = vec![
        required(string("name", 160)),
        string("divisionname", 100),
        yes_no("isdisabled"),
        lookup("parentbusinessunitid", &["businessunit"]),
        string("websiteurl", 200),
        string("emailaddress", 100),
        string("costcenter", 100),
    ];
    table(Def {
        logical: "businessunit",
        set: "businessunits",
        schema: "BusinessUnit",
        display: "Business Unit",
        display_plural: "Business Units",
        primary_name: "name",
        otc: 10,
        ownership: Ownership::BusinessOwned,
        has_money: false,
        columns: c,
    })
}

fn transactioncurrency() -> Table {
    let c = vec![
        system_required(string("currencyname", 100)),
        system_required(string("isocurrencycode", 5)),
        system_required(string("currencysymbol", 13)),
        system_required(col("exchangerate", ColumnType::Decimal)),
        col("currencyprecision", ColumnType::Integer),
        state(&[(0, "Active"), (1, "Inactive")]),
        status(&[(1, "Active", 0), (2, "Inactive", 1)]),
    ];
    table(Def {
        logical: "transactioncurrency",
        set: "transactioncurrencies",
        schema: "TransactionCurrency",
        display: "Currency",
        display_plural: "Currencies",
        primary_name: "currencyname",
        otc: 9105,
        ownership: Ownership::OrganizationOwned,
        has_money: false,
        columns: c,
    })
}

fn rel(schema: &str, referencing: &str, column: &str, referenced: &str, nav: &str) -> Relationship {
    Relationship {
        schema_name: schema.into(),
        referencing_table: referencing.into(),
        referencing_column: column.into(),
        referenced_table: referenced.into(),
        referencing_nav: nav.into(),
    }
}

/// Relationship names from spec §15 where it gives them; system lookups follow Dataverse's
/// `lk_{table}_createdby` / `user_{set}` / `business_unit_{set}` patterns.
fn relationships(tables: &[Table]) -> Vec<Relationship> {
    let mut v = vec![
        rel("account_primary_contact", "account", "primarycontactid", "contact", "primarycontactid"),
        rel("account_parent_account", "account", "parentaccountid", "account", "parentaccountid"),
        rel("contact_customer_accounts", "contact", "parentcustomerid", "account", "parentcustomerid_account"),
        rel("contact_customer_contacts", "contact", "parentcustomerid", "contact", "parentcustomerid_contact"),
        rel("lead_parent_account", "lead", "parentaccountid", "account", "parentaccountid"),
        rel("lead_parent_contact", "lead", "parentcontactid", "contact", "parentcontactid"),
        rel("lead_customer_accounts", "lead", "customerid", "account", "customerid_account"),
        rel("lead_customer_contacts", "lead", "customerid", "contact", "customerid_contact"),
        rel("lead_qualifying_opportunity", "lead", "qualifyingopportunityid", "opportunity", "qualifyingopportunityid"),
        rel("opportunity_customer_accounts", "opportunity", "customerid", "account", "customerid_account"),
        rel("opportunity_customer_contacts", "opportunity", "customerid", "contact", "customerid_contact"),
        rel("opportunity_parent_account", "opportunity", "parentaccountid", "account", "parentaccountid"),
        rel("opportunity_parent_contact", "opportunity", "parentcontactid", "contact", "parentcontactid"),
        rel("opportunity_originating_lead", "opportunity", "originatingleadid", "lead", "originatingleadid"),
        rel("incident_customer_accounts", "incident", "customerid", "account", "customerid_account"),
        rel("incident_customer_contacts", "incident", "customerid", "contact", "customerid_contact"),
        rel("contact_as_primary_contact", "incident", "primarycontactid", "contact", "primarycontactid"),
        rel("incident_parent_incident", "incident", "parentcaseid", "incident", "parentcaseid"),
        rel("business_unit_system_users", "systemuser", "businessunitid", "businessunit", "businessunitid"),
        rel("user_parent_systemuser", "systemuser", "parentsystemuserid", "systemuser", "parentsystemuserid"),
        rel("business_unit_teams", "team", "businessunitid", "businessunit", "businessunitid"),
        rel("lk_teambase_administratorid", "team", "administratorid", "systemuser", "administratorid"),
        rel(
            "business_unit_parent_business_unit",
            "businessunit",
            "parentbusinessunitid",
            "businessunit",
            "parentbusinessunitid",
        ),
    ];
    v.extend(activities::relationships());
    for t in tables {
        let (l, s) = (t.logical_name.as_str(), t.set_name.as_str());
        v.push(rel(&format!("lk_{l}_createdby"), l, "createdby", "systemuser", "createdby"));
        v.push(rel(&format!("lk_{l}_modifiedby"), l, "modifiedby", "systemuser", "modifiedby"));
        if t.ownership == Ownership::UserOwned {
            v.push(rel(&format!("user_{s}"), l, "owninguser", "systemuser", "owninguser"));
            v.push(rel(&format!("team_{s}"), l, "owningteam", "team", "owningteam"));
            v.push(rel(&format!("business_unit_{s}"), l, "owningbusinessunit", "businessunit", "owningbusinessunit"));
        }
        if t.column("transactioncurrencyid").is_some_and(|c| c.is_lookup()) {
            v.push(rel(
                &format!("TransactionCurrency_{}", t.schema_name),
                l,
                "transactioncurrencyid",
                "transactioncurrency",
                "transactioncurrencyid",
            ));
        }
    }
    v
}

fn n_to_n(schema: &str, intersect: &str, (t1, c1): (&str, &str), (t2, c2): (&str, &str)) -> ManyToMany {
    ManyToMany {
        schema_name: schema.into(),
        intersect: intersect.into(),
        entity1: t1.into(),
        entity1_column: c1.into(),
        entity1_nav: schema.into(),
        entity2: t2.into(),
        entity2_column: c2.into(),
        entity2_nav: schema.into(),
    }
}

/// The system N:N relationships among the standard tables, with Dataverse's names: both
/// sides' navigation properties carry the relationship's schema name (Microsoft's table
/// reference for the intersect tables `accountleads`, `contactleads`, `teammembership`).
fn many_to_many() -> Vec<ManyToMany> {
    vec![
        n_to_n("accountleads_association", "accountleads", ("account", "accountid"), ("lead", "leadid")),
        n_to_n("contactleads_association", "contactleads", ("contact", "contactid"), ("lead", "leadid")),
        n_to_n("teammembership_association", "teammembership", ("systemuser", "systemuserid"), ("team", "teamid")),
    ]
}

pub(super) fn schema() -> Schema {
    // Real orgs define no alternate keys by default; the sample schema ships the two most
    // commonly added ones so clients' alternate-key calls can be exercised (issue: queries).
    let tables = vec![
        with_key(account(), "accountnumber_key", &["accountnumber"]),
        with_key(contact(), "emailaddress1_key", &["emailaddress1"]),
        lead(),
        opportunity(),
        incident(),
        systemuser(),
        team(),
        businessunit(),
        transactioncurrency(),
        activities::task(),
        activities::annotation(),
        activities::opportunityclose(),
        activities::incidentresolution(),
    ];
    let rels = relationships(&tables);
    // The definitions above are static and covered by `standard_schema_is_consistent`.
    Schema::with_many_to_many(tables, rels, many_to_many()).expect("standard schema is consistent")
}
