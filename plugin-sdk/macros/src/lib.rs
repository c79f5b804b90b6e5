//! Attribute macros of `ccr-plugin-sdk`, re-exported there as
//! `ccr_plugin_sdk::transformer`. Plugin crates depend on the SDK, not on this crate.

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, Error, ImplItem, ItemImpl};

/// The transformer hooks: (method name, `HookSet` flag).
const HOOKS: [(&str, &str); 4] = [
    ("transform_request", "REQUEST"),
    ("transform_upstream", "UPSTREAM"),
    ("transform_response", "RESPONSE"),
    ("transform_stream_event", "STREAM_EVENT"),
];

/// On an `impl Transformer for X { .. }`: writes `fn hooks()` from the `transform_*`
/// methods the block defines, so the host calls exactly the hooks a plugin implements and
/// the list cannot fall out of step with the code.
#[proc_macro_attribute]
pub fn transformer(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        let attr = proc_macro2::TokenStream::from(attr);
        return Error::new_spanned(attr, "`#[transformer]` takes no arguments")
            .to_compile_error()
            .into();
    }
    let mut block = parse_macro_input!(item as ItemImpl);
    let methods: Vec<_> = block
        .items
        .iter()
        .filter_map(|item| match item {
            ImplItem::Fn(f) => Some(&f.sig.ident),
            _ => None,
        })
        .collect();
    if let Some(hooks) = methods.iter().find(|m| **m == "hooks") {
        return Error::new_spanned(
            hooks,
            "`#[transformer]` writes `hooks()` from the `transform_*` methods; remove this one",
        )
        .to_compile_error()
        .into();
    }
    let flags: Vec<_> = HOOKS
        .iter()
        .filter(|(method, _)| methods.iter().any(|m| *m == method))
        .map(|(_, flag)| syn::Ident::new(flag, proc_macro2::Span::call_site()))
        .collect();
    let hooks = quote! {
        fn hooks() -> ::ccr_plugin_sdk::HookSet {
            ::ccr_plugin_sdk::HookSet::empty() #(| ::ccr_plugin_sdk::HookSet::#flags)*
        }
    };
    block
        .items
        .push(syn::parse2(hooks).expect("hooks() is a valid impl item"));
    quote!(#block).into()
}
