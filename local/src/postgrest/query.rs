//! The query-string grammar of PostgREST's subset: `select=`, horizontal filters (`col=op.value`), `order=`,
//! `limit`/`offset`, `on_conflict=` and `columns=`.

use super::error::GatewayError;

/// A filter operator with its parsed operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Operator {
    Eq(String),
    Neq(String),
    Gt(String),
    Gte(String),
    Lt(String),
    Lte(String),
    In(Vec<String>),
    /// `is.null`, `is.true`, `is.false`, `is.unknown`, rendered as SQL keywords.
    Is(&'static str),
}

/// One horizontal filter: `column=[not.]operator.value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub column: String,
    pub negated: bool,
    pub operator: Operator,
}

/// One `order=` term.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderTerm {
    pub column: String,
    pub descending: bool,
    /// `Some(true)` for `nullsfirst`, `Some(false)` for `nullslast`, `None` for Postgres' default.
    pub nulls_first: Option<bool>,
}

/// Everything the query string of one request says.
#[derive(Debug, Default, PartialEq)]
pub struct Query {
    /// Selected columns; empty means `*`.
    pub select: Vec<String>,
    pub filters: Vec<Filter>,
    pub order: Vec<OrderTerm>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub on_conflict: Option<Vec<String>>,
    pub columns: Option<Vec<String>>,
}

impl Query {
    /// Parses a raw (still percent-encoded) query string.
    pub fn parse(raw: &str) -> Result<Self, GatewayError> {
        let mut query = Query::default();
        for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
            match key.as_ref() {
                "select" => query.select = parse_select(&value)?,
                "order" => query.order = parse_order(&value)?,
                "limit" => query.limit = Some(parse_count("limit", &value)?),
                "offset" => query.offset = Some(parse_count("offset", &value)?),
                "on_conflict" => query.on_conflict = Some(parse_column_list(&value)?),
                "columns" => query.columns = Some(parse_column_list(&value)?),
                "or" | "and" | "not.or" | "not.and" => {
                    return Err(GatewayError::unsupported("logical filters (or/and)"))
                }
                column => query.filters.push(parse_filter(column, &value)?),
            }
        }
        Ok(query)
    }
}

/// A plain column name, bare or double-quoted (`postgrest-js` quotes `columns=`): the only identifiers accepted.
pub fn column_name(name: &str) -> Result<String, GatewayError> {
    let name = name.trim();
    let name = name.strip_prefix('"').and_then(|n| n.strip_suffix('"')).unwrap_or(name);
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(name.to_owned())
    } else if name.contains(['(', ')', ':', '-', '>', '!']) {
        Err(GatewayError::unsupported(format!("column expression {name:?} (embedding, aliases, casts, JSON paths)")))
    } else {
        Err(GatewayError::parse(format!("invalid column name {name:?}")))
    }
}

fn parse_select(value: &str) -> Result<Vec<String>, GatewayError> {
    if value.trim() == "*" {
        return Ok(Vec::new());
    }
    parse_column_list(value)
}

fn parse_column_list(value: &str) -> Result<Vec<String>, GatewayError> {
    value.split(',').map(column_name).collect()
}

fn parse_order(value: &str) -> Result<Vec<OrderTerm>, GatewayError> {
    value
        .split(',')
        .map(|term| {
            let mut parts = term.split('.');
            let column = column_name(parts.next().unwrap_or_default())?;
            let mut order = OrderTerm { column, descending: false, nulls_first: None };
            for modifier in parts {
                match modifier {
                    "asc" => order.descending = false,
                    "desc" => order.descending = true,
                    "nullsfirst" => order.nulls_first = Some(true),
                    "nullslast" => order.nulls_first = Some(false),
                    other => return Err(GatewayError::parse(format!("unknown order modifier {other:?}"))),
                }
            }
            Ok(order)
        })
        .collect()
}

fn parse_count(name: &str, value: &str) -> Result<u64, GatewayError> {
    value.parse().map_err(|_| GatewayError::parse(format!("{name} must be a non-negative integer, got {value:?}")))
}

fn parse_filter(column: &str, value: &str) -> Result<Filter, GatewayError> {
    let column = column_name(column)?;
    let (negated, rest) = match value.strip_prefix("not.") {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let (operator, operand) =
        rest.split_once('.').ok_or_else(|| GatewayError::parse(format!("filter {value:?} has no operator")))?;
    let operand = operand.to_owned();
    let operator = match operator {
        "eq" => Operator::Eq(operand),
        "neq" => Operator::Neq(operand),
        "gt" => Operator::Gt(operand),
        "gte" => Operator::Gte(operand),
        "lt" => Operator::Lt(operand),
        "lte" => Operator::Lte(operand),
        "in" => Operator::In(parse_in_list(&operand)?),
        "is" => Operator::Is(match operand.to_ascii_lowercase().as_str() {
            "null" => "NULL",
            "true" => "TRUE",
            "false" => "FALSE",
            "unknown" => "UNKNOWN",
            other => return Err(GatewayError::parse(format!("is. takes null, true, false or unknown, got {other:?}"))),
        }),
        "like" | "ilike" | "match" | "imatch" | "cs" | "cd" | "ov" | "sl" | "sr" | "nxr" | "nxl" | "adj" | "fts"
        | "plfts" | "phfts" | "wfts" | "isdistinct" => {
            return Err(GatewayError::unsupported(format!("filter operator {operator:?}")))
        }
        other => return Err(GatewayError::parse(format!("unknown filter operator {other:?}"))),
    };
    Ok(Filter { column, negated, operator })
}

/// `(a,b,"c,d")`: comma-separated, double quotes protect commas and parentheses, backslash escapes inside quotes.
fn parse_in_list(operand: &str) -> Result<Vec<String>, GatewayError> {
    let inner = operand
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| GatewayError::parse(format!("in. needs a parenthesised list, got {operand:?}")))?;
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => current.extend(chars.next()),
            ',' if !quoted => items.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    if quoted {
        return Err(GatewayError::parse("unterminated quote in in. list"));
    }
    if !inner.is_empty() {
        items.push(current);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(raw: &str) -> Filter {
        let query = Query::parse(raw).expect(raw);
        query.filters.into_iter().next().expect("one filter")
    }

    #[test]
    fn filters_parse_with_their_operands() {
        let cases = [
            ("id=eq.1", Operator::Eq("1".into()), false),
            ("id=neq.a%20b", Operator::Neq("a b".into()), false),
            ("id=gt.5", Operator::Gt("5".into()), false),
            ("id=gte.5", Operator::Gte("5".into()), false),
            ("id=lt.5", Operator::Lt("5".into()), false),
            ("id=lte.5", Operator::Lte("5".into()), false),
            ("id=eq.a.b", Operator::Eq("a.b".into()), false),
            ("id=in.(1,2,%22x,y%22)", Operator::In(vec!["1".into(), "2".into(), "x,y".into()]), false),
            ("id=in.()", Operator::In(vec![]), false),
            ("id=is.null", Operator::Is("NULL"), false),
            ("id=not.is.null", Operator::Is("NULL"), true),
            ("id=not.eq.3", Operator::Eq("3".into()), true),
        ];
        for (raw, operator, negated) in cases {
            let parsed = filter(raw);
            assert_eq!(parsed.column, "id", "{raw}");
            assert_eq!(parsed.operator, operator, "{raw}");
            assert_eq!(parsed.negated, negated, "{raw}");
        }
    }

    #[test]
    fn reserved_parameters_parse() {
        let query = Query::parse("select=id,%20name&order=score.desc.nullslast,id&limit=5&offset=10&on_conflict=a,b")
            .expect("parse");
        assert_eq!(query.select, ["id", "name"]);
        assert_eq!(
            query.order,
            [
                OrderTerm { column: "score".into(), descending: true, nulls_first: Some(false) },
                OrderTerm { column: "id".into(), descending: false, nulls_first: None },
            ]
        );
        assert_eq!((query.limit, query.offset), (Some(5), Some(10)));
        assert_eq!(query.on_conflict, Some(vec!["a".into(), "b".into()]));
        let quoted = Query::parse("columns=%22a%22,%22b%22").expect("quoted");
        assert_eq!(quoted.columns, Some(vec!["a".into(), "b".into()]));
        assert!(Query::parse("select=*").expect("star").select.is_empty());
    }

    #[test]
    fn what_the_subset_lacks_is_refused_by_name() {
        for raw in ["or=(a.eq.1,b.eq.2)", "name=like.a*", "select=profiles(*)", "select=a:b", "select=a::text"] {
            let error = Query::parse(raw).expect_err(raw);
            assert_eq!(error.status().as_u16(), 400, "{raw}");
        }
        for raw in ["id=zz.1", "id=eq", "order=id.sideways", "limit=-1", "x%22y=eq.1", "id=in.(1", "id=is.maybe"] {
            assert!(Query::parse(raw).is_err(), "{raw}");
        }
    }
}
