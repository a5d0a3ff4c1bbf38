//! `auth.principal`: another identity's (`--principal`) role assignments at the registry.

use futures::future::BoxFuture;

use super::explain::evaluate_principal;
use super::{catalog_needed, repository_needs};
use crate::checks::{Check, CheckCx, Fact, Group, Meta, Outcome};
use crate::lang::Lang;
use crate::request::CheckArgs;

pub struct AuthPrincipal;

impl Check for AuthPrincipal {
    fn meta(&self) -> &'static Meta {
        static META: Meta = Meta::new(
            "auth.principal",
            Group::Authorization,
            "other principal",
            "別のプリンシパル",
        )
        .needs(&[Fact::ArmRegistry]);
        &META
    }
    fn not_requested(&self, args: &CheckArgs, lang: Lang) -> Option<String> {
        args.principal.is_none().then(|| {
            lang.pick("no --principal given", "--principal が指定されていません")
                .to_string()
        })
    }
    fn run<'a>(&'a self, cx: &'a CheckCx<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { auth_principal(cx).await })
    }
}

async fn auth_principal(cx: &CheckCx<'_>) -> Outcome {
    let Some(principal) = cx.args.principal.clone() else {
        return Outcome::skip("no --principal");
    };
    let needed = repository_needs(cx.args);
    evaluate_principal(
        cx,
        &principal,
        &needed,
        cx.args.repository_name(),
        catalog_needed(cx.args),
    )
    .await
}
