//! CCR settings that cannot take effect in ccr: JavaScript `transformers`,
//! `forceUseImageAgent` and `REWRITE_SYSTEM_PROMPT`. They are read so the user is told
//! what happens instead (one warning each).

use serde_json::{Map, Value};

use super::reader::{join, Reader};
use super::ConfigError;

/// One entry of CCR's `transformers` list: a JavaScript transformer module.
#[derive(Debug, Clone, PartialEq)]
pub struct JsTransformer {
    /// `path`: the `.js` module.
    pub path: String,
    /// `options`: passed to the module's constructor (`{}` if absent).
    pub options: Value,
}

/// `transformers`: CCR's JavaScript modules, each with a warning that it is ignored.
pub(super) fn read_js_transformers(
    r: &mut Reader<'_>,
    top: &Map<String, Value>,
) -> Result<Vec<JsTransformer>, ConfigError> {
    let v = match top.get("transformers") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(v) => v,
    };
    let items = r.array("transformers", v)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let key = format!("transformers[{i}]");
        let obj = r.object(&key, item)?;
        let path = match obj.get("path") {
            Some(p) => r.string(&join(&key, "path"), p)?.to_owned(),
            None => return Err(r.invalid(&join(&key, "path"), "missing; expected the module path")),
        };
        let options = obj
            .get("options")
            .cloned()
            .unwrap_or_else(|| Value::Object(Default::default()));
        r.warn(format!(
            "`{key}`: JavaScript transformer {path:?} cannot run in ccr and is ignored; port it to a \
             WebAssembly transformer plugin and put the .wasm in the plugins folder"
        ));
        out.push(JsTransformer { path, options });
    }
    Ok(out)
}

/// `forceUseImageAgent` (false when unset), with a warning when it is on.
pub(super) fn read_force_use_image_agent(
    r: &mut Reader<'_>,
    top: &Map<String, Value>,
) -> Result<bool, ConfigError> {
    let force_use_image_agent = match top.get("forceUseImageAgent") {
        None => false,
        Some(v) => r.boolean("forceUseImageAgent", v)?,
    };
    if force_use_image_agent {
        r.warn(
            "forceUseImageAgent is not supported (CCR's image agent is not implemented); \
             requests whose last user message has an image go to Router.image directly",
        );
    }
    Ok(force_use_image_agent)
}

/// Warns when `REWRITE_SYSTEM_PROMPT` is set (it is ignored).
pub(super) fn warn_rewrite_system_prompt(
    r: &mut Reader<'_>,
    top: &Map<String, Value>,
) -> Result<(), ConfigError> {
    if r.opt_string("REWRITE_SYSTEM_PROMPT", top.get("REWRITE_SYSTEM_PROMPT"))?
        .is_some()
    {
        r.warn("REWRITE_SYSTEM_PROMPT is not supported and is ignored; use a transformer plugin");
    }
    Ok(())
}
