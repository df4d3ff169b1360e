//! `$filter` (spec §3.2): comparisons, `and`/`or`/`not`, parentheses, literals of every column
//! type, `contains`/`startswith`/`endswith`, navigation paths through single-valued navigation
//! properties, `any`/`all` lambdas with range variables, the `Microsoft.Dynamics.CRM.*` query
//! functions (§3.2.1) and parameter aliases (§3.5, substituted before parsing). Text functions
//! on a related column are reported as not supported yet; anything else malformed is a syntax
//! error with its position. Arithmetic and other OData functions are refused as Dataverse does.

mod lex;
mod types;

use super::ParseError;
use crate::metadata::{Column, ColumnType, Navigation, Schema, Table};
use crate::query::{CompareOp, Filter, FunctionArgs, Hop, Literal, Operand, QueryFunction, TextFunction};
use lex::{Tok, lex, substitute_aliases};
pub(crate) use lex::{is_date, is_datetime, parse_literal};
pub(crate) use types::literal_fits;
use types::{accepts, family, literal_type, unreachable_scope};

/// Why a `$filter` could not be turned into a [`Filter`].
#[derive(Debug)]
pub(crate) enum FilterError {
    /// Malformed, or not valid for the table: 400.
    Syntax(String),
}

impl From<FilterError> for ParseError {
    fn from(e: FilterError) -> Self {
        match e {
            FilterError::Syntax(m) => ParseError::Syntax(m),
        }
    }
}

const MAX_FILTER_DEPTH: usize = 32;

pub(crate) fn parse_filter<'t>(
    text: &'t str,
    schema: &Schema,
    table: &Table,
    aliases: &[(&'t str, &'t str)],
) -> Result<Filter, FilterError> {
    let toks = substitute_aliases(lex(text)?, aliases)?;
    let mut p = Parser { toks, pos: 0, schema, scopes: vec![(None, table)], depth: 0 };
    let f = p.or_expr()?;
    if p.pos < p.toks.len() {
        return Err(p.syntax("unexpected text after the end of the expression"));
    }
    Ok(f)
}

struct Parser<'a, 't> {
    toks: Vec<(usize, Tok<'t>)>,
    pos: usize,
    schema: &'a Schema,
    /// Range variables in scope and their tables; the first is the query's table.
    scopes: Vec<(Option<String>, &'a Table)>,
    depth: usize,
}

/// Most navigation hops in one path.
pub(crate) const MAX_HOPS: usize = 5;

/// Why a name is not a single-valued navigation property of a table.
pub(crate) enum HopError {
    /// It is collection-valued (the message says how to use it).
    Collection(String),
    /// The table has no such navigation property (Dataverse's message).
    Unknown(String),
}

/// Follows the single-valued navigation property `name` of `table`: the hop and the table
/// reached. Shared by `$filter` and `$orderby` paths.
pub(crate) fn single_hop<'s>(schema: &'s Schema, table: &Table, name: &str) -> Result<(Hop, &'s Table), HopError> {
    match schema.navigation(&table.logical_name, name) {
        Some(Navigation::Single { column, target, .. }) => {
            let reached = schema.table(target).ok_or_else(|| {
                HopError::Unknown(format!("The navigation property '{name}' leads to an unknown table '{target}'."))
            })?;
            Ok((Hop { navigation: name.to_owned(), column: column.to_owned(), table: target.to_owned() }, reached))
        }
        Some(Navigation::Collection { .. } | Navigation::Many { .. }) => Err(HopError::Collection(format!(
            "'{name}' is collection-valued: use {name}/any(x: …) or {name}/all(x: …)"
        ))),
        None => Err(HopError::Unknown(format!(
            "Could not find a navigation property named '{name}' on type 'Microsoft.Dynamics.CRM.{}'.",
            table.logical_name
        ))),
    }
}

/// A member path: hops through single-valued navigation properties, then a column.
struct Path<'a> {
    hops: Vec<Hop>,
    column: &'a Column,
}

impl<'a, 't> Parser<'a, 't> {
    fn peek(&self) -> Option<&Tok<'t>> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn peek_at(&self, n: usize) -> Option<&Tok<'t>> {
        self.toks.get(self.pos + n).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(usize::MAX, |(p, _)| *p)
    }

    fn syntax(&self, what: &str) -> FilterError {
        match self.at() {
            usize::MAX => FilterError::Syntax(format!("Syntax error in $filter: {what} at the end of the expression")),
            p => FilterError::Syntax(format!("Syntax error in $filter: {what} at position {p}")),
        }
    }

    fn keyword(&mut self, k: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(w)) if *w == k) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: &Tok, what: &str) -> Result<(), FilterError> {
        if self.peek() == Some(t) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax(&format!("expected {what}")))
        }
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(self.syntax("the expression is nested too deeply"));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.and_expr()?;
        while self.keyword("or") {
            let right = self.and_expr()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        self.enter()?;
        let result = if self.keyword("not") {
            match self.unary() {
                Ok(Filter::Function { .. }) => Err(FilterError::Syntax(
                    "Not operator along with the Custom Named Condition operators is not allowed".into(),
                )),
                other => other.map(|f| Filter::Not(Box::new(f))),
            }
        } else if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            let inner = self.or_expr()?;
            self.expect(&Tok::Close, "')'")?;
            Ok(inner)
        } else {
            self.predicate()
        };
        self.depth -= 1;
        result
    }

    /// The table of the innermost scope.
    fn table(&self) -> &'a Table {
        self.scopes.last().map_or_else(|| unreachable_scope(), |(_, t)| *t)
    }

    fn predicate(&mut self) -> Result<Filter, FilterError> {
        if let (Some(Tok::Ident(name)), Some(Tok::Open)) = (self.peek(), self.peek_at(1)) {
            let name = *name;
            return self.function(name);
        }
        if let Some(lambda) = self.lambda()? {
            return Ok(lambda);
        }
        let left = self.operand()?;
        let op = match self.peek() {
            Some(Tok::Ident(k)) => match CompareOp::from_keyword(k) {
                Some(op) => op,
                None if ["add", "sub", "mul", "div", "divby", "mod", "has", "in"].contains(k) => {
                    return Err(self.syntax(&format!("the operator '{k}' is not supported by Dataverse")));
                }
                None => return Err(self.syntax("expected a comparison operator (eq, ne, gt, ge, lt, le)")),
            },
            _ => return Err(self.syntax("expected a comparison operator (eq, ne, gt, ge, lt, le)")),
        };
        self.pos += 1;
        let right = self.operand()?;
        self.check_comparison(&left, op, &right)?;
        Ok(Filter::Compare { left, op, right })
    }

    /// `[var/]nav/any(x: predicate)`, `nav/any()`, `nav/all(x: predicate)`; `None` when the
    /// tokens ahead are not a lambda.
    fn lambda(&mut self) -> Result<Option<Filter>, FilterError> {
        let start = self.pos;
        let Some((prefix, nav_at)) = self.lambda_start() else { return Ok(None) };
        self.pos = nav_at;
        let Some(Tok::Ident(navigation)) = self.peek().cloned() else { return Ok(None) };
        let table = self.table_for_prefix(prefix.as_deref())?;
        let Some(Navigation::Collection { target, .. } | Navigation::Many { target, .. }) =
            self.schema.navigation(&table.logical_name, navigation)
        else {
            self.pos = start;
            return Err(self.syntax(&format!(
                "'{navigation}' is not a collection-valued navigation property of {}",
                table.logical_name
            )));
        };
        let target_table = self.schema.table(target).ok_or_else(|| self.syntax("unknown related table"))?;
        let Some(Tok::Ident(operator)) = self.peek_at(2).cloned() else { return Ok(None) };
        self.pos += 4; // nav / any (
        if operator == "any" && self.peek() == Some(&Tok::Close) {
            self.pos += 1;
            return Ok(Some(Filter::Any {
                navigation: navigation.to_owned(),
                table: target.to_owned(),
                predicate: None,
            }));
        }
        let Some(Tok::Ident(variable)) = self.peek().cloned() else {
            return Err(self.syntax("expected a range variable (x:) in the lambda"));
        };
        if variable == "$it" || self.scopes.iter().any(|(v, _)| v.as_deref() == Some(variable)) {
            return Err(self.syntax(&format!("the range variable '{variable}' is already in use")));
        }
        self.pos += 1;
        self.expect(&Tok::Colon, "':' after the range variable")?;
        self.enter()?;
        self.scopes.push((Some(variable.to_owned()), target_table));
        let predicate = self.or_expr();
        self.scopes.pop();
        self.depth -= 1;
        let predicate = Box::new(predicate?);
        self.expect(&Tok::Close, "')'")?;
        Ok(Some(if operator == "any" {
            Filter::Any {
                navigation: navigation.to_owned(),
                table: target.to_owned(),
                predicate: Some((variable.to_owned(), predicate)),
            }
        } else {
            Filter::All {
                navigation: navigation.to_owned(),
                table: target.to_owned(),
                variable: variable.to_owned(),
                predicate,
            }
        }))
    }

    /// Finds `[prefix /] nav / (any|all) (` at the current position: the optional range
    /// variable prefix and the index of the navigation token.
    fn lambda_start(&self) -> Option<(Option<String>, usize)> {
        let is_lambda_at = |i: usize| {
            matches!(self.toks.get(i).map(|t| &t.1), Some(Tok::Ident(_)))
                && self.toks.get(i + 1).map(|t| &t.1) == Some(&Tok::Slash)
                && matches!(self.toks.get(i + 2).map(|t| &t.1), Some(Tok::Ident(w)) if *w == "any" || *w == "all")
                && self.toks.get(i + 3).map(|t| &t.1) == Some(&Tok::Open)
        };
        if is_lambda_at(self.pos) {
            return Some((None, self.pos));
        }
        if let Some(Tok::Ident(var)) = self.peek()
            && self.peek_at(1) == Some(&Tok::Slash)
            && is_lambda_at(self.pos + 2)
            && self.scopes.iter().any(|(v, _)| v.as_deref() == Some(*var))
        {
            return Some((Some((*var).to_owned()), self.pos + 2));
        }
        None
    }

    /// The table a path starts from: the innermost scope's, through its range variable.
    fn table_for_prefix(&self, prefix: Option<&str>) -> Result<&'a Table, FilterError> {
        match (prefix, self.scopes.len()) {
            (None, 1) => Ok(self.table()),
            (None, _) => Err(self.syntax("inside a lambda, name columns through its range variable (x/column)")),
            (Some(v), _) if self.scopes.last().and_then(|(s, _)| s.as_deref()) == Some(v) => Ok(self.table()),
            (Some(v), _) => {
                Err(self.syntax(&format!("'{v}' is an outer range variable; only the innermost one can be used")))
            }
        }
    }

    fn function(&mut self, name: &str) -> Result<Filter, FilterError> {
        let function = match name {
            "contains" => TextFunction::Contains,
            "startswith" => TextFunction::StartsWith,
            "endswith" => TextFunction::EndsWith,
            n if n.starts_with("Microsoft.Dynamics.CRM.") => return self.query_function(n),
            n => return Err(self.syntax(&format!("the function '{n}' is not supported by Dataverse"))),
        };
        self.pos += 2;
        let path = self.path()?;
        let column = path.column.logical_name.clone();
        let (ColumnType::String { .. } | ColumnType::Memo { .. }) = path.column.kind else {
            return Err(self.syntax(&format!("{name} needs a text column, and '{column}' is not one")));
        };
        self.expect(&Tok::Comma, "','")?;
        let value = match self.peek() {
            Some(Tok::Str(s)) => s.clone(),
            _ => return Err(self.syntax(&format!("{name} needs a string literal"))),
        };
        self.pos += 1;
        self.expect(&Tok::Close, "')'")?;
        Ok(Filter::Text { function, path: path.hops, column, value: value.into_owned() })
    }

    /// `Microsoft.Dynamics.CRM.Name(PropertyName='col'[,PropertyValue=v|,PropertyValues=[…]|
    /// ,PropertyValue1=v,PropertyValue2=v])` (spec §3.2.1).
    fn query_function(&mut self, qualified: &str) -> Result<Filter, FilterError> {
        let name = qualified.trim_start_matches("Microsoft.Dynamics.CRM.");
        let function = QueryFunction::by_name(name)
            .ok_or_else(|| self.syntax(&format!("'{qualified}' is not a Dataverse query function")))?;
        self.pos += 2;
        let mut args: Vec<(String, Vec<Literal>, bool)> = Vec::new();
        while self.peek() != Some(&Tok::Close) {
            if !args.is_empty() {
                self.expect(&Tok::Comma, "','")?;
            }
            let Some(Tok::Ident(param)) = self.peek().cloned() else {
                return Err(self.syntax("expected a parameter name (PropertyName, PropertyValue…)"));
            };
            self.pos += 1;
            self.expect(&Tok::Equals, "'='")?;
            let (values, list) = if self.peek() == Some(&Tok::LBracket) {
                self.pos += 1;
                let mut values = Vec::new();
                while self.peek() != Some(&Tok::RBracket) {
                    if !values.is_empty() {
                        self.expect(&Tok::Comma, "','")?;
                    }
                    values.push(self.function_value()?);
                }
                self.pos += 1;
                (values, true)
            } else {
                (vec![self.function_value()?], false)
            };
            if args.iter().any(|(p, _, _)| *p == param) {
                return Err(self.syntax(&format!("the parameter {param} is given twice")));
            }
            args.push((param.to_owned(), values, list));
        }
        self.pos += 1;
        let take =
            |want: &str, list: bool| args.iter().find(|(p, _, l)| p == want && *l == list).map(|(_, v, _)| v.clone());
        let column_name = match take("PropertyName", false).as_deref() {
            Some([Literal::String(c)]) => c.clone(),
            _ => return Err(self.syntax(&format!("{name} needs PropertyName='column'"))),
        };
        let table = self.table();
        let column =
            table.column(&column_name).or_else(|| table.column_by_odata_name(&column_name)).ok_or_else(|| {
                FilterError::Syntax(format!(
                    "Could not find a property named '{column_name}' on type 'Microsoft.Dynamics.CRM.{}'.",
                    table.logical_name
                ))
            })?;
        let (values, expected): (Vec<Literal>, &[&str]) = match function.args() {
            FunctionArgs::None => (Vec::new(), &["PropertyName"]),
            FunctionArgs::Value => {
                (take("PropertyValue", false).unwrap_or_default(), &["PropertyName", "PropertyValue"])
            }
            FunctionArgs::Values => {
                (take("PropertyValues", true).unwrap_or_default(), &["PropertyName", "PropertyValues"])
            }
            FunctionArgs::Pair => {
                let mut v = take("PropertyValue1", false).unwrap_or_default();
                v.extend(take("PropertyValue2", false).unwrap_or_default());
                (v, &["PropertyName", "PropertyValue1", "PropertyValue2"])
            }
        };
        let count_ok = match function.args() {
            FunctionArgs::None => values.is_empty(),
            FunctionArgs::Value => values.len() == 1,
            FunctionArgs::Values => !values.is_empty(),
            FunctionArgs::Pair => values.len() == 2,
        };
        if !count_ok || args.len() != expected.len() || args.iter().any(|(p, _, _)| !expected.contains(&p.as_str())) {
            return Err(self.syntax(&format!("{name} takes the parameters {}", expected.join(", "))));
        }
        if !accepts(function, &column.kind) {
            return Err(self.syntax(&format!(
                "{name} cannot be applied to the column '{}' ({})",
                column.logical_name,
                column.kind.edm_name()
            )));
        }
        Ok(Filter::Function { function, column: column.logical_name.clone(), values })
    }

    /// A value inside a query function's parameters: a string (`'x'` or `"x"`) or a number.
    fn function_value(&mut self) -> Result<Literal, FilterError> {
        let v = match self.peek() {
            Some(Tok::Str(s)) => Literal::String(s.to_string()),
            Some(Tok::Number(n)) => match n.parse::<i64>() {
                Ok(v) if !n.contains(['.', 'e', 'E']) => Literal::Integer(v),
                _ => Literal::Decimal((*n).to_owned()),
            },
            Some(Tok::Guid(g)) => Literal::String(g.to_string()),
            Some(Tok::Date(d) | Tok::DateTime(d)) => Literal::String((*d).to_owned()),
            _ => return Err(self.syntax("expected a string or a number")),
        };
        self.pos += 1;
        Ok(v)
    }

    /// A member path to a column: `[x/]col` or `[x/]nav/…/col` through single-valued
    /// navigation properties.
    fn path(&mut self) -> Result<Path<'a>, FilterError> {
        let Some(Tok::Ident(first)) = self.peek().cloned() else {
            return Err(self.syntax("expected a column name"));
        };
        let in_lambda = self.scopes.len() > 1;
        let mut table = self.table();
        if in_lambda {
            let var = self.scopes.last().and_then(|(v, _)| v.clone()).unwrap_or_default();
            if first != var || self.peek_at(1) != Some(&Tok::Slash) {
                return Err(
                    self.syntax(&format!("inside a lambda, name columns through its range variable ({var}/column)"))
                );
            }
            self.pos += 2;
        }
        let mut hops = Vec::new();
        loop {
            let Some(Tok::Ident(name)) = self.peek().cloned() else {
                return Err(self.syntax("expected a column or navigation property name"));
            };
            if self.peek_at(1) != Some(&Tok::Slash) {
                let column = table.column_by_odata_name(name).ok_or_else(|| {
                    FilterError::Syntax(format!(
                        "Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{}'.",
                        table.logical_name
                    ))
                })?;
                self.pos += 1;
                return Ok(Path { hops, column });
            }
            if hops.len() == MAX_HOPS {
                return Err(self.syntax("the navigation path is too long"));
            }
            let (hop, next) = single_hop(self.schema, table, name).map_err(|m| match m {
                HopError::Collection(m) => self.syntax(&m),
                HopError::Unknown(m) => FilterError::Syntax(m),
            })?;
            hops.push(hop);
            table = next;
            self.pos += 2;
        }
    }

    fn operand(&mut self) -> Result<Operand, FilterError> {
        let lit = match self.peek() {
            Some(Tok::Str(s)) => Literal::String(s.to_string()),
            Some(Tok::Guid(g)) => Literal::Guid(*g),
            Some(Tok::Date(d)) => Literal::Date((*d).to_owned()),
            Some(Tok::DateTime(d)) => Literal::DateTime((*d).to_owned()),
            Some(Tok::Number(n)) => match n.parse::<i64>() {
                Ok(v) if !n.contains(['.', 'e', 'E']) => Literal::Integer(v),
                _ => Literal::Decimal((*n).to_owned()),
            },
            Some(Tok::Ident(w)) if *w == "null" => Literal::Null,
            Some(Tok::Ident(w)) if *w == "true" => Literal::Boolean(true),
            Some(Tok::Ident(w)) if *w == "false" => Literal::Boolean(false),
            Some(Tok::Ident(_)) => {
                let path = self.path()?;
                let column = path.column.logical_name.clone();
                return Ok(if path.hops.is_empty() {
                    Operand::Column(column)
                } else {
                    Operand::Related { path: path.hops, column }
                });
            }
            _ => return Err(self.syntax("expected a column name or a literal")),
        };
        self.pos += 1;
        Ok(Operand::Value(lit))
    }

    /// The type of an operand's column.
    fn operand_type(&self, o: &Operand) -> Option<&'a ColumnType> {
        match o {
            Operand::Column(c) => self.table().column(c).map(|c| &c.kind),
            Operand::Related { path, column } => {
                let table = self.schema.table(&path.last()?.table)?;
                table.column(column).map(|c| &c.kind)
            }
            Operand::Value(_) => None,
        }
    }

    fn operand_name(o: &Operand) -> String {
        match o {
            Operand::Column(c) => c.clone(),
            Operand::Related { path, column } => {
                let mut s: Vec<&str> = path.iter().map(|h| h.navigation.as_str()).collect();
                s.push(column);
                s.join("/")
            }
            Operand::Value(_) => "?".into(),
        }
    }

    fn check_comparison(&self, left: &Operand, op: CompareOp, right: &Operand) -> Result<(), FilterError> {
        let ordered = !matches!(op, CompareOp::Eq | CompareOp::Ne);
        match (left, right) {
            (Operand::Value(_), Operand::Value(_)) => {
                Err(FilterError::Syntax("A comparison must name at least one column".into()))
            }
            (Operand::Value(v), c) | (c, Operand::Value(v)) => {
                let name = Self::operand_name(c);
                let Some(kind) = self.operand_type(c) else { return Err(self.type_error(&name, "?")) };
                if literal_fits(kind, v) && !(ordered && *v == Literal::Null) {
                    Ok(())
                } else {
                    Err(FilterError::Syntax(format!(
                        "A binary operator with incompatible types was detected. Found operand types '{}' and '{}' for operator kind '{}' on column '{name}'.",
                        kind.edm_name(),
                        literal_type(v),
                        op.keyword()
                    )))
                }
            }
            (a, b) => {
                if family(self.operand_type(a)) != family(self.operand_type(b)) {
                    return Err(self.type_error(&Self::operand_name(a), &Self::operand_name(b)));
                }
                Ok(())
            }
        }
    }

    fn type_error(&self, a: &str, b: &str) -> FilterError {
        FilterError::Syntax(format!("Columns '{a}' and '{b}' of {} have incompatible types", self.table().logical_name))
    }
}
