//! `Providers[]`: upstream endpoints, their models and transformer chains.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::reader::{check_http_url, join, Reader};
use super::ConfigError;

/// One entry of `Providers` (CCR: an upstream endpoint plus the models it serves).
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderConfig {
    /// `name`: unique, case-sensitive; the `provider` half of `"provider,model"`.
    pub name: String,
    /// `api_base_url`: the full endpoint URL (for OpenAI-compatible APIs, the
    /// `/chat/completions` URL itself; for `gemini`, the `…/v1beta/models/` base).
    pub api_base_url: String,
    /// `api_key`, after interpolation. `None` when missing or empty (e.g. Ollama);
    /// only provider plugins ever see it.
    pub api_key: Option<String>,
    /// `models`: the model ids this provider serves (used for case-insensitive matching of
    /// `/model provider,model`; routing to a model not listed here is still allowed).
    pub models: Vec<String>,
    /// `transformer`: the transformer chain, provider-wide and per model.
    pub transformer: TransformerChain,
    /// `http2PriorKnowledge` (ours): speak HTTP/2 without TLS negotiation (h2c) to this
    /// provider, so that many streams share a few connections. For `http://` servers that
    /// accept it (inference servers, an h2c sidecar); `https://` providers negotiate HTTP/2
    /// by themselves. Default false.
    pub http2_prior_knowledge: bool,
}

impl ProviderConfig {
    /// The transformers that apply to `model`, in CCR order: the provider-wide `use` chain,
    /// then the chain configured for that exact model id.
    pub fn chain_for<'a>(&'a self, model: &str) -> impl Iterator<Item = &'a TransformerUse> + 'a {
        let per_model = self
            .transformer
            .per_model
            .get(model)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        self.transformer.chain.iter().chain(per_model.iter())
    }

    /// The canonical spelling of `model` in [`models`](Self::models), compared
    /// case-insensitively (how CCR resolves `/model provider,model`).
    pub fn find_model_ci(&self, model: &str) -> Option<&str> {
        self.models
            .iter()
            .find(|m| m.eq_ignore_ascii_case(model) || m.to_lowercase() == model.to_lowercase())
            .map(String::as_str)
    }
}

/// A provider's `transformer` object:
/// `{ "use": ["t1", ["t2", {opts}]], "<model>": { "use": [...] } }`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TransformerChain {
    /// The provider-wide `use` list, applied to every model.
    pub chain: Vec<TransformerUse>,
    /// Extra `use` lists for individual model ids (exact, case-sensitive keys), applied
    /// after [`chain`](Self::chain).
    pub per_model: BTreeMap<String, Vec<TransformerUse>>,
}

/// One entry of a `use` list: a transformer (plugin) name and its options.
#[derive(Debug, Clone, PartialEq)]
pub struct TransformerUse {
    /// The plugin name, case-sensitive (`openrouter`, `maxtoken`, `Anthropic`, ...).
    pub name: String,
    /// Options given as `["name", {options}]`; `{}` when the entry is a bare name.
    pub options: Value,
}

impl TransformerUse {
    /// A transformer with no options.
    pub fn named(name: impl Into<String>) -> Self {
        TransformerUse {
            name: name.into(),
            options: Value::Object(Map::new()),
        }
    }
}

const PROVIDER_KEYS: &[&str] = &[
    "name",
    "api_base_url",
    "api_key",
    "models",
    "transformer",
    "tokenizer",
    "http2PriorKnowledge",
];

/// Reads `Providers` (already known to be present under `key`).
pub(crate) fn read_providers(
    r: &mut Reader<'_>,
    key: &str,
    v: &Value,
) -> Result<Vec<ProviderConfig>, ConfigError> {
    let items = r.array(key, v)?;
    let mut out: Vec<ProviderConfig> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let pkey = format!("{key}[{i}]");
        let p = read_provider(r, &pkey, item)?;
        if let Some(j) = out.iter().position(|q| q.name == p.name) {
            return Err(r.invalid(
                &format!("{pkey}.name"),
                format!(
                    "provider name {:?} is already used by {key}[{j}]; names must be unique",
                    p.name
                ),
            ));
        }
        out.push(p);
    }
    Ok(out)
}

fn read_provider(r: &mut Reader<'_>, key: &str, v: &Value) -> Result<ProviderConfig, ConfigError> {
    let obj = r.object(key, v)?;
    r.warn_typos(key, obj, PROVIDER_KEYS);

    let name_key = join(key, "name");
    let name = match obj.get("name") {
        None => return Err(r.invalid(&name_key, "missing; every provider needs a unique name")),
        Some(v) => r.string(&name_key, v)?.trim().to_owned(),
    };
    if name.is_empty() {
        return Err(r.invalid(&name_key, "expected a non-empty provider name, found \"\""));
    }
    if name.contains(',') {
        return Err(r.invalid(
            &name_key,
            format!(
                "provider name {name:?} must not contain `,` (it separates provider and model)"
            ),
        ));
    }

    let url_key = join(key, "api_base_url");
    let api_base_url = match obj.get("api_base_url") {
        None => {
            return Err(r.invalid(
                &url_key,
                format!("missing; provider {name:?} needs the full endpoint URL"),
            ))
        }
        Some(v) => r.string(&url_key, v)?.to_owned(),
    };
    check_http_url(&api_base_url).map_err(|m| r.invalid(&url_key, m))?;

    let api_key = r.opt_string(&join(key, "api_key"), obj.get("api_key"))?;

    let models_key = join(key, "models");
    let models = match obj.get("models") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => {
            let list = r.array(&models_key, v)?;
            let mut models = Vec::with_capacity(list.len());
            for (i, m) in list.iter().enumerate() {
                let mkey = format!("{models_key}[{i}]");
                let s = r
                    .string(&mkey, m)
                    .map_err(|_| r.expected(&mkey, "a model id string", m))?;
                models.push(s.to_owned());
            }
            models
        }
    };

    let transformer = match obj.get("transformer") {
        None | Some(Value::Null) => TransformerChain::default(),
        Some(v) => read_chain(r, &join(key, "transformer"), v)?,
    };

    let http2_prior_knowledge = match obj.get("http2PriorKnowledge") {
        None | Some(Value::Null) => false,
        Some(v) => r.boolean(&join(key, "http2PriorKnowledge"), v)?,
    };

    if obj.contains_key("tokenizer") {
        r.warn(format!(
            "`{key}.tokenizer` (CCR v2) is not supported; tokens are counted with cl100k_base"
        ));
    }

    Ok(ProviderConfig {
        name,
        api_base_url,
        api_key,
        models,
        transformer,
        http2_prior_knowledge,
    })
}

fn read_chain(r: &mut Reader<'_>, key: &str, v: &Value) -> Result<TransformerChain, ConfigError> {
    let obj = r.object(key, v)?;
    let mut chain = TransformerChain::default();
    for (k, v) in obj {
        let sub = join(key, k);
        if k == "use" {
            chain.chain = read_use_list(r, &sub, v)?;
        } else {
            // Any other key is a model id with its own `{ "use": [...] }`.
            let mobj = r
                .object(&sub, v)
                .map_err(|_| r.expected(&sub, "an object { \"use\": [...] } for this model", v))?;
            let list = match mobj.get("use") {
                Some(u) => read_use_list(r, &join(&sub, "use"), u)?,
                None => Vec::new(),
            };
            chain.per_model.insert(k.clone(), list);
        }
    }
    Ok(chain)
}

fn read_use_list(
    r: &mut Reader<'_>,
    key: &str,
    v: &Value,
) -> Result<Vec<TransformerUse>, ConfigError> {
    let what = "a transformer name or [name, {options}]";
    let items = r.array(key, v)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let ikey = format!("{key}[{i}]");
        let t = match item {
            Value::String(name) if !name.trim().is_empty() => TransformerUse::named(name.trim()),
            Value::Array(pair) => {
                let name = match pair.first() {
                    Some(Value::String(n)) if !n.trim().is_empty() => n.trim().to_owned(),
                    Some(other) => {
                        return Err(r.expected(&format!("{ikey}[0]"), "a transformer name", other))
                    }
                    None => return Err(r.expected(&ikey, what, item)),
                };
                let options = match pair.get(1) {
                    None | Some(Value::Null) => Value::Object(Map::new()),
                    Some(o @ Value::Object(_)) => o.clone(),
                    Some(other) => {
                        return Err(r.expected(&format!("{ikey}[1]"), "an options object", other))
                    }
                };
                if pair.len() > 2 {
                    r.warn(format!(
                        "`{ikey}`: only [name, options] are used; extra items are ignored"
                    ));
                }
                TransformerUse { name, options }
            }
            other => return Err(r.expected(&ikey, what, other)),
        };
        out.push(t);
    }
    Ok(out)
}
