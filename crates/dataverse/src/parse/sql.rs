//! The `sql=` query option (spec §6.7): Dataverse's documented `SELECT` subset, lowered to
//! the query IR by writing its twin in a language the one parser reads and parsing that: on one
//! table the OData options (`$select`, `$filter`, `$orderby`, `$top`, or `$apply` for
//! `DISTINCT`, aggregates and `GROUP BY`); with `JOIN`s the FetchXML (each joined table a
//! `link-entity`). A SQL query is therefore typed, checked against the schema, classified,
//! printed and executed exactly as its twin, and forwarded in that form.
//!
//! Grammar (keywords case-insensitive, identifiers are logical names, optionally qualified by
//! a table's name or alias, or in `[brackets]`):
//!
//! ```text
//! SELECT [DISTINCT] [TOP n] item, … FROM table [[AS] alias] join…
//!   [WHERE condition] [GROUP BY column, …] [ORDER BY column [ASC|DESC], …] [;]
//! join      = [INNER] JOIN table [[AS] alias] ON column = column [AND condition]
//!           | LEFT [OUTER] JOIN table [[AS] alias] ON column = column [AND condition]
//! item      = column | COUNT(*) [AS a] | {SUM|AVG|MIN|MAX}(column) [AS a]
//! condition = condition OR condition | condition AND condition | NOT condition | (condition)
//!           | column {= | != | <> | < | > | <= | >=} literal | column [NOT] LIKE 'pattern'
//!           | column [NOT] IN (literal, …) | column [NOT] BETWEEN literal AND literal
//!           | column IS [NOT] NULL
//! ```
//!
//! A join follows a lookup: one side of its `ON` equality is a lookup, the other the primary
//! id of the table it points at.
//!
//! Refused with a 400 naming the construct, as Dataverse refuses them: anything but one
//! `SELECT` (writes, DDL, `DECLARE`, several statements), `SELECT *`, subqueries, `UNION`,
//! `HAVING`, `WITH`, `OFFSET`/`FETCH`, `RIGHT`/`FULL`/`CROSS JOIN`, expressions in the select
//! list, column-to-column comparisons outside `ON`. Refused as not supported yet (Dataverse
//! supports them): column aliases outside aggregates, `COUNT(column)`, `LIKE` patterns that
//! neither begin nor end with `%` (without joins), aggregates and `DISTINCT` with joins, `WHERE`
//! conditions spanning tables or testing a `LEFT JOIN` table. `TOP n` is accepted although the
//! documentation lists it as unsupported: Microsoft's Python SDK sends it.

mod cond;
mod statement;

use super::{ParseError, Routed};
use crate::metadata::{Column, ColumnType, Schema, Table};
use crate::request::{Operation, RequestKind};
use cond::{Cond, Lit, Pred, PredKind};
use statement::Statement;

/// Longest SQL text accepted (bytes, decoded).
const MAX_LEN: usize = 16 * 1024;
/// Deepest nesting of conditions.
const MAX_DEPTH: usize = 32;

/// Statements and clauses Dataverse refuses, with what to say.
const REFUSED_WORDS: &[(&str, &str)] = &[
    ("insert", "INSERT: only SELECT statements are allowed"),
    ("update", "UPDATE: only SELECT statements are allowed"),
    ("delete", "DELETE: only SELECT statements are allowed"),
    ("merge", "MERGE: only SELECT statements are allowed"),
    ("drop", "DROP: only SELECT statements are allowed"),
    ("alter", "ALTER: only SELECT statements are allowed"),
    ("create", "CREATE: only SELECT statements are allowed"),
    ("truncate", "TRUNCATE: only SELECT statements are allowed"),
    ("declare", "DECLARE: only SELECT statements are allowed"),
    ("exec", "EXEC: only SELECT statements are allowed"),
    ("execute", "EXECUTE: only SELECT statements are allowed"),
    ("grant", "GRANT: only SELECT statements are allowed"),
    ("with", "WITH (common table expressions) is not supported"),
    ("union", "UNION is not supported"),
    ("intersect", "INTERSECT is not supported"),
    ("except", "EXCEPT is not supported"),
    ("having", "HAVING is not supported"),
    ("offset", "OFFSET ... FETCH is not supported: page with Prefer: odata.maxpagesize"),
    ("fetch", "OFFSET ... FETCH is not supported: page with Prefer: odata.maxpagesize"),
    ("into", "SELECT ... INTO is not supported"),
    ("right", "RIGHT JOIN is not supported: only INNER JOIN and LEFT JOIN"),
    ("full", "FULL JOIN is not supported: only INNER JOIN and LEFT JOIN"),
    ("cross", "CROSS JOIN is not supported: only INNER JOIN and LEFT JOIN"),
    ("exists", "EXISTS (subqueries) is not supported"),
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A name or keyword (keywords compared case-insensitively).
    Word(String),
    /// `[name]` or `"name"`.
    Quoted(String),
    /// A number, as written.
    Number(String),
    /// A string literal, unescaped.
    Str(String),
    /// Punctuation and operators.
    Sym(&'static str),
}

fn syntax(message: impl Into<String>) -> Routed {
    Routed::Error(ParseError::Syntax(message.into()))
}

fn unsupported(message: impl Into<String>) -> Routed {
    Routed::Unsupported(RequestKind::Query, message.into())
}

fn tokens(sql: &str) -> Result<Vec<Tok>, Routed> {
    let mut out = Vec::new();
    let chars: Vec<char> = sql.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '-' if chars.get(i + 1) == Some(&'-') => return Err(syntax("Comments are not allowed in sql")),
            '/' if chars.get(i + 1) == Some(&'*') => return Err(syntax("Comments are not allowed in sql")),
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(syntax("sql has an unterminated string")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&c) => {
                            s.push(c);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            '[' | '"' => {
                let close = if c == '[' { ']' } else { '"' };
                let start = i + 1;
                let end = chars[start..]
                    .iter()
                    .position(|&x| x == close)
                    .ok_or_else(|| syntax("sql has an unterminated quoted name"))?;
                out.push(Tok::Quoted(chars[start..start + end].iter().collect()));
                i = start + end + 1;
            }
            c if c.is_ascii_digit() => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                out.push(Tok::Number(chars[start..i].iter().collect()));
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == '@' || c == '#' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | '@' | '#' | '$'))
                {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
            _ => {
                let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
                let sym = ["<=", ">=", "<>", "!="].into_iter().find(|s| *s == two);
                let sym = match sym {
                    Some(s) => s,
                    None => match c {
                        ',' => ",",
                        '(' => "(",
                        ')' => ")",
                        '.' => ".",
                        '*' => "*",
                        '=' => "=",
                        '<' => "<",
                        '>' => ">",
                        ';' => ";",
                        '-' => "-",
                        other => return Err(syntax(format!("The character '{other}' is not allowed in sql"))),
                    },
                };
                i += sym.len();
                out.push(Tok::Sym(sym));
            }
        }
    }
    Ok(out)
}

/// A column as written: an optional qualifier and the name.
#[derive(Debug, Clone)]
struct ColumnRef {
    qualifier: Option<String>,
    name: String,
}

#[derive(Debug)]
enum Item {
    Column(ColumnRef),
    Aggregate { function: &'static str, column: Option<ColumnRef>, alias: Option<String> },
}

/// A table in `FROM` or a `JOIN`.
struct Source<'s> {
    table: &'s Table,
    alias: Option<String>,
    /// For a joined table: the source it joins, the two columns (its own, the parent's) and
    /// whether it is a `LEFT JOIN`.
    join: Option<Join>,
    /// Conditions of its `ON` clause beyond the column equality.
    on: Vec<Cond<'s>>,
}

struct Join {
    parent: usize,
    from: String,
    to: String,
    left: bool,
}

struct Parser<'s> {
    toks: Vec<Tok>,
    at: usize,
    schema: &'s Schema,
    table: &'s Table,
    /// `FROM` (first) and the joined tables.
    sources: Vec<Source<'s>>,
    depth: usize,
}

impl<'s> Parser<'s> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let yes = self.is_word(word);
        if yes {
            self.at += 1;
        }
        yes
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        let yes = matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym);
        if yes {
            self.at += 1;
        }
        yes
    }

    fn expect_word(&mut self, word: &str) -> Result<(), Routed> {
        if self.eat_word(word) { Ok(()) } else { Err(self.unexpected(&format!("{} expected", word.to_uppercase()))) }
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), Routed> {
        if self.eat_sym(sym) { Ok(()) } else { Err(self.unexpected(&format!("'{sym}' expected"))) }
    }

    /// The error for the current token: a refused construct by name, else `what`.
    fn unexpected(&self, what: &str) -> Routed {
        match self.peek() {
            None => syntax(format!("sql ended early: {what}")),
            Some(Tok::Word(w)) => {
                let lower = w.to_ascii_lowercase();
                if let Some((_, message)) = REFUSED_WORDS.iter().find(|(k, _)| *k == lower) {
                    return syntax(*message);
                }
                if matches!(lower.as_str(), "join" | "inner" | "left" | "outer") {
                    return unsupported("JOIN in sql is not supported yet: query each table, or use $expand");
                }
                if lower == "select" {
                    return syntax("Subqueries are not supported in sql");
                }
                syntax(format!("Unexpected '{w}' in sql: {what}"))
            }
            Some(Tok::Sym(s)) => syntax(format!("Unexpected '{s}' in sql: {what}")),
            Some(Tok::Quoted(q)) => syntax(format!("Unexpected '{q}' in sql: {what}")),
            Some(Tok::Number(n)) => syntax(format!("Unexpected {n} in sql: {what}")),
            Some(Tok::Str(_)) => syntax(format!("Unexpected string in sql: {what}")),
        }
    }

    fn name(&mut self) -> Result<String, Routed> {
        match self.peek().cloned() {
            Some(Tok::Word(w)) if !is_keyword(&w) => {
                self.at += 1;
                Ok(w)
            }
            Some(Tok::Quoted(q)) => {
                self.at += 1;
                Ok(q)
            }
            _ => Err(self.unexpected("a name expected")),
        }
    }

    fn column_ref(&mut self) -> Result<ColumnRef, Routed> {
        if self.eat_sym("(") {
            if self.is_word("select") {
                return Err(syntax("Subqueries are not supported in sql"));
            }
            return Err(syntax("Expressions are not supported in sql: name a column"));
        }
        let first = self.name()?;
        if self.eat_sym(".") {
            let name = self.name()?;
            return Ok(ColumnRef { qualifier: Some(first), name });
        }
        if matches!(self.peek(), Some(Tok::Sym("("))) {
            return Err(syntax(format!("The function {first}() is not supported in sql")));
        }
        Ok(ColumnRef { qualifier: None, name: first })
    }

    /// The source and column a reference names: qualified by a table name or alias, or, with
    /// no qualifier, the one table that has it.
    fn column(&self, r: &ColumnRef) -> Result<(usize, &'s Column), Routed> {
        let logical = r.name.to_ascii_lowercase();
        let found: Vec<(usize, &'s Column)> = self
            .sources
            .iter()
            .enumerate()
            .filter(|(_, src)| {
                r.qualifier.as_deref().is_none_or(|q| {
                    src.alias.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(q))
                        || (src.alias.is_none() || self.sources.len() == 1)
                            && q.eq_ignore_ascii_case(&src.table.logical_name)
                })
            })
            .filter_map(|(i, src)| src.table.column(&logical).map(|c| (i, c)))
            .collect();
        match found.as_slice() {
            [one] => Ok(*one),
            [] => match &r.qualifier {
                Some(q)
                    if !self.sources.iter().any(|src| {
                        src.alias.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(q))
                            || q.eq_ignore_ascii_case(&src.table.logical_name)
                    }) =>
                {
                    Err(syntax(format!("'{q}.{}' names a table that is not in FROM", r.name)))
                }
                Some(q) => {
                    let src = self.sources.iter().find(|src| {
                        src.alias.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(q))
                            || q.eq_ignore_ascii_case(&src.table.logical_name)
                    });
                    Err(Routed::Error(super::options::unknown_property(src.map_or(self.table, |s| s.table), &r.name)))
                }
                None => Err(Routed::Error(super::options::unknown_property(self.table, &r.name))),
            },
            _ => Err(syntax(format!("'{}' is in more than one table: qualify it", r.name))),
        }
    }

    fn item(&mut self) -> Result<Item, Routed> {
        if self.eat_sym("*") {
            return Err(syntax("SELECT * is not supported in sql: name the columns"));
        }
        let function = ["count", "sum", "avg", "min", "max"]
            .into_iter()
            .find(|f| self.is_word(f) && matches!(self.toks.get(self.at + 1), Some(Tok::Sym("("))));
        let item = match function {
            Some(function) => {
                self.at += 2;
                if self.is_word("distinct") {
                    return Err(unsupported("COUNT(DISTINCT …) in sql is not supported yet: use FetchXML"));
                }
                let column = if self.eat_sym("*") {
                    if function != "count" {
                        return Err(syntax(format!("{}(*) is not valid: name a column", function.to_uppercase())));
                    }
                    None
                } else {
                    if function == "count" {
                        return Err(unsupported("COUNT(column) in sql is not supported yet: use COUNT(*)"));
                    }
                    Some(self.column_ref()?)
                };
                self.expect_sym(")")?;
                Item::Aggregate { function, column, alias: None }
            }
            None => Item::Column(self.column_ref()?),
        };
        let alias = if self.eat_word("as") {
            Some(self.name()?)
        } else {
            match self.peek() {
                Some(Tok::Word(w)) if !is_keyword(w) => Some(self.name()?),
                Some(Tok::Quoted(_)) => Some(self.name()?),
                _ => None,
            }
        };
        Ok(match (item, alias) {
            (Item::Aggregate { function, column, .. }, alias) => Item::Aggregate { function, column, alias },
            (Item::Column(_), Some(_)) => {
                return Err(unsupported("Column aliases in sql are supported on aggregates only (for now)"));
            }
            (item, None) => item,
        })
    }

    /// A SQL literal compared with `column`: its OData text and raw value.
    fn literal(&mut self, column: &Column) -> Result<Lit, Routed> {
        let odata = self.literal_text(column)?;
        let raw = match self.toks.get(self.at - 1) {
            Some(Tok::Str(s)) => s.clone(),
            Some(Tok::Number(_)) if matches!(column.kind, ColumnType::Boolean { .. }) => {
                (if odata == "true" { "1" } else { "0" }).to_owned()
            }
            _ => odata.clone(),
        };
        Ok(Lit { odata, raw })
    }

    fn literal_text(&mut self, column: &Column) -> Result<String, Routed> {
        let negative = self.eat_sym("-");
        let tok = self.peek().cloned();
        self.at += 1;
        let bad = |what: &str| {
            syntax(format!("{what} cannot be compared with '{}' ({})", column.logical_name, column.kind.edm_name()))
        };
        Ok(match (tok, &column.kind) {
            (Some(Tok::Number(n)), ColumnType::Boolean { .. }) if !negative && (n == "0" || n == "1") => {
                (if n == "1" { "true" } else { "false" }).to_owned()
            }
            (Some(Tok::Number(n)), _) => {
                if n.matches('.').count() > 1 || n.ends_with('.') {
                    return Err(syntax(format!("'{n}' is not a number")));
                }
                if negative { format!("-{n}") } else { n }
            }
            (Some(_), _) if negative => return Err(syntax("'-' must precede a number")),
            (Some(Tok::Str(s)), ColumnType::DateTime | ColumnType::DateOnly) => {
                if s.is_empty()
                    || !s.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | 'T' | 'Z' | '.' | '+'))
                {
                    return Err(bad(&format!("'{s}'")));
                }
                s
            }
            (Some(Tok::Str(s)), ColumnType::Uniqueidentifier | ColumnType::Lookup { .. }) => {
                uuid::Uuid::try_parse(&s).map_err(|_| bad(&format!("'{s}'")))?.to_string()
            }
            (Some(Tok::Str(s)), ColumnType::String { .. } | ColumnType::Memo { .. }) => {
                format!("'{}'", s.replace('\'', "''"))
            }
            (Some(Tok::Str(s)), _) => return Err(bad(&format!("The text '{s}'"))),
            (Some(Tok::Word(w)), ColumnType::Boolean { .. })
                if w.eq_ignore_ascii_case("true") || w.eq_ignore_ascii_case("false") =>
            {
                w.to_ascii_lowercase()
            }
            (Some(Tok::Word(w)), _) if w.eq_ignore_ascii_case("null") => {
                return Err(syntax("Compare with NULL using IS NULL or IS NOT NULL"));
            }
            (Some(Tok::Word(_) | Tok::Quoted(_)), _) => {
                return Err(syntax("Column-to-column comparisons are not supported in sql: compare with a literal"));
            }
            _ => {
                self.at -= 1;
                return Err(self.unexpected("a literal expected"));
            }
        })
    }

    fn condition(&mut self) -> Result<Cond<'s>, Routed> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(syntax("The sql condition is nested too deeply"));
        }
        let mut items = vec![self.conjunction()?];
        while self.eat_word("or") {
            items.push(self.conjunction()?);
        }
        self.depth -= 1;
        Ok(if items.len() == 1 { items.remove(0) } else { Cond::Or(items) })
    }

    fn conjunction(&mut self) -> Result<Cond<'s>, Routed> {
        let mut items = vec![self.unary()?];
        while self.eat_word("and") {
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Cond::And(items) })
    }

    fn unary(&mut self) -> Result<Cond<'s>, Routed> {
        if self.eat_word("not") {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(syntax("The sql condition is nested too deeply"));
            }
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Cond::Not(Box::new(inner)));
        }
        if self.eat_sym("(") {
            if self.is_word("select") {
                return Err(syntax("Subqueries are not supported in sql"));
            }
            let inner = self.condition()?;
            self.expect_sym(")")?;
            return Ok(Cond::Group(Box::new(inner)));
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Cond<'s>, Routed> {
        let r = self.column_ref()?;
        let (source, column) = self.column(&r)?;
        let pred = |not: bool, kind: PredKind| Ok(Cond::Pred(Pred { source, column, not, kind }));
        if self.eat_word("is") {
            let not = self.eat_word("not");
            self.expect_word("null")?;
            return pred(not, PredKind::Null);
        }
        let not = self.eat_word("not");
        if self.eat_word("like") {
            let Some(Tok::Str(pattern)) = self.peek().cloned() else {
                return Err(self.unexpected("LIKE takes a string pattern"));
            };
            self.at += 1;
            return pred(not, PredKind::Like(pattern));
        }
        if self.eat_word("in") {
            self.expect_sym("(")?;
            if self.is_word("select") {
                return Err(syntax("Subqueries are not supported in sql"));
            }
            let mut values = vec![self.literal(column)?];
            while self.eat_sym(",") {
                values.push(self.literal(column)?);
            }
            self.expect_sym(")")?;
            return pred(not, PredKind::In(values));
        }
        if self.eat_word("between") {
            let low = self.literal(column)?;
            self.expect_word("and")?;
            let high = self.literal(column)?;
            return pred(not, PredKind::Between(low, high));
        }
        if not {
            return Err(self.unexpected("LIKE, IN or BETWEEN expected after NOT"));
        }
        let op = match self.peek() {
            Some(Tok::Sym("=")) => "eq",
            Some(Tok::Sym("!=" | "<>")) => "ne",
            Some(Tok::Sym("<")) => "lt",
            Some(Tok::Sym(">")) => "gt",
            Some(Tok::Sym("<=")) => "le",
            Some(Tok::Sym(">=")) => "ge",
            _ => return Err(self.unexpected("a comparison expected")),
        };
        self.at += 1;
        let value = self.literal(column)?;
        pred(false, PredKind::Cmp(op, value))
    }

    /// The join of source `index` to an earlier one along a lookup: one side is the joined
    /// table's column, the other an earlier table's, and one of them is a lookup to the other's
    /// table whose other side is that table's primary id.
    fn join_columns(
        &self,
        index: usize,
        a: (usize, &'s Column),
        b: (usize, &'s Column),
        left: bool,
    ) -> Result<Join, Routed> {
        let (own, parent) = match (a.0 == index, b.0 == index) {
            (true, false) => (a, b),
            (false, true) => (b, a),
            _ => return Err(syntax("ON must compare a column of the joined table with one of a table before it")),
        };
        let own_table = self.sources[index].table;
        let parent_table = self.sources[parent.0].table;
        let points = |c: &Column, target: &Table| matches!(&c.kind, ColumnType::Lookup { targets } if targets.contains(&target.logical_name));
        let along = (own.1.logical_name == own_table.primary_id && points(parent.1, own_table))
            || (parent.1.logical_name == parent_table.primary_id && points(own.1, parent_table));
        if !along {
            return Err(syntax(format!(
                "JOIN must follow a lookup: {}.{} and {}.{} are not a lookup and the id it points at",
                parent_table.logical_name, parent.1.logical_name, own_table.logical_name, own.1.logical_name
            )));
        }
        Ok(Join { parent: parent.0, from: own.1.logical_name.clone(), to: parent.1.logical_name.clone(), left })
    }

    /// `[INNER] JOIN t [AS a] ON x.col = y.col [AND …]` and `LEFT [OUTER] JOIN …`, after `FROM`.
    fn joins(&mut self) -> Result<(), Routed> {
        loop {
            let left = if self.eat_word("left") {
                self.eat_word("outer");
                true
            } else {
                self.eat_word("inner");
                false
            };
            if !self.eat_word("join") {
                if left {
                    return Err(self.unexpected("JOIN expected after LEFT"));
                }
                return Ok(());
            }
            let name = self.name()?.to_ascii_lowercase();
            let table = self.schema.table(&name).ok_or_else(|| syntax(crate::parse::unknown_table(&name)))?;
            let alias = if self.eat_word("as") || matches!(self.peek(), Some(Tok::Word(w)) if !is_keyword(w)) {
                Some(self.name()?)
            } else {
                None
            };
            let index = self.sources.len();
            self.sources.push(Source { table, alias, join: None, on: Vec::new() });
            self.expect_word("on")?;
            let a = self.column_ref()?;
            self.expect_sym("=")?;
            let b = self.column_ref()?;
            let join = self.join_columns(index, self.column(&a)?, self.column(&b)?, left)?;
            let mut rest = Vec::new();
            if self.eat_word("and") {
                self.condition()?.conjuncts(&mut rest);
            }
            for c in &rest {
                let mut used = Vec::new();
                c.sources(&mut used);
                if used != [index] {
                    return Err(unsupported("ON conditions in sql may only test the joined table (for now)"));
                }
            }
            self.sources[index].join = Some(join);
            self.sources[index].on = rest;
        }
    }
}

/// `LIKE 'p'` as its OData twin ([`crate::parse::like_odata`]).
fn like(name: &str, pattern: &str) -> Result<String, Routed> {
    crate::parse::like_odata(name, pattern)
        .ok_or_else(|| unsupported("LIKE patterns in sql must begin or end with % (for now); use = for equality"))
}

/// Words that end a select item or a name.
fn is_keyword(w: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "select",
        "distinct",
        "top",
        "from",
        "where",
        "group",
        "by",
        "order",
        "asc",
        "desc",
        "as",
        "and",
        "or",
        "not",
        "like",
        "in",
        "between",
        "is",
        "null",
        "join",
        "inner",
        "left",
        "outer",
        "on",
        "union",
        "having",
        "with",
        "offset",
        "fetch",
        "into",
        "right",
        "full",
        "cross",
        "except",
        "intersect",
    ];
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(w))
}

/// The OData query options a `sql=` text stands for, parsed into an operation on `table`
/// (the request's entity set).
pub(crate) fn lower(sql: &str, schema: &Schema, table: &Table) -> Result<Operation, Routed> {
    if sql.len() > MAX_LEN {
        return Err(syntax(format!("sql is longer than {MAX_LEN} bytes")));
    }
    let mut p = Parser { toks: tokens(sql)?, at: 0, schema, table, sources: Vec::new(), depth: 0 };
    if !p.eat_word("select") {
        return Err(p.unexpected("a sql query starts with SELECT"));
    }
    let distinct = p.eat_word("distinct");
    let top = if p.eat_word("top") {
        let paren = p.eat_sym("(");
        let n = match p.peek().cloned() {
            Some(Tok::Number(n)) if n.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(p.unexpected("TOP takes a whole number")),
        };
        p.at += 1;
        if paren {
            p.expect_sym(")")?;
        }
        if p.is_word("percent") {
            return Err(syntax("TOP … PERCENT is not supported"));
        }
        if !n.parse::<u32>().is_ok_and(|t| (1..=5000).contains(&t)) {
            return Err(syntax(format!("TOP {n} is out of range: 1 to 5000")));
        }
        Some(n)
    } else {
        None
    };
    // Items are read before FROM names the tables: keep them as written, resolve after.
    let mut items = vec![p.item()?];
    while p.eat_sym(",") {
        items.push(p.item()?);
    }
    p.expect_word("from")?;
    if p.eat_sym("(") {
        return Err(syntax("Subqueries are not supported in sql"));
    }
    let from = p.name()?;
    if !from.eq_ignore_ascii_case(&table.logical_name) {
        return Err(syntax(format!(
            "sql must query {} (the table of {}), not '{from}'",
            table.logical_name, table.set_name
        )));
    }
    let alias = if p.eat_word("as") || matches!(p.peek(), Some(Tok::Word(w)) if !is_keyword(w)) {
        Some(p.name()?)
    } else {
        None
    };
    p.sources.push(Source { table, alias, join: None, on: Vec::new() });
    if matches!(p.peek(), Some(Tok::Sym(","))) {
        return Err(syntax("Several tables in FROM are not supported in sql"));
    }
    p.joins()?;
    let filter = if p.eat_word("where") { Some(p.condition()?) } else { None };
    let mut group_by: Vec<ColumnRef> = Vec::new();
    if p.eat_word("group") {
        p.expect_word("by")?;
        loop {
            group_by.push(p.column_ref()?);
            if !p.eat_sym(",") {
                break;
            }
        }
    }
    let mut orderby: Vec<(ColumnRef, bool)> = Vec::new();
    if p.eat_word("order") {
        p.expect_word("by")?;
        loop {
            let r = p.column_ref()?;
            let desc = if p.eat_word("desc") {
                true
            } else {
                p.eat_word("asc");
                false
            };
            orderby.push((r, desc));
            if !p.eat_sym(",") {
                break;
            }
        }
    }
    p.eat_sym(";");
    if p.at < p.toks.len() {
        if matches!(p.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case("select")) {
            return Err(syntax("Only one statement is allowed in sql"));
        }
        return Err(p.unexpected("the end of the query expected"));
    }
    let query = Statement { distinct, top, items, filter, group_by, orderby };
    if p.sources.len() > 1 { query.fetch(&p) } else { query.odata(&p) }
}
