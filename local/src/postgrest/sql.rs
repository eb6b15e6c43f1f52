//! SQL text for the parsed request. Identifiers are validated then double-quoted; filter operands become quoted
//! untyped literals, so Postgres coerces them to the column's type exactly as PostgREST's untyped parameters do.

use super::error::GatewayError;
use super::query::{Filter, Operator, OrderTerm};

/// `"name"` — callers pass names already checked by `query::column_name`.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `"public"."table"` for a table or function name taken from the path.
pub fn qualified(name: &str) -> Result<String, GatewayError> {
    let name = super::query::column_name(name)?;
    Ok(format!("\"public\".{}", ident(&name)))
}

/// A string literal; NUL cannot be sent to Postgres at all, so it is refused here.
pub fn literal(value: &str) -> Result<String, GatewayError> {
    if value.contains('\0') {
        return Err(GatewayError::parse("filter values cannot contain NUL"));
    }
    Ok(format!("'{}'", value.replace('\'', "''")))
}

/// The select list: `*` or the quoted columns.
pub fn select_list(columns: &[String]) -> String {
    if columns.is_empty() {
        "*".to_owned()
    } else {
        columns.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
    }
}

/// ` WHERE …` (with a leading space) or the empty string; `qualifier` (e.g. `"public"."t".`) prefixes each column
/// where an UPDATE … FROM makes bare names ambiguous.
pub fn where_clause(filters: &[Filter], qualifier: &str) -> Result<String, GatewayError> {
    if filters.is_empty() {
        return Ok(String::new());
    }
    let conditions = filters.iter().map(|f| condition(f, qualifier)).collect::<Result<Vec<_>, _>>()?;
    Ok(format!(" WHERE {}", conditions.join(" AND ")))
}

fn condition(filter: &Filter, qualifier: &str) -> Result<String, GatewayError> {
    let column = format!("{qualifier}{}", ident(&filter.column));
    let text = match &filter.operator {
        Operator::Eq(v) => format!("{column} = {}", literal(v)?),
        Operator::Neq(v) => format!("{column} <> {}", literal(v)?),
        Operator::Gt(v) => format!("{column} > {}", literal(v)?),
        Operator::Gte(v) => format!("{column} >= {}", literal(v)?),
        Operator::Lt(v) => format!("{column} < {}", literal(v)?),
        Operator::Lte(v) => format!("{column} <= {}", literal(v)?),
        // An empty list matches nothing, as in PostgREST (`= ANY('{}')`).
        Operator::In(items) if items.is_empty() => "FALSE".to_owned(),
        Operator::In(items) => {
            let items = items.iter().map(|v| literal(v)).collect::<Result<Vec<_>, _>>()?;
            format!("{column} IN ({})", items.join(", "))
        }
        Operator::Is(keyword) => format!("{column} IS {keyword}"),
    };
    Ok(if filter.negated { format!("NOT ({text})") } else { text })
}

/// ` ORDER BY …` (with a leading space) or the empty string.
pub fn order_clause(order: &[OrderTerm]) -> String {
    if order.is_empty() {
        return String::new();
    }
    let terms: Vec<String> = order
        .iter()
        .map(|term| {
            let direction = if term.descending { " DESC" } else { " ASC" };
            let nulls = match term.nulls_first {
                Some(true) => " NULLS FIRST",
                Some(false) => " NULLS LAST",
                None => "",
            };
            format!("{}{direction}{nulls}", ident(&term.column))
        })
        .collect();
    format!(" ORDER BY {}", terms.join(", "))
}

#[cfg(test)]
mod tests {
    use super::super::query::Query;
    use super::*;

    #[test]
    fn filters_render_as_sql() {
        let cases = [
            ("a=eq.1", " WHERE \"a\" = '1'"),
            ("a=eq.O'Brien", " WHERE \"a\" = 'O''Brien'"),
            ("a=in.(1,2)&b=not.is.null", " WHERE \"a\" IN ('1', '2') AND NOT (\"b\" IS NULL)"),
            ("a=in.()", " WHERE FALSE"),
            ("", ""),
        ];
        for (raw, sql) in cases {
            let query = Query::parse(raw).expect(raw);
            assert_eq!(where_clause(&query.filters, "").expect(raw), sql, "{raw}");
        }
    }

    #[test]
    fn literals_cannot_break_out_and_nul_is_refused() {
        assert_eq!(literal("x'; DROP TABLE t; --").expect("quote"), "'x''; DROP TABLE t; --'");
        assert!(literal("a\0b").is_err());
    }

    #[test]
    fn order_renders_directions_and_nulls() {
        let query = Query::parse("order=a.desc.nullslast,b").expect("parse");
        assert_eq!(order_clause(&query.order), " ORDER BY \"a\" DESC NULLS LAST, \"b\" ASC");
    }
}
