//! The `cl100k_base` tokenizer: loading it, and counting text in chunks cut where the
//! count does not change.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use tiktoken_rs::CoreBPE;

/// Longest text handed to the tokenizer in one call. Text is split at pre-token boundaries
/// that do not change the count (see [`chunks`]).
const MAX_CHUNK: usize = 8 * 1024;

/// Longest stretch without a known pre-token boundary that is tokenized as one piece.
/// tiktoken's BPE is quadratic in the length of one pre-token and its regex can overflow
/// the stack on megabytes of one character class (`"^^^^…"`, openai/tiktoken#15), so such a
/// stretch is cut every this many bytes, which may shift the count by about one token per
/// cut. Real text rarely has such stretches (long runs of `─`, padding).
const MAX_SEGMENT: usize = 128;

/// The shared `cl100k_base` encoder, built on first use (~100 ms). `None` only if the
/// embedded vocabulary failed to load, in which case counts are estimated.
fn bpe() -> Option<&'static CoreBPE> {
    static BPE: OnceLock<Option<CoreBPE>> = OnceLock::new();
    BPE.get_or_init(|| match tiktoken_rs::cl100k_base() {
        Ok(b) => Some(b),
        Err(e) => {
            tracing::error!("cannot load the cl100k_base tokenizer, estimating token counts: {e}");
            None
        }
    })
    .as_ref()
}

/// Counts `cl100k_base` tokens of `text` with no caching.
pub fn count_uncached(text: &str) -> u32 {
    let Some(bpe) = bpe() else {
        // ~4 bytes per token is the usual estimate for English and code.
        return u32::try_from(text.len().div_ceil(4)).unwrap_or(u32::MAX);
    };
    let mut total: usize = 0;
    for chunk in chunks(text) {
        total += bpe.encode_ordinary(chunk).len();
    }
    u32::try_from(total).unwrap_or(u32::MAX)
}

/// Splits `text` into pieces of at most [`MAX_CHUNK`] bytes, cutting at positions where
/// `cl100k_base`'s pre-tokenizer would start a new pre-token anyway (so the count does not
/// change), and cutting anywhere inside a stretch of more than [`MAX_SEGMENT`] bytes with no
/// such position.
fn chunks(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut last_boundary = 0;
        let mut prev: Option<char> = None;
        let mut cut = rest.len();
        for (i, c) in rest.char_indices() {
            if let Some(p) = prev {
                if is_pretoken_boundary(p, c) {
                    last_boundary = i;
                } else if i - last_boundary >= MAX_SEGMENT {
                    cut = i;
                    break;
                }
            }
            if i >= MAX_CHUNK {
                cut = if last_boundary > 0 { last_boundary } else { i };
                break;
            }
            prev = Some(c);
        }
        let (head, tail) = rest.split_at(cut);
        rest = tail;
        Some(head)
    })
}

/// True if `cl100k_base` always starts a new pre-token between `p` and `n`, whatever comes
/// before or after. Its pattern is
/// `'s|'t|'re|'ve|'m|'ll|'d | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}{1,3} | ?[^\s\p{L}\p{N}]+[\r\n]* | \s*[\r\n]+ | \s+(?!\S) | \s+`:
/// - a run of letters or digits ends where the run ends (nothing can extend it past a
///   character of another class);
/// - a space is only ever the *first* character of a pre-token unless whitespace precedes it.
fn is_pretoken_boundary(p: char, n: char) -> bool {
    n.is_ascii()
        && ((n == ' ' && !p.is_whitespace())
            || (p.is_alphabetic() && !n.is_ascii_alphabetic())
            || (p.is_ascii_digit() && !n.is_ascii_digit()))
}

/// Starts loading the tokenizer on a background thread, once. Its vocabulary takes about
/// 26 MB and 100 ms to build, so an idle proxy does not load it at startup: the server calls
/// this when a client shows up (Claude Code sends `HEAD /` before its first message), and a
/// count that comes first simply loads it on demand.
pub fn load_in_background() {
    static STARTED: AtomicBool = AtomicBool::new(false);
    if STARTED.load(Ordering::Relaxed) || STARTED.swap(true, Ordering::Relaxed) {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("tokenizer-load".into())
        .spawn(|| {
            let _ = bpe();
        });
    if let Err(err) = spawned {
        tracing::debug!("tokenizer preload thread not started ({err}); it loads on first use");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::TokenCounter;

    #[test]
    fn known_cl100k_counts() {
        assert_eq!(count_uncached(""), 0);
        assert_eq!(count_uncached("hello world"), 2);
        assert_eq!(count_uncached("Hello, world!"), 4);
        assert_eq!(count_uncached("tiktoken is great!"), 6);
        // Special-token text is counted as ordinary text, never rejected.
        assert!(count_uncached("<|endoftext|>") > 1);
        let c = TokenCounter::default();
        assert_eq!(c.count_text("hello world"), 2);
    }

    #[test]
    fn long_text_is_chunked_without_changing_the_count() {
        let sentence = "The quick brown fox jumps over the lazy dog. ";
        let text = sentence.repeat(2_000); // ~90 KB, several chunks
        assert!(text.len() > 4 * MAX_CHUNK);
        let direct = bpe().map(|b| b.encode_ordinary(&text).len()).unwrap_or(0);
        assert_eq!(count_uncached(&text) as usize, direct);
        let rejoined: String = chunks(&text).collect();
        assert_eq!(rejoined, text);
        assert!(chunks(&text).all(|c| c.len() <= MAX_CHUNK + 4));
        assert!(chunks(&text).count() > 4);
    }

    #[test]
    fn chunked_code_counts_like_the_whole() {
        let code =
            "fn main() {\n    println!(\"hi {}\", x);\n}\n\n// 日本語 comment   with  spaces\n"
                .repeat(2_000);
        assert!(code.len() > 4 * MAX_CHUNK);
        let direct = bpe().map(|b| b.encode_ordinary(&code).len()).unwrap_or(0);
        assert_eq!(count_uncached(&code) as usize, direct);
    }

    #[test]
    fn pathological_text_does_not_crash() {
        // A megabyte with no break at all, and multi-byte characters at chunk edges.
        let t = std::time::Instant::now();
        assert!(count_uncached(&"^".repeat(1 << 18)) > 0);
        assert!(count_uncached(&"é".repeat(100_000)) > 0);
        assert!(count_uncached(&" ".repeat(100_000)) > 0);
        assert!(count_uncached(&"\n".repeat(100_000)) > 0);
        assert!(count_uncached(&"─".repeat(100_000)) > 0);
        eprintln!("pathological inputs took {:?}", t.elapsed());
        let text = "🙂".repeat(50_000);
        assert_eq!(chunks(&text).collect::<String>(), text);
    }
}
