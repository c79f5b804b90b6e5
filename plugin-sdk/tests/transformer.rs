//! `#[transformer]` derives `hooks()` from the hooks an impl defines, and the export glue
//! keeps one transformer per instance (that is, per request) across hook calls.

use ccr_plugin_sdk::{HookSet, PluginError, PluginInfo, SseEvent, TransformContext, Transformer};

/// Numbers the events of a stream: state that lives in `self` between hook calls.
struct Numbering {
    seen: usize,
}

#[ccr_plugin_sdk::transformer]
impl Transformer for Numbering {
    fn info() -> PluginInfo {
        PluginInfo::transformer("numbering", "0.1.0", "Numbers stream events")
    }

    fn new(_ctx: &TransformContext) -> Self {
        Numbering { seen: 0 }
    }

    fn transform_stream_event(
        &mut self,
        _ctx: &TransformContext,
        mut event: SseEvent,
    ) -> Result<Vec<SseEvent>, PluginError> {
        self.seen += 1;
        event.event = format!("{}#{}", event.event, self.seen);
        Ok(vec![event])
    }

    fn transform_response(
        &mut self,
        _ctx: &TransformContext,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, PluginError> {
        Ok(body)
    }
}

#[test]
fn hooks_are_the_methods_the_impl_defines() {
    assert_eq!(
        Numbering::hooks(),
        HookSet::STREAM_EVENT | HookSet::RESPONSE
    );
}

#[test]
fn one_transformer_serves_every_hook_call_of_an_instance() {
    let ctx = TransformContext::default();
    let event = |name: &str| SseEvent {
        event: name.into(),
        data: b"{}".to_vec(),
    };
    let mut names = Vec::new();
    for name in ["message_start", "content_block_delta", "message_stop"] {
        let out = ccr_plugin_sdk::__private::with_transformer::<Numbering, _>(&ctx, |t| {
            t.transform_stream_event(&ctx, event(name))
        })
        .unwrap();
        names.push(out[0].event.clone());
    }
    assert_eq!(
        names,
        ["message_start#1", "content_block_delta#2", "message_stop#3"]
    );
}
