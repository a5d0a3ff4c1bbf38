//! Small clients for the Azure services acr-doctor talks to: Entra ID, ARM, Graph, ACR's token endpoints.

pub mod acr_token;
pub mod aks;
pub mod arm;
pub mod cli_config;
pub mod cli_token;
pub mod credential_sources;
pub mod entra;
pub mod graph;
pub mod private_endpoints;
pub mod roles;

/// The `error` object of an ARM or Microsoft Graph answer as one line, `code message`
/// (either may be missing); empty when the body has none.
pub fn error_summary(json: Option<&serde_json::Value>) -> String {
    let Some(error) = json.and_then(|j| j.get("error")) else {
        return String::new();
    };
    let field = |k: &str| {
        error
            .get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
    };
    format!("{} {}", field("code"), field("message"))
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn error_summary_reads_code_and_message() {
        let body = json!({"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges"}});
        assert_eq!(
            super::error_summary(Some(&body)),
            "Authorization_RequestDenied Insufficient privileges"
        );
        assert_eq!(
            super::error_summary(Some(&json!({"error": {"code": "X"}}))),
            "X"
        );
        assert_eq!(super::error_summary(Some(&json!({"value": []}))), "");
        assert_eq!(super::error_summary(None), "");
    }
}
