//! Deterministic sample CRM data (`--seed N`): 25 accounts, 40 contacts (most belonging to an
//! account through `parentcustomerid`), 15 leads, 12 opportunities (customer = an account) and
//! 10 cases (customer = an account or a contact), 12 tasks (regarding an account or a contact,
//! a quarter of them completed) and 3 notes on accounts. Names are Microsoft's fictional sample
//! companies; phone numbers use the reserved 555-01xx range. Same seed, same ids and values.
//! Tasks and notes are drawn after every other row, so adding them left the earlier rows as
//! they were.

use super::{Ids, Rng, SystemIds};
use crate::rows::Cell;
use crate::write::{self, Cells, WriteCtx, set_lookup};
use dataverse::Schema;
use dataverse::error::DataverseError;
use dataverse::metadata::Table;
use sqlx::SqliteConnection;
use uuid::Uuid;

const COMPANIES: &[&str] = &[
    "Contoso Pharmaceuticals",
    "Fabrikam, Inc.",
    "Northwind Traders",
    "Adventure Works Cycles",
    "Tailspin Toys",
    "Wingtip Toys",
    "Litware, Inc.",
    "Proseware, Inc.",
    "Fourth Coffee",
    "Alpine Ski House",
    "Blue Yonder Airlines",
    "Coho Winery",
    "Lucerne Publishing",
    "Margie's Travel",
    "Trey Research",
    "Wide World Importers",
    "Woodgrove Bank",
    "Humongous Insurance",
    "Graphic Design Institute",
    "City Power & Light",
    "Consolidated Messenger",
    "Southridge Video",
    "Relecloud",
    "VanArsdel, Ltd.",
    "A. Datum Corporation",
    "Best For You Organics",
    "Munson's Pickles and Preserves",
    "Nod Publishers",
    "Lamna Healthcare",
    "Bellows College",
];
const LEAD_COMPANIES: &[&str] = &[
    "Tailwind Traders",
    "Northwind Health",
    "Contoso Electronics",
    "First Up Consultants",
    "Boulder Innovations",
    "Fincher Architects",
    "Liberty's Delightful Sinful Bakery",
    "Hanover Wood Works",
    "School of Fine Art",
    "Baldwin Museum of Science",
];
/// (city, state, area code)
const CITIES: &[(&str, &str, &str)] = &[
    ("Seattle", "WA", "206"),
    ("Redmond", "WA", "425"),
    ("Portland", "OR", "503"),
    ("San Francisco", "CA", "415"),
    ("Chicago", "IL", "312"),
    ("New York", "NY", "212"),
    ("Boston", "MA", "617"),
    ("Austin", "TX", "512"),
    ("Denver", "CO", "303"),
    ("Atlanta", "GA", "404"),
];
const FIRST: &[&str] = &[
    "Nancy", "Andrew", "Janet", "Margaret", "Steven", "Michael", "Robert", "Laura", "Anne", "Maria", "Yvonne",
    "Susanna", "Rene", "Paul", "Scott", "Alex", "Jordan", "Priya", "Wei", "Fatima", "Diego", "Hana", "Olga", "Samuel",
];
const LAST: &[&str] = &[
    "Davolio",
    "Fuller",
    "Leverling",
    "Peacock",
    "Buchanan",
    "Suyama",
    "King",
    "Callahan",
    "Dodsworth",
    "Anders",
    "McKay",
    "Valdez",
    "Brown",
    "Cannon",
    "Wright",
    "Kim",
    "Patel",
    "Chen",
    "Haddad",
    "Ramirez",
    "Sato",
    "Ivanova",
];
const JOBS: &[&str] = &[
    "Purchasing Manager",
    "Sales Representative",
    "Chief Financial Officer",
    "IT Director",
    "Operations Lead",
    "Marketing Coordinator",
    "Office Manager",
    "Procurement Specialist",
];
const PRODUCTS: &[&str] = &[
    "Laptops",
    "Office Chairs",
    "Espresso Machines",
    "Cloud Storage Plans",
    "Support Contracts",
    "Bicycles",
    "Printers",
    "Monitors",
];
const STEPS: &[&str] = &["1-Qualify", "2-Develop", "3-Propose", "4-Close"];
const CASES: &[&str] = &[
    "Printer does not connect to the network",
    "Invoice shows the wrong quantity",
    "Delivery arrived damaged",
    "Cannot sign in to the customer portal",
    "Request for an extended warranty",
    "Espresso machine leaks water",
    "Question about volume discounts",
    "Monitor flickers after update",
    "Missing parts in shipment",
    "Billing address change",
];
const TASKS: &[&str] = &[
    "Send the revised quote",
    "Schedule a product demo",
    "Follow up on the invoice",
    "Confirm the delivery date",
    "Call about the renewal",
    "Prepare the onboarding checklist",
    "Collect feedback on the trial",
    "Review the service contract",
];
/// (subject, text) of the sample notes.
const NOTES: &[(&str, &str)] = &[
    ("Meeting summary", "Discussed volume pricing and a pilot with two departments."),
    ("Credit check", "Payment history is good; no change to the credit limit."),
    ("Preferred contact hours", "Prefers calls before noon, Pacific time."),
];

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn money(units: i64) -> Cell {
    Cell::Int(units.saturating_mul(10_000))
}

fn domain(company: &str) -> String {
    let word: String =
        company.split_whitespace().next().unwrap_or("example").chars().filter(char::is_ascii_alphanumeric).collect();
    format!("{}.example.com", word.to_ascii_lowercase())
}

fn phone(rng: &mut Rng, area: &str) -> String {
    format!("{area}-555-01{:02}", rng.below(100))
}

struct Account {
    id: Uuid,
    name: &'static str,
    city: (&'static str, &'static str, &'static str),
}

pub(super) async fn load(
    conn: &mut SqliteConnection,
    schema: &Schema,
    sys: &SystemIds,
    owner: Uuid,
    seed: u64,
) -> Result<(), DataverseError> {
    let mut rng = Rng::new(seed);
    let mut ids = Ids::Seeded(Rng::new(seed.wrapping_add(0x0053_414D_504C_4531)));
    let ctx = WriteCtx { caller: owner, ids: sys, now: crate::rows::now_text() };
    let table = |name: &str| schema.table(name).ok_or_else(|| DataverseError::bad_request(format!("no table {name}")));

    let mut names: Vec<&'static str> = COMPANIES.to_vec();
    for i in (1..names.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        names.swap(i, j);
    }
    let account_table = table("account")?;
    let mut accounts = Vec::new();
    for (i, name) in names.into_iter().take(25).enumerate() {
        let city = *rng.pick(CITIES);
        let revenue = rng.range(100, 250_000) * 1000;
        let cells: Cells = vec![
            ("name".into(), text(name)),
            ("accountnumber".into(), text(format!("ACC-{:05}", 10_001 + i))),
            ("telephone1".into(), text(phone(&mut rng, city.2))),
            ("emailaddress1".into(), text(format!("info@{}", domain(name)))),
            ("websiteurl".into(), text(format!("https://www.{}", domain(name)))),
            ("address1_city".into(), text(city.0)),
            ("address1_stateorprovince".into(), text(city.1)),
            ("address1_country".into(), text("United States")),
            ("revenue".into(), money(revenue)),
            ("numberofemployees".into(), Cell::Int(rng.range(5, 25_000))),
            ("industrycode".into(), Cell::Int(rng.range(1, 33))),
            ("accountcategorycode".into(), Cell::Int(rng.range(1, 2))),
            ("customertypecode".into(), Cell::Int(3)),
            ("creditonhold".into(), Cell::Int(i64::from(rng.below(10) == 0))),
        ];
        let account = Account { id: ids.next(), name, city };
        write::insert(conn, &ctx, account_table, account.id, cells).await?;
        accounts.push(account);
    }

    let contact_table = table("contact")?;
    let mut contacts = Vec::new();
    // `emailaddress1` is the contact alternate key: a repeated name gets a numbered address
    // (no random draw, so the rest of the data does not depend on it).
    let mut emails = std::collections::HashSet::new();
    for _ in 0..40 {
        let (first, last) = (*rng.pick(FIRST), *rng.pick(LAST));
        let employer =
            if rng.below(4) == 0 { None } else { Some(&accounts[rng.below(accounts.len() as u64) as usize]) };
        let city = employer.map_or_else(|| *rng.pick(CITIES), |a| a.city);
        let mail_domain = employer.map_or_else(|| "example.com".to_owned(), |a| domain(a.name));
        let local = format!("{}.{}", first.to_ascii_lowercase(), last.to_ascii_lowercase());
        let mut email = format!("{local}@{mail_domain}");
        for n in 2.. {
            if emails.insert(email.clone()) {
                break;
            }
            email = format!("{local}{n}@{mail_domain}");
        }
        let mut cells: Cells = vec![
            ("firstname".into(), text(first)),
            ("lastname".into(), text(last)),
            ("emailaddress1".into(), text(email)),
            ("telephone1".into(), text(phone(&mut rng, city.2))),
            ("jobtitle".into(), text(*rng.pick(JOBS))),
            ("address1_city".into(), text(city.0)),
            ("preferredcontactmethodcode".into(), Cell::Int(rng.range(1, 5))),
        ];
        if let Some(a) = employer {
            set_lookup(contact_table, &mut cells, "parentcustomerid", a.id, "account");
        }
        let id = ids.next();
        write::insert(conn, &ctx, contact_table, id, cells).await?;
        contacts.push(id);
    }

    let lead_table = table("lead")?;
    for _ in 0..15 {
        let (first, last, company) = (*rng.pick(FIRST), *rng.pick(LAST), *rng.pick(LEAD_COMPANIES));
        let cells: Cells = vec![
            ("subject".into(), text(format!("Interested in {}", rng.pick(PRODUCTS).to_ascii_lowercase()))),
            ("firstname".into(), text(first)),
            ("lastname".into(), text(last)),
            ("companyname".into(), text(company)),
            ("emailaddress1".into(), text(format!("{}@{}", first.to_ascii_lowercase(), domain(company)))),
            ("leadsourcecode".into(), Cell::Int(rng.range(1, 10))),
            ("leadqualitycode".into(), Cell::Int(rng.range(1, 3))),
            ("industrycode".into(), Cell::Int(rng.range(1, 33))),
            ("estimatedvalue".into(), money(rng.range(5, 500) * 100)),
        ];
        write::insert(conn, &ctx, lead_table, ids.next(), cells).await?;
    }

    let opportunity_table = table("opportunity")?;
    for _ in 0..12 {
        let account = &accounts[rng.below(accounts.len() as u64) as usize];
        let quantity = *rng.pick(&[10, 25, 50, 100, 250]);
        let mut cells: Cells = vec![
            ("name".into(), text(format!("{quantity} {}", rng.pick(PRODUCTS)))),
            ("estimatedvalue".into(), money(rng.range(10, 900) * 1000)),
            ("estimatedclosedate".into(), text(format!("2026-{:02}-{:02}", rng.range(1, 12), rng.range(1, 28)))),
            ("closeprobability".into(), Cell::Int(rng.range(1, 9) * 10)),
            ("opportunityratingcode".into(), Cell::Int(rng.range(1, 3))),
            ("purchasetimeframe".into(), Cell::Int(rng.range(0, 4))),
            ("stepname".into(), text(*rng.pick(STEPS))),
        ];
        set_lookup(opportunity_table, &mut cells, "customerid", account.id, "account");
        set_lookup(opportunity_table, &mut cells, "parentaccountid", account.id, "account");
        write::insert(conn, &ctx, opportunity_table, ids.next(), cells).await?;
    }

    let incident_table = table("incident")?;
    for title in CASES {
        let mut cells: Cells = vec![
            ("title".into(), text(*title)),
            ("caseorigincode".into(), Cell::Int(rng.range(1, 3))),
            ("casetypecode".into(), Cell::Int(rng.range(1, 3))),
            ("prioritycode".into(), Cell::Int(rng.range(1, 3))),
        ];
        customer(incident_table, &mut cells, &mut rng, &accounts, &contacts);
        write::insert(conn, &ctx, incident_table, ids.next(), cells).await?;
    }

    let task_table = table("task")?;
    for _ in 0..12 {
        let (month, day) = (rng.range(1, 12), rng.range(1, 28));
        let mut cells: Cells = vec![
            ("subject".into(), text(*rng.pick(TASKS))),
            ("prioritycode".into(), Cell::Int(rng.range(0, 2))),
            ("scheduledend".into(), text(format!("2026-{month:02}-{day:02}T17:00:00Z"))),
        ];
        if rng.below(4) == 0 {
            cells.push(("statecode".into(), Cell::Int(1)));
            cells.push(("percentcomplete".into(), Cell::Int(100)));
            cells.push(("actualdurationminutes".into(), Cell::Int(rng.range(1, 12) * 15)));
        } else {
            cells.push(("percentcomplete".into(), Cell::Int(rng.range(0, 4) * 25)));
        }
        regarding(task_table, &mut cells, &mut rng, &accounts, &contacts);
        write::insert(conn, &ctx, task_table, ids.next(), cells).await?;
    }

    let note_table = table("annotation")?;
    for (subject, body) in NOTES {
        let account = &accounts[rng.below(accounts.len() as u64) as usize];
        let mut cells: Cells = vec![
            ("subject".into(), text(*subject)),
            ("notetext".into(), text(*body)),
            ("isdocument".into(), Cell::Int(0)),
        ];
        set_lookup(note_table, &mut cells, "objectid", account.id, "account");
        write::insert(conn, &ctx, note_table, ids.next(), cells).await?;
    }
    Ok(())
}

/// A task's `regardingobjectid`: an account two times in three, else a contact.
fn regarding(table: &Table, cells: &mut Cells, rng: &mut Rng, accounts: &[Account], contacts: &[Uuid]) {
    if rng.below(3) < 2 || contacts.is_empty() {
        if let Some(a) = accounts.get(rng.below(accounts.len() as u64) as usize) {
            set_lookup(table, cells, "regardingobjectid", a.id, "account");
        }
    } else if let Some(c) = contacts.get(rng.below(contacts.len() as u64) as usize) {
        set_lookup(table, cells, "regardingobjectid", *c, "contact");
    }
}

fn customer(table: &Table, cells: &mut Cells, rng: &mut Rng, accounts: &[Account], contacts: &[Uuid]) {
    if rng.below(5) < 3 || contacts.is_empty() {
        if let Some(a) = accounts.get(rng.below(accounts.len() as u64) as usize) {
            set_lookup(table, cells, "customerid", a.id, "account");
        }
    } else if let Some(c) = contacts.get(rng.below(contacts.len() as u64) as usize) {
        set_lookup(table, cells, "customerid", *c, "contact");
    }
}
