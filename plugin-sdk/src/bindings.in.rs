// The `wit_bindgen::generate!` calls, one module per world. `build.rs` fills in `{{contract}}`
// (the version in `wit/worlds.wit`) and writes the result to `$OUT_DIR/bindings.rs`, which
// `export.rs` includes: wit-bindgen names interfaces in `with` and `inline` by their
// versioned names, and a proc macro's arguments must be literals.

/// The interfaces every world shares: `ccr:plugin/types` and `ccr:plugin/host`.
pub mod common {
    wit_bindgen::generate!({
        inline: "package ccr:sdk; world common { import ccr:plugin/types@{{contract}}; import ccr:plugin/host@{{contract}}; }",
        path: "../wit",
        world: "ccr:sdk/common",
        generate_all,
        generate_unused_types: true,
        runtime_path: "ccr_plugin_sdk::__private::wit_bindgen::rt",
        additional_derives: [PartialEq, Eq],
    });
}

/// The `provider` world.
pub mod provider {
    wit_bindgen::generate!({
        path: "../wit",
        world: "ccr:plugin/provider",
        with: {
            "ccr:plugin/types@{{contract}}": ccr_plugin_sdk::__private::bindings::common::ccr::plugin::types,
            "ccr:plugin/host@{{contract}}": ccr_plugin_sdk::__private::bindings::common::ccr::plugin::host,
        },
        runtime_path: "ccr_plugin_sdk::__private::wit_bindgen::rt",
        additional_derives: [PartialEq, Eq],
        pub_export_macro: true,
        export_macro_name: "export_world",
        default_bindings_module: "ccr_plugin_sdk::__private::bindings::provider",
    });
}

/// The `transformer` world.
pub mod transformer {
    wit_bindgen::generate!({
        path: "../wit",
        world: "ccr:plugin/transformer",
        with: {
            "ccr:plugin/types@{{contract}}": ccr_plugin_sdk::__private::bindings::common::ccr::plugin::types,
            "ccr:plugin/host@{{contract}}": ccr_plugin_sdk::__private::bindings::common::ccr::plugin::host,
        },
        runtime_path: "ccr_plugin_sdk::__private::wit_bindgen::rt",
        additional_derives: [PartialEq, Eq],
        pub_export_macro: true,
        export_macro_name: "export_world",
        default_bindings_module: "ccr_plugin_sdk::__private::bindings::transformer",
    });
}

/// The `router` world.
pub mod router {
    wit_bindgen::generate!({
        path: "../wit",
        world: "ccr:plugin/router",
        with: {
            "ccr:plugin/types@{{contract}}": ccr_plugin_sdk::__private::bindings::common::ccr::plugin::types,
            "ccr:plugin/host@{{contract}}": ccr_plugin_sdk::__private::bindings::common::ccr::plugin::host,
        },
        runtime_path: "ccr_plugin_sdk::__private::wit_bindgen::rt",
        additional_derives: [PartialEq, Eq],
        pub_export_macro: true,
        export_macro_name: "export_world",
        default_bindings_module: "ccr_plugin_sdk::__private::bindings::router",
    });
}
