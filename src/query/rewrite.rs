//! Lake SQL to DataFusion SQL: `${name}` parameters, and event data store IDs, names and ARNs after FROM / JOIN.

use super::error::QueryError;
use super::lexer::{Kind, Token, tokenize};

/// An event data store as queries may name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRef {
    /// The lowercase UUID the table is registered under.
    pub id: String,
    pub name: String,
    pub arn: String,
    /// Why the store cannot be queried (its status), if it cannot.
    pub unavailable: Option<String>,
}

/// Replaces every `${name}` outside comments (inside string literals too, as in
/// `eventTime > '${date_filter}'`) with its value, verbatim. Names match exactly, else
/// ignoring case. Placeholders left without a value are an error that names them all.
pub fn substitute_params(sql: &str, params: &[(String, String)]) -> Result<String, QueryError> {
    let mut out = String::with_capacity(sql.len());
    let mut missing: Vec<String> = Vec::new();
    let tokens = tokenize(sql);
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i].kind == Kind::Comment {
            out.push_str(tokens[i].text(sql));
            i += 1;
            continue;
        }
        // A run of code and literals between comments: placeholders cannot span a comment.
        let start = tokens[i].start;
        while i < tokens.len() && tokens[i].kind != Kind::Comment {
            i += 1;
        }
        let end = tokens.get(i).map_or(sql.len(), |t| t.start);
        substitute_segment(&sql[start..end], params, &mut out, &mut missing);
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(QueryError::MissingParams(missing))
    }
}

fn substitute_segment(
    text: &str,
    params: &[(String, String)],
    out: &mut String,
    missing: &mut Vec<String>,
) {
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let name_len = after
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        if name.is_empty() || !after[name_len..].starts_with('}') {
            out.push_str("${");
            rest = after;
            continue;
        }
        let value = params
            .iter()
            .find(|(k, _)| k == name)
            .or_else(|| params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)));
        match value {
            Some((_, v)) => out.push_str(v),
            None => {
                if !missing.iter().any(|m| m == name) {
                    missing.push(name.to_string());
                }
                out.push_str(&rest[at..at + 3 + name_len]);
            }
        }
        rest = &after[name_len + 1..];
    }
    out.push_str(rest);
}

/// Functions whose argument lists use FROM as a separator, not to name a table.
const FROM_IN_ARGUMENTS: &[&str] = &["extract", "substring", "trim", "position", "overlay"];
/// Keywords that end a FROM list.
const FROM_LIST_END: &[&str] = &[
    "where",
    "group",
    "having",
    "order",
    "limit",
    "union",
    "intersect",
    "except",
    "window",
    "qualify",
    "offset",
    "fetch",
    "select",
];

/// Rewrites each event data store named after FROM or JOIN (or after a comma in a FROM list)
/// by its bare ID, name or ARN, quoted or not, to the quoted ID it is registered under.
/// Other table names (CTEs, subqueries) are left alone; a name that can only be meant as an
/// event data store (it holds `-`, `:` or `/`, or is a UUID) but matches none is an error.
pub fn rewrite_table_refs(sql: &str, stores: &[StoreRef]) -> Result<String, QueryError> {
    let tokens = tokenize(sql);
    let mut out = String::with_capacity(sql.len() + 16);
    let mut expect: Option<&str> = None; // the keyword a table reference may follow now
    let mut from_list_depth: Option<usize> = None;
    let mut parens: Vec<bool> = Vec::new(); // per open paren: FROM inside is an argument
    let mut prev: Option<Token> = None;
    let mut i = 0;
    while i < tokens.len() {
        let tok = tokens[i];
        if tok.is_trivia() {
            out.push_str(tok.text(sql));
            i += 1;
            continue;
        }
        if let Some(keyword) = expect.take()
            && matches!(tok.kind, Kind::Word | Kind::QuotedIdent)
        {
            let mut j = i + 1;
            while j < tokens.len() && is_reference_part(&tokens[j], sql) {
                j += 1;
            }
            let text = &sql[tok.start..tokens[j - 1].end];
            match resolve(text, keyword, stores)? {
                Some(id) => {
                    out.push('"');
                    out.push_str(id);
                    out.push('"');
                }
                None => out.push_str(text),
            }
            prev = Some(tokens[j - 1]);
            i = j;
            continue;
        }
        let depth = parens.len();
        match tok.kind {
            Kind::Word => {
                let word = tok.text(sql);
                let after_distinct =
                    prev.is_some_and(|p| p.text(sql).eq_ignore_ascii_case("distinct"));
                if word.eq_ignore_ascii_case("from")
                    && !after_distinct
                    && !parens.last().copied().unwrap_or(false)
                {
                    expect = Some("FROM");
                    from_list_depth = Some(depth);
                } else if word.eq_ignore_ascii_case("join") {
                    expect = Some("JOIN");
                } else if from_list_depth == Some(depth)
                    && FROM_LIST_END.iter().any(|k| word.eq_ignore_ascii_case(k))
                {
                    from_list_depth = None;
                }
            }
            Kind::Punct if tok.is_punct(sql, '(') => {
                let function = prev.filter(|p| p.kind == Kind::Word).map(|p| p.text(sql));
                parens.push(
                    function.is_some_and(|f| {
                        FROM_IN_ARGUMENTS.iter().any(|k| f.eq_ignore_ascii_case(k))
                    }),
                );
            }
            Kind::Punct if tok.is_punct(sql, ')') => {
                parens.pop();
                if from_list_depth.is_some_and(|d| d > parens.len()) {
                    from_list_depth = None;
                }
            }
            Kind::Punct if tok.is_punct(sql, ',') && from_list_depth == Some(depth) => {
                expect = Some("FROM");
            }
            _ => {}
        }
        out.push_str(tok.text(sql));
        prev = Some(tok);
        i += 1;
    }
    Ok(out)
}

/// Rewrites `.field` right after a closing parenthesis or bracket, as in Lake's
/// `element_at(resources, 1).arn` or `resources[1].arn`, to `['field']`, the form DataFusion plans for a struct
/// returned by an expression. Unquoted names are lower-cased, as identifiers are.
pub fn rewrite_field_access(sql: &str) -> String {
    rewrite_field_access_marked(sql).0
}

/// [`rewrite_field_access`], also giving where each `'field'` it wrote starts (line and
/// column, 1-based, as the SQL parser's spans count them), so that result names can tell a
/// field access from a map subscript written as such.
pub fn rewrite_field_access_marked(sql: &str) -> (String, Vec<(u64, u64)>) {
    let tokens = tokenize(sql);
    let mut marks = Vec::new();
    let mut out = String::with_capacity(sql.len() + 8);
    let mut after_value = false; // just after `)` or a field access already rewritten
    let mut i = 0;
    while i < tokens.len() {
        let tok = tokens[i];
        let field = tokens.get(i + 1).filter(|f| {
            matches!(f.kind, Kind::Word | Kind::QuotedIdent)
                && !f.text(sql).starts_with(|c: char| c.is_ascii_digit())
        });
        if let (true, true, Some(field)) = (after_value, tok.is_punct(sql, '.'), field) {
            let name = match field.kind {
                Kind::QuotedIdent => unquote(field.text(sql)).unwrap_or_default(),
                _ => field.text(sql).to_lowercase(),
            };
            out.push('[');
            marks.push(location_of_end(&out));
            out.push_str(&format!("'{}']", name.replace('\'', "''")));
            after_value = true;
            i += 2;
            continue;
        }
        after_value = tok.is_punct(sql, ')') || tok.is_punct(sql, ']');
        out.push_str(tok.text(sql));
        i += 1;
    }
    (out, marks)
}

/// The line and column (1-based, in characters) of the next character appended to `text`.
fn location_of_end(text: &str) -> (u64, u64) {
    let line = text.matches('\n').count() as u64 + 1;
    let start = text.rfind('\n').map_or(0, |i| i + 1);
    (line, text[start..].chars().count() as u64 + 1)
}

/// Tokens that continue a table reference written without spaces: `a.b`, a bare UUID, an ARN.
fn is_reference_part(tok: &Token, sql: &str) -> bool {
    match tok.kind {
        Kind::Word | Kind::QuotedIdent => true,
        Kind::Punct => matches!(tok.text(sql), "." | "-" | ":" | "/"),
        _ => false,
    }
}

fn unquote(text: &str) -> Option<String> {
    let q = text.chars().next()?;
    let inner = text.strip_prefix(q)?.strip_suffix(q)?;
    Some(inner.replace(&format!("{q}{q}"), &q.to_string()))
}

/// `8-4-4-4-12` hexadecimal digits.
pub(crate) fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn resolve<'s>(
    text: &str,
    keyword: &str,
    stores: &'s [StoreRef],
) -> Result<Option<&'s str>, QueryError> {
    let quoted = matches!(text.chars().next(), Some('"' | '`'));
    let name = match quoted {
        true => match unquote(text) {
            Some(inner) => inner,
            None => return Ok(None), // `"a"."b"`: a qualified name, not ours
        },
        false => text.to_string(),
    };
    let found = stores
        .iter()
        .find(|s| s.id.eq_ignore_ascii_case(&name) || s.arn.eq_ignore_ascii_case(&name))
        .or_else(|| stores.iter().find(|s| s.name == name))
        .or_else(|| {
            let mut by_case = stores.iter().filter(|s| s.name.eq_ignore_ascii_case(&name));
            by_case.next().filter(|_| by_case.next().is_none())
        });
    if let Some(store) = found {
        if let Some(status) = &store.unavailable {
            return Err(QueryError::StoreUnavailable {
                given: name,
                status: status.clone(),
            });
        }
        return Ok(Some(&store.id));
    }
    let ours =
        is_uuid(&name) || name.starts_with("arn:") || (!quoted && name.contains(['-', ':', '/']));
    if !ours {
        return Ok(None);
    }
    Err(QueryError::UnknownStore {
        keyword: keyword.to_string(),
        given: name,
        known: known_stores(stores),
    })
}

/// "known event data stores: name (id), ..." or that there are none yet.
pub(crate) fn known_stores(stores: &[StoreRef]) -> String {
    if stores.is_empty() {
        return "there are no event data stores yet".to_string();
    }
    let list: Vec<String> = stores
        .iter()
        .map(|s| format!("{} ({})", s.name, s.id))
        .collect();
    format!("known event data stores: {}", list.join(", "))
}

#[cfg(test)]
#[path = "rewrite_tests.rs"]
mod tests;
