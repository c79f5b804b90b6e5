//! The [`battery`](crate::battery) instantiated per provider: `openai` (the bundled OpenAI
//! translator) and `anthropic` (the bundled pass-through against the mock's Anthropic wire)
//! run the same scenarios. `cargo test -p ccr-tests --test e2e providers::anthropic::`
//! runs one provider.

use crate::battery::generate_provider_tests;

generate_provider_tests!(
    openai,
    ccr_tests::Wire::OpenAi,
    [
        text,
        parallel_tools,
        reasoning,
        usage,
        stop_reasons,
        errors_before_the_stream,
        error_mid_stream,
    ]
);

generate_provider_tests!(
    anthropic,
    ccr_tests::Wire::Anthropic,
    [
        text,
        parallel_tools,
        reasoning,
        usage,
        stop_reasons,
        errors_before_the_stream,
        error_mid_stream,
    ]
);
