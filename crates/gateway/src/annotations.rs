//! Instance annotations (design §4): the agent gets only the annotations it asked for, and a
//! lookup's display name (`_x_value@OData.Community.Display.V1.FormattedValue`, the referenced
//! row's primary name) only when it can read the table named by that row's
//! `lookuplogicalname` and that table's primary name is not hidden from it. To apply the rule
//! the gateway asks upstream for `Microsoft.Dynamics.CRM.lookuplogicalname` whenever the agent
//! asked for formatted values, and strips it again if the agent did not ask for it.

use dataverse::Schema;
use dataverse::json::{Object, Value};
use policy::{AgentPolicy, Level};

const FORMATTED: &str = "OData.Community.Display.V1.FormattedValue";
const LOGICAL_NAME: &str = "Microsoft.Dynamics.CRM.lookuplogicalname";

/// Whether an annotation name matches one of the requested names or patterns (`*`, `A.B.*`).
pub(crate) fn requested(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|p| {
        p == "*"
            || p == name
            || p.strip_suffix('*').is_some_and(|prefix| prefix.ends_with('.') && name.starts_with(prefix))
    })
}

/// The upstream list for a client's list: adds `lookuplogicalname` when formatted values are
/// asked for without it.
pub(crate) fn upstream_list(client: &[String]) -> Vec<String> {
    let mut list = client.to_vec();
    if requested(client, FORMATTED) && !requested(client, LOGICAL_NAME) {
        list.push(LOGICAL_NAME.to_owned());
    }
    list
}

/// Applies the rules to a response body at every depth.
pub(crate) fn filter(schema: &Schema, policy: &AgentPolicy, client: &[String], value: &mut Value) {
    match value {
        Value::Object(o) => filter_object(schema, policy, client, o),
        Value::Array(items) => items.iter_mut().for_each(|v| filter(schema, policy, client, v)),
        _ => {}
    }
}

fn filter_object(schema: &Schema, policy: &AgentPolicy, client: &[String], o: &mut Object) {
    // Decided on the object as it is, then removed in one pass.
    let keep: Vec<bool> = o
        .iter()
        .map(|(key, _)| {
            let Some((property, annotation)) = key.split_once('@') else { return true };
            if annotation.starts_with("odata.") {
                return true;
            }
            if !requested(client, annotation) {
                return false;
            }
            if annotation == FORMATTED && property.starts_with('_') && property.ends_with("_value") {
                let target = o.get(&format!("{property}@{LOGICAL_NAME}")).and_then(Value::as_str);
                return target.is_some_and(|t| {
                    policy.level(t) >= Level::Read
                        && schema.table(t).is_some_and(|tb| !policy.is_hidden(t, &tb.primary_name))
                });
            }
            true
        })
        .collect();
    let mut keep = keep.into_iter();
    o.retain(|_, v| {
        let kept = keep.next().unwrap_or(true);
        if kept {
            filter(schema, policy, client, v);
        }
        kept
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy::TableGrant;

    fn policy(tables: &[(&str, Level)]) -> AgentPolicy {
        let mut p = AgentPolicy::default();
        for (t, level) in tables {
            p.tables.insert((*t).to_owned(), TableGrant { level: *level, delete: false });
        }
        p
    }

    fn row() -> Value {
        dataverse::json::parse(
            br#"{"@odata.etag":"W/\"1\"","_parentcustomerid_value@OData.Community.Display.V1.FormattedValue":"Contoso","_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname":"account","_parentcustomerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty":"parentcustomerid_account","_parentcustomerid_value":"00000000-0000-0000-0000-000000000001","gendercode@OData.Community.Display.V1.FormattedValue":"Male","gendercode":1}"#,
        )
        .unwrap()
    }

    #[test]
    fn lookup_names_only_for_readable_tables() {
        let schema = Schema::standard();
        let asked = vec![FORMATTED.to_owned()];
        assert_eq!(upstream_list(&asked), vec![FORMATTED.to_owned(), LOGICAL_NAME.to_owned()]);
        let mut v = row();
        filter(&schema, &policy(&[("contact", Level::Read)]), &asked, &mut v);
        let o = v.as_object().unwrap();
        assert!(o.get("_parentcustomerid_value@OData.Community.Display.V1.FormattedValue").is_none(), "{v}");
        assert!(o.get("_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname").is_none(), "not asked: {v}");
        assert_eq!(o.get("gendercode@OData.Community.Display.V1.FormattedValue").and_then(Value::as_str), Some("Male"));
        assert!(o.get("@odata.etag").is_some());

        let mut v = row();
        filter(&schema, &policy(&[("contact", Level::Read), ("account", Level::Read)]), &asked, &mut v);
        let name = v.as_object().unwrap().get("_parentcustomerid_value@OData.Community.Display.V1.FormattedValue");
        assert_eq!(name.and_then(Value::as_str), Some("Contoso"));
    }

    #[test]
    fn hiding_a_primary_name_hides_lookup_names_to_that_table() {
        let schema = Schema::standard();
        let mut p = policy(&[("contact", Level::Read), ("account", Level::Read)]);
        p.hidden.entry("account".into()).or_default().insert("name".into());
        let asked = vec!["*".to_owned()];
        let mut v = row();
        filter(&schema, &p, &asked, &mut v);
        let o = v.as_object().unwrap();
        assert!(o.get("_parentcustomerid_value@OData.Community.Display.V1.FormattedValue").is_none());
        assert!(o.get("_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname").is_some());
    }

    #[test]
    fn patterns() {
        let p = vec!["Microsoft.Dynamics.CRM.*".to_owned()];
        assert!(requested(&p, LOGICAL_NAME));
        assert!(!requested(&p, FORMATTED));
        assert!(!requested(&["Microsoft.Dynamics.CRM*".to_owned()], LOGICAL_NAME));
    }
}
