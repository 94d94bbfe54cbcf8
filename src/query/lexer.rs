//! A small SQL lexer: just enough to tell code apart from string literals, quoted identifiers and comments.

/// What a token is; only the distinctions the rewriter needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Space,
    /// `-- ...` to the end of the line, or `/* ... */`.
    Comment,
    /// `'...'` (with `''` inside), also `E'...'` and `X'...'` prefixes as separate words.
    Str,
    /// `"..."` or `` `...` ``.
    QuotedIdent,
    /// A run of letters, digits and `_`.
    Word,
    /// Any other single character.
    Punct,
}

/// One token: its kind and its byte range in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn text<'a>(&self, sql: &'a str) -> &'a str {
        &sql[self.start..self.end]
    }

    /// True for whitespace and comments, which never change a statement's meaning.
    pub fn is_trivia(&self) -> bool {
        matches!(self.kind, Kind::Space | Kind::Comment)
    }

    pub fn is_punct(&self, sql: &str, c: char) -> bool {
        self.kind == Kind::Punct && self.text(sql).starts_with(c)
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits `sql` into tokens that cover it exactly. Unterminated strings and comments run to
/// the end of the text (the SQL parser reports them later).
pub(crate) fn tokenize(sql: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = sql.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let kind = match (c, next) {
            _ if c.is_whitespace() => {
                while chars.next_if(|&(_, n)| n.is_whitespace()).is_some() {}
                Kind::Space
            }
            ('-', Some('-')) => {
                while chars.next_if(|&(_, n)| n != '\n').is_some() {}
                Kind::Comment
            }
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for (_, n) in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
                Kind::Comment
            }
            ('\'' | '"' | '`', _) => {
                // A doubled quote inside stands for the quote itself.
                loop {
                    match chars.next() {
                        None => break,
                        Some((_, q)) if q == c => {
                            if chars.next_if(|&(_, n)| n == c).is_none() {
                                break;
                            }
                        }
                        Some(_) => {}
                    }
                }
                if c == '\'' {
                    Kind::Str
                } else {
                    Kind::QuotedIdent
                }
            }
            _ if is_word_char(c) => {
                while chars.next_if(|&(_, n)| is_word_char(n)).is_some() {}
                Kind::Word
            }
            _ => Kind::Punct,
        };
        let end = chars.peek().map_or(sql.len(), |&(i, _)| i);
        tokens.push(Token { kind, start, end });
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<(Kind, &str)> {
        tokenize(sql)
            .into_iter()
            .filter(|t| t.kind != Kind::Space)
            .map(|t| (t.kind, t.text(sql)))
            .collect()
    }

    #[test]
    fn strings_identifiers_and_comments_are_single_tokens() {
        let sql = "SELECT 'it''s -- no' AS \"a \"\"b\"\" c\", x-- tail\n/* FROM y */ FROM `t`";
        assert_eq!(
            kinds(sql),
            vec![
                (Kind::Word, "SELECT"),
                (Kind::Str, "'it''s -- no'"),
                (Kind::Word, "AS"),
                (Kind::QuotedIdent, "\"a \"\"b\"\" c\""),
                (Kind::Punct, ","),
                (Kind::Word, "x"),
                (Kind::Comment, "-- tail"),
                (Kind::Comment, "/* FROM y */"),
                (Kind::Word, "FROM"),
                (Kind::QuotedIdent, "`t`"),
            ]
        );
    }

    #[test]
    fn tokens_cover_the_text_even_when_unterminated() {
        for sql in ["a 'open", "b /* open", "c \"open", "é_ü-1"] {
            let joined: String = tokenize(sql).iter().map(|t| t.text(sql)).collect();
            assert_eq!(joined, sql);
        }
        assert_eq!(
            kinds("074365db-2079"),
            vec![
                (Kind::Word, "074365db"),
                (Kind::Punct, "-"),
                (Kind::Word, "2079")
            ]
        );
    }
}
