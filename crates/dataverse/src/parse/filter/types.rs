//! Type rules of `$filter`: which literals fit which columns, which columns compare, which
//! columns a query function applies to.

use crate::metadata::ColumnType;
use crate::query::{FunctionOperand, Literal, QueryFunction};

/// Whether a query function applies to a column type.
pub(super) fn accepts(function: QueryFunction, kind: &ColumnType) -> bool {
    match function.operand() {
        FunctionOperand::Date => matches!(kind, ColumnType::DateTime | ColumnType::DateOnly),
        FunctionOperand::Id => matches!(kind, ColumnType::Lookup { .. } | ColumnType::Uniqueidentifier),
        FunctionOperand::Any => !matches!(kind, ColumnType::Boolean { .. }),
        FunctionOperand::MultiSelect => false,
        FunctionOperand::Language => matches!(kind, ColumnType::Integer | ColumnType::Picklist { .. }),
    }
}

/// The scope stack always holds the query's table; an empty stack is a parser bug.
pub(super) fn unreachable_scope() -> ! {
    unreachable!("the filter parser's scope stack always holds the query's table")
}

#[derive(PartialEq)]
pub(super) enum Family {
    Text,
    Number,
    Bool,
    Date,
    Guid,
}

pub(super) fn family(kind: Option<&ColumnType>) -> Option<Family> {
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

pub(super) fn literal_type(lit: &Literal) -> &'static str {
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
