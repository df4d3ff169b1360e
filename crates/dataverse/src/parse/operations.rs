//! Routing of functions and actions (the catalog's, and the org's custom APIs) and of change
//! tracking: which typed operation a request to `/{Operation}` or with `odata.track-changes`
//! becomes. The bodies and parameters themselves are read in [`super::message`].

use super::{NS, ParseError, Route, Routed, message};
use crate::metadata::Table;
use crate::request::{Message, Method, Operation, RequestKind, RowKey};

impl Route<'_> {
    /// An unbound function or action, or an unknown segment.
    pub(super) fn operation_route(&self, name: &str, key: Option<&str>) -> Result<Operation, Routed> {
        let op = name.strip_prefix(NS).unwrap_or(name);
        let looks_like_operation = op.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            || key.is_some()
            || self.schema.operation(op).is_some();
        if !looks_like_operation || self.segments.len() > 1 || op.is_empty() {
            return Err(ParseError::NotFound(format!("Resource not found for the segment '{name}'.")).into());
        }
        match (self.method, op) {
            (Method::Get, "WhoAmI") if key.is_none_or(str::is_empty) => {
                self.options.only(&[], "WhoAmI")?;
                Ok(Operation::WhoAmI)
            }
            (Method::Get, "RetrieveTotalRecordCount") if name == op => {
                self.options.only(&["@aliases"], "RetrieveTotalRecordCount")?;
                self.check_prefer(&[])?;
                let inner = key.unwrap_or("");
                let message = message::total_record_count(self.schema, inner, &self.options.aliases())?;
                Ok(Operation::Message(message))
            }
            (Method::Post, "GrantAccess" | "ModifyAccess" | "RevokeAccess") if key.is_none() && name == op => {
                self.options.only(&[], op)?;
                self.check_prefer(&[])?;
                let kind = match op {
                    "GrantAccess" => crate::request::ShareKind::Grant,
                    "ModifyAccess" => crate::request::ShareKind::Modify,
                    _ => crate::request::ShareKind::Revoke,
                };
                Ok(Operation::Message(message::share(self.schema, self.body, kind)?))
            }
            (Method::Post, "Merge") if key.is_none() && name == op => {
                self.options.only(&[], op)?;
                self.check_prefer(&[])?;
                Ok(Operation::Message(message::merge(self.schema, self.body)?))
            }
            (Method::Post, "BulkDelete") if key.is_none() && name == op => {
                self.options.only(&[], op)?;
                self.check_prefer(&[])?;
                match message::bulk_delete(self.schema, self.body) {
                    Err(ParseError::Unsupported(reason)) => self.unsupported(RequestKind::UnboundAction, reason),
                    other => Ok(Operation::Message(other?)),
                }
            }
            (Method::Post, "WinOpportunity" | "LoseOpportunity" | "CloseIncident") if key.is_none() && name == op => {
                self.options.only(&[], op)?;
                self.check_prefer(&[])?;
                let which = match op {
                    "WinOpportunity" => message::Closing::Win,
                    "LoseOpportunity" => message::Closing::Lose,
                    _ => message::Closing::Incident,
                };
                Ok(Operation::Message(message::closing(self.schema, self.body, which)?))
            }
            (Method::Get | Method::Post, _)
                if self
                    .schema
                    .operation(op)
                    .is_some_and(|o| o.bound.is_none() && o.function == (self.method == Method::Get)) =>
            {
                if key.is_some_and(|k| !k.is_empty()) {
                    return self.unsupported(
                        RequestKind::UnboundFunction,
                        format!("parameters of the custom function {op} are not supported yet"),
                    );
                }
                self.custom(op, None)
            }
            (Method::Get, _) => {
                self.unsupported(RequestKind::UnboundFunction, format!("the function {op} is not supported yet"))
            }
            (Method::Post, _) if key.is_none() => {
                self.unsupported(RequestKind::UnboundAction, format!("the action {op} is not supported yet"))
            }
            _ => self.not_allowed(&format!("the operation {op}")),
        }
    }

    /// A custom API or custom process action of the org (`Schema::operation`): its body kept as
    /// a JSON object for forwarding; what it touches comes from the admin's declaration.
    pub(super) fn custom(&self, name: &str, bound: Option<(String, RowKey)>) -> Result<Operation, Routed> {
        let function = self.schema.operation(name).is_some_and(|o| o.function);
        let kind = match (function, bound.is_some()) {
            (true, false) => RequestKind::UnboundFunction,
            (true, true) => RequestKind::BoundFunction,
            (false, false) => RequestKind::UnboundAction,
            (false, true) => RequestKind::BoundAction,
        };
        self.refuse_unsupported_options(kind)?;
        self.options.only(&[], name)?;
        self.check_prefer(&[])?;
        let parameters = if function || self.body.iter().all(u8::is_ascii_whitespace) {
            crate::json::Object::default()
        } else {
            match crate::json::parse(self.body) {
                Ok(crate::json::Value::Object(o)) => o,
                Ok(_) => {
                    return Err(ParseError::Payload {
                        code: crate::error::codes::PAYLOAD_ERROR,
                        message: format!("The body of {name} must be a JSON object of its parameters"),
                    }
                    .into());
                }
                Err(e) => {
                    return Err(ParseError::Payload {
                        code: crate::error::codes::PAYLOAD_ERROR,
                        message: format!("The request body is not valid JSON: {e}"),
                    }
                    .into());
                }
            }
        };
        Ok(Operation::Message(Message::Custom { name: name.to_owned(), function, bound, parameters, declared: None }))
    }

    /// Change tracking (spec §9): `Prefer: odata.track-changes` for the first sync, then the
    /// delta link's `$deltatoken`. Only `$select` may go with it, as Dataverse requires.
    pub(super) fn changes(&self, table: &Table) -> Result<Operation, Routed> {
        for option in ["$filter", "$orderby", "$expand", "$top"] {
            if self.options.has(option) {
                return Err(ParseError::Syntax(format!(
                    "The \"{option}\" query parameter isn't supported when Change Tracking is enabled."
                ))
                .into());
            }
        }
        self.refuse_unsupported_options(RequestKind::ChangeTracking)?;
        self.check_prefer(&["maxpagesize"])?;
        self.options.only(&["$select", "$deltatoken"], "change tracking")?;
        Ok(Operation::Changes {
            table: table.logical_name.clone(),
            select: self.options.select(table)?,
            token: self.options.deltatoken()?,
        })
    }

    /// `/{set}/Microsoft.Dynamics.CRM.{Operation}` (collection-bound, `key` `None`) or
    /// `/{set}({key})/Microsoft.Dynamics.CRM.{Operation}`: the catalog's bound messages and the
    /// org's bound custom APIs; anything else is recognised and refused as not supported.
    pub(super) fn bound_message(&self, table: &Table, key: Option<RowKey>, op: &str) -> Result<Operation, Routed> {
        let name = op.strip_prefix(NS).unwrap_or(op);
        let custom = self.schema.operation(name).is_some_and(|o| {
            o.bound.as_deref() == Some(table.logical_name.as_str()) && o.function == (self.method == Method::Get)
        });
        match (key, self.method) {
            (None, Method::Post) if matches!(name, "CreateMultiple" | "UpdateMultiple" | "UpsertMultiple") => {
                self.options.only(&[], name)?;
                self.check_prefer(&[])?;
                Ok(Operation::Message(message::multiple(self.schema, table, self.body, name)?))
            }
            (Some(key), Method::Get)
                if table.logical_name == "systemuser"
                    && (name.starts_with("RetrieveUserPrivileges") || name.starts_with("RetrievePrincipalAccess(")) =>
            {
                self.options.only(&["@aliases"], "a function")?;
                self.check_prefer(&[])?;
                let RowKey::Id(user) = key else {
                    return Err(ParseError::Syntax("the user is addressed by id".into()).into());
                };
                let (function, inner) = super::split_key(name)?;
                match (function, inner) {
                    ("RetrieveUserPrivileges", None | Some("")) => {
                        Ok(Operation::Message(Message::RetrieveUserPrivileges { user }))
                    }
                    ("RetrievePrincipalAccess", Some(inner)) => Ok(Operation::Message(message::principal_access(
                        self.schema,
                        user,
                        inner,
                        &self.options.aliases(),
                    )?)),
                    _ => Err(ParseError::Syntax(format!("'{function}' takes other parameters")).into()),
                }
            }
            (Some(key), Method::Post) if table.logical_name == "lead" && name == "QualifyLead" => {
                self.options.only(&[], "QualifyLead")?;
                self.check_prefer(&[])?;
                let RowKey::Id(id) = key else {
                    return Err(ParseError::Syntax("QualifyLead addresses its lead by id".into()).into());
                };
                match message::qualify_lead(self.schema, id, self.body) {
                    Err(ParseError::Unsupported(reason)) => self.unsupported(RequestKind::BoundAction, reason),
                    other => Ok(Operation::Message(other?)),
                }
            }
            (Some(key), _) if custom => self.custom(name, Some((table.logical_name.clone(), key))),
            _ => self.bound_operation(op),
        }
    }
}
