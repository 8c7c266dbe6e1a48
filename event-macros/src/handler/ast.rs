//! The annotated item as the macro sees it: a handler struct, or its `impl` block with each
//! method sorted by the callback it implements. Borrows the syn nodes so errors keep their spans.

use syn::{Attribute, Field, ImplItem, ImplItemFn, Item, ItemImpl, ItemStruct};

use crate::ctxt::Errors;

/// What `#[handler]` was put on.
pub enum Input<'a> {
    /// The handler struct: the attribute generates its status view.
    Struct(HandlerStruct<'a>),
    /// The handler's `impl` block: the attribute generates the trait impls.
    Impl(HandlerImpl<'a>),
}

pub struct HandlerStruct<'a> {
    pub item: &'a ItemStruct,
    pub fields: Vec<StatusField<'a>>,
}

pub struct StatusField<'a> {
    pub field: &'a Field,
    /// `#[redact]`: shown as `<redacted>`.
    pub redacted: bool,
}

pub struct HandlerImpl<'a> {
    pub item: &'a ItemImpl,
    pub methods: Vec<Method<'a>>,
    /// An `impl Trait for Type` (reported): nothing else is checked.
    pub is_trait_impl: bool,
}

/// Which callback a method implements.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Init,
    HandleEvent,
    HandleInfo,
    Terminate,
    FormatStatus,
    /// A `#[call]` method: one `Call` impl per request type.
    Call,
}

impl Kind {
    /// The lifecycle callback a method of this name implements.
    pub fn by_name(name: &str) -> Option<Kind> {
        Some(match name {
            "init" => Kind::Init,
            "handle_event" => Kind::HandleEvent,
            "handle_info" => Kind::HandleInfo,
            "terminate" => Kind::Terminate,
            "format_status" => Kind::FormatStatus,
            _ => return None,
        })
    }
}

pub struct Method<'a> {
    pub kind: Kind,
    pub func: &'a ImplItemFn,
}

impl<'a> Input<'a> {
    /// Reads the item. `None` when `#[handler]` cannot go on it (reported in `errors`).
    pub fn from_item(item: &'a Item, errors: &mut Errors) -> Option<Self> {
        match item {
            Item::Struct(s) => Some(Input::Struct(HandlerStruct::new(s, errors))),
            Item::Impl(i) => Some(Input::Impl(HandlerImpl::new(i, errors))),
            Item::Enum(e) => {
                errors.push(syn::Error::new(
                    e.enum_token.span,
                    "`#[handler]` goes on a struct and its `impl` block: handlers are structs, \
                     not enums (wrap the enum in a struct)",
                ));
                None
            }
            Item::Fn(f) => {
                errors.push(syn::Error::new(
                    f.sig.fn_token.span,
                    "`#[handler]` goes on a struct and its `impl` block, not on a function",
                ));
                None
            }
            other => {
                errors.at(
                    other,
                    "`#[handler]` goes on a struct and on its `impl` block",
                );
                None
            }
        }
    }
}

impl<'a> HandlerStruct<'a> {
    fn new(item: &'a ItemStruct, errors: &mut Errors) -> Self {
        let fields = item
            .fields
            .iter()
            .map(|field| {
                let redact = field.attrs.iter().find(|a| is_redact(a));
                if let Some(attr) = redact {
                    if attr.meta.require_path_only().is_err() {
                        errors.at(&attr.meta, "`#[redact]` takes no arguments");
                    }
                }
                StatusField {
                    field,
                    redacted: redact.is_some(),
                }
            })
            .collect();
        HandlerStruct { item, fields }
    }
}

impl<'a> HandlerImpl<'a> {
    fn new(item: &'a ItemImpl, errors: &mut Errors) -> Self {
        let mut methods = Vec::new();
        if let Some((path, _)) = &item.trait_ {
            errors.at(
                path,
                "`#[handler]` goes on the handler's own `impl` block, not on a trait impl",
            );
            return HandlerImpl {
                item,
                methods,
                is_trait_impl: true,
            };
        }
        for member in &item.items {
            let ImplItem::Fn(func) = member else { continue };
            let call = func.attrs.iter().find(|a| is_call(a));
            let by_name = Kind::by_name(&func.sig.ident.to_string());
            let kind = match (call, by_name) {
                (Some(attr), Some(_)) => {
                    errors.at(
                        attr,
                        format_args!(
                            "`{}` is a lifecycle callback, recognised by its name: it cannot \
                             also be a `#[call]`",
                            func.sig.ident
                        ),
                    );
                    continue;
                }
                (Some(attr), None) => {
                    if attr.meta.require_path_only().is_err() {
                        errors.at(&attr.meta, "`#[call]` takes no arguments");
                    }
                    Kind::Call
                }
                (None, Some(kind)) => kind,
                (None, None) => continue,
            };
            methods.push(Method { kind, func });
        }
        HandlerImpl {
            item,
            methods,
            is_trait_impl: false,
        }
    }
}

pub fn is_call(attr: &Attribute) -> bool {
    attr.path().is_ident("call")
}

pub fn is_redact(attr: &Attribute) -> bool {
    attr.path().is_ident("redact")
}
