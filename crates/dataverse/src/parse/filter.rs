//! `$filter` for the first slice: comparisons, `and`/`or`/`not`, parentheses, literals of every
//! column type, and the text functions `contains`, `startswith`, `endswith`. Navigation paths,
//! lambdas and `Microsoft.Dynamics.CRM.*` query functions are recognised and reported as not
//! supported yet; anything else is a syntax error with its position.

use super::ParseError;
use crate::metadata::{ColumnType, Table};
use crate::query::{CompareOp, Filter, Literal, Operand, TextFunction};
use uuid::Uuid;

/// Why a `$filter` could not be turned into a [`Filter`].
#[derive(Debug)]
pub(crate) enum FilterError {
    /// Malformed, or not valid for the table: 400.
    Syntax(String),
    /// Recognised, but outside what Stanchion supports yet.
    Unsupported(String),
}

impl From<FilterError> for ParseError {
    fn from(e: FilterError) -> Self {
        match e {
            FilterError::Syntax(m) => ParseError::Syntax(m),
            FilterError::Unsupported(m) => ParseError::Unsupported(m),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Number(String),
    Guid(Uuid),
    DateTime(String),
    Date(String),
    Open,
    Close,
    Comma,
    Slash,
    Colon,
}

const MAX_FILTER_DEPTH: usize = 32;

pub(crate) fn parse_filter(text: &str, table: &Table) -> Result<Filter, FilterError> {
    let toks = lex(text)?;
    let mut p = Parser { toks, pos: 0, table, depth: 0 };
    let f = p.or_expr()?;
    if p.pos < p.toks.len() {
        return Err(p.syntax("unexpected text after the end of the expression"));
    }
    Ok(f)
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, FilterError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' => i += 1,
            b'(' => {
                out.push((start, Tok::Open));
                i += 1;
            }
            b')' => {
                out.push((start, Tok::Close));
                i += 1;
            }
            b',' => {
                out.push((start, Tok::Comma));
                i += 1;
            }
            b'/' => {
                out.push((start, Tok::Slash));
                i += 1;
            }
            b':' => {
                out.push((start, Tok::Colon));
                i += 1;
            }
            b'\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    let Some(rest) = text.get(i..) else {
                        return Err(FilterError::Syntax(format!("unterminated string literal at position {start}")));
                    };
                    let Some(ch) = rest.chars().next() else {
                        return Err(FilterError::Syntax(format!("unterminated string literal at position {start}")));
                    };
                    if ch == '\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            s.push('\'');
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    s.push(ch);
                    i += ch.len_utf8();
                }
                out.push((start, Tok::Str(s)));
            }
            _ if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'@' || c == b'$' => {
                let word_end = scan(b, i, |x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'.' | b'@' | b'$'));
                let literal_end = scan(b, i, |x| x.is_ascii_alphanumeric() || matches!(x, b'-' | b'.' | b':' | b'+'));
                let literal = &text[i..literal_end];
                if let Some(tok) = literal_token(literal) {
                    out.push((start, tok));
                    i = literal_end;
                } else if c == b'-' || c.is_ascii_digit() {
                    return Err(FilterError::Syntax(format!("invalid literal '{literal}' at position {start}")));
                } else {
                    out.push((start, Tok::Ident(text[i..word_end].to_owned())));
                    i = word_end;
                }
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(FilterError::Syntax(format!("unexpected character '{ch}' at position {start}")));
            }
        }
    }
    Ok(out)
}

fn scan(b: &[u8], mut i: usize, ok: impl Fn(u8) -> bool) -> usize {
    while i < b.len() && ok(b[i]) {
        i += 1;
    }
    i
}

/// A literal as it appears in a key or an alias value: `'text'` (with `''`), a GUID, a date,
/// a date-time, a number, `true`, `false` or `null`.
pub(crate) fn parse_literal(text: &str) -> Option<Literal> {
    if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        if text.len() < 2 || inner.replace("''", "").contains('\'') {
            return None;
        }
        return Some(Literal::String(inner.replace("''", "'")));
    }
    match text {
        "null" => return Some(Literal::Null),
        "true" => return Some(Literal::Boolean(true)),
        "false" => return Some(Literal::Boolean(false)),
        _ => {}
    }
    Some(match literal_token(text)? {
        Tok::Guid(g) => Literal::Guid(g),
        Tok::Date(d) => Literal::Date(d),
        Tok::DateTime(d) => Literal::DateTime(d),
        Tok::Number(n) => match n.parse::<i64>() {
            Ok(v) if !n.contains(['.', 'e', 'E']) => Literal::Integer(v),
            _ => Literal::Decimal(n),
        },
        _ => return None,
    })
}

/// Recognises GUID, date, date-time and number literals.
fn literal_token(s: &str) -> Option<Tok> {
    if s.len() == 36
        && let Ok(g) = Uuid::try_parse(s)
    {
        return s.chars().nth(8).filter(|c| *c == '-').map(|_| Tok::Guid(g));
    }
    if is_date(s) {
        return Some(Tok::Date(s.to_owned()));
    }
    if is_datetime(s) {
        return Some(Tok::DateTime(s.to_owned()));
    }
    if is_number(s) {
        return Some(Tok::Number(s.to_owned()));
    }
    None
}

/// `YYYY-MM-DD`, a real calendar day (leap years included).
pub(crate) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if !(b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9].iter().all(|&i| b[i].is_ascii_digit()))
    {
        return false;
    }
    let (y, m, d) = (num(&s[0..4]), num(&s[5..7]), num(&s[8..10]));
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// The value of an all-digit string (checked by the caller).
fn num(s: &str) -> u32 {
    s.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0'))
}

/// `YYYY-MM-DDThh:mm[:ss[.f+]](Z|±hh:mm)`
pub(crate) fn is_datetime(s: &str) -> bool {
    let Some((date, time)) = s.split_once('T') else { return false };
    if !is_date(date) {
        return false;
    }
    let (clock, zone_ok) = if let Some(c) = time.strip_suffix('Z') {
        (c, true)
    } else if time.len() > 6 {
        let (c, z) = time.split_at(time.len() - 6);
        let zb = z.as_bytes();
        let ok =
            (zb[0] == b'+' || zb[0] == b'-') && zb[3] == b':' && [1, 2, 4, 5].iter().all(|&i| zb[i].is_ascii_digit());
        (c, ok)
    } else {
        return false;
    };
    if !zone_ok {
        return false;
    }
    let (hms, frac) = clock.split_once('.').map_or((clock, None), |(a, f)| (a, Some(f)));
    if let Some(f) = frac
        && (f.is_empty() || f.len() > 7 || !f.bytes().all(|x| x.is_ascii_digit()))
    {
        return false;
    }
    let parts: Vec<&str> = hms.split(':').collect();
    if !(parts.len() == 2 || parts.len() == 3) || (frac.is_some() && parts.len() != 3) {
        return false;
    }
    let limits = [23, 59, 59];
    parts.iter().zip(limits).all(|(p, max)| p.len() == 2 && p.parse::<u32>().is_ok_and(|v| v <= max))
}

/// JSON-style number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
pub(crate) fn is_number(s: &str) -> bool {
    let b = s.strip_prefix('-').unwrap_or(s).as_bytes();
    let mut i = scan(b, 0, |x| x.is_ascii_digit());
    if i == 0 || (b[0] == b'0' && i > 1) {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        let j = scan(b, i + 1, |x| x.is_ascii_digit());
        if j == i + 1 {
            return false;
        }
        i = j;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let j = scan(b, i, |x| x.is_ascii_digit());
        if j == i {
            return false;
        }
        i = j;
    }
    i == b.len()
}

struct Parser<'a> {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    table: &'a Table,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn peek_at(&self, n: usize) -> Option<&Tok> {
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
        if matches!(self.peek(), Some(Tok::Ident(w)) if w == k) {
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
            self.unary().map(|f| Filter::Not(Box::new(f)))
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

    fn predicate(&mut self) -> Result<Filter, FilterError> {
        if let (Some(Tok::Ident(name)), Some(Tok::Open)) = (self.peek(), self.peek_at(1)) {
            let name = name.clone();
            return self.function(&name);
        }
        let left = self.operand()?;
        let op = match self.peek() {
            Some(Tok::Ident(k)) => match CompareOp::from_keyword(k) {
                Some(op) => op,
                None if ["add", "sub", "mul", "div", "divby", "mod", "has", "in"].contains(&k.as_str()) => {
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

    fn function(&mut self, name: &str) -> Result<Filter, FilterError> {
        let function = match name {
            "contains" => TextFunction::Contains,
            "startswith" => TextFunction::StartsWith,
            "endswith" => TextFunction::EndsWith,
            n if n.starts_with("Microsoft.Dynamics.CRM.") => {
                return Err(FilterError::Unsupported(format!("the query function {n} is not supported yet")));
            }
            n => return Err(self.syntax(&format!("the function '{n}' is not supported by Dataverse"))),
        };
        self.pos += 2;
        let column = self.column_name()?;
        let Some(ColumnType::String { .. } | ColumnType::Memo { .. }) = self.column_type(&column) else {
            return Err(self.syntax(&format!("{name} needs a text column, and '{column}' is not one")));
        };
        self.expect(&Tok::Comma, "','")?;
        let value = match self.peek() {
            Some(Tok::Str(s)) => s.clone(),
            _ => return Err(self.syntax(&format!("{name} needs a string literal"))),
        };
        self.pos += 1;
        self.expect(&Tok::Close, "')'")?;
        Ok(Filter::Text { function, column, value })
    }

    fn column_type(&self, logical: &str) -> Option<&ColumnType> {
        self.table.column(logical).map(|c| &c.kind)
    }

    /// A property name; returns the column's logical name.
    fn column_name(&mut self) -> Result<String, FilterError> {
        let Some(Tok::Ident(name)) = self.peek() else {
            return Err(self.syntax("expected a column name"));
        };
        let name = name.clone();
        if self.peek_at(1) == Some(&Tok::Slash) {
            return Err(FilterError::Unsupported(
                if matches!(self.peek_at(2), Some(Tok::Ident(w)) if w == "any" || w == "all") {
                    "lambda operators (any/all) in $filter are not supported yet".to_owned()
                } else {
                    "navigation paths in $filter are not supported yet".to_owned()
                },
            ));
        }
        if name.starts_with('@') {
            return Err(FilterError::Unsupported("parameter aliases are not supported yet".into()));
        }
        let column = self.table.column_by_odata_name(&name).ok_or_else(|| {
            FilterError::Syntax(format!(
                "Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{}'.",
                self.table.logical_name
            ))
        })?;
        self.pos += 1;
        Ok(column.logical_name.clone())
    }

    fn operand(&mut self) -> Result<Operand, FilterError> {
        let lit = match self.peek() {
            Some(Tok::Str(s)) => Literal::String(s.clone()),
            Some(Tok::Guid(g)) => Literal::Guid(*g),
            Some(Tok::Date(d)) => Literal::Date(d.clone()),
            Some(Tok::DateTime(d)) => Literal::DateTime(d.clone()),
            Some(Tok::Number(n)) => match n.parse::<i64>() {
                Ok(v) if !n.contains(['.', 'e', 'E']) => Literal::Integer(v),
                _ => Literal::Decimal(n.clone()),
            },
            Some(Tok::Ident(w)) if w == "null" => Literal::Null,
            Some(Tok::Ident(w)) if w == "true" => Literal::Boolean(true),
            Some(Tok::Ident(w)) if w == "false" => Literal::Boolean(false),
            Some(Tok::Ident(_)) => return self.column_name().map(Operand::Column),
            _ => return Err(self.syntax("expected a column name or a literal")),
        };
        self.pos += 1;
        Ok(Operand::Value(lit))
    }

    fn check_comparison(&self, left: &Operand, op: CompareOp, right: &Operand) -> Result<(), FilterError> {
        let ordered = !matches!(op, CompareOp::Eq | CompareOp::Ne);
        match (left, right) {
            (Operand::Column(a), Operand::Column(b)) => {
                let (ta, tb) = (self.column_type(a), self.column_type(b));
                if family(ta) != family(tb) {
                    return Err(self.type_error(a, b));
                }
                Ok(())
            }
            (Operand::Column(c), Operand::Value(v)) | (Operand::Value(v), Operand::Column(c)) => {
                let Some(kind) = self.column_type(c) else { return Err(self.type_error(c, "?")) };
                if literal_fits(kind, v) && !(ordered && *v == Literal::Null) {
                    Ok(())
                } else {
                    Err(FilterError::Syntax(format!(
                        "A binary operator with incompatible types was detected. Found operand types '{}' and '{}' for operator kind '{}' on column '{c}'.",
                        kind.edm_name(),
                        literal_type(v),
                        op.keyword()
                    )))
                }
            }
            (Operand::Value(_), Operand::Value(_)) => {
                Err(FilterError::Syntax("A comparison must name at least one column".into()))
            }
        }
    }

    fn type_error(&self, a: &str, b: &str) -> FilterError {
        FilterError::Syntax(format!("Columns '{a}' and '{b}' of {} have incompatible types", self.table.logical_name))
    }
}

#[derive(PartialEq)]
enum Family {
    Text,
    Number,
    Bool,
    Date,
    Guid,
}

fn family(kind: Option<&ColumnType>) -> Option<Family> {
    Some(match kind? {
        ColumnType::String { .. } | ColumnType::Memo { .. } => Family::Text,
        ColumnType::Integer
        | ColumnType::BigInt
        | ColumnType::Decimal
        | ColumnType::Double
        | ColumnType::Money
        | ColumnType::Picklist { .. }
        | ColumnType::State { .. }
        | ColumnType::Status { .. } => Family::Number,
        ColumnType::Boolean { .. } => Family::Bool,
        ColumnType::DateTime | ColumnType::DateOnly => Family::Date,
        ColumnType::Uniqueidentifier | ColumnType::Lookup { .. } => Family::Guid,
    })
}

pub(crate) fn literal_fits(kind: &ColumnType, lit: &Literal) -> bool {
    match (kind, lit) {
        (_, Literal::Null) => true,
        (ColumnType::String { .. } | ColumnType::Memo { .. }, Literal::String(_)) => true,
        (
            ColumnType::Integer | ColumnType::Picklist { .. } | ColumnType::State { .. } | ColumnType::Status { .. },
            Literal::Integer(v),
        ) => i32::try_from(*v).is_ok(),
        (ColumnType::BigInt, Literal::Integer(_)) => true,
        (ColumnType::Decimal | ColumnType::Double | ColumnType::Money, Literal::Integer(_) | Literal::Decimal(_)) => {
            true
        }
        (ColumnType::Boolean { .. }, Literal::Boolean(_)) => true,
        (ColumnType::DateTime | ColumnType::DateOnly, Literal::DateTime(_) | Literal::Date(_)) => true,
        (ColumnType::Uniqueidentifier | ColumnType::Lookup { .. }, Literal::Guid(_)) => true,
        _ => false,
    }
}

fn literal_type(lit: &Literal) -> &'static str {
    match lit {
        Literal::Null => "null",
        Literal::Boolean(_) => "Edm.Boolean",
        Literal::Integer(_) => "Edm.Int64",
        Literal::Decimal(_) => "Edm.Decimal",
        Literal::String(_) => "Edm.String",
        Literal::Guid(_) => "Edm.Guid",
        Literal::DateTime(_) => "Edm.DateTimeOffset",
        Literal::Date(_) => "Edm.Date",
    }
}
