//! `$VAR` / `${VAR}` interpolation, with claude-code-router's exact semantics.
//!
//! CCR runs `/\$\{([^}]+)\}|\$([A-Z_][A-Z0-9_]*)/g` over every string in the config:
//! `${NAME}` takes any name that contains no `}`, bare `$NAME` takes upper-case names only,
//! and a variable that is not set is left in place literally. This is a hand-written scanner
//! with the same leftmost-first behaviour (no regex engine needed for one pattern).

use serde_json::Value;

/// Replaces `${NAME}` and `$NAME` in `s` using `env`; unset names stay as written.
///
/// Every name that was looked up and not found is passed to `on_unset`, in order, so callers
/// can warn about keys that still contain a literal `$VAR`.
pub fn interpolate_str(
    s: &str,
    env: &dyn Fn(&str) -> Option<String>,
    on_unset: &mut dyn FnMut(&str),
) -> String {
    // Fast path: most strings contain no `$` at all.
    if !s.contains('$') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    // `copied` is the start of the text not yet copied into `out`.
    let mut copied = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        // First alternative: `\$\{([^}]+)\}`.
        if bytes.get(i + 1) == Some(&b'{') {
            if let Some(rel) = s[i + 2..].find('}') {
                if rel > 0 {
                    let name = &s[i + 2..i + 2 + rel];
                    let end = i + 2 + rel + 1;
                    out.push_str(&s[copied..i]);
                    match env(name) {
                        Some(v) => out.push_str(&v),
                        None => {
                            on_unset(name);
                            out.push_str(&s[i..end]);
                        }
                    }
                    i = end;
                    copied = end;
                    continue;
                }
            }
        }
        // Second alternative: `\$([A-Z_][A-Z0-9_]*)`.
        if matches!(bytes.get(i + 1), Some(b'A'..=b'Z' | b'_')) {
            let start = i + 1;
            let mut end = start + 1;
            while matches!(bytes.get(end), Some(b'A'..=b'Z' | b'0'..=b'9' | b'_')) {
                end += 1;
            }
            let name = &s[start..end];
            out.push_str(&s[copied..i]);
            match env(name) {
                Some(v) => out.push_str(&v),
                None => {
                    on_unset(name);
                    out.push_str(&s[i..end]);
                }
            }
            i = end;
            copied = end;
            continue;
        }
        // No match at this `$`: the regex moves on by one character (`$` is one byte).
        i += 1;
    }
    out.push_str(&s[copied..]);
    out
}

/// Applies [`interpolate_str`] to every string value (not object keys) in `value`, in place.
///
/// `on_unset` receives the key path of the string (`Providers[0].api_key`) and the name of
/// each variable that was not set.
pub fn interpolate_value(
    value: &mut Value,
    env: &dyn Fn(&str) -> Option<String>,
    on_unset: &mut dyn FnMut(&str, &str),
) {
    let mut path = String::new();
    walk(value, &mut path, env, on_unset);
}

fn walk(
    value: &mut Value,
    path: &mut String,
    env: &dyn Fn(&str) -> Option<String>,
    on_unset: &mut dyn FnMut(&str, &str),
) {
    match value {
        Value::String(s) => {
            if s.contains('$') {
                let p = path.as_str();
                *s = interpolate_str(s, env, &mut |name| on_unset(p, name));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, env, on_unset);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                walk(v, path, env, on_unset);
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOME" => Some("/home/me".into()),
            "KEY" => Some("sk-123".into()),
            "A_1" => Some("one".into()),
            "_X" => Some("underscore".into()),
            "lower" => Some("low".into()),
            "with space" => Some("spaced".into()),
            "EMPTY" => Some(String::new()),
            "DOLLAR" => Some("$KEY".into()),
            "ÜNI" => Some("uni".into()),
            _ => None,
        }
    }

    fn run(s: &str) -> (String, Vec<String>) {
        let mut unset = Vec::new();
        let out = interpolate_str(s, &env, &mut |n| unset.push(n.to_owned()));
        (out, unset)
    }

    fn i(s: &str) -> String {
        run(s).0
    }

    #[test]
    fn plain_strings_are_untouched() {
        assert_eq!(i(""), "");
        assert_eq!(i("hello"), "hello");
        assert_eq!(i("日本語"), "日本語");
    }

    #[test]
    fn bare_uppercase_names() {
        assert_eq!(i("$KEY"), "sk-123");
        assert_eq!(i("Bearer $KEY"), "Bearer sk-123");
        assert_eq!(i("$HOME/x"), "/home/me/x");
        assert_eq!(i("$A_1!"), "one!");
        assert_eq!(i("$_X"), "underscore");
        assert_eq!(i("$KEY$KEY"), "sk-123sk-123");
        assert_eq!(i("$EMPTY|"), "|");
    }

    #[test]
    fn bare_names_are_greedy() {
        // `$KEYS` is the variable KEYS (unset), not KEY followed by `S`.
        assert_eq!(run("$KEYS"), ("$KEYS".into(), vec!["KEYS".into()]));
        // Lower-case letters end an upper-case name.
        assert_eq!(i("$KEYs"), "sk-123s");
    }

    #[test]
    fn bare_lowercase_and_digits_do_not_match() {
        assert_eq!(run("$lower"), ("$lower".into(), vec![]));
        assert_eq!(run("$1KEY"), ("$1KEY".into(), vec![]));
        assert_eq!(run("$-"), ("$-".into(), vec![]));
        assert_eq!(run("price: 5$"), ("price: 5$".into(), vec![]));
        assert_eq!(run("$"), ("$".into(), vec![]));
        assert_eq!(i("$ÜNI"), "$ÜNI");
    }

    #[test]
    fn braced_names_accept_anything_but_close_brace() {
        assert_eq!(i("${KEY}"), "sk-123");
        assert_eq!(i("${lower}"), "low");
        assert_eq!(i("${with space}"), "spaced");
        assert_eq!(i("${ÜNI}"), "uni");
        assert_eq!(i("x${KEY}y"), "xsk-123y");
        assert_eq!(i("${KEY}${HOME}"), "sk-123/home/me");
    }

    #[test]
    fn braced_edge_cases() {
        // `${}` matches neither alternative.
        assert_eq!(run("${}"), ("${}".into(), vec![]));
        // Unterminated: the first alternative fails, `{` does not start a bare name.
        assert_eq!(run("${KEY"), ("${KEY".into(), vec![]));
        // `[^}]+` swallows `${` too: the name is `${KEY`, which is unset.
        assert_eq!(run("${${KEY}}"), ("${${KEY}}".into(), vec!["${KEY".into()]));
        // After an unterminated `${`, a later bare name still matches.
        assert_eq!(i("${ $KEY"), "${ sk-123");
        // `$$KEY`: the first `$` matches nothing, the second starts a name.
        assert_eq!(i("$$KEY"), "$sk-123");
    }

    #[test]
    fn unset_variables_stay_literal_and_are_reported() {
        assert_eq!(
            run("${NOPE} and $NOPE2"),
            (
                "${NOPE} and $NOPE2".into(),
                vec!["NOPE".into(), "NOPE2".into()]
            )
        );
    }

    #[test]
    fn substitution_is_not_recursive() {
        // The value `$KEY` is inserted as is, not expanded again.
        assert_eq!(i("$DOLLAR"), "$KEY");
        assert_eq!(i("${DOLLAR}"), "$KEY");
    }

    #[test]
    fn multibyte_text_around_variables() {
        assert_eq!(i("é$KEYé"), "ésk-123é");
        assert_eq!(i("🙂${KEY}🙂$"), "🙂sk-123🙂$");
    }

    #[test]
    fn values_are_interpolated_recursively_but_keys_are_not() {
        let mut v = json!({
            "$KEY": "$KEY",
            "list": ["${HOME}", 1, true, null, {"deep": ["$NOPE"]}],
        });
        let mut unset = Vec::new();
        interpolate_value(&mut v, &env, &mut |p, n| {
            unset.push((p.to_owned(), n.to_owned()))
        });
        assert_eq!(
            v,
            json!({
                "$KEY": "sk-123",
                "list": ["/home/me", 1, true, null, {"deep": ["$NOPE"]}],
            })
        );
        assert_eq!(unset, vec![("list[4].deep[0]".into(), "NOPE".into())]);
    }
}
