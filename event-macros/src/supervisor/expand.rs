//! The code `supervisor!` generates: the struct, its `start`/`supervised`, and one accessor per
//! child. With errors, the struct and its accessors are still generated (so the tree's uses do
//! not fail too) and the sound children are still type-checked.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::Ident;

use super::check::{Plan, RESERVED};
use super::parse::{AutoShutdown, Child, Kind, Restart, Shutdown, Standing, Strategy, Tree};
use crate::private_path::private_path;

pub fn expand(tree: &Tree, plan: &Plan, ok: bool) -> TokenStream {
    let p = private_path(tree.krate.as_ref());
    let Tree {
        attrs, vis, name, ..
    } = tree;
    let named = named_children(tree);

    let fields = named.iter().filter_map(|c| {
        let ty = field_type(c, &p)?;
        let n = &c.name;
        Some(quote!(#n: #ty))
    });
    // A `child` form's handle is kept as its `ChildHandle`, made beside it.
    let field_names = named
        .iter()
        .filter(|c| field_type(c, &p).is_some())
        .map(|c| match c.kind {
            Kind::Child { .. } => {
                let n = &c.name;
                let kept = kept_handle(n);
                quote!(#n: #kept)
            }
            _ => c.name.to_token_stream(),
        })
        .collect::<Vec<_>>();
    let accessors = named.iter().map(|c| accessor(c, &p, vis));
    let params = tree.params.iter().map(|prm| {
        let (n, ty) = (&prm.name, &prm.ty);
        if prm.value {
            quote!(#n: #ty)
        } else {
            quote!(#n: &#p::EventManager<#ty>)
        }
    });
    let params = quote!(#(#params),*);
    let param_names = tree.params.iter().map(|prm| &prm.name);
    let param_names = quote!(#(#param_names),*);

    let head = head(tree, &p);
    let stmts = tree
        .children
        .iter()
        .enumerate()
        .filter(|(i, _)| plan.build[*i])
        .map(|(i, c)| child_stmts(c, plan.events[i].as_ref(), tree, &p));
    let stmts = quote!(#(#stmts)*);
    let template = template_stmts(tree, plan, &p);

    let sup_name = sup_name(tree);
    let doc_start = format!(
        " Starts the supervision tree `{sup_name}` and its children, in order: once it returns, every child runs.\n\n # Errors\n A child that fails to start (the ones started are stopped again), or no tokio runtime."
    );
    let doc_supervised = " This tree as a child of another supervisor, with id `id`: its handle and its children's handles reach every incarnation.\n\n # Errors\n A specification the runtime refuses, or no tokio runtime.";
    let body_start;
    let body_supervised;
    let build_fn;
    if ok {
        build_fn = quote! {
            #[allow(clippy::type_complexity)]
            fn __build(#params) -> #p::Result<
                (#p::SupervisorBuilder, impl ::core::ops::FnOnce(#p::Supervisor) -> Self),
                #p::SupervisorError,
            > {
                #head
                #stmts
                #template
                #p::Ok((__builder, move |__supervisor| Self { __supervisor, #(#field_names),* }))
            }
        };
        body_start = quote! {
            let (__builder, __make) = Self::__build(#param_names)?;
            #p::Ok(__make(__builder.start().await?))
        };
        body_supervised = quote! {
            let (__builder, __make) = Self::__build(#param_names)?;
            let (__supervisor, __spec) = __builder.supervised(id)?;
            #p::Ok((__make(__supervisor), __spec))
        };
    } else {
        // The sound children, type-checked; the tree does not compile, so nothing runs.
        build_fn = quote! {
            #[allow(unused_mut, unused_variables, unreachable_code)]
            fn __check(#params) -> #p::Result<(), #p::SupervisorError> {
                #head
                #stmts
                #template
                #p::Ok(())
            }
        };
        body_start = quote!(::core::unreachable!());
        body_supervised = quote!(::core::unreachable!());
    }
    let start_child = start_child(tree, plan, &p, vis);
    // With errors, the methods' bodies do not use their parameters.
    let allow_unused = (!ok).then(|| quote!(#[allow(unused_variables)]));

    quote! {
        #(#attrs)*
        #[derive(Clone)]
        #vis struct #name {
            __supervisor: #p::Supervisor,
            #(#fields,)*
        }

        #[allow(dead_code)]
        #allow_unused
        impl #name {
            #build_fn

            #[doc = #doc_start]
            #vis async fn start(#params) -> #p::Result<Self, #p::SupervisorError> {
                #body_start
            }

            #[doc = #doc_supervised]
            #vis fn supervised(
                id: impl ::core::convert::Into<#p::Arc<str>>,
                #params
            ) -> #p::Result<(Self, #p::ChildSpec), #p::SupervisorError> {
                #body_supervised
            }

            /// The tree's supervisor: `which_children`, `count_children`, `terminate_child`,
            /// `restart_child` and the other administration functions.
            #[must_use]
            #vis fn supervisor(&self) -> &#p::Supervisor {
                &self.__supervisor
            }

            /// Stops the tree: its children in reverse start order, then the supervisor.
            ///
            /// # Errors
            /// The supervisor has ended already.
            #vis async fn stop(&self) -> #p::Result<(), #p::SupervisorError> {
                self.__supervisor.stop().await
            }

            #start_child
            #(#accessors)*
        }
    }
}

/// The children that get a field and an accessor: the first of each name, not a reserved one.
fn named_children(tree: &Tree) -> Vec<&Child> {
    let mut out: Vec<&Child> = Vec::new();
    for c in &tree.children {
        let taken = out.iter().any(|o| o.name == c.name)
            || tree.params.iter().any(|p| p.name == c.name)
            || RESERVED.contains(&c.name.to_string().as_str());
        if !taken {
            out.push(c);
        }
    }
    out
}

fn field_type(c: &Child, p: &TokenStream) -> Option<TokenStream> {
    match &c.kind {
        Kind::Manager { event, .. } => Some(quote!(#p::EventManager<#event>)),
        Kind::Guard { handler, .. } => Some(quote!(#p::HandlerRef<#handler>)),
        Kind::Supervisor { path, .. } => Some(quote!(#path)),
        Kind::Child { ty, .. } => Some(quote!(#p::ChildHandle<#ty>)),
        Kind::Task { .. } => None,
    }
}

/// The variable holding what the tree keeps of the `child` form `n`.
fn kept_handle(n: &Ident) -> Ident {
    format_ident!("__handle_{}", n)
}

/// `<Type as IntoChild>::Handle`, spanned on the type: a type that is not a child is an error
/// there.
fn handle_type(ty: &syn::Type, p: &TokenStream) -> TokenStream {
    let span = ty.span();
    let p = respan(p, span);
    quote_spanned!(span=> <#ty as #p::IntoChild>::Handle)
}

fn accessor(c: &Child, p: &TokenStream, vis: &syn::Visibility) -> TokenStream {
    let n = &c.name;
    let id = n.to_string();
    match &c.kind {
        Kind::Manager { event, .. } => {
            let doc = format!(
                " The event manager `{id}` (events of type `{}`). The handle reaches every incarnation: events sent while it restarts wait for the next one.",
                type_name(event)
            );
            quote! {
                #[doc = #doc]
                #[must_use]
                #vis fn #n(&self) -> &#p::EventManager<#event> { &self.#n }
            }
        }
        Kind::Guard {
            handler, manager, ..
        } => {
            let on = manager
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let doc = format!(
                " The handler `{}` that the guard `{id}` keeps installed on `{on}`: call it through `{on}()`. The reference is the same across re-installs.",
                type_name(handler)
            );
            quote! {
                #[doc = #doc]
                #[must_use]
                #vis fn #n(&self) -> &#p::HandlerRef<#handler> { &self.#n }
            }
        }
        Kind::Supervisor { path, .. } => {
            let doc = format!(" The nested tree `{id}`.");
            quote! {
                #[doc = #doc]
                #[must_use]
                #vis fn #n(&self) -> &#path { &self.#n }
            }
        }
        Kind::Child { ty, .. } => {
            let doc = format!(
                " The child `{id}` (a `{}`): the handle it gave when it became a child.",
                type_name(ty)
            );
            let handle = handle_type(ty, p);
            let span = ty.span();
            quote_spanned! {span=>
                #[doc = #doc]
                #[must_use]
                #vis fn #n(&self) -> &#handle { self.#n.get() }
            }
        }
        Kind::Task { .. } => {
            let doc =
                format!(" The task `{id}`, as `supervisor()`'s administration functions name it.",);
            quote! {
                #[doc = #doc]
                #[must_use]
                #vis fn #n(&self) -> #p::ChildRef { #p::ChildRef::from(#id) }
            }
        }
    }
}

fn type_name(ty: &impl ToTokens) -> String {
    ty.to_token_stream()
        .to_string()
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
}

fn sup_name(tree: &Tree) -> String {
    match &tree.sup_name {
        Some(s) => s.value(),
        None => tree.name.to_string(),
    }
}

fn head(tree: &Tree, p: &TokenStream) -> TokenStream {
    let name = sup_name(tree);
    let strategy = match tree.strategy.as_ref().map(|(s, _)| *s) {
        None | Some(Strategy::OneForOne) => quote!(OneForOne),
        Some(Strategy::OneForAll) => quote!(OneForAll),
        Some(Strategy::RestForOne) => quote!(RestForOne),
        Some(Strategy::SimpleOneForOne) => quote!(SimpleOneForOne),
    };
    let auto = match tree.auto_shutdown.as_ref().map(|(a, _)| a) {
        None | Some(AutoShutdown::Never) => quote!(Never),
        Some(AutoShutdown::AnySignificant) => quote!(AnySignificant),
        Some(AutoShutdown::AllSignificant) => quote!(AllSignificant),
    };
    let restarts = tree.intensity.unwrap_or(1);
    let period = tree.period_ms.unwrap_or(5000);
    quote! {
        let mut __builder = #p::Supervisor::builder()
            .name(#name)
            .strategy(#p::Strategy::#strategy)
            .intensity(#p::Intensity::new(#restarts, #p::Duration::from_millis(#period)))
            .auto_shutdown(#p::AutoShutdown::#auto);
    }
}

/// `.restart(..)`, `.shutdown(..)`, `.significant(true)` as given.
fn spec_mods(c: &Child, p: &TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    if let Some((r, _)) = &c.restart {
        let r = match r {
            Restart::Permanent => quote!(Permanent),
            Restart::Transient => quote!(Transient),
            Restart::Temporary => quote!(Temporary),
        };
        out.extend(quote!(.restart(#p::Restart::#r)));
    }
    if let Some(s) = &c.shutdown {
        let s = match s {
            Shutdown::BrutalKill => quote!(#p::Shutdown::BrutalKill),
            Shutdown::Infinity => quote!(#p::Shutdown::Infinity),
            Shutdown::Millis(ms) => quote!(#p::Shutdown::Timeout(#p::Duration::from_millis(#ms))),
        };
        out.extend(quote!(.shutdown(#s)));
    }
    if c.significant.is_some() {
        out.extend(quote!(.significant(true)));
    }
    out
}

fn in_place(in_place: Option<(u32, u64)>, p: &TokenStream) -> TokenStream {
    match in_place {
        Some((r, ms)) => quote!(#p::Some(#p::Intensity::new(#r, #p::Duration::from_millis(#ms)))),
        None => quote!(#p::None),
    }
}

fn child_stmts(
    c: &Child,
    event: Option<&TokenStream>,
    tree: &Tree,
    p: &TokenStream,
) -> TokenStream {
    let n = &c.name;
    let id = n.to_string();
    let mods = spec_mods(c, p);
    match &c.kind {
        Kind::Manager {
            event,
            name,
            bounded,
            debug_events,
            handlers,
        } => {
            let mgr_name = name.as_ref().map_or(id.clone(), syn::LitStr::value);
            let bounded = bounded.map(|b| quote!(.bounded(#b)));
            let debug = debug_events.then(|| quote!(.debug_events()));
            let builder = quote_spanned! {event.span()=>
                #p::EventManager::<#event>::builder()
            };
            let standing = handlers.iter().map(|h| standing(h, event, p));
            quote! {
                let __manager = #builder.name(#mgr_name) #bounded #debug .supervised(#id);
                #(#standing)*
                let (#n, __spec) = #p::manager(__manager, #id)?;
                __builder = __builder.child(__spec #mods);
            }
        }
        Kind::Guard {
            handler,
            manager,
            args,
            key,
            dedicated,
            backoff,
            in_place: ip,
        } => {
            let (Some(event), Some(manager)) = (event, manager) else {
                return TokenStream::new();
            };
            let span = handler.span();
            let args = match args {
                Some(a) => a.to_token_stream(),
                None => quote_spanned! {span=>
                    <<#handler as #p::Handler<#event>>::Args as #p::NoArgs>::no_args()
                },
            };
            let ip = in_place(*ip, p);
            let key = key.as_ref().map(|k| quote!(.key(#k)));
            let dedicated = dedicated.map(|d| quote!(.dedicated(#d)));
            let backoff = backoff.map(|b| {
                let b = backoff_expr(b, p);
                quote!(.backoff(#b))
            });
            let guard = format_ident!("__guard_{}", n);
            // Spanned on the handler type as a whole, so that a type that is not a handler of
            // the manager's events is one error, there.
            let p = respan(p, span);
            quote_spanned! {span=>
                let (#n, #guard) = #p::guard::<#event, #handler>(
                    &#manager,
                    #p::Install::<#handler>::new() #key #dedicated,
                    #args,
                    #ip,
                );
                __builder = __builder.child(#guard #backoff.child(#id) #mods);
            }
        }
        Kind::Task { run, clone } => {
            let Some(run) = run else {
                return TokenStream::new();
            };
            let span = run.span();
            let mut prepare = TokenStream::new();
            let run = if clone.is_empty() {
                run.to_token_stream()
            } else {
                // Each start evaluates `run` with fresh clones, so that it may move them. The
                // clones may be of `Copy` values, and `run` a closure called where it is
                // written: lints about either are the macro's, not the user's.
                let stop = Ident::new("__stop", span);
                let made = format_ident!("__run_{}", n, span = span);
                prepare = quote_spanned! {span=>
                    #[allow(clippy::clone_on_copy, clippy::redundant_closure_call)]
                    let #made = {
                        #(let #clone = #clone.clone();)*
                        move |#stop: #p::StopToken| {
                            #(let #clone = #clone.clone();)*
                            (#run)(#stop)
                        }
                    };
                };
                made.to_token_stream()
            };
            // Spanned on `run`, so that a `run` of the wrong type is an error there.
            let task = respan(&quote!(#p::task), span);
            let task = quote_spanned!(span=> #task(#id, #run));
            quote! {
                #prepare
                __builder = __builder.child(#task #mods);
            }
        }
        Kind::Child { ty, from } => {
            let Some(from) = from else {
                return TokenStream::new();
            };
            let span = ty.span();
            let call = respan(&quote!(#p::child::<#ty>), span);
            let call = quote_spanned!(span=> #call(#from, #id));
            let kept = kept_handle(n);
            quote! {
                let (#n, __spec) = #call?;
                let #kept = #p::ChildHandle::<#ty>::new(#n.clone());
                __builder = __builder.child(__spec #mods);
            }
        }
        Kind::Supervisor { path, args } => {
            let call = quote_spanned!(path.span()=> <#path>::supervised);
            // A manager is lent; a value the tree is given is a reference already. A child
            // declared before under a parameter's name hides it.
            let args = args.iter().map(|a| {
                let value = tree.params.iter().any(|prm| prm.value && prm.name == *a)
                    && !tree
                        .children
                        .iter()
                        .take_while(|o| o.name != c.name)
                        .any(|o| o.name == *a);
                if value {
                    quote_spanned!(a.span()=> #a)
                } else {
                    quote_spanned!(a.span()=> &#a)
                }
            });
            quote! {
                let (#n, __spec) = #call(#id, #(#args),*)?;
                __builder = __builder.child(__spec #mods);
            }
        }
    }
}

/// Adds a standing handler to the manager child being built (`__manager`), spanned on the
/// handler type as a guard is.
fn standing(h: &Standing, event: &syn::Type, p: &TokenStream) -> TokenStream {
    let Standing {
        handler,
        args,
        key,
        dedicated,
        in_place: ip,
    } = h;
    let span = handler.span();
    let args = match args {
        Some(a) => a.to_token_stream(),
        None => quote_spanned! {span=>
            <<#handler as #p::Handler<#event>>::Args as #p::NoArgs>::no_args()
        },
    };
    let ip = in_place(*ip, p);
    let key = key.as_ref().map(|k| quote!(.key(#k)));
    let dedicated = dedicated.map(|d| quote!(.dedicated(#d)));
    let p = respan(p, span);
    quote_spanned! {span=>
        let __manager = #p::standing::<#event, #handler>(
            __manager,
            #p::Install::<#handler>::new() #key #dedicated,
            #args,
            #ip,
        );
    }
}

fn the_template<'a>(tree: &'a Tree, plan: &'a Plan) -> Option<(&'a Child, &'a TokenStream)> {
    let [(_, Some(t))] = tree.templates.as_slice() else {
        return None;
    };
    Some((t, plan.template_event.as_ref()?))
}

fn template_stmts(tree: &Tree, plan: &Plan, p: &TokenStream) -> TokenStream {
    let Some((t, event)) = the_template(tree, plan) else {
        return TokenStream::new();
    };
    let Kind::Guard {
        handler,
        manager: Some(manager),
        in_place: ip,
        dedicated,
        backoff,
        ..
    } = &t.kind
    else {
        return TokenStream::new();
    };
    let mods = spec_mods(t, p);
    let ip = in_place(*ip, p);
    let dedicated = match dedicated {
        Some(d) => quote!(#p::Some(#d)),
        None => quote!(#p::None),
    };
    let backoff = match backoff {
        Some(b) => {
            let b = backoff_expr(*b, p);
            quote!(#p::Some(#b))
        }
        None => quote!(#p::None),
    };
    let p = respan(p, handler.span());
    quote_spanned! {handler.span()=>
        __builder =
            #p::guard_template::<#event, #handler>(__builder, &#manager, #ip, #dedicated, #backoff, |__spec| __spec #mods);
    }
}

fn start_child(tree: &Tree, plan: &Plan, p: &TokenStream, vis: &syn::Visibility) -> TokenStream {
    let Some((t, event)) = the_template(tree, plan) else {
        return TokenStream::new();
    };
    let Kind::Guard { handler, .. } = &t.kind else {
        return TokenStream::new();
    };
    let doc = format!(
        " Starts a guard that installs a `{h}` with `args` and keeps it installed; once it is installed, the guard's child reference (to terminate it) and the handler's. A manager holds one `{h}` without a key: start more side by side with `start_child_keyed`.\n\n # Errors\n The handler's `init` failed or a `{h}` without a key is installed already (the guard's start fails), or the supervisor has ended.",
        h = type_name(handler)
    );
    let doc_keyed = format!(
        " Starts a guard that installs a `{h}` under `key`, beside other `{h}`s with other keys; as `start_child` otherwise.\n\n # Errors\n As `start_child`; a `{h}` with this key is installed already.",
        h = type_name(handler)
    );
    let args = Ident::new("args", handler.span());
    let key = Ident::new("key", handler.span());
    let p = &respan(p, handler.span());
    quote_spanned! {handler.span()=>
        #[doc = #doc]
        #vis async fn start_child(
            &self,
            #args: <#handler as #p::Handler<#event>>::Args,
        ) -> #p::Result<#p::GuardChild<#handler>, #p::SupervisorError> {
            #p::start_guard::<#event, #handler>(&self.__supervisor, #p::None, #args).await
        }

        #[doc = #doc_keyed]
        #vis async fn start_child_keyed(
            &self,
            #key: impl ::core::convert::Into<#p::Key>,
            #args: <#handler as #p::Handler<#event>>::Args,
        ) -> #p::Result<#p::GuardChild<#handler>, #p::SupervisorError> {
            #p::start_guard::<#event, #handler>(&self.__supervisor, #p::Some(#key.into()), #args).await
        }
    }
}

/// `tokens` with every span set to `span`, so that an error about the path they make is
/// reported there.
fn respan(tokens: &TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut tt| {
            tt.set_span(span);
            tt
        })
        .collect()
}

fn backoff_expr((first, max, attempts): (u64, u64, u32), p: &TokenStream) -> TokenStream {
    quote! {
        #p::Backoff::new(
            #p::Duration::from_millis(#first),
            #p::Duration::from_millis(#max),
            #attempts,
        )
    }
}
