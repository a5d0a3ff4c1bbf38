//! Entra's refusal of a credential source, turned into a cause through the AADSTS table
//! (`causes/tables/aadsts.tsv`), adjusted to the credential that was sent.

use serde_json::Value;

use crate::azure::entra::{self, EntraError};
use crate::catalogue::Code;
use crate::checks::{CheckCx, Outcome};
use crate::error_codes;
use crate::finding::RawFinding;
use crate::lang::Lang;
use crate::request::AuthSource;

/// Codes of a refused client assertion that, when the assertion is a federated token, mean the
/// federation itself (the external issuer's signature or token) is what Entra refused.
const FEDERATED_ASSERTION_CODES: [u32; 6] = [700027, 50027, 50012, 50006, 50048, 900384];

/// The cause of an Entra refusal: the AADSTS table's, adjusted to the credential that was sent.
/// A federation code for a certificate assertion (AADSTS700024 on a wrong clock) is a service
/// principal problem; an assertion code for a federated token is a federation problem.
fn entra_cause(source: AuthSource, code: u32) -> Option<Code> {
    let cause = error_codes::aadsts(code)?.cause;
    let federated = source == AuthSource::WorkloadIdentity;
    Some(match cause {
        Code::WORKLOAD_IDENTITY_FEDERATION_ERROR if !federated && source == AuthSource::Env => {
            Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID
        }
        _ if federated && FEDERATED_ASSERTION_CODES.contains(&code) => {
            Code::WORKLOAD_IDENTITY_FEDERATION_ERROR
        }
        other => other,
    })
}

/// The federated token's claims as `from_workload` put them in the evidence (never the token).
fn federated_claims(evidence: &[(&'static str, Value)]) -> Option<Value> {
    evidence
        .iter()
        .find(|(k, _)| *k == "federated_token")
        .map(|(_, v)| v.clone())
}

/// Maps Entra's refusal to a cause, through the AADSTS table (`causes/tables/aadsts.tsv`).
pub(super) fn entra_failure(
    cx: &CheckCx<'_>,
    source: AuthSource,
    how: &str,
    e: &EntraError,
    known: &[(&'static str, Value)],
) -> Outcome {
    let refusal = Refusal::new(cx, source, how, e);
    let mut extra: Vec<(&'static str, Value)> = Vec::new();
    let (code, en, ja) = refusal.words(cx, e, known, &mut extra);
    let detail = cx.t(en, ja);
    let finding = entra_finding(cx, e, code, detail, extra, &refusal.client);
    Outcome::fail(
        cx.t(format!("{how}: {code}"), format!("{how}: {code}")),
        finding,
    )
    .evidence("source", source.as_str())
}

/// One refusal as the words need it: who was refused, the AADSTS code, its table row and cause,
/// and what Entra said.
struct Refusal<'a> {
    how: &'a str,
    client: String,
    tenant: String,
    /// The source signs in as an application (a service principal or a federated one).
    sp_source: bool,
    aadsts: Option<u32>,
    entry: Option<&'static error_codes::Entry>,
    cause: Option<Code>,
    said: String,
}

impl<'a> Refusal<'a> {
    fn new(cx: &CheckCx<'_>, source: AuthSource, how: &'a str, e: &EntraError) -> Self {
        let aadsts = e.aadsts();
        Refusal {
            how,
            client: cx.ctx.env("AZURE_CLIENT_ID").unwrap_or("?").to_string(),
            tenant: cx.ctx.env("AZURE_TENANT_ID").unwrap_or("?").to_string(),
            sp_source: matches!(source, AuthSource::Env | AuthSource::WorkloadIdentity),
            aadsts,
            entry: aadsts.and_then(error_codes::aadsts),
            cause: aadsts.and_then(|c| entra_cause(source, c)),
            said: match e {
                EntraError::Aad(a) => a.description.clone(),
                other => other.to_string(),
            },
        }
    }

    /// The table's meaning as a clause inside our sentence (without its final full stop).
    fn meaning(&self, lang: Lang) -> &'static str {
        self.entry
            .map(|e| e.meaning(lang).trim_end_matches(['.', '。']))
            .unwrap_or_default()
    }

    /// The cause and its words (English, Japanese); `extra` gets the evidence the words cite.
    fn words(
        &self,
        cx: &CheckCx<'_>,
        e: &EntraError,
        known: &[(&'static str, Value)],
        extra: &mut Vec<(&'static str, Value)>,
    ) -> (Code, String, String) {
        if let Some(words) = self.aadsts.and_then(|c| self.service_principal_words(c)) {
            if self.aadsts == Some(7000222) {
                cx.facts().expiry_reported.push("sp_client_secret".into());
            }
            return words;
        }
        let meaning = |lang: Lang| self.meaning(lang);
        let (client, tenant, said) = (&self.client, &self.tenant, &self.said);
        match (e, self.aadsts, self.cause) {
            (_, Some(c), Some(Code::WORKLOAD_IDENTITY_FEDERATION_ERROR)) => {
                federation_words(c, client, tenant, said, meaning, known, extra)
            }
            (_, Some(c), Some(Code::AAD_RESOURCE_INVALID)) => {
                resource_words(cx, c, self.how, tenant, said, meaning, extra)
            }
            (_, Some(c), Some(cause)) => {
                if cause == Code::AAD_TOKEN_EXPIRED {
                    cx.facts().expiry_reported.push("entra_token".into());
                }
                self.table_words(c, cause)
            }
            (EntraError::Aad(a), Some(c), None) if self.sp_source => (
                Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID,
                format!(
                    "Microsoft Entra refused application '{client}': {} (AADSTS{c})",
                    a.description
                ),
                format!(
                    "Microsoft Entra がアプリケーション '{client}' を拒否しました: {} (AADSTS{c})",
                    a.description
                ),
            ),
            (EntraError::Http { error, url }, _, _) => (
                Code::AAD_CREDENTIAL_UNAVAILABLE,
                format!("{}: {url} could not be reached: {error}", self.how),
                format!("{}: {url} に到達できません: {error}", self.how),
            ),
            (other, _, _) => (
                Code::AAD_CREDENTIAL_UNAVAILABLE,
                format!("{} gave no token: {other}", self.how),
                format!("{} からトークンを取得できませんでした: {other}", self.how),
            ),
        }
    }

    /// The codes that name the service principal's own mistake, in its own words.
    fn service_principal_words(&self, c: u32) -> Option<(Code, String, String)> {
        let (client, tenant) = (&self.client, &self.tenant);
        Some(match c {
            7000222 => (
                Code::SP_SECRET_EXPIRED,
                format!("Microsoft Entra refused the client secret of application {client}: it has expired (AADSTS7000222)"),
                format!("Microsoft Entra はアプリケーション {client} のクライアント シークレットを拒否しました: 期限切れです (AADSTS7000222)"),
            ),
            90002 => (
                Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID,
                format!("Microsoft Entra does not know tenant '{tenant}' (AADSTS90002): AZURE_TENANT_ID is wrong, or the tenant belongs to another cloud"),
                format!("Microsoft Entra はテナント '{tenant}' を知りません (AADSTS90002): AZURE_TENANT_ID が誤っているか、別のクラウドのテナントです"),
            ),
            700016 => (
                Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID,
                format!("application '{client}' does not exist in tenant '{tenant}' (AADSTS700016): AZURE_CLIENT_ID is wrong or the app lives in another tenant"),
                format!("アプリケーション '{client}' はテナント '{tenant}' に存在しません (AADSTS700016): AZURE_CLIENT_ID が誤っているか、別のテナントのアプリです"),
            ),
            7000215 => (
                Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID,
                format!("the client secret of application '{client}' is wrong (AADSTS7000215): give the secret's value, not its ID; it may have been rotated"),
                format!("アプリケーション '{client}' のクライアント シークレットが誤っています (AADSTS7000215): シークレットの ID ではなく値を指定してください。ローテーションされた可能性もあります"),
            ),
            _ => return None,
        })
    }

    /// A code with a cause in the table: the table's meaning and Entra's own words, naming the
    /// application when the source signs in as one.
    fn table_words(&self, c: u32, cause: Code) -> (Code, String, String) {
        let (how, client, said) = (self.how, &self.client, &self.said);
        let who_en = if self.sp_source {
            format!(" application '{client}'")
        } else {
            String::new()
        };
        let who_ja = if self.sp_source {
            format!("アプリケーション '{client}' を")
        } else {
            String::new()
        };
        (
            cause,
            format!(
                "{how}: Microsoft Entra refused{who_en}: {} (AADSTS{c}). Entra said: {said}",
                self.meaning(Lang::En)
            ),
            format!(
                "{how}: Microsoft Entra が{who_ja}拒否しました: {} (AADSTS{c})。Entra の応答: {said}",
                self.meaning(Lang::Ja)
            ),
        )
    }
}

/// WORKLOAD_IDENTITY_FEDERATION_ERROR: what the refused federated token says (issuer, subject,
/// audience, expiry) beside Entra's words.
fn federation_words(
    c: u32,
    client: &str,
    tenant: &str,
    said: &str,
    meaning: impl Fn(Lang) -> &'static str,
    known: &[(&'static str, Value)],
    extra: &mut Vec<(&'static str, Value)>,
) -> (Code, String, String) {
    let claims = federated_claims(known);
    let claim = |k: &str| {
        claims
            .as_ref()
            .and_then(|v| v.get(k))
            .map(|v| match v {
                Value::String(s) => s.clone(),
                Value::Null => "?".to_string(),
                other => other.to_string(),
            })
            .unwrap_or_else(|| "?".into())
    };
    let (iss, sub, aud, exp) = (
        claim("iss"),
        claim("sub"),
        claim("aud"),
        claim("expires_at"),
    );
    extra.push((
        "federated_token",
        claims.unwrap_or_else(|| Value::from("not a readable JWT")),
    ));
    extra.push(("client_id", Value::from(client.to_string())));
    extra.push(("tenant", Value::from(tenant.to_string())));
    (
        Code::WORKLOAD_IDENTITY_FEDERATION_ERROR,
        format!(
            "Microsoft Entra refused the federated token presented for application '{client}' (AADSTS{c}: {}). The token says iss '{iss}', sub '{sub}', aud '{aud}' (expires {exp}); Entra said: {said}",
            meaning(Lang::En)
        ),
        format!(
            "Microsoft Entra はアプリケーション '{client}' に提示されたフェデレーション トークンを拒否しました (AADSTS{c}: {})。トークンの値は iss '{iss}'、sub '{sub}'、aud '{aud}' (有効期限 {exp}) です。Entra の応答: {said}",
            meaning(Lang::Ja)
        ),
    )
}

/// AAD_RESOURCE_INVALID: the resource asked for (and where it came from) against the
/// registry's audience.
fn resource_words(
    cx: &CheckCx<'_>,
    c: u32,
    how: &str,
    tenant: &str,
    said: &str,
    meaning: impl Fn(Lang) -> &'static str,
    extra: &mut Vec<(&'static str, Value)>,
) -> (Code, String, String) {
    let resource = entra::acr_audience(cx.ctx);
    let from_env = cx.ctx.env("ACR_DOCTOR_ACR_AUDIENCE").is_some();
    extra.push(("requested_resource", Value::from(resource.clone())));
    extra.push((
        "registry_audience",
        Value::from(entra::DEFAULT_ACR_AUDIENCE),
    ));
    let origin_en = if from_env {
        " (from ACR_DOCTOR_ACR_AUDIENCE)"
    } else {
        ""
    };
    let origin_ja = if from_env {
        " (ACR_DOCTOR_ACR_AUDIENCE の値)"
    } else {
        ""
    };
    (
        Code::AAD_RESOURCE_INVALID,
        format!(
            "{how}: Microsoft Entra has no resource '{resource}'{origin_en} in tenant '{tenant}' (AADSTS{c}: {}); registry tokens are requested for {}, not for the registry's URL. Entra said: {said}",
            meaning(Lang::En),
            entra::DEFAULT_ACR_AUDIENCE
        ),
        format!(
            "{how}: テナント '{tenant}' の Microsoft Entra にリソース '{resource}'{origin_ja} がありません (AADSTS{c}: {})。レジストリ用のトークンはレジストリの URL ではなく {} に対して要求します。Entra の応答: {said}",
            meaning(Lang::Ja),
            entra::DEFAULT_ACR_AUDIENCE
        ),
    )
}

/// The finding of an Entra refusal: what Entra answered (status, codes, trace and correlation
/// IDs, its words), the table's meaning, and the commands for the cause.
fn entra_finding(
    cx: &CheckCx<'_>,
    e: &EntraError,
    code: Code,
    detail: String,
    extra: Vec<(&'static str, Value)>,
    client: &str,
) -> RawFinding {
    let entry = e.aadsts().and_then(error_codes::aadsts);
    let mut finding = RawFinding::new(code, detail).evidence("url", e.url().to_string());
    if let EntraError::Aad(a) = e {
        finding = finding
            .evidence("status", a.status)
            .evidence("error", a.error.clone())
            .evidence("aadsts", a.codes.clone())
            .evidence("trace_id", a.trace_id.clone())
            .evidence("correlation_id", a.correlation_id.clone())
            .evidence("entra_said", a.description.clone());
    }
    if let Some(entry) = entry {
        finding = finding
            .evidence("aadsts_meaning", entry.meaning(cx.lang))
            .evidence("aadsts_source", entry.source);
    }
    for (k, v) in extra {
        finding = finding.evidence(k, v);
    }
    if code == Code::SP_SECRET_EXPIRED || code == Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID {
        finding = finding.command(format!("az ad app credential list --id {client}"));
        if code == Code::SP_SECRET_EXPIRED || e.aadsts() == Some(7000215) {
            finding = finding.command(format!("az ad app credential reset --id {client} --append"));
        }
    }
    if code == Code::WORKLOAD_IDENTITY_FEDERATION_ERROR {
        finding = finding
            .command(format!("az ad app federated-credential list --id {client}"))
            .command("az identity federated-credential list --identity-name <identity-name> --resource-group <identity-resource-group>");
    }
    finding
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(sp_source: bool, aadsts: u32) -> Refusal<'static> {
        Refusal {
            how: "env",
            client: "app-id".into(),
            tenant: "tenant-id".into(),
            sp_source,
            aadsts: Some(aadsts),
            entry: error_codes::aadsts(aadsts),
            cause: entra_cause(AuthSource::Env, aadsts),
            said: "said".into(),
        }
    }

    #[test]
    fn service_principal_codes_have_their_own_cause() {
        let r = refusal(true, 0);
        let code = |c| r.service_principal_words(c).map(|(code, _, _)| code);
        assert_eq!(code(7000222), Some(Code::SP_SECRET_EXPIRED));
        for c in [90002, 700016, 7000215] {
            assert_eq!(code(c), Some(Code::SERVICE_PRINCIPAL_CREDENTIALS_INVALID));
        }
        assert_eq!(code(700082), None);
        assert_eq!(code(50076), None);
    }

    #[test]
    fn table_words_keep_the_cause_and_name_the_application_only_for_an_application() {
        let app = refusal(true, 700082);
        let (code, en, ja) = app.table_words(700082, Code::AAD_TOKEN_EXPIRED);
        assert_eq!(code, Code::AAD_TOKEN_EXPIRED);
        assert!(en.contains("'app-id'") && ja.contains("'app-id'"));
        assert!(en.contains("AADSTS700082") && ja.contains("AADSTS700082"));
        let user = refusal(false, 700082);
        let (_, en, ja) = user.table_words(700082, Code::AAD_TOKEN_EXPIRED);
        assert!(!en.contains("app-id") && !ja.contains("app-id"));
    }

    #[test]
    fn meaning_is_the_table_row_without_its_full_stop_or_empty() {
        let r = refusal(false, 700082);
        let row = error_codes::aadsts(700082).unwrap().meaning(Lang::En);
        assert_eq!(r.meaning(Lang::En), row.trim_end_matches('.'));
        assert!(!r.meaning(Lang::En).ends_with('.'));
        let unknown = Refusal {
            entry: None,
            ..refusal(false, 1)
        };
        assert_eq!(unknown.meaning(Lang::Ja), "");
    }
}
